"""Model objects to the ECR API's JSON shapes."""

from __future__ import annotations

from typing import Any

from ecr_mock.domain.models import Image, Repository
from ecr_mock.services import Store


def repository_json(backend: Store, repo: Repository) -> dict[str, Any]:
    """The ``Repository`` shape."""
    doc: dict[str, Any] = {
        "repositoryArn": repo.arn,
        "registryId": repo.account,
        "repositoryName": repo.name,
        "repositoryUri": backend.repository_uri(repo),
        "createdAt": repo.created_at,
        "imageTagMutability": repo.tag_mutability,
        "imageScanningConfiguration": {"scanOnPush": repo.scan_on_push},
        "encryptionConfiguration": dict(repo.encryption),
    }
    if repo.mutability_exclusions:
        doc["imageTagMutabilityExclusionFilters"] = [dict(f) for f in repo.mutability_exclusions]
    return doc


def image_id(image: Image, tag: str | None = None) -> dict[str, Any]:
    """The ``ImageIdentifier`` shape (digest, and the tag when given)."""
    doc: dict[str, Any] = {"imageDigest": image.digest}
    if tag is not None:
        doc["imageTag"] = tag
    return doc


def image_detail(repo: Repository, image: Image) -> dict[str, Any]:
    """The ``ImageDetail`` shape of DescribeImages."""
    doc: dict[str, Any] = {
        "registryId": repo.account,
        "repositoryName": repo.name,
        "imageDigest": image.digest,
        "imageSizeInBytes": image.size,
        "imagePushedAt": image.pushed_at,
        "imageManifestMediaType": image.media_type,
        "imageStatus": image.status,
    }
    if image.tags:
        doc["imageTags"] = list(image.tags)
    artifact = image.artifact_media_type
    if artifact:
        doc["artifactMediaType"] = artifact
    if image.last_pulled_at is not None:
        doc["lastRecordedPullTime"] = image.last_pulled_at
    if image.parsed.subject is not None:
        doc["subjectManifestDigest"] = image.parsed.subject.digest
    if image.last_archived_at is not None:
        doc["lastArchivedAt"] = image.last_archived_at
    if image.last_activated_at is not None:
        doc["lastActivatedAt"] = image.last_activated_at
    if image.scan_status is not None:
        doc["imageScanStatus"] = image.scan_status
    if image.scan_summary is not None:
        doc["imageScanFindingsSummary"] = image.scan_summary
    return doc


def image_json(repo: Repository, image: Image, tag: str | None = None) -> dict[str, Any]:
    """The ``Image`` shape of PutImage and BatchGetImage: the manifest text as stored."""
    doc: dict[str, Any] = {
        "registryId": repo.account,
        "repositoryName": repo.name,
        "imageId": image_id(image, tag),
        "imageManifest": image.manifest.decode("utf-8"),
        "imageManifestMediaType": image.media_type,
    }
    return doc


def tags_json(tags: dict[str, str]) -> list[dict[str, str]]:
    """Resource tags as ``[{"Key": ..., "Value": ...}]``."""
    return [{"Key": key, "Value": value} for key, value in tags.items()]
