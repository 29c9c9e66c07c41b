"""Account settings and pull-time update exclusions through boto3, and their effect on pulls."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from ecr_mock.domain.blobs import Blob
from ecr_mock.domain.manifests import OCI_CONFIG, OCI_MANIFEST
from ecr_mock.domain.models import Image
from ecr_mock.services.backend import Backend

REGION = "us-east-1"
CI_ROLE = "arn:aws:iam::123456789012:role/ci-runner"
AUDITOR = "arn:aws:iam::123456789012:user/auditor"


def push_image(backend: Backend, repo_name: str, tag: str) -> Image:
    reg = backend.registry(None, REGION)
    repo = reg.repositories.get(repo_name) or backend.create_repository(reg, repo_name)
    config = Blob.from_bytes(b'{"os":"linux"}')
    backend.store_blob(reg, repo, config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config.digest, "size": config.size},
        "layers": [],
    }
    return backend.put_image(reg, repo, json.dumps(manifest).encode(), tag=tag)


@pytest.mark.parametrize(
    ("name", "default"),
    [
        ("BASIC_SCAN_TYPE_VERSION", "AWS_NATIVE"),
        ("REGISTRY_POLICY_SCOPE", "V2"),
        ("BLOB_MOUNTING", "ENABLED"),
    ],
)
def test_account_settings_have_defaults(ecr_client: Any, name: str, default: str) -> None:
    answer = ecr_client.get_account_setting(name=name)
    assert (answer["name"], answer["value"]) == (name, default)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BASIC_SCAN_TYPE_VERSION", "CLAIR"),
        ("REGISTRY_POLICY_SCOPE", "V1"),
        ("BLOB_MOUNTING", "DISABLED"),
    ],
)
def test_put_account_setting_is_stored_and_read_back(
    ecr_backend: Backend, ecr_client: Any, name: str, value: str
) -> None:
    put = ecr_client.put_account_setting(name=name, value=value)
    assert (put["name"], put["value"]) == (name, value)
    assert ecr_client.get_account_setting(name=name)["value"] == value
    assert ecr_backend.registry(None, REGION).settings[name] == value


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("SCAN_SPEED", "FAST", "[BASIC_SCAN_TYPE_VERSION, REGISTRY_POLICY_SCOPE, BLOB_MOUNTING]"),
        ("BLOB_MOUNTING", "MAYBE", "[ENABLED, DISABLED]"),
        ("REGISTRY_POLICY_SCOPE", "V3", "[V1, V2]"),
        ("BASIC_SCAN_TYPE_VERSION", "SNYK", "[AWS_NATIVE, CLAIR]"),
    ],
)
def test_bad_account_setting_is_refused_and_changes_nothing(
    ecr_backend: Backend, ecr_client: Any, name: str, value: str, fragment: str
) -> None:
    ecr_client.put_account_setting(name="BLOB_MOUNTING", value="DISABLED")
    with pytest.raises(ClientError) as exc:
        ecr_client.put_account_setting(name=name, value=value)
    assert exc.value.response["Error"]["Code"] == "InvalidParameterException"
    assert fragment in exc.value.response["Error"]["Message"]
    assert ecr_backend.registry(None, REGION).settings == {"BLOB_MOUNTING": "DISABLED"}


def test_get_unknown_account_setting_is_refused(ecr_client: Any) -> None:
    with pytest.raises(ClientError) as exc:
        ecr_client.get_account_setting(name="NOPE")
    assert exc.value.response["Error"]["Code"] == "InvalidParameterException"


def test_exclusions_register_list_paginate_and_deregister(
    ecr_backend: Backend, ecr_client: Any
) -> None:
    ecr_backend.clock.freeze(datetime(2026, 5, 4, 3, 2, 1, tzinfo=timezone.utc))
    registered = ecr_client.register_pull_time_update_exclusion(principalArn=CI_ROLE)
    assert registered["principalArn"] == CI_ROLE
    assert registered["createdAt"] == datetime(2026, 5, 4, 3, 2, 1, tzinfo=timezone.utc)
    ecr_client.register_pull_time_update_exclusion(principalArn=AUDITOR)
    first = ecr_client.list_pull_time_update_exclusions(maxResults=1)
    assert first["pullTimeUpdateExclusions"] == [CI_ROLE]
    second = ecr_client.list_pull_time_update_exclusions(maxResults=1, nextToken=first["nextToken"])
    assert second["pullTimeUpdateExclusions"] == [AUDITOR]
    assert "nextToken" not in second
    assert (
        ecr_client.deregister_pull_time_update_exclusion(principalArn=CI_ROLE)["principalArn"]
        == CI_ROLE
    )
    assert ecr_client.list_pull_time_update_exclusions()["pullTimeUpdateExclusions"] == [AUDITOR]


def test_duplicate_and_missing_exclusions_are_refused(ecr_client: Any) -> None:
    ecr_client.register_pull_time_update_exclusion(principalArn=CI_ROLE)
    with pytest.raises(ClientError) as exc:
        ecr_client.register_pull_time_update_exclusion(principalArn=CI_ROLE)
    assert exc.value.response["Error"]["Code"] == "ExclusionAlreadyExistsException"
    with pytest.raises(ClientError) as exc:
        ecr_client.deregister_pull_time_update_exclusion(principalArn=AUDITOR)
    assert exc.value.response["Error"]["Code"] == "ExclusionNotFoundException"
    assert ecr_client.list_pull_time_update_exclusions()["pullTimeUpdateExclusions"] == [CI_ROLE]


@pytest.mark.parametrize(
    "arn",
    ["arn:aws:iam::123456789012:group/devs", "arn:aws:iam::12345:role/x", "not-an-arn"],
)
def test_malformed_principal_arn_is_refused(ecr_client: Any, arn: str) -> None:
    with pytest.raises(ClientError) as exc:
        ecr_client.register_pull_time_update_exclusion(principalArn=arn)
    assert exc.value.response["Error"]["Code"] == "ValidationException"
    assert ecr_client.list_pull_time_update_exclusions()["pullTimeUpdateExclusions"] == []


def test_pulls_by_excluded_principals_leave_last_pull_time_alone(
    ecr_backend: Backend, ecr_client: Any
) -> None:
    image = push_image(ecr_backend, "app", "v1")
    repo = ecr_backend.registry(None, REGION).repositories["app"]
    ecr_client.register_pull_time_update_exclusion(principalArn=CI_ROLE)
    ecr_backend.record_pull(repo, image, principal_arn=CI_ROLE)
    assert image.last_pulled_at is None
    ecr_backend.record_pull(repo, image, principal_arn=AUDITOR)
    recorded = image.last_pulled_at
    assert recorded is not None
    ecr_backend.clock.advance(hours=1)
    ecr_backend.record_pull(repo, image, principal_arn=CI_ROLE)
    assert image.last_pulled_at == recorded
    ecr_client.deregister_pull_time_update_exclusion(principalArn=CI_ROLE)
    ecr_backend.record_pull(repo, image, principal_arn=CI_ROLE)
    assert image.last_pulled_at is not None and image.last_pulled_at > recorded


def test_blob_mounting_disabled_turns_v2_mounts_into_uploads(
    ecr_backend: Backend, ecr_client: Any
) -> None:
    image = push_image(ecr_backend, "source", "v1")
    ecr_client.create_repository(repositoryName="target")
    config_digest = image.parsed.blob_digests()[0]
    token = ecr_client.get_authorization_token()["authorizationData"][0]
    user, password = base64.b64decode(token["authorizationToken"]).decode().split(":", 1)
    url = f"{token['proxyEndpoint']}/v2/target/blobs/uploads/?mount={config_digest}&from=source"
    mounted = requests.post(url, auth=(user, password), timeout=10)
    assert mounted.status_code == 201
    ecr_client.create_repository(repositoryName="target2")
    ecr_client.put_account_setting(name="BLOB_MOUNTING", value="DISABLED")
    refused = requests.post(url.replace("/target/", "/target2/"), auth=(user, password), timeout=10)
    assert refused.status_code == 202
