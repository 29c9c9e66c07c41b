"""ListImageReferrers through boto3: filters, status, pagination, agreement with /v2/ referrers."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from ecr_mock.domain.manifests import OCI_CONFIG, OCI_EMPTY, OCI_MANIFEST
from ecr_mock.domain.models import Image
from ecr_mock.services.backend import Backend
from tests.ecr_api.helpers import store_blob

REGION = "us-east-1"
NOTATION = "application/vnd.cncf.notary.signature"
SBOM = "application/spdx+json"


def push_image(backend: Backend, repo_name: str, tag: str) -> Image:
    config = store_blob(backend, repo_name, b'{"os":"linux"}')
    layer = store_blob(backend, repo_name, b"layer")
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config.digest, "size": config.size},
        "layers": [
            {"mediaType": "application/octet-stream", "digest": layer.digest, "size": layer.size}
        ],
    }
    reg = backend.registry(None, REGION)
    return backend.put_image(
        reg, reg.repositories[repo_name], json.dumps(manifest).encode(), tag=tag
    )


def push_referrer(
    backend: Backend, repo_name: str, subject: Image, artifact_type: str, note: str
) -> Image:
    empty = store_blob(backend, repo_name, b"{}")
    payload = store_blob(backend, repo_name, note.encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": {"mediaType": OCI_EMPTY, "digest": empty.digest, "size": empty.size},
        "layers": [
            {
                "mediaType": "application/octet-stream",
                "digest": payload.digest,
                "size": payload.size,
            }
        ],
        "subject": {
            "mediaType": OCI_MANIFEST,
            "digest": subject.digest,
            "size": len(subject.manifest),
        },
        "annotations": {"note": note},
    }
    reg = backend.registry(None, REGION)
    return backend.put_image(reg, reg.repositories[repo_name], json.dumps(manifest).encode())


def test_lists_referrers_with_descriptor_fields(ecr_backend: Backend, ecr_client: Any) -> None:
    subject = push_image(ecr_backend, "app", "v1")
    signature = push_referrer(ecr_backend, "app", subject, NOTATION, "sig")
    answer = ecr_client.list_image_referrers(
        repositoryName="app", subjectId={"imageDigest": subject.digest}
    )
    assert answer["referrers"] == [
        {
            "digest": signature.digest,
            "mediaType": OCI_MANIFEST,
            "artifactType": NOTATION,
            "size": len(signature.manifest),
            "annotations": {"note": "sig"},
            "artifactStatus": "ACTIVE",
        }
    ]
    assert "nextToken" not in answer
    detail = ecr_client.describe_images(
        repositoryName="app", imageIds=[{"imageDigest": signature.digest}]
    )
    assert detail["imageDetails"][0]["subjectManifestDigest"] == subject.digest


def test_filters_by_artifact_type_and_status(ecr_backend: Backend, ecr_client: Any) -> None:
    subject = push_image(ecr_backend, "app", "v1")
    signature = push_referrer(ecr_backend, "app", subject, NOTATION, "sig")
    sbom = push_referrer(ecr_backend, "app", subject, SBOM, "sbom")
    only_sbom = ecr_client.list_image_referrers(
        repositoryName="app",
        subjectId={"imageDigest": subject.digest},
        filter={"artifactTypes": [SBOM]},
    )
    assert [r["digest"] for r in only_sbom["referrers"]] == [sbom.digest]
    sbom.status = "ARCHIVED"
    active = ecr_client.list_image_referrers(
        repositoryName="app", subjectId={"imageDigest": subject.digest}
    )
    assert [r["digest"] for r in active["referrers"]] == [signature.digest]
    archived = ecr_client.list_image_referrers(
        repositoryName="app",
        subjectId={"imageDigest": subject.digest},
        filter={"artifactStatus": "ARCHIVED"},
    )
    assert [(r["digest"], r["artifactStatus"]) for r in archived["referrers"]] == [
        (sbom.digest, "ARCHIVED")
    ]
    every = ecr_client.list_image_referrers(
        repositoryName="app",
        subjectId={"imageDigest": subject.digest},
        filter={"artifactStatus": "ANY"},
    )
    assert sorted(r["digest"] for r in every["referrers"]) == sorted(
        [signature.digest, sbom.digest]
    )


def test_paginates_with_max_results(ecr_backend: Backend, ecr_client: Any) -> None:
    subject = push_image(ecr_backend, "app", "v1")
    made = sorted(
        push_referrer(ecr_backend, "app", subject, SBOM, f"n{i}").digest for i in range(5)
    )
    seen: list[str] = []
    kwargs: dict[str, Any] = {
        "repositoryName": "app",
        "subjectId": {"imageDigest": subject.digest},
        "maxResults": 2,
    }
    while True:
        page = ecr_client.list_image_referrers(**kwargs)
        assert len(page["referrers"]) <= 2
        seen.extend(r["digest"] for r in page["referrers"])
        if "nextToken" not in page:
            break
        kwargs["nextToken"] = page["nextToken"]
    assert seen == made


def test_unknown_subject_has_no_referrers_and_unknown_repository_fails(
    ecr_backend: Backend, ecr_client: Any
) -> None:
    push_image(ecr_backend, "app", "v1")
    answer = ecr_client.list_image_referrers(
        repositoryName="app", subjectId={"imageDigest": "sha256:" + "1" * 64}
    )
    assert answer["referrers"] == []
    with pytest.raises(ClientError) as exc:
        ecr_client.list_image_referrers(
            repositoryName="nope", subjectId={"imageDigest": "sha256:" + "1" * 64}
        )
    assert exc.value.response["Error"]["Code"] == "RepositoryNotFoundException"


@pytest.mark.parametrize(
    "extra",
    [
        {"maxResults": 51},
        {"filter": {"artifactStatus": "GONE"}},
        {"filter": {"artifactTypes": ["a", "b", "c", "d", "e", "f"]}},
    ],
)
def test_bad_input_is_refused(ecr_backend: Backend, ecr_client: Any, extra: dict[str, Any]) -> None:
    subject = push_image(ecr_backend, "app", "v1")
    with pytest.raises(ClientError) as exc:
        ecr_client.list_image_referrers(
            repositoryName="app", subjectId={"imageDigest": subject.digest}, **extra
        )
    assert exc.value.response["Error"]["Code"] in (
        "ValidationException",
        "InvalidParameterException",
    )


def test_api_and_v2_referrers_agree(ecr_backend: Backend, ecr_client: Any) -> None:
    subject = push_image(ecr_backend, "app", "v1")
    push_referrer(ecr_backend, "app", subject, NOTATION, "sig")
    push_referrer(ecr_backend, "app", subject, SBOM, "sbom")
    token = ecr_client.get_authorization_token()["authorizationData"][0]
    user, password = base64.b64decode(token["authorizationToken"]).decode().split(":", 1)
    index = requests.get(
        f"{token['proxyEndpoint']}/v2/app/referrers/{subject.digest}",
        auth=(user, password),
        timeout=10,
    ).json()
    api = ecr_client.list_image_referrers(
        repositoryName="app", subjectId={"imageDigest": subject.digest}
    )
    from_api = [{k: v for k, v in r.items() if k != "artifactStatus"} for r in api["referrers"]]
    assert from_api == index["manifests"]
