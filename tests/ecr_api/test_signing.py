"""Signing through boto3: signing configuration and DescribeImageSigningStatus from referrers."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from ecr_mock.domain.manifests import OCI_CONFIG, OCI_EMPTY, OCI_MANIFEST
from ecr_mock.domain.models import Image
from ecr_mock.services.backend import Backend
from tests.ecr_api.helpers import store_blob

REGION = "us-east-1"
PROFILE = "arn:aws:signer:us-east-1:123456789012:/signing-profiles/release_profile"
OTHER_PROFILE = "arn:aws:signer:us-east-1:123456789012:/signing-profiles/audit_profile"
NOTATION = "application/vnd.cncf.notary.signature"
COSIGN = "application/vnd.dev.cosign.artifact.sig.v1+json"


def _put(backend: Backend, repo_name: str, manifest: dict[str, Any], tag: str | None) -> Image:
    reg = backend.registry(None, REGION)
    return backend.put_image(
        reg, reg.repositories[repo_name], json.dumps(manifest).encode(), tag=tag
    )


def push_image(backend: Backend, repo_name: str, tag: str) -> Image:
    config = store_blob(backend, repo_name, b'{"os":"linux","tag":"' + tag.encode() + b'"}')
    return _put(
        backend,
        repo_name,
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config.digest, "size": config.size},
            "layers": [],
        },
        tag,
    )


def push_signature(backend: Backend, repo_name: str, subject: Image, artifact_type: str) -> Image:
    empty = store_blob(backend, repo_name, b"{}")
    sig = store_blob(backend, repo_name, b"signature envelope")
    return _put(
        backend,
        repo_name,
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": artifact_type,
            "config": {"mediaType": OCI_EMPTY, "digest": empty.digest, "size": empty.size},
            "layers": [
                {"mediaType": "application/jose+json", "digest": sig.digest, "size": sig.size}
            ],
            "subject": {
                "mediaType": OCI_MANIFEST,
                "digest": subject.digest,
                "size": len(subject.manifest),
            },
        },
        None,
    )


def configure(ecr: Any, *rules: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = ecr.put_signing_configuration(
        signingConfiguration={"rules": list(rules)}
    )
    return result


def test_get_and_delete_without_configuration_are_not_found(ecr_client: Any) -> None:
    for call in (ecr_client.get_signing_configuration, ecr_client.delete_signing_configuration):
        with pytest.raises(ClientError) as exc:
            call()
        assert exc.value.response["Error"]["Code"] == "SigningConfigurationNotFoundException"


def test_put_get_delete_round_trip(ecr_client: Any) -> None:
    rule = {
        "signingProfileArn": PROFILE,
        "repositoryFilters": [{"filter": "prod/*", "filterType": "WILDCARD_MATCH"}],
    }
    assert configure(ecr_client, rule)["signingConfiguration"] == {"rules": [rule]}
    got = ecr_client.get_signing_configuration()
    assert got["registryId"] == "123456789012"
    assert got["signingConfiguration"] == {"rules": [rule]}
    deleted = ecr_client.delete_signing_configuration()
    assert deleted["signingConfiguration"] == {"rules": [rule]}
    with pytest.raises(ClientError):
        ecr_client.get_signing_configuration()


@pytest.mark.parametrize(
    "rules",
    [
        [{"signingProfileArn": "arn:aws:signer:us-east-1:123:/signing-profiles/x"}],
        [{"signingProfileArn": PROFILE, "repositoryFilters": []}],
        [
            {
                "signingProfileArn": PROFILE,
                "repositoryFilters": [{"filter": "prod", "filterType": "WILDCARD"}],
            }
        ],
        [
            {
                "signingProfileArn": PROFILE,
                "repositoryFilters": [{"filter": "Prod!", "filterType": "WILDCARD_MATCH"}],
            }
        ],
        [{"signingProfileArn": PROFILE}] * 11,
    ],
)
def test_bad_signing_configuration_is_refused_and_changes_nothing(
    ecr_client: Any, rules: list[dict[str, Any]]
) -> None:
    configure(ecr_client, {"signingProfileArn": OTHER_PROFILE})
    unchecked = boto3.client("ecr", region_name=REGION, config=Config(parameter_validation=False))
    with pytest.raises(ClientError) as exc:
        unchecked.put_signing_configuration(signingConfiguration={"rules": rules})
    assert exc.value.response["Error"]["Code"] in (
        "ValidationException",
        "InvalidParameterException",
    )
    assert ecr_client.get_signing_configuration()["signingConfiguration"] == {
        "rules": [{"signingProfileArn": OTHER_PROFILE}]
    }


def test_signing_status_follows_signature_referrers(ecr_backend: Backend, ecr_client: Any) -> None:
    configure(
        ecr_client,
        {"signingProfileArn": PROFILE},
        {
            "signingProfileArn": OTHER_PROFILE,
            "repositoryFilters": [{"filter": "other*", "filterType": "WILDCARD_MATCH"}],
        },
    )
    image = push_image(ecr_backend, "app", "v1")
    before = ecr_client.describe_image_signing_status(
        repositoryName="app", imageId={"imageTag": "v1"}
    )
    assert before["signingStatuses"] == [{"signingProfileArn": PROFILE, "status": "IN_PROGRESS"}]
    assert before["imageId"] == {"imageDigest": image.digest, "imageTag": "v1"}
    push_signature(ecr_backend, "app", image, NOTATION)
    after = ecr_client.describe_image_signing_status(
        repositoryName="app", imageId={"imageDigest": image.digest}
    )
    assert after["signingStatuses"] == [{"signingProfileArn": PROFILE, "status": "COMPLETE"}]


def test_cosign_signature_counts_and_every_matching_profile_reports(
    ecr_backend: Backend, ecr_client: Any
) -> None:
    configure(
        ecr_client,
        {"signingProfileArn": PROFILE},
        {
            "signingProfileArn": OTHER_PROFILE,
            "repositoryFilters": [{"filter": "team-*", "filterType": "WILDCARD_MATCH"}],
        },
    )
    image = push_image(ecr_backend, "team-api", "v1")
    push_signature(ecr_backend, "team-api", image, COSIGN)
    statuses = ecr_client.describe_image_signing_status(
        repositoryName="team-api", imageId={"imageTag": "v1"}
    )
    assert statuses["signingStatuses"] == [
        {"signingProfileArn": PROFILE, "status": "COMPLETE"},
        {"signingProfileArn": OTHER_PROFILE, "status": "COMPLETE"},
    ]


def test_archived_unsigned_image_reports_failed(ecr_backend: Backend, ecr_client: Any) -> None:
    configure(ecr_client, {"signingProfileArn": PROFILE})
    image = push_image(ecr_backend, "app", "v1")
    image.status = "ARCHIVED"
    (status,) = ecr_client.describe_image_signing_status(
        repositoryName="app", imageId={"imageTag": "v1"}
    )["signingStatuses"]
    assert status["status"] == "FAILED"
    assert status["failureCode"] == "IMAGE_ARCHIVED"


def test_no_configuration_means_no_statuses_and_missing_image_fails(
    ecr_backend: Backend, ecr_client: Any
) -> None:
    push_image(ecr_backend, "app", "v1")
    answer = ecr_client.describe_image_signing_status(
        repositoryName="app", imageId={"imageTag": "v1"}
    )
    assert answer["signingStatuses"] == []
    with pytest.raises(ClientError) as exc:
        ecr_client.describe_image_signing_status(repositoryName="app", imageId={"imageTag": "v2"})
    assert exc.value.response["Error"]["Code"] == "ImageNotFoundException"
