"""Backend: the public face of the core; a Store with its wiring and one method per service call."""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ecr_mock.core.blobs import Blob, UploadSession
from ecr_mock.core.clock import Clock
from ecr_mock.core.models import MUTABLE, Image, Principal, Registry, Repository
from ecr_mock.core.names import DEFAULT_ACCOUNT, DEFAULT_REGION
from ecr_mock.core.services import images, policies, repositories, settings, uploads
from ecr_mock.core.state import Store

if TYPE_CHECKING:
    from ecr_mock.core.lifecycle import LifecycleAction
    from ecr_mock.core.persistence.statedir import StateDir
    from ecr_mock.core.policy import Policy
    from ecr_mock.core.services.seed import OperationCaller
    from ecr_mock.core.tokens import Token


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
        self.state_dir: StateDir | None = None
        """Where this backend's state is kept across restarts (None: memory only)."""
        self.operation_caller: OperationCaller | None = None
        """Makes ECR API calls in-process for ``seed`` (attached by mock_ecr and the server)."""

    # ----- a state directory: the same state after a restart --------------------------------

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        account_id: str = DEFAULT_ACCOUNT,
        region: str = DEFAULT_REGION,
        *,
        read_only: bool = False,
    ) -> Backend:
        """A backend holding what the state directory ``path`` holds (created when new).

        Changes are saved by :meth:`save` and :meth:`close` (a server also saves after every
        request that changes something). ``read_only`` opens a directory another process
        (``ecr-mock serve --state-dir``) is using, to look at what it holds; such a backend
        never writes. StateDirError when the directory is in use or of an unknown schema.
        """
        from ecr_mock.core.persistence.statedir import StateDir

        backend = cls(account_id, region)
        state = StateDir(path, read_only=read_only)
        try:
            state.load(backend)
        except BaseException:
            state.close()
            raise
        backend.state_dir = state
        if not read_only:
            backend.upload_spill_dir = state.spill_dir
            backend.listeners.append(lambda kind, detail: state.touch())
            state.start_flusher(backend)
        return backend

    def save(self) -> None:
        """Write every change to the state directory now (nothing to do without one)."""
        if self.state_dir is not None and not self.state_dir.read_only:
            self.state_dir.save(self)

    def close(self) -> None:
        """Save and release the state directory (harmless without one, or when closed)."""
        state = self.state_dir
        if state is not None:
            state.close(self)

    def add_access_key(
        self, access_key: str, account: str, arn: str | None = None, kind: str = "root"
    ) -> Principal:
        """Make ``access_key`` speak for ``arn`` (default: the account root) of ``account``."""
        principal = (
            Principal(arn=arn, account_id=account, kind=kind) if arn else Principal.root(account)
        )
        self.access_keys[access_key] = principal
        return principal

    # ----- state operations (the control API's, in-process: ecr_mock.core.services.admin) -------

    def reset(self, account_id: str | None = None) -> None:
        """Empty all state (or one account's registries and tokens); configuration stays."""
        from ecr_mock.core.services import admin

        admin.reset(self, account_id)
        if account_id is None:
            self.lifecycle.last_run = self.clock.now()
        if self.state_dir is not None and not self.state_dir.read_only:
            self.state_dir.save(self)  # the state directory empties too (its blob files go)

    def state(self) -> dict[str, Any]:
        """A JSON-ready summary: registries, repositories, images (digest, tags, size...)."""
        from ecr_mock.core.services import admin

        return admin.summary(self)

    def issue_token(
        self,
        principal_arn: str | None = None,
        account_id: str | None = None,
        region: str | None = None,
    ) -> Token:
        """A registry token for any IAM principal (default: the account root)."""
        from ecr_mock.core.services import admin

        return admin.issue_token(self, principal_arn, account_id, region)

    def seed(self, doc: Mapping[str, Any], base_dir: str | None = None) -> dict[str, Any]:
        """Apply a seed document (see ``ecr_mock.core.services.seed``) all or nothing.

        Returns what was created; SeedError (with the bad field's path) creates nothing.
        Image paths are read relative to ``base_dir`` (default: the working directory); a
        YAML or JSON file loads with ``ecr_mock.seeding.load_seed_file``.
        """
        from ecr_mock.core.services import seed

        return seed.apply_seed(self, doc, base_dir=base_dir)

    # ----- time-driven work: lifecycle policies, restores ------------------------------------

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

    def expire_uploads(self, now: datetime | None = None) -> int:
        """End upload sessions idle longer than ``upload_idle_timeout``; how many ended."""
        return uploads.expire_uploads(self, now)

    def release_unreferenced_blobs(self, reg: Registry, digests: Iterable[str]) -> int:
        """Free each of ``digests`` no repository of ``reg`` knows any more."""
        return uploads.release_unreferenced_blobs(self, reg, digests)

    def check_pullable(self, image: Image) -> None:
        """ImageArchived for an image GET and HEAD of its manifest must both refuse."""
        images.check_pullable(image)

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
