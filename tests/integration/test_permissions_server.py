"""Permissions over the wire: skopeo, the docker CLI and the AWS CLI against a live server."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ecr_mock.domain.iam_policy import MANAGED_POLICIES
from ecr_mock.services.access import StaticIdentities
from tests.integration.oci_layout import Layout
from tests.integration.test_docker_cli import docker
from tests.integration.test_skopeo import push, skopeo
from tests.support.live import Live, require
from tests.support.serve import serve_process

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


def docker_login(live: Live, config: Path, password: str) -> Path:
    """``docker login`` to the live server; returns the auth file docker wrote."""
    login = docker(
        config, "login", "--username", "AWS", "--password-stdin", live.endpoint, stdin=password
    )
    assert login.returncode == 0, login.stderr
    assert "Login Succeeded" in login.stdout
    return config / "config.json"


def test_docker_login_of_a_read_only_user_then_push_with_its_credentials_is_refused(
    live: Live, layout: Layout, identities: StaticIdentities, tmp_path: Path
) -> None:
    require("docker")
    require("skopeo")
    live.client.create_repository(repositoryName="web")
    layout.image("v1")
    arn = f"arn:aws:iam::{ACCOUNT}:user/viewer"
    password = password_for(live, identities, arn, MANAGED_POLICIES[READ_ONLY])
    authfile = docker_login(live, tmp_path / "docker", password)
    pushed = skopeo(
        "copy", "--preserve-digests", "--dest-tls-verify=false", "--dest-authfile", str(authfile),
        f"oci:{layout.path}:v1", f"docker://{live.endpoint}/web:v1",
        check=False,
    )  # fmt: skip
    assert pushed.returncode != 0
    assert refusal("ecr:InitiateLayerUpload", arn, "web") in pushed.stderr
    assert live.client.list_images(repositoryName="web")["imageIds"] == []


def test_docker_login_of_a_user_without_pull_permission_cannot_read_manifests(
    live: Live, layout: Layout, identities: StaticIdentities, tmp_path: Path
) -> None:
    require("docker")
    require("skopeo")
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
    authfile = docker_login(
        live, tmp_path / "docker", password_for(live, identities, arn, only_listing)
    )
    tags = skopeo(
        "list-tags", "--tls-verify=false", "--authfile", str(authfile), f"docker://{live.endpoint}/web",
        check=False,
    )  # fmt: skip
    assert tags.returncode == 0, tags.stderr
    assert json.loads(tags.stdout)["Tags"] == ["v1"]
    inspect = skopeo(
        "inspect", "--raw", "--tls-verify=false", "--authfile", str(authfile),
        f"docker://{live.endpoint}/web:v1",
        check=False,
    )  # fmt: skip
    assert inspect.returncode != 0
    assert refusal("ecr:BatchGetImage", arn, "web") in inspect.stderr


def test_skopeo_cross_account_pull_needs_the_owners_repository_policy(
    live: Live, layout: Layout, identities: StaticIdentities, tmp_path: Path
) -> None:
    require("skopeo")
    live.client.create_repository(repositoryName="shared")
    layout.image("v1")
    assert push(live, layout, "shared:v1").returncode == 0
    arn = f"arn:aws:iam::{OTHER}:user/consumer"
    principal = identities.add(
        "AKIACONSUMER00000000", arn, [MANAGED_POLICIES["AmazonEC2ContainerRegistryPullOnly"]]
    )
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


# ----- `ecr-mock serve`, identities made with the AWS CLI against the same endpoint -------------


@dataclass
class Served:
    """A running ``ecr-mock serve`` process: its URL, its registry endpoint, an AWS CLI."""

    url: str
    endpoint: str

    def aws(
        self, *args: str, key: str = "AKIAADMINOFDEFAULT00", secret: str = "admin", token: str = ""
    ) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": key,
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_DEFAULT_REGION": REGION,
        }
        env.pop("AWS_PROFILE", None)
        env.pop("AWS_SESSION_TOKEN", None)
        if token:
            env["AWS_SESSION_TOKEN"] = token
        return subprocess.run(
            [require("aws"), "--endpoint-url", self.url, "--output", "json", *args],
            capture_output=True, text=True, env=env, timeout=120, check=False,
        )  # fmt: skip

    def ok(self, *args: str, **creds: str) -> Any:
        result = self.aws(*args, **creds)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout) if result.stdout.strip() else None

    def user(self, name: str, *managed: str, **creds: str) -> dict[str, str]:
        """An IAM user with AWS managed policies attached; returns key/secret for ``aws``."""
        self.ok("iam", "create-user", "--user-name", name, **creds)
        for policy in managed:
            self.ok(
                "iam", "attach-user-policy", "--user-name", name,
                "--policy-arn", f"arn:aws:iam::aws:policy/{policy}", **creds,
            )  # fmt: skip
        key = self.ok("iam", "create-access-key", "--user-name", name, **creds)["AccessKey"]
        return {"key": key["AccessKeyId"], "secret": key["SecretAccessKey"]}

    def password(self, registry: str = ACCOUNT, **creds: str) -> str:
        data = self.ok("ecr", "get-authorization-token", "--registry-ids", registry, **creds)
        return base64.b64decode(data["authorizationData"][0]["authorizationToken"]).decode()[4:]


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    require("aws")
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
    }
    server = serve_process(
        [sys.executable, "-m", "ecr_mock.cli", "serve", "--port", "0", "--quiet"], env
    )
    try:
        yield Served(server.url, server.endpoint)
    finally:
        server.process.terminate()
        server.process.wait(timeout=30)


def test_aws_cli_read_only_user_is_refused_create_repository_with_ecrs_message(
    served: Served,
) -> None:
    served.ok("ecr", "create-repository", "--repository-name", "cli/app")
    reader = served.user("cli-reader", READ_ONLY)
    listed = served.ok("ecr", "describe-repositories", **reader)["repositories"]
    assert "cli/app" in {r["repositoryName"] for r in listed}
    refused = served.aws("ecr", "create-repository", "--repository-name", "cli/other", **reader)
    assert refused.returncode != 0
    assert (
        "An error occurred (AccessDeniedException) when calling the CreateRepository operation: "
        + refusal("ecr:CreateRepository", f"arn:aws:iam::{ACCOUNT}:user/cli-reader", "cli/other")
        + " because no identity-based policy allows the ecr:CreateRepository action"
    ) in refused.stderr


def test_served_read_only_user_cannot_push_with_skopeo_but_a_power_user_can(
    served: Served, tmp_path: Path
) -> None:
    require("skopeo")
    served.ok("ecr", "create-repository", "--repository-name", "served/push")
    layout = Layout(tmp_path / "layout")
    built = layout.image("v1")
    reader = served.user("push-reader", READ_ONLY)
    pusher = served.user("push-power", POWER_USER)
    copy = [
        "copy", "--preserve-digests", "--dest-tls-verify=false", f"oci:{layout.path}:v1",
        f"docker://{served.endpoint}/served/push:v1",
    ]  # fmt: skip
    refused = skopeo(*copy, "--dest-creds", f"AWS:{served.password(**reader)}", check=False)
    assert refused.returncode != 0
    assert (
        refusal(
            "ecr:InitiateLayerUpload", f"arn:aws:iam::{ACCOUNT}:user/push-reader", "served/push"
        )
        in refused.stderr
    )
    accepted = skopeo(*copy, "--dest-creds", f"AWS:{served.password(**pusher)}", check=False)
    assert accepted.returncode == 0, accepted.stderr
    images = served.ok("ecr", "describe-images", "--repository-name", "served/push", **reader)
    assert images["imageDetails"][0]["imageDigest"] == built.digest


def test_served_docker_login_of_a_read_only_user_then_push_is_refused(
    served: Served, tmp_path: Path
) -> None:
    require("docker")
    require("skopeo")
    served.ok("ecr", "create-repository", "--repository-name", "served/docker")
    layout = Layout(tmp_path / "layout")
    layout.image("v1")
    reader = served.user("docker-reader", READ_ONLY)
    config = tmp_path / "docker"
    login = docker(
        config, "login", "--username", "AWS", "--password-stdin", served.endpoint,
        stdin=served.password(**reader),
    )  # fmt: skip
    assert login.returncode == 0, login.stderr
    pushed = skopeo(
        "copy", "--preserve-digests", "--dest-tls-verify=false", "--dest-authfile", str(config / "config.json"),
        f"oci:{layout.path}:v1", f"docker://{served.endpoint}/served/docker:v1",
        check=False,
    )  # fmt: skip
    assert pushed.returncode != 0
    assert (
        refusal(
            "ecr:InitiateLayerUpload", f"arn:aws:iam::{ACCOUNT}:user/docker-reader", "served/docker"
        )
        in pushed.stderr
    )


def test_served_token_stops_working_once_the_policy_is_detached(
    served: Served, tmp_path: Path
) -> None:
    require("skopeo")
    served.ok("ecr", "create-repository", "--repository-name", "served/revoke")
    layout = Layout(tmp_path / "layout")
    layout.image("v1")
    admin_password = served.password()
    copy = [
        "copy", "--preserve-digests", "--dest-tls-verify=false", "--dest-creds", f"AWS:{admin_password}",
        f"oci:{layout.path}:v1", f"docker://{served.endpoint}/served/revoke:v1",
    ]  # fmt: skip
    assert skopeo(*copy, check=False).returncode == 0
    reader = served.user("revoked-reader", READ_ONLY)
    password = served.password(**reader)
    inspect = [
        "inspect", "--raw", "--tls-verify=false", "--creds", f"AWS:{password}",
        f"docker://{served.endpoint}/served/revoke:v1",
    ]  # fmt: skip
    assert skopeo(*inspect, check=False).returncode == 0
    served.ok(
        "iam", "detach-user-policy", "--user-name", "revoked-reader",
        "--policy-arn", f"arn:aws:iam::aws:policy/{READ_ONLY}",
    )  # fmt: skip
    refused = skopeo(*inspect, check=False)
    assert refused.returncode != 0
    assert (
        refusal("ecr:BatchGetImage", f"arn:aws:iam::{ACCOUNT}:user/revoked-reader", "served/revoke")
        in refused.stderr
    )


def test_served_cross_account_pull_is_refused_until_the_owner_allows_it(
    served: Served, tmp_path: Path
) -> None:
    require("skopeo")
    served.ok("ecr", "create-repository", "--repository-name", "served/shared")
    layout = Layout(tmp_path / "layout")
    layout.image("v1")
    copy = [
        "copy", "--preserve-digests", "--dest-tls-verify=false", "--dest-creds", f"AWS:{served.password()}",
        f"oci:{layout.path}:v1", f"docker://{served.endpoint}/served/shared:v1",
    ]  # fmt: skip
    assert skopeo(*copy, check=False).returncode == 0
    session = served.ok(
        "sts", "assume-role", "--role-arn", f"arn:aws:iam::{OTHER}:role/bootstrap",
        "--role-session-name", "setup",
    )["Credentials"]  # fmt: skip
    other_admin = {
        "key": session["AccessKeyId"],
        "secret": session["SecretAccessKey"],
        "token": session["SessionToken"],
    }
    consumer = served.user("consumer", "AmazonEC2ContainerRegistryPullOnly", **other_admin)
    who = served.ok("sts", "get-caller-identity", **consumer)
    assert who["Arn"] == f"arn:aws:iam::{OTHER}:user/consumer"
    password = served.password(ACCOUNT, **consumer)
    pull = [
        "copy", "--src-tls-verify=false", "--src-creds", f"AWS:{password}",
        f"docker://{served.endpoint}/served/shared:v1", f"oci:{tmp_path / 'out'}:v1",
    ]  # fmt: skip
    refused = skopeo(*pull, check=False)
    assert refused.returncode != 0
    assert (
        refusal("ecr:BatchGetImage", f"arn:aws:iam::{OTHER}:user/consumer", "served/shared")
        + " because no resource-based policy allows the ecr:BatchGetImage action"
    ) in refused.stderr
    listing = served.aws("ecr", "describe-repositories", "--registry-id", ACCOUNT, **consumer)
    assert listing.returncode != 0
    assert "AccessDeniedException" in listing.stderr
    grant = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
                "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            }
        ],
    }
    served.ok(
        "ecr", "set-repository-policy", "--repository-name", "served/shared",
        "--policy-text", json.dumps(grant),
    )  # fmt: skip
    allowed = skopeo(*pull, check=False)
    assert allowed.returncode == 0, allowed.stderr
