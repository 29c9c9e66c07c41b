"""Permissions over the wire: skopeo, the docker CLI and the AWS CLI against a live server."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from ecr_mock.core.access import StaticIdentities
from ecr_mock.core.policy import MANAGED_POLICIES
from tests.integration.conftest import Live, require
from tests.integration.oci_layout import Layout
from tests.integration.test_docker_cli import docker
from tests.integration.test_skopeo import push, skopeo

ACCOUNT = "123456789012"
OTHER = "210987654321"
REGION = "us-east-1"
READ_ONLY = "AmazonEC2ContainerRegistryReadOnly"
POWER_USER = "AmazonEC2ContainerRegistryPowerUser"


def refusal(action: str, who: str, repository: str, account: str = ACCOUNT) -> str:
    return (
        f"User: {who} is not authorized to perform: {action} on resource: "
        f"arn:aws:ecr:{REGION}:{account}:repository/{repository}"
    )


def password_for(live: Live, identities: StaticIdentities, arn: str, policy: str) -> str:
    """The registry password of a fresh token issued to a new principal holding ``policy``."""
    principal = identities.add(f"AKIA{abs(hash(arn)) % 10**16:016d}", arn, [policy])
    token = live.backend.tokens.issue(principal, ACCOUNT, REGION)
    return token.password


@pytest.fixture
def identities(live: Live) -> StaticIdentities:
    provider = StaticIdentities()
    live.backend.identity_provider = provider
    return provider


# ----- a live server sharing the test's backend -------------------------------------------------


def test_skopeo_push_with_a_read_only_token_is_refused_with_ecrs_message(
    live: Live, layout: Layout, identities: StaticIdentities
) -> None:
    require("skopeo")
    live.client.create_repository(repositoryName="app")
    layout.image("v1")
    arn = f"arn:aws:iam::{ACCOUNT}:user/reader"
    password = password_for(live, identities, arn, MANAGED_POLICIES[READ_ONLY])
    result = push(live, layout, "app:v1", creds=f"AWS:{password}")
    assert result.returncode != 0
    assert refusal("ecr:InitiateLayerUpload", arn, "app") in result.stderr
    assert live.client.list_images(repositoryName="app")["imageIds"] == []


def test_skopeo_push_with_a_power_user_token_succeeds(
    live: Live, layout: Layout, identities: StaticIdentities
) -> None:
    require("skopeo")
    live.client.create_repository(repositoryName="app")
    built = layout.image("v1")
    arn = f"arn:aws:iam::{ACCOUNT}:user/pusher"
    password = password_for(live, identities, arn, MANAGED_POLICIES[POWER_USER])
    result = push(live, layout, "app:v1", creds=f"AWS:{password}")
    assert result.returncode == 0, result.stderr
    assert live.client.describe_images(repositoryName="app")["imageDetails"][0]["imageDigest"] == (
        built.digest
    )


def test_docker_manifest_push_with_a_read_only_login_is_refused_with_ecrs_message(
    live: Live, layout: Layout, identities: StaticIdentities, tmp_path: Path
) -> None:
    require("docker")
    live.client.create_repository(repositoryName="web")
    layout.image("v1")
    assert push(live, layout, "web:v1").returncode == 0
    arn = f"arn:aws:iam::{ACCOUNT}:user/viewer"
    password = password_for(live, identities, arn, MANAGED_POLICIES[READ_ONLY])
    config = tmp_path / "docker"
    login = docker(config, "login", "--username", "AWS", "--password-stdin", live.endpoint, stdin=password)
    assert login.returncode == 0, login.stderr
    inspect = docker(config, "manifest", "inspect", "--insecure", f"{live.endpoint}/web:v1")
    assert inspect.returncode == 0, inspect.stderr
    create = docker(
        config, "manifest", "create", "--insecure", f"{live.endpoint}/web:all", f"{live.endpoint}/web:v1"
    )
    assert create.returncode == 0, create.stderr
    pushed = docker(config, "manifest", "push", "--insecure", f"{live.endpoint}/web:all")
    assert pushed.returncode != 0
    assert refusal("ecr:PutImage", arn, "web") in pushed.stderr + pushed.stdout
    tags = {i.get("imageTag") for i in live.client.list_images(repositoryName="web")["imageIds"]}
    assert tags == {"v1"}


def test_docker_manifest_inspect_without_pull_permission_is_refused(
    live: Live, layout: Layout, identities: StaticIdentities, tmp_path: Path
) -> None:
    require("docker")
    live.client.create_repository(repositoryName="web")
    layout.image("v1")
    assert push(live, layout, "web:v1").returncode == 0
    arn = f"arn:aws:iam::{ACCOUNT}:user/lister"
    only_listing = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "ecr:ListImages", "Resource": "*"}],
        }
    )
    password = password_for(live, identities, arn, only_listing)
    config = tmp_path / "docker"
    login = docker(config, "login", "--username", "AWS", "--password-stdin", live.endpoint, stdin=password)
    assert login.returncode == 0, login.stderr
    inspect = docker(config, "manifest", "inspect", "--insecure", f"{live.endpoint}/web:v1")
    assert inspect.returncode != 0
    assert refusal("ecr:BatchGetImage", arn, "web") in inspect.stderr + inspect.stdout


def test_skopeo_cross_account_pull_needs_the_owners_repository_policy(
    live: Live, layout: Layout, identities: StaticIdentities, tmp_path: Path
) -> None:
    require("skopeo")
    live.client.create_repository(repositoryName="shared")
    layout.image("v1")
    assert push(live, layout, "shared:v1").returncode == 0
    arn = f"arn:aws:iam::{OTHER}:user/consumer"
    principal = identities.add("AKIACONSUMER00000000", arn, [MANAGED_POLICIES["AmazonEC2ContainerRegistryPullOnly"]])
    token = live.backend.tokens.issue(principal, ACCOUNT, REGION)
    pull = [
        "copy", "--src-tls-verify=false", "--src-creds", f"AWS:{token.password}",
        f"docker://{live.endpoint}/shared:v1", f"oci:{tmp_path / 'out'}:v1",
    ]  # fmt: skip
    refused = skopeo(*pull, check=False)
    assert refused.returncode != 0
    assert (
        refusal("ecr:BatchGetImage", arn, "shared")
        + " because no resource-based policy allows the ecr:BatchGetImage action"
    ) in refused.stderr
    live.client.set_repository_policy(
        repositoryName="shared",
        policyText=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
                        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                    }
                ],
            }
        ),
    )
    allowed = skopeo(*pull, check=False)
    assert allowed.returncode == 0, allowed.stderr
