"""The state: registries, repositories and images (indexed by name, tag and digest), and the
pull-through rules, creation templates, lifecycle previews and backfills a registry keeps."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ecr_mock.domain.blobs import Blob, UploadSession
from ecr_mock.domain.manifests import Manifest
from ecr_mock.domain.names import repository_arn

MUTABLE = "MUTABLE"
IMMUTABLE = "IMMUTABLE"
IMMUTABLE_WITH_EXCLUSION = "IMMUTABLE_WITH_EXCLUSION"
MUTABLE_WITH_EXCLUSION = "MUTABLE_WITH_EXCLUSION"

STANDARD = "STANDARD"
"""Storage class of an image that can be pulled."""
ARCHIVE = "ARCHIVE"
"""Storage class of an archived image (cannot be pulled until restored)."""
ACTIVE = "ACTIVE"
"""Image status: pullable."""
ARCHIVED = "ARCHIVED"
"""Image status: in the archive."""
ACTIVATING = "ACTIVATING"
"""Image status: being restored from the archive."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: an IAM identity (or an account root) with its account."""

    arn: str
    account_id: str
    kind: str = "root"
    tags: tuple[tuple[str, str], ...] = ()

    @classmethod
    def root(cls, account_id: str) -> Principal:
        """The root user of ``account_id`` (one shared instance per account)."""
        found = _ROOTS.get(account_id)
        if found is None or type(found) is not cls:
            found = cls(arn=f"arn:aws:iam::{account_id}:root", account_id=account_id)
            if len(_ROOTS) < _MAX_ROOTS:
                _ROOTS[account_id] = found
        return found


_ROOTS: dict[str, Principal] = {}
"""Account id -> its root principal: every call by a root shares one immutable record."""
_MAX_ROOTS = 4096


@dataclass
class RepositoryCatalog:
    """An ECR Public repository's catalog data (what the gallery shows)."""

    description: str | None = None
    architectures: list[str] | None = None
    operating_systems: list[str] | None = None
    logo: bytes | None = None
    about_text: str | None = None
    usage_text: str | None = None


@dataclass
class PublicRegistryInfo:
    """What an account's ECR Public registry adds to a registry: its alias and catalog data."""

    alias: str
    display_name: str = ""


@dataclass(slots=True)
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
    storage_class: str = STANDARD
    status: str = ACTIVE
    last_archived_at: datetime | None = None
    last_activated_at: datetime | None = None
    restore_due: datetime | None = None
    """When a restore from the archive completes (status ACTIVATING)."""
    scan: dict[str, Any] | None = None
    """The last basic scan: type, frequency, times, status and findings."""
    scan_status: dict[str, str] | None = None
    """``imageScanStatus`` as DescribeImages reports it."""
    scan_summary: dict[str, Any] | None = None
    """``imageScanFindingsSummary`` as DescribeImages reports it."""
    replication_statuses: dict[tuple[str, str], dict[str, str]] | None = None
    """(registryId, region) -> ``ImageReplicationStatus`` of each destination."""
    replicated_from: dict[str, str] | None = None
    """On a replica: ``registryId``, ``region`` and ``repositoryName`` of its source."""

    def pullable(self) -> bool:
        """Whether the image can be pulled now (not archived, not being restored)."""
        return self.storage_class != ARCHIVE and self.status == ACTIVE

    @property
    def artifact_media_type(self) -> str | None:
        """The config media type (ECR's ``artifactMediaType``)."""
        return self.parsed.artifact_media_type


@dataclass(slots=True)
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
    blob_refs: dict[str, int] = field(default_factory=dict)
    """How many images reference each config/layer digest (kept by index_image/unindex_image)."""
    parents: dict[str, set[str]] = field(default_factory=dict)
    """Manifest digest -> digests of the indexes in this repository that reference it."""
    layer_types: dict[str, str] = field(default_factory=dict)
    """Blob digest -> the media type the newest image referencing it gives it."""
    blob_touched: dict[str, datetime] = field(default_factory=dict)
    """Blob digest -> when it was last uploaded, mounted or let go by an image here (backend
    clock): layer reclamation counts its grace period from the latest of these."""
    layers_touched_at: datetime | None = None
    """When a layer upload into this repository last started, ended or was mounted: a push in
    progress keeps every layer of the repository for a grace period from then."""
    policy_text: str | None = None
    lifecycle_policy_text: str | None = None
    lifecycle_updated_at: datetime | None = None
    resource_tags: dict[str, str] = field(default_factory=dict)
    catalog: RepositoryCatalog | None = None
    """ECR Public catalog data (None for private repositories)."""
    lifecycle_preview: LifecyclePreview | None = None
    """The last StartLifecyclePolicyPreview of the repository."""

    @property
    def is_public(self) -> bool:
        """True for an ECR Public repository (public repositories always have catalog data)."""
        return self.catalog is not None

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

    def index_image(self, image: Image) -> None:
        """Record what a newly stored image references (blobs, child manifests, subject)."""
        parsed = image.parsed
        for digest in parsed.blob_digests():
            self.blob_refs[digest] = self.blob_refs.get(digest, 0) + 1
        if parsed.config is not None:
            self.layer_types[parsed.config.digest] = parsed.config.media_type
        for layer in parsed.layers:
            self.layer_types[layer.digest] = layer.media_type
        for child in parsed.manifests:
            self.parents.setdefault(child.digest, set()).add(image.digest)
        if parsed.subject is not None:
            self.referrers.setdefault(parsed.subject.digest, set()).add(image.digest)

    def unindex_image(self, image: Image) -> None:
        """Forget what a removed image referenced."""
        parsed = image.parsed
        for digest in parsed.blob_digests():
            left = self.blob_refs.get(digest, 0) - 1
            if left > 0:
                self.blob_refs[digest] = left
            else:
                self.blob_refs.pop(digest, None)
                self.layer_types.pop(digest, None)
        for child in parsed.manifests:
            holders = self.parents.get(child.digest)
            if holders is not None:
                holders.discard(image.digest)
                if not holders:
                    del self.parents[child.digest]
        if parsed.subject is not None:
            holders = self.referrers.get(parsed.subject.digest)
            if holders is not None:
                holders.discard(image.digest)
                if not holders:
                    del self.referrers[parsed.subject.digest]

    def references_blob(self, digest: str) -> bool:
        """True when an image of this repository references the config or layer ``digest``."""
        return digest in self.blob_refs

    def referenced_blobs(self) -> set[str]:
        """Digests of every config and layer an image of this repository references."""
        return set(self.blob_refs)

    def referenced_manifests(self) -> set[str]:
        """Digests of the manifests that indexes in this repository reference."""
        return set(self.parents)


@dataclass(slots=True)
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
    aws_managed_kms_key: str | None = None
    """The registry's AWS managed KMS key ARN, made when a repository first asks for KMS."""
    public: PublicRegistryInfo | None = None
    """Set on an account's ECR Public registry: its repositories are keyed ``<alias>/<name>``."""
    scan_findings: dict[str, dict[str | None, list[dict[str, Any]]]] = field(default_factory=dict)
    """Findings set by tests: repository name -> digest (None: every image) -> findings."""
    pull_through_rules: dict[str, PullThroughRule] = field(default_factory=dict)
    """Pull-through cache rules by prefix."""
    creation_templates: dict[str, CreationTemplate] = field(default_factory=dict)
    """Repository creation templates by prefix."""
    replication_backfills: dict[str, Backfill] = field(default_factory=dict)
    """Replication backfills by id, in start order."""
    reclaimed: dict[str, int] = field(default_factory=dict)
    """Digest -> size of the layers reclaimed lately, oldest first (a bounded record, so
    BatchCheckLayerAvailability can answer UNAVAILABLE for them)."""
    reclaimed_bytes: int = 0
    """Bytes of layers reclaimed in this registry so far."""
    reclaimed_layers: int = 0
    """How many layers were reclaimed in this registry so far."""


# ----- what a registry keeps besides repositories and images ------------------------------


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
    tag_mutability: str = MUTABLE
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
