"""The state: registries, repositories and images, indexed by name, tag and digest."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ecr_mock.core.blobs import Blob, UploadSession
from ecr_mock.core.manifests import Manifest
from ecr_mock.core.names import repository_arn

MUTABLE = "MUTABLE"
IMMUTABLE = "IMMUTABLE"
IMMUTABLE_WITH_EXCLUSION = "IMMUTABLE_WITH_EXCLUSION"
MUTABLE_WITH_EXCLUSION = "MUTABLE_WITH_EXCLUSION"


@dataclass(frozen=True)
class Principal:
    """Who is calling: an IAM identity (or an account root) with its account."""

    arn: str
    account_id: str
    kind: str = "root"
    tags: tuple[tuple[str, str], ...] = ()

    @classmethod
    def root(cls, account_id: str) -> Principal:
        """The root user of ``account_id``."""
        return cls(arn=f"arn:aws:iam::{account_id}:root", account_id=account_id)


@dataclass
class Image:
    """One manifest in a repository, with the tags that point at it."""

    digest: str
    manifest: bytes
    parsed: Manifest
    media_type: str
    pushed_at: datetime
    size: int
    tags: list[str] = field(default_factory=list)
    last_pulled_at: datetime | None = None
    storage_class: str = "STANDARD"
    status: str = "ACTIVE"
    last_archived_at: datetime | None = None
    last_activated_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def artifact_media_type(self) -> str | None:
        """The config media type (ECR's ``artifactMediaType``)."""
        return self.parsed.artifact_media_type


@dataclass
class Repository:
    """A repository: images by digest (in push order), tags, known blobs, settings."""

    name: str
    account: str
    region: str
    created_at: datetime
    tag_mutability: str = MUTABLE
    mutability_exclusions: list[dict[str, str]] = field(default_factory=list)
    scan_on_push: bool = False
    encryption: dict[str, str] = field(default_factory=lambda: {"encryptionType": "AES256"})
    images: dict[str, Image] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    blobs: set[str] = field(default_factory=set)
    referrers: dict[str, set[str]] = field(default_factory=dict)
    policy_text: str | None = None
    lifecycle_policy_text: str | None = None
    lifecycle_updated_at: datetime | None = None
    resource_tags: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        """The repository ARN."""
        return repository_arn(self.account, self.region, self.name)

    def tag_is_immutable(self, tag: str) -> bool:
        """Whether ``tag`` may not move, given the mutability and its exclusion filters."""
        patterns = [f.get("filter", "") for f in self.mutability_exclusions]
        excluded = any(fnmatch.fnmatchcase(tag, p) for p in patterns)
        if self.tag_mutability == IMMUTABLE:
            return True
        if self.tag_mutability == IMMUTABLE_WITH_EXCLUSION:
            return not excluded
        if self.tag_mutability == MUTABLE_WITH_EXCLUSION:
            return excluded
        return False

    def referenced_blobs(self) -> set[str]:
        """Digests of every config and layer an image of this repository references."""
        found: set[str] = set()
        for image in self.images.values():
            found.update(image.parsed.blob_digests())
        return found

    def referenced_manifests(self) -> set[str]:
        """Digests of the manifests that indexes in this repository reference."""
        found: set[str] = set()
        for image in self.images.values():
            found.update(child.digest for child in image.parsed.manifests)
        return found


@dataclass
class Registry:
    """One registry per (account, region): repositories, blobs, uploads, registry settings."""

    account: str
    region: str
    repositories: dict[str, Repository] = field(default_factory=dict)
    blobs: dict[str, Blob] = field(default_factory=dict)
    uploads: dict[str, UploadSession] = field(default_factory=dict)
    policy_text: str | None = None
    replication_rules: list[dict[str, Any]] = field(default_factory=list)
    scanning_configuration: dict[str, Any] = field(
        default_factory=lambda: {"scanType": "BASIC", "rules": []}
    )
    settings: dict[str, str] = field(default_factory=dict)
    signing_configuration: dict[str, Any] | None = None
    pull_time_update_exclusions: dict[str, datetime] = field(default_factory=dict)
    """Principal ARN -> when it was excluded: its pulls leave ``lastRecordedPullTime`` alone."""
    extra: dict[str, Any] = field(default_factory=dict)
