"""The referrers service: the manifests whose subject an image is, for both surfaces."""

from __future__ import annotations

import json

from ecr_mock import Backend
from ecr_mock.domain.models import Registry, Repository
from ecr_mock.services import images, referrers, repositories

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
EMPTY_CONFIG = "application/vnd.oci.empty.v1+json"
SBOM = "application/spdx+json"
SIGNATURE = "application/vnd.cncf.notary.signature"


def put(
    backend: Backend,
    reg: Registry,
    repo: Repository,
    *,
    subject: str | None = None,
    artifact_type: str | None = None,
    annotations: dict[str, str] | None = None,
    tag: str | None = None,
) -> str:
    doc: dict[str, object] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": EMPTY_CONFIG, "digest": "sha256:" + "4" * 64, "size": 2},
        "layers": [],
    }
    if artifact_type:
        doc["artifactType"] = artifact_type
    if subject:
        doc["subject"] = {"mediaType": OCI_MANIFEST, "digest": subject, "size": 10}
    if annotations:
        doc["annotations"] = annotations
    return images.put_image(backend, reg, repo, json.dumps(doc).encode(), tag=tag).digest


def make_repo(backend: Backend) -> tuple[Registry, Repository]:
    backend.allow_missing_layers = True
    reg = backend.registry()
    return reg, repositories.create_repository(backend, reg, "app")


def test_referrers_lists_subjects_manifests_in_digest_order_filtered_by_type(
    ecr_backend: Backend,
) -> None:
    reg, repo = make_repo(ecr_backend)
    subject = put(ecr_backend, reg, repo, tag="v1")
    sbom = put(ecr_backend, reg, repo, subject=subject, artifact_type=SBOM)
    signature = put(ecr_backend, reg, repo, subject=subject, artifact_type=SIGNATURE)
    put(ecr_backend, reg, repo, artifact_type=SBOM)  # no subject: not a referrer
    found = referrers.referrers(ecr_backend, repo, subject)
    assert [image.digest for image in found] == sorted([sbom, signature])
    only_sboms = referrers.referrers(ecr_backend, repo, subject, artifact_types=[SBOM])
    assert [image.digest for image in only_sboms] == [sbom]
    assert referrers.referrers(ecr_backend, repo, "sha256:" + "0" * 64) == []


def test_referrers_keeps_the_status_asked_for(ecr_backend: Backend) -> None:
    reg, repo = make_repo(ecr_backend)
    subject = put(ecr_backend, reg, repo, tag="v1")
    sbom = put(ecr_backend, reg, repo, subject=subject, artifact_type=SBOM, tag="sbom")
    ecr_backend.update_image_storage_class(repo, repo.images[sbom], "ARCHIVE")
    assert referrers.referrers(ecr_backend, repo, subject, status="ACTIVE") == []
    archived = referrers.referrers(ecr_backend, repo, subject, status="ARCHIVED")
    assert [image.digest for image in archived] == [sbom]
    assert [i.digest for i in referrers.referrers(ecr_backend, repo, subject)] == [sbom]


def test_referrers_index_is_the_oci_index_of_descriptors(ecr_backend: Backend) -> None:
    reg, repo = make_repo(ecr_backend)
    subject = put(ecr_backend, reg, repo, tag="v1")
    sbom = put(ecr_backend, reg, repo, subject=subject, artifact_type=SBOM, annotations={"a": "b"})
    index = referrers.referrers_index(ecr_backend, repo, subject)
    size = len(repo.images[sbom].manifest)
    assert index == {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {
                "mediaType": OCI_MANIFEST,
                "digest": sbom,
                "size": size,
                "artifactType": SBOM,
                "annotations": {"a": "b"},
            }
        ],
    }
    assert referrers.referrers_index(ecr_backend, repo, subject, [SIGNATURE])["manifests"] == []
    assert referrers.referrer_json(repo.images[sbom])["artifactStatus"] == "ACTIVE"


def test_an_artifact_without_artifact_type_takes_its_config_media_type(
    ecr_backend: Backend,
) -> None:
    reg, repo = make_repo(ecr_backend)
    subject = put(ecr_backend, reg, repo, tag="v1")
    plain = put(ecr_backend, reg, repo, subject=subject)
    assert referrers.artifact_type(repo.images[plain]) == EMPTY_CONFIG
