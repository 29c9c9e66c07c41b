"""What a registry keeps besides repositories and images: creation templates, pull-through
rules, lifecycle previews and replication backfills (loaded on first use, not at import)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

ROOT = "ROOT"


@dataclass
class TemplateSettings:
    """What a template sets; ``None`` means "not given" (default on create, unchanged on update)."""

    applied_for: list[str] | None = None
    description: str | None = None
    encryption: dict[str, str] | None = None
    resource_tags: dict[str, str] | None = None
    tag_mutability: str | None = None
    mutability_exclusions: list[dict[str, str]] | None = None
    repository_policy: str | None = None
    lifecycle_policy: str | None = None
    custom_role_arn: str | None = None


@dataclass
class CreationTemplate:
    """One stored repository creation template."""

    prefix: str
    applied_for: list[str]
    created_at: datetime
    updated_at: datetime
    description: str | None = None
    encryption: dict[str, str] = field(default_factory=lambda: {"encryptionType": "AES256"})
    resource_tags: dict[str, str] = field(default_factory=dict)
    tag_mutability: str = "MUTABLE"  # models.MUTABLE, which this module does not import
    mutability_exclusions: list[dict[str, str]] = field(default_factory=list)
    repository_policy: str | None = None
    lifecycle_policy: str | None = None
    custom_role_arn: str | None = None

    def covers(self, name: str) -> bool:
        """Whether the template's namespace holds repository ``name`` (ROOT holds every name)."""
        if self.prefix == ROOT:
            return True
        namespace = self.prefix.rstrip("/") + "/"
        return name.startswith(namespace)


@dataclass
class PullThroughRule:
    """One pull-through cache rule."""

    prefix: str
    upstream_url: str
    created_at: datetime
    updated_at: datetime | None = None
    upstream_registry: str | None = None
    credential_arn: str | None = None
    custom_role_arn: str | None = None
    upstream_prefix: str | None = None

    def covers(self, name: str) -> bool:
        """Whether repository ``name`` is under this rule's prefix (ROOT covers every name)."""
        if self.prefix == ROOT:
            return True
        return name.startswith(self.prefix.rstrip("/") + "/")

    def upstream_name(self, name: str) -> str:
        """The upstream repository for cache repository ``name``."""
        rest = name if self.prefix == ROOT else name[len(self.prefix.rstrip("/")) + 1 :]
        if self.upstream_prefix and self.upstream_prefix != ROOT:
            return self.upstream_prefix.rstrip("/") + "/" + rest
        return rest


@dataclass(frozen=True)
class PreviewResult:
    """One image a preview would act on, as ``LifecyclePolicyPreviewResult`` reports it."""

    digest: str
    tags: tuple[str, ...]
    pushed_at: datetime
    action: str
    target_storage_class: str | None
    rule_priority: int
    storage_class: str


@dataclass
class LifecyclePreview:
    """The last preview of a repository: policy text, status and its results."""

    policy_text: str
    status: str
    results: list[PreviewResult] = field(default_factory=list)
    started_at: datetime | None = None

    @property
    def expiring(self) -> int:
        """How many images the policy would expire."""
        return sum(r.action == "EXPIRE" for r in self.results)

    @property
    def transitioning(self) -> dict[str, int]:
        """Images the policy would transition, per target storage class."""
        counts: dict[str, int] = {}
        for r in self.results:
            if r.action == "TRANSITION" and r.target_storage_class:
                counts[r.target_storage_class] = counts.get(r.target_storage_class, 0) + 1
        return counts


@dataclass(frozen=True)
class Destination:
    """One (registry id, region) to copy into."""

    registry_id: str
    region: str


PREPARING = "PREPARING"


IN_PROGRESS = "IN_PROGRESS"


COMPLETE = "COMPLETE"


FAILED = "FAILED"


STOPPING = "STOPPING"


STOPPED = "STOPPED"


UNFINISHED = (PREPARING, IN_PROGRESS, STOPPING)


@dataclass(frozen=True)
class Planned:
    """One replication a backfill will perform: an image of a repository, with a tag or none."""

    repository_name: str
    digest: str
    tag: str | None


@dataclass
class BackfillResult:
    """The outcome of one planned replication."""

    planned: Planned
    status: str
    failure_code: str | None = None
    sub_image_failure_codes: list[str] | None = None
    """Set (possibly empty) only when the image is a manifest list or index."""

    def to_api(self) -> dict[str, Any]:
        """The ``ReplicationBackfillResult`` shape."""
        image_id: dict[str, str] = {"imageDigest": self.planned.digest}
        if self.planned.tag is not None:
            image_id["imageTag"] = self.planned.tag
        out: dict[str, Any] = {
            "repositoryName": self.planned.repository_name,
            "imageId": image_id,
            "status": self.status,
        }
        if self.failure_code is not None:
            out["failureCode"] = self.failure_code
        if self.sub_image_failure_codes is not None:
            out["subImageFailureCodes"] = list(self.sub_image_failure_codes)
        return out


@dataclass
class Backfill:
    """One replication backfill of a registry to one destination."""

    backfill_id: str
    registry_id: str
    destination: Destination
    started_at: datetime
    status: str = PREPARING
    plan: list[Planned] | None = None
    """None until prepared (progress is null until then)."""
    results: list[BackfillResult] = field(default_factory=list)
    ended_at: datetime | None = None
    failure_code: str | None = None

    @property
    def ended(self) -> bool:
        """Whether the backfill reached a terminal status."""
        return self.status not in UNFINISHED

    def progress(self) -> dict[str, Any] | None:
        """The ``ReplicationBackfillProgress`` shape; None until the plan exists."""
        if self.plan is None:
            return None
        failed = [r for r in self.results if r.status == FAILED]
        codes = dict.fromkeys(r.failure_code for r in failed if r.failure_code is not None)
        return {
            "totalReplicationCount": len(self.plan),
            "completedReplicationCount": len(self.results) - len(failed),
            "failedReplicationCount": len(failed),
            "failureCodes": list(codes),
        }

    def summary(self) -> dict[str, Any]:
        """The fields shared by every backfill answer (the ``ReplicationBackfillSummary``)."""
        out: dict[str, Any] = {
            "replicationBackfillId": self.backfill_id,
            "destination": {
                "region": self.destination.region,
                "registryId": self.destination.registry_id,
            },
            "status": self.status,
            "startedAt": self.started_at,
        }
        if self.failure_code is not None:
            out["failureCode"] = self.failure_code
        progress = self.progress()
        if progress is not None:
            out["progress"] = progress
        if self.ended_at is not None:
            out["endedAt"] = self.ended_at
        return out

    def visible_results(self, status_filter: str | None = None) -> list[BackfillResult]:
        """Per-image results (only once ended), optionally of one status."""
        if not self.ended:
            return []
        return [r for r in self.results if status_filter in (None, r.status)]
