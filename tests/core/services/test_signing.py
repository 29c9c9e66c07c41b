"""The signing service: the signing configuration, signature referrers, signing statuses."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ecr_mock import Backend
from ecr_mock.domain.blobs import Blob
from ecr_mock.domain.errors import InvalidParameter, SigningConfigurationNotFound
from ecr_mock.domain.models import Image, Registry, Repository
from ecr_mock.services import images, signing, uploads
from tests.support.services import OCI_MANIFEST, Push

PROFILE = "arn:aws:signer:us-east-1:123456789012:/signing-profiles/release"
OTHER_PROFILE = "arn:aws:signer:us-east-1:123456789012:/signing-profiles/audit"
SBOM = "application/spdx+json"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"


def refer(
    backend: Backend, reg: Registry, repo: Repository, subject: Image, kind: str, note: str = ""
) -> Image:
    """Push an artifact of type ``kind`` whose subject is ``subject``."""
    empty, body = Blob.from_bytes(b"{}"), Blob.from_bytes(f"{kind} {note}".encode())
    for blob in (empty, body):
        uploads.store_blob(backend, reg, repo, blob)
    manifest: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": kind,
        "config": {"mediaType": OCI_EMPTY, "digest": empty.digest, "size": empty.size},
        "layers": [{"mediaType": "text/plain", "digest": body.digest, "size": body.size}],
        "subject": {
            "mediaType": OCI_MANIFEST,
            "digest": subject.digest,
            "size": len(subject.manifest),
        },
        "annotations": {"note": note} if note else {},
    }
    if not note:
        del manifest["annotations"]
    return images.put_image(backend, reg, repo, json.dumps(manifest).encode())


def test_configuration_round_trip_and_not_found(ecr_backend: Backend, reg: Registry) -> None:
    with pytest.raises(SigningConfigurationNotFound):
        signing.get_signing_configuration(reg)
    rule = {
        "signingProfileArn": PROFILE,
        "repositoryFilters": [{"filter": "prod/*", "filterType": "WILDCARD_MATCH"}],
    }
    assert signing.put_signing_configuration(ecr_backend, reg, {"rules": [rule]}) == {
        "rules": [rule]
    }
    assert signing.get_signing_configuration(reg) == {"rules": [rule]}
    assert signing.delete_signing_configuration(ecr_backend, reg) == {"rules": [rule]}
    with pytest.raises(SigningConfigurationNotFound):
        signing.delete_signing_configuration(ecr_backend, reg)


@pytest.mark.parametrize(
    ("config", "words"),
    [
        (None, "rules must not be null"),
        ({"rules": [{"signingProfileArn": PROFILE}] * 11}, "less than or equal to 10"),
        ({"rules": [{"signingProfileArn": "arn:aws:iam::1:role/x"}]}, "signingProfileArn"),
        ({"rules": [{"signingProfileArn": PROFILE, "repositoryFilters": []}]}, "between 1"),
        (
            {
                "rules": [
                    {
                        "signingProfileArn": PROFILE,
                        "repositoryFilters": [{"filter": "a", "filterType": "PREFIX"}],
                    }
                ]
            },
            "WILDCARD_MATCH",
        ),
    ],
)
def test_invalid_configurations_are_refused(
    ecr_backend: Backend, reg: Registry, config: Any, words: str
) -> None:
    with pytest.raises(InvalidParameter) as bad:
        signing.put_signing_configuration(ecr_backend, reg, config)
    assert words in bad.value.message
    assert reg.signing_configuration is None


def test_profiles_follow_the_rules_whose_filters_cover_the_repository(
    ecr_backend: Backend, reg: Registry, repo: Repository
) -> None:
    signing.put_signing_configuration(
        ecr_backend,
        reg,
        {
            "rules": [
                {
                    "signingProfileArn": PROFILE,
                    "repositoryFilters": [{"filter": "a*", "filterType": "WILDCARD_MATCH"}],
                },
                {
                    "signingProfileArn": OTHER_PROFILE,
                    "repositoryFilters": [{"filter": "prod/*", "filterType": "WILDCARD_MATCH"}],
                },
                {"signingProfileArn": PROFILE},
            ]
        },
    )
    assert signing.signing_profiles(reg, repo) == [PROFILE]
    assert signing.wildcard_match("prod/*", "prod/api")
    assert not signing.wildcard_match("prod/*", "dev/api")


def test_statuses_in_progress_complete_and_failed(
    ecr_backend: Backend, reg: Registry, repo: Repository, push: Push
) -> None:
    image = push(tag="v1")
    assert signing.signing_statuses(ecr_backend, reg, repo, image) == []
    signing.put_signing_configuration(ecr_backend, reg, {"rules": [{"signingProfileArn": PROFILE}]})
    assert signing.signing_statuses(ecr_backend, reg, repo, image) == [
        {"signingProfileArn": PROFILE, "status": "IN_PROGRESS"}
    ]
    sig = refer(ecr_backend, reg, repo, image, signing.COSIGN_SIGNATURE)
    refer(ecr_backend, reg, repo, image, SBOM, note="spdx")
    assert signing.signatures(ecr_backend, repo, image) == [sig]
    assert signing.signing_statuses(ecr_backend, reg, repo, image)[0]["status"] == "COMPLETE"
    assert (
        signing.signing_statuses(ecr_backend, reg, repo, sig)[0]["failureCode"]
        == "UNSUPPORTED_ARTIFACT"
    )
    unsigned = push(tag="v2", seed="b")
    unsigned.status = "ARCHIVED"
    assert (
        signing.signing_statuses(ecr_backend, reg, repo, unsigned)[0]["failureCode"]
        == "IMAGE_ARCHIVED"
    )
