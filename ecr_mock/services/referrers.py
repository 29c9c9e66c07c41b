"""Referrers (OCI 1.1): the manifests whose subject an image is, and their descriptors."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from ecr_mock.domain.manifests import OCI_INDEX
from ecr_mock.domain.models import Image, Repository

if TYPE_CHECKING:
    from ecr_mock.store.state import Store

ARTIFACT_STATUSES = ("ACTIVE", "ARCHIVED", "ACTIVATING")
ANY_STATUS = "ANY"


def artifact_type(image: Image) -> str | None:
    """The OCI artifact type of a manifest: its ``artifactType``, else its config media type."""
    return image.parsed.artifact_type or image.parsed.artifact_media_type


def artifact_status(image: Image) -> str:
    """``ACTIVE``, ``ARCHIVED`` or ``ACTIVATING`` (ECR's ``artifactStatus``)."""
    return image.status if image.status in ARTIFACT_STATUSES else "ACTIVE"


def referrers(
    store: Store,
    repo: Repository,
    subject_digest: str,
    artifact_types: Collection[str] | None = None,
    status: str = ANY_STATUS,
) -> list[Image]:
    """Manifests of ``repo`` whose subject is ``subject_digest``, in digest order, keeping
    those of ``artifact_types`` when given and artifacts in ``status`` (default: any)."""
    with store.lock:
        found = [
            repo.images[d]
            for d in sorted(repo.referrers.get(subject_digest, ()))
            if d in repo.images
        ]
    if artifact_types:
        wanted = set(artifact_types)
        found = [image for image in found if artifact_type(image) in wanted]
    if status != ANY_STATUS:
        found = [image for image in found if artifact_status(image) == status]
    return found


def descriptor(image: Image) -> dict[str, Any]:
    """The OCI descriptor of a referrer: media type, digest, size, artifact type, annotations."""
    doc: dict[str, Any] = {
        "mediaType": image.media_type,
        "digest": image.digest,
        "size": len(image.manifest),
    }
    kind = artifact_type(image)
    if kind:
        doc["artifactType"] = kind
    if image.parsed.annotations:
        doc["annotations"] = dict(image.parsed.annotations)
    return doc


def referrer_json(image: Image) -> dict[str, Any]:
    """ECR's ``ImageReferrer``: the descriptor plus ``artifactStatus``."""
    return {**descriptor(image), "artifactStatus": artifact_status(image)}


def referrers_index(
    store: Store,
    repo: Repository,
    subject_digest: str,
    artifact_types: Collection[str] | None = None,
) -> dict[str, Any]:
    """The OCI image index ``/v2/<name>/referrers/<digest>`` answers (every status)."""
    found = referrers(store, repo, subject_digest, artifact_types)
    return {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [descriptor(image) for image in found],
    }
