"""Backend: the public face of the core; a Store with its wiring and one method per service call."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ecr_mock.core.blobs import Blob, UploadSession
from ecr_mock.core.clock import Clock
from ecr_mock.core.models import MUTABLE, Image, Principal, Registry, Repository
from ecr_mock.core.names import DEFAULT_ACCOUNT, DEFAULT_REGION
from ecr_mock.core.ports import EventListener
from ecr_mock.core.services import images, policies, repositories, settings, uploads
from ecr_mock.core.state import Store

if TYPE_CHECKING:
    from ecr_mock.core.events import EventLog
    from ecr_mock.core.lifecycle import LifecycleAction
    from ecr_mock.core.policy import Policy
    from ecr_mock.core.services.calls import CallLog
    from ecr_mock.core.services.faults import FaultCatalog, FaultRules
    from ecr_mock.core.services.lifecycle import LifecycleScheduler
    from ecr_mock.core.services.quotas import Quotas

LIFECYCLE_PERIOD = timedelta(hours=24)
"""How often stored lifecycle policies are applied (ECR acts within 24 hours)."""

Listener = EventListener


class Backend(Store):
    """Every registry of every account and region, sharing one clock and one token store.

    The state lives in :class:`~ecr_mock.core.state.Store`; the rules in
    ``ecr_mock.core.services``. This class wires the parts made on first use (the event log,
    scan on push, the lifecycle scheduler) and offers each service call as a method.
    """

    def __init__(
        self,
        account_id: str = DEFAULT_ACCOUNT,
        region: str = DEFAULT_REGION,
        clock: Clock | None = None,
        *,
        allow_missing_layers: bool = False,
    ) -> None:
        super().__init__(account_id, region, clock, allow_missing_layers=allow_missing_layers)
        self._lifecycle: LifecycleScheduler | None = None
        self._lifecycle_epoch = self.clock.now()
        self._scan_on_push: Listener | None = None
        self.listeners.append(self._on_core_event)
        self.fault_catalog: Callable[[], FaultCatalog] | None = None
        """Valid operation, route and error names for fault rules (set by mock_ecr and servers)."""
        self._faults: FaultRules | None = None
        self._calls: CallLog | None = None
        self._quotas: Quotas | None = None

    # ----- parts made on first use (a fresh process pays only for what it uses) --------------

    @property
    def events(self) -> EventLog:
        """ECR's EventBridge events recorded so far: ``events.all()``, ``events.of_type(...)``."""
        if self.event_log is None:
            from ecr_mock.core.events import EventLog

            with self.lock:
                if self.event_log is None:
                    self.event_log = EventLog(backend=self)
        return self.event_log

    @property
    def faults(self) -> FaultRules:
        """Fault rules for this backend's requests: ``faults.add(operation=..., error=...)``."""
        if self._faults is None:
            from ecr_mock.core.services.faults import FaultRules

            with self.lock:
                if self._faults is None:
                    self._faults = FaultRules(lambda: self.fault_catalog)
        return self._faults

    @property
    def calls(self) -> CallLog:
        """The requests this backend answered, oldest first (a ring of 10,000 by default)."""
        if self._calls is None:
            from ecr_mock.core.services.calls import CallLog

            with self.lock:
                if self._calls is None:
                    self._calls = CallLog()
        return self._calls

    @property
    def quotas(self) -> Quotas:
        """Quotas mode: ``quotas.enabled = True`` throttles at the rates AWS documents."""
        if self._quotas is None:
            from ecr_mock.core.services.quotas import Quotas

            with self.lock:
                if self._quotas is None:
                    self._quotas = Quotas()
        return self._quotas

    @property
    def lifecycle(self) -> LifecycleScheduler:
        """Applies lifecycle policies as time passes; ``tick()`` runs it, a server ``start()``s it."""
        if self._lifecycle is None:
            from ecr_mock.core.services.lifecycle import LifecycleScheduler

            with self.lock:
                if self._lifecycle is None:
                    scheduler = LifecycleScheduler(self, period=LIFECYCLE_PERIOD)
                    scheduler.last_run = self._lifecycle_epoch
                    self._lifecycle = scheduler
        return self._lifecycle

    def _on_core_event(self, kind: str, detail: dict[str, Any]) -> None:
        """Record every core event as an ECR event, and scan new images that scan on push."""
        self.events.on_backend_event(kind, detail)
        if kind == "image-pushed" and detail.get("new"):
            if self._scan_on_push is None:
                from ecr_mock.core.services.scanning import ScanOnPush

                self._scan_on_push = ScanOnPush(self)
            self._scan_on_push(kind, detail)

    # ----- identities ----------------------------------------------------------------------------

    def principal_for_key(self, access_key: str | None) -> Principal:
        """The principal behind an access key: registered, known to an identity provider, else
        the default root (Unauthenticated instead when ``strict_credentials`` is set)."""
        from ecr_mock.core.access import resolve_principal

        return resolve_principal(self, access_key)

    def add_access_key(
        self, access_key: str, account: str, arn: str | None = None, kind: str = "root"
    ) -> Principal:
        """Make ``access_key`` speak for ``arn`` (default: the account root) of ``account``."""
        principal = (
            Principal(arn=arn, account_id=account, kind=kind) if arn else Principal.root(account)
        )
        self.access_keys[access_key] = principal
        return principal

    # ----- time-driven work: lifecycle policies, restores ------------------------------------

    def tick(self) -> list[LifecycleAction]:
        """Run what the clock says is due (cheap; meant for the start of every request).

        Completes restores whose 20 minutes have passed and, once the clock is 24 h past the
        last evaluation, applies every lifecycle policy; returns the lifecycle actions taken.
        """
        if self._lifecycle is None:
            now = self.clock.now()
            if self._lifecycle_epoch <= now < self._lifecycle_epoch + LIFECYCLE_PERIOD:
                return []
        return self.lifecycle.tick()

    def apply_lifecycle_policies(
        self, registry: Registry | None = None, repository: Repository | None = None
    ) -> list[LifecycleAction]:
        """Apply the stored lifecycle policies now (all, one registry's or one repository's)."""
        from ecr_mock.core.services.lifecycle import apply_lifecycle

        return apply_lifecycle(self, registry, repository)

    def update_image_storage_class(
        self, repo: Repository, image: Image, target: str, tag: str | None = None
    ) -> Image:
        """UpdateImageStorageClass: ``ARCHIVE`` archives, ``STANDARD`` starts a 20-minute restore."""
        from ecr_mock.core.services.lifecycle import update_storage_class

        self.lifecycle  # noqa: B018  (restores complete on the scheduler's ticks)
        return update_storage_class(self, repo, image, target, tag)

    # ----- repositories (ecr_mock.core.services.repositories) ----------------------------------------

    def create_repository(
        self,
        reg: Registry,
        name: str,
        *,
        tag_mutability: str = MUTABLE,
        mutability_exclusions: list[dict[str, str]] | None = None,
        scan_on_push: bool = False,
        encryption: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
    ) -> Repository:
        """Create a repository; RepositoryAlreadyExists when the name is taken."""
        return repositories.create_repository(
            self,
            reg,
            name,
            tag_mutability=tag_mutability,
            mutability_exclusions=mutability_exclusions,
            scan_on_push=scan_on_push,
            encryption=encryption,
            tags=tags,
        )

    def get_repository(self, reg: Registry, name: str) -> Repository:
        """The repository called ``name``; RepositoryNotFound otherwise."""
        return repositories.get_repository(self, reg, name)

    def delete_repository(self, reg: Registry, name: str, force: bool = False) -> Repository:
        """Delete a repository; RepositoryNotEmpty unless empty or ``force``."""
        return repositories.delete_repository(self, reg, name, force)

    def repository_by_arn(self, arn: str, region: str) -> Repository:
        """The repository a resource ARN names, for a call made in ``region``."""
        return repositories.repository_by_arn(self, arn, region)

    @staticmethod
    def check_tag_mutability(
        mutability: str, filters: list[dict[str, str]] | None
    ) -> list[dict[str, str]]:
        """Validate a tag mutability and its exclusion filters; returns the filters to store."""
        return repositories.check_tag_mutability(mutability, filters)

    def set_tag_mutability(
        self, repo: Repository, mutability: str, filters: list[dict[str, str]] | None
    ) -> None:
        """PutImageTagMutability: validate, then replace the setting and its filters."""
        return repositories.set_tag_mutability(self, repo, mutability, filters)

    def resolve_encryption(self, reg: Registry, config: Mapping[str, Any] | None) -> dict[str, str]:
        """The ``encryptionConfiguration`` a new repository gets (AES256 by default)."""
        return repositories.resolve_encryption(self, reg, config)

    @staticmethod
    def check_resource_tags(
        tags: Mapping[str, str], existing: Mapping[str, str] | None = None
    ) -> None:
        """ECR's resource tag rules: keys 1-128, values 0-256, no ``aws:`` keys, at most 50."""
        return repositories.check_resource_tags(tags, existing)

    def tag_repository(self, repo: Repository, tags: Mapping[str, str]) -> None:
        """TagResource: add or overwrite tags (all or nothing)."""
        return repositories.tag_repository(self, repo, tags)

    def untag_repository(self, repo: Repository, keys: Iterable[str]) -> None:
        """UntagResource: remove tags; absent keys are ignored, ``aws:`` keys refused."""
        return repositories.untag_repository(self, repo, keys)

    # ----- images (ecr_mock.core.services.images) ----------------------------------------

    def find_image(
        self, repo: Repository, *, digest: str | None = None, tag: str | None = None
    ) -> Image:
        """The image with ``digest`` and/or ``tag``; ImageNotFound otherwise."""
        return images.find_image(self, repo, digest=digest, tag=tag)

    def resolve_reference(self, repo: Repository, reference: str) -> Image:
        """The image a ``/v2/`` reference (tag or digest) names."""
        return images.resolve_reference(self, repo, reference)

    def put_image(
        self,
        reg: Registry,
        repo: Repository,
        manifest: bytes,
        *,
        tag: str | None = None,
        media_type: str | None = None,
        digest: str | None = None,
        idempotent: bool = False,
    ) -> Image:
        """Store a manifest verbatim under its digest and point ``tag`` at it."""
        return images.put_image(
            self,
            reg,
            repo,
            manifest,
            tag=tag,
            media_type=media_type,
            digest=digest,
            idempotent=idempotent,
        )

    def delete_image(
        self, repo: Repository, *, digest: str | None = None, tag: str | None = None
    ) -> Image:
        """BatchDeleteImage for one id: by digest removes the image, by tag removes the tag."""
        return images.delete_image(self, repo, digest=digest, tag=tag)

    def untag(self, repo: Repository, tag: str) -> Image:
        """Remove a tag only (``/v2/`` tag DELETE); the image stays, untagged if it was the last."""
        return images.untag(self, repo, tag)

    def delete_manifest(self, repo: Repository, digest: str) -> Image:
        """Remove an image and every tag on it (``/v2/`` manifest DELETE by digest)."""
        return images.delete_manifest(self, repo, digest)

    def record_pull(self, repo: Repository, image: Image, principal_arn: str | None = None) -> None:
        """Note a pull: ``lastRecordedPullTime``; archived images cannot be pulled."""
        return images.record_pull(self, repo, image, principal_arn)

    def select_manifest(
        self, repo: Repository, image: Image, accepted: Collection[str] | None
    ) -> Image:
        """The manifest to serve for ``image`` to a client accepting ``accepted`` media types."""
        return images.select_manifest(self, repo, image, accepted)

    def layer_media_type(self, repo: Repository, digest: str) -> str | None:
        """The media type the newest image of ``repo`` referencing blob ``digest`` gives it."""
        return images.layer_media_type(self, repo, digest)

    def images_referenced_by_indexes(self, repo: Repository) -> set[str]:
        """Digests referenced by manifest lists/indexes of ``repo``."""
        return images.images_referenced_by_indexes(self, repo)

    # ----- uploads (ecr_mock.core.services.uploads) ----------------------------------------

    def start_upload(self, reg: Registry, repo: Repository) -> UploadSession:
        """Start an upload session into ``repo``."""
        return uploads.start_upload(self, reg, repo)

    def get_upload(self, reg: Registry, repo: Repository, upload_id: str) -> UploadSession:
        """The open upload ``upload_id`` of ``repo``; UploadNotFound otherwise."""
        return uploads.get_upload(self, reg, repo, upload_id)

    def upload_part(
        self,
        reg: Registry,
        repo: Repository,
        upload_id: str,
        first_byte: int,
        last_byte: int,
        data: bytes,
    ) -> UploadSession:
        """UploadLayerPart: bytes ``[first, last]`` continuing the upload, ECR's size rules."""
        return uploads.upload_part(self, reg, repo, upload_id, first_byte, last_byte, data)

    def complete_upload(
        self, reg: Registry, repo: Repository, upload_id: str, digests: list[str]
    ) -> str:
        """CompleteLayerUpload: check the digest and store the blob in the registry."""
        return uploads.complete_upload(self, reg, repo, upload_id, digests)

    def finish_upload(
        self, reg: Registry, repo: Repository, session: UploadSession, digest: str
    ) -> Blob:
        """``/v2/`` upload completion: zero bytes refused, digest checked, blob stored."""
        return uploads.finish_upload(self, reg, repo, session, digest)

    def cancel_upload(self, reg: Registry, repo: Repository, upload_id: str) -> None:
        """Drop an upload session and what it received."""
        return uploads.cancel_upload(self, reg, repo, upload_id)

    def store_blob(self, reg: Registry, repo: Repository, blob: Blob) -> Blob:
        """Keep ``blob`` in the registry (once per digest) and make it known to ``repo``."""
        return uploads.store_blob(self, reg, repo, blob)

    def layer_available(self, reg: Registry, repo: Repository, digest: str) -> Blob | None:
        """The blob when the repository can serve ``digest`` (uploaded, mounted or referenced)."""
        return uploads.layer_available(self, reg, repo, digest)

    def get_blob(self, reg: Registry, repo: Repository, digest: str) -> Blob:
        """A blob the repository can serve; BlobUnknown otherwise."""
        return uploads.get_blob(self, reg, repo, digest)

    def download_layer(self, reg: Registry, repo: Repository, digest: str) -> Blob:
        """GetDownloadUrlForLayer: only layers an image of the repository references."""
        return uploads.download_layer(self, reg, repo, digest)

    def mount_blob(
        self, reg: Registry, source: Repository, target: Repository, digest: str
    ) -> Blob | None:
        """Cross-repository mount: the blob when an image of ``source`` references it."""
        return uploads.mount_blob(self, reg, source, target, digest)

    def delete_blob(self, reg: Registry, repo: Repository, digest: str) -> None:
        """Forget a blob in a repository (``/v2/`` blob DELETE); BlobUnknown when unknown."""
        return uploads.delete_blob(self, reg, repo, digest)

    # ----- settings (ecr_mock.core.services.settings) ----------------------------------------

    def account_setting(self, reg: Registry, name: str) -> str:
        """The value of account setting ``name`` (its default when never set)."""
        return settings.account_setting(self, reg, name)

    def put_account_setting(self, reg: Registry, name: str, value: str) -> str:
        """Set account setting ``name``; InvalidParameter for unknown names or values."""
        return settings.put_account_setting(self, reg, name, value)

    def register_pull_time_exclusion(self, reg: Registry, principal_arn: str) -> datetime:
        """Stop recording pull times for ``principal_arn``; returns when the exclusion began."""
        return settings.register_pull_time_exclusion(self, reg, principal_arn)

    def deregister_pull_time_exclusion(self, reg: Registry, principal_arn: str) -> None:
        """Record pull times for ``principal_arn`` again; ExclusionNotFound when not excluded."""
        return settings.deregister_pull_time_exclusion(self, reg, principal_arn)

    # ----- policies (ecr_mock.core.services.policies) ----------------------------------------

    @staticmethod
    def policy_locks_out(
        policy: Policy, principal: Principal, resource_arn: str, action: str
    ) -> bool:
        """Whether resource policy ``policy`` explicitly denies ``principal`` ``action``."""
        return policies.policy_locks_out(policy, principal, resource_arn, action)
