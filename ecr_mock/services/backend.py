"""Backend: the public face of the core; a Store with its wiring and one method per service call."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecr_mock.domain.models import Image, Principal, Registry, Repository
from ecr_mock.domain.names import DEFAULT_ACCOUNT, DEFAULT_REGION
from ecr_mock.services import admin, images, policies, reclaim, repositories, settings, uploads
from ecr_mock.services.access import resolve_principal
from ecr_mock.services.reclaim import reclaim_if_due
from ecr_mock.services.uploads import expire_uploads_if_due
from ecr_mock.store.clock import Clock
from ecr_mock.store.state import LIFECYCLE_PERIOD, Store

if TYPE_CHECKING:
    from ecr_mock.domain.lifecycle_rules import LifecycleAction
    from ecr_mock.domain.ports import EventListener
    from ecr_mock.services.lifecycle import LifecycleScheduler
    from ecr_mock.store.persistence.durable import BlobStore
    from ecr_mock.store.persistence.statedir import StateDir
    from ecr_mock.store.tokens import Token


LOAD_ERRORS = (ValueError, KeyError, TypeError, sqlite3.DatabaseError)
"""What reading a damaged state database raises (JSON, codec and SQLite errors)."""


class Backend(Store):
    """Every registry of every account and region, sharing one clock and one token store.

    The state and its wiring live in :class:`~ecr_mock.store.state.Store`; the rules in
    ``ecr_mock.services``. This class adds the state directory (:meth:`open`, :meth:`save`,
    :meth:`close`), the control operations, and each service function bound as a method
    (``backend.put_image(...)`` is ``images.put_image(backend, ...)``).
    """

    state_dir: StateDir | None = None
    """Where this state is kept across restarts (None: memory only; see :meth:`open`)."""

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
        self._scan_on_push: EventListener | None = None
        self.listeners.append(self._on_core_event)

    # ----- what the clock makes due, and who calls ------------------------------------------

    @property
    def lifecycle(self) -> LifecycleScheduler:
        """Applies lifecycle policies as time passes; ``tick()`` runs it, a server ``start()``s it."""
        if self._lifecycle is None:
            from ecr_mock.services.lifecycle import LifecycleScheduler

            with self.lock:
                if self._lifecycle is None:
                    scheduler = LifecycleScheduler(self, period=LIFECYCLE_PERIOD)
                    scheduler.last_run = self.lifecycle_epoch
                    self._lifecycle = scheduler
        return self._lifecycle

    def _on_core_event(self, kind: str, detail: dict[str, Any]) -> None:
        """Record every core event as an ECR event, and scan new images that scan on push."""
        self.events.on_backend_event(kind, detail)
        if kind == "image-pushed" and detail.get("new"):
            if self._scan_on_push is None:
                from ecr_mock.services.scanning import ScanOnPush

                self._scan_on_push = ScanOnPush(self)
            self._scan_on_push(kind, detail)

    def principal_for_key(self, access_key: str | None) -> Principal:
        """The principal behind an access key: registered, known to an identity provider, else
        the default root (Unauthenticated instead when ``strict_credentials`` is set)."""

        return resolve_principal(self, access_key)

    def tick(self) -> list[LifecycleAction]:
        """Run what the clock says is due (cheap; meant for the start of every request).

        Completes restores whose 20 minutes have passed, reclaims layers past their grace
        period (looked for every few minutes of clock) and, once the clock is 24 h past the
        last evaluation, applies every lifecycle policy; returns the lifecycle actions taken.
        The lifecycle scheduler is made on the first tick that has something to do.
        """

        expire_uploads_if_due(self)
        reclaim_if_due(self)
        if self._lifecycle is None and not self.pending_restores:
            now = self.clock.now()
            if self.lifecycle_epoch <= now < self.lifecycle_epoch + LIFECYCLE_PERIOD:
                return []
        return self.lifecycle.tick()

    def lifecycle_last_run(self) -> datetime:
        """When lifecycle policies were last applied (on the backend clock)."""
        return self._lifecycle.last_run if self._lifecycle is not None else self.lifecycle_epoch

    def set_lifecycle_last_run(self, when: datetime) -> None:
        """Set when lifecycle policies were last applied (a restart takes it back)."""
        self.lifecycle_epoch = when
        if self._lifecycle is not None:
            self._lifecycle.last_run = when

    # ----- a state directory: the same state after a restart --------------------------------

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        account_id: str = DEFAULT_ACCOUNT,
        region: str = DEFAULT_REGION,
        *,
        read_only: bool = False,
        fsync: str = "batch",
        blob_store: Callable[[Path], BlobStore] | None = None,
    ) -> Backend:
        """A backend holding what the state directory ``path`` holds (created when new).

        Changes are saved by :meth:`save` and :meth:`close` (a server also saves after every
        request that changes something). Registry tokens are signed with the key the directory
        keeps (``token.key``), so tokens issued before a restart stay valid. ``read_only`` opens a directory another process
        (``ecr-mock serve --state-dir``) is using, to look at what it holds; such a backend
        never writes. StateDirError when the directory is in use or of an unknown schema.
        ``fsync`` (``always``, ``batch`` or ``never``) says which failures a saved change
        survives (see ``ecr_mock.store.persistence.durable``). ``blob_store`` makes where blob
        bytes are kept instead of ``DIR/blobs`` (e.g. ``ecr_mock.runtime.providers.s3_blobs``).
        """
        from ecr_mock.store.errors import TokenKeyError
        from ecr_mock.store.persistence.statedir import StateDir, StateDirError
        from ecr_mock.store.persistence.verify import Verifier
        from ecr_mock.store.token_keys import load_or_create_key, read_key

        backend = cls(account_id, region)
        state = StateDir(path, read_only=read_only, fsync=fsync, blob_store=blob_store)
        try:
            key = read_key(state.path) if read_only else load_or_create_key(state.path)
            if key is not None:
                backend.tokens.use_key(key)
            state.verifier = Verifier(
                state.path, backend, quarantine=not read_only, touch=state.touch
            )
            state.load(backend)
        except LOAD_ERRORS as exc:
            state.close()
            from ecr_mock.store.errors import StateDirDamaged

            raise StateDirDamaged(state.path / "state.db", f"{exc}") from None
        except TokenKeyError as exc:
            state.close()
            raise StateDirError(str(exc)) from None
        except BaseException:
            state.close()
            raise
        backend.state_dir = state
        if not read_only:
            if state.migrated:
                state.save(backend)
            state.verifier.start()
            state.uploads.restore(backend, Path(state.spill_dir))
            backend.upload_spill_dir = state.spill_dir
            backend.listeners.append(state.listener(backend))

            # reclaimed layers lose their rows, then their files, before a pass returns
            def save_reclaimed(account: str, region: str, digests: list[str]) -> None:
                state.save(backend)

            backend.blob_deleters.append(save_reclaimed)
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

    # ----- state operations (the control API's, in-process: ecr_mock.services.admin) -------

    def reset(self, account_id: str | None = None) -> None:
        """Empty all state (or one account's registries and tokens); configuration stays."""

        admin.reset(self, account_id)
        if account_id is None:
            self.lifecycle.last_run = self.clock.now()
            self.applied_seed = None  # an emptied state is seeded again on the next start
        if self.state_dir is not None and not self.state_dir.read_only:
            if self.changes is not None:
                self.changes.everything = True  # the whole state is compared, not marks
            self.state_dir.save(self)  # the state directory empties too (its blob files go)

    def state(self) -> dict[str, Any]:
        """A JSON-ready summary: registries, repositories, images (digest, tags, size...)."""

        return admin.summary(self)

    def issue_token(
        self,
        principal_arn: str | None = None,
        account_id: str | None = None,
        region: str | None = None,
    ) -> Token:
        """A registry token for any IAM principal (default: the account root)."""

        return admin.issue_token(self, principal_arn, account_id, region)

    def seed(self, doc: Mapping[str, Any], base_dir: str | None = None) -> dict[str, Any]:
        """Apply a seed document (see ``ecr_mock.services.seed``) all or nothing.

        Returns what was created; SeedError (with the bad field's path) creates nothing.
        Image paths are read relative to ``base_dir`` (default: the working directory); a
        YAML or JSON file loads with ``ecr_mock.testing.seeding.load_seed_file``.
        """
        from ecr_mock.services import seed

        return seed.apply_seed(self, doc, base_dir=base_dir)

    # ----- time-driven work: lifecycle policies, restores ------------------------------------

    def apply_lifecycle_policies(
        self, registry: Registry | None = None, repository: Repository | None = None
    ) -> list[LifecycleAction]:
        """Apply the stored lifecycle policies now (all, one registry's or one repository's)."""
        from ecr_mock.services.lifecycle import apply_lifecycle

        return apply_lifecycle(self, registry, repository)

    def update_image_storage_class(
        self, repo: Repository, image: Image, target: str, tag: str | None = None
    ) -> Image:
        """UpdateImageStorageClass: ``ARCHIVE`` archives, ``STANDARD`` starts a 20-minute restore."""
        from ecr_mock.services.lifecycle import update_storage_class

        return update_storage_class(self, repo, image, target, tag)

    # ----- repositories (ecr_mock.services.repositories) ----------------------------------------

    create_repository = repositories.create_repository
    get_repository = repositories.get_repository
    delete_repository = repositories.delete_repository
    repository_by_arn = repositories.repository_by_arn
    check_tag_mutability = staticmethod(repositories.check_tag_mutability)

    set_tag_mutability = repositories.set_tag_mutability
    resolve_encryption = repositories.resolve_encryption
    check_resource_tags = staticmethod(repositories.check_resource_tags)

    tag_repository = repositories.tag_repository
    untag_repository = repositories.untag_repository

    # ----- images (ecr_mock.services.images) ----------------------------------------

    find_image = images.find_image
    resolve_reference = images.resolve_reference
    put_image = images.put_image
    delete_image = images.delete_image
    untag = images.untag
    delete_manifest = images.delete_manifest
    record_pull = images.record_pull
    select_manifest = images.select_manifest
    layer_media_type = images.layer_media_type
    images_referenced_by_indexes = images.images_referenced_by_indexes

    # ----- uploads (ecr_mock.services.uploads) ----------------------------------------

    start_upload = uploads.start_upload
    get_upload = uploads.get_upload
    upload_part = uploads.upload_part
    complete_upload = uploads.complete_upload
    finish_upload = uploads.finish_upload
    cancel_upload = uploads.cancel_upload
    store_blob = uploads.store_blob
    layer_available = uploads.layer_available
    get_blob = uploads.get_blob
    download_layer = uploads.download_layer
    mount_blob = uploads.mount_blob
    expire_uploads = uploads.expire_uploads
    release_unreferenced_blobs = uploads.release_unreferenced_blobs
    reclaim_layers = reclaim.reclaim
    """Reclaim now the layers no image references whose grace period (``layer_grace``) passed."""

    check_pullable = staticmethod(images.check_pullable)
    delete_blob = uploads.delete_blob

    # ----- settings (ecr_mock.services.settings) ----------------------------------------

    account_setting = settings.account_setting
    put_account_setting = settings.put_account_setting
    register_pull_time_exclusion = settings.register_pull_time_exclusion
    deregister_pull_time_exclusion = settings.deregister_pull_time_exclusion

    # ----- policies (ecr_mock.services.policies) ----------------------------------------

    policy_locks_out = staticmethod(policies.policy_locks_out)
