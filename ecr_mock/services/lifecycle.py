"""Lifecycle policies applied to the backend: expiry, archive and restore, previews and the scheduler."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ecr_mock.domain.errors import (
    ImageDeleteFailure,
    ImageStorageClassUpdateNotSupported,
    InvalidParameter,
    LifecyclePolicyNotFound,
    LifecyclePolicyPreviewInProgress,
    LifecyclePolicyPreviewNotFound,
)
from ecr_mock.domain.lifecycle_rules import (
    LifecycleAction,
    LifecycleImage,
    LifecyclePolicyError,
    evaluate,
    parse_lifecycle_policy,
)
from ecr_mock.domain.models import (
    ACTIVATING,
    ACTIVE,
    ARCHIVE,
    ARCHIVED,
    STANDARD,
    Image,
    LifecyclePreview,
    PreviewResult,
    Registry,
    Repository,
)
from ecr_mock.services.images import delete_image

if TYPE_CHECKING:
    from ecr_mock.store.state import Store

__all__ = [
    "ACTIVATING",
    "ACTIVE",
    "ARCHIVE",
    "ARCHIVED",
    "DEFAULT_INTERVAL_SECONDS",
    "DEFAULT_PERIOD",
    "RESTORE_DURATION",
    "STANDARD",
    "ImageStorageClassUpdateNotSupported",
    "LifecyclePolicyPreviewInProgress",
    "LifecyclePolicyPreviewNotFound",
    "LifecyclePreview",
    "LifecycleScheduler",
    "PreviewResult",
    "apply_lifecycle",
    "archive_image",
    "complete_restores",
    "get_preview",
    "lifecycle_images",
    "preview_results",
    "restore_image",
    "start_preview",
    "update_storage_class",
]


RESTORE_DURATION = timedelta(minutes=20)
"""How long a restore takes on the backend clock (ECR: "within 20 minutes")."""

DEFAULT_PERIOD = timedelta(hours=24)
"""Store-clock time between automatic evaluations (ECR acts "within 24 hours")."""

DEFAULT_INTERVAL_SECONDS = 60.0
"""Real seconds between evaluations by a started scheduler's background thread."""


# --------------------------------------------------------------------------- evaluation input


def lifecycle_images(repo: Repository) -> list[LifecycleImage]:
    """What evaluation sees of ``repo``: every image except those being restored."""
    referenced = repo.referenced_manifests()
    return [
        LifecycleImage(
            digest=image.digest,
            tags=tuple(image.tags),
            pushed_at=image.pushed_at,
            last_pulled_at=image.last_pulled_at,
            transitioned_at=image.last_archived_at,
            storage_class=image.storage_class,
            referenced_by_index=image.digest in referenced,
        )
        for image in repo.images.values()
        if image.status != ACTIVATING
    ]


def _repositories(
    store: Store, registry: Registry | None, repository: Repository | None
) -> list[Repository]:
    if repository is not None:
        return [repository]
    regs: Iterable[Registry] = [registry] if registry is not None else store.registries.values()
    return [repo for reg in list(regs) for repo in list(reg.repositories.values())]


# --------------------------------------------------------------------------- applying


def apply_lifecycle(
    store: Store, registry: Registry | None = None, repository: Repository | None = None
) -> list[LifecycleAction]:
    """Apply the stored lifecycle policies now (``backend.clock.now()``); returns what was done.

    Covers ``repository`` alone, else every repository of ``registry``, else every repository
    of the backend. Expired images are removed through ``images.delete_image`` (BatchDeleteImage's
    path, so both surfaces stop serving them and an ``image-deleted`` event is emitted);
    transitioned images become ``storageClass`` ARCHIVE / ``imageStatus`` ARCHIVED with
    ``lastArchivedAt`` set. Each applied action emits ``lifecycle-action`` with detail
    ``{repository, image, action}``. Repositories whose stored text no longer parses are skipped.
    """
    now = store.clock.now()
    done: list[LifecycleAction] = []
    for repo in _repositories(store, registry, repository):
        text = repo.lifecycle_policy_text
        if not text:
            continue
        try:
            rules = parse_lifecycle_policy(text)
        except LifecyclePolicyError:
            continue
        with store.lock:
            actions = evaluate(rules, lifecycle_images(repo), now)
        for action in actions:
            image = repo.images.get(action.digest)
            if image is None or image.status == ACTIVATING:
                continue
            if action.action == "expire":
                try:
                    delete_image(store, repo, digest=action.digest)
                except ImageDeleteFailure:
                    continue
                _delete_referrers(store, repo, action.digest)
            else:
                if image.storage_class == ARCHIVE:
                    continue
                archive_image(store, repo, image, emit=False)
            done.append(action)
            store.emit("lifecycle-action", {"repository": repo, "image": image, "action": action})
    return done


def _delete_referrers(store: Store, repo: Repository, subject: str) -> None:
    """Delete the artifacts that refer to an expired image (signatures, SBOMs...), as ECR does.

    Referrers of referrers go too; an artifact a manifest list still references stays.
    """
    pending = [subject]
    while pending:
        for digest in sorted(repo.referrers.get(pending.pop(), ())):
            if digest not in repo.images:
                continue
            try:
                delete_image(store, repo, digest=digest)
            except ImageDeleteFailure:
                continue
            pending.append(digest)


# --------------------------------------------------------------------------- archive and restore


def _describe(image: Image, tag: str | None) -> str:
    return f"{{imageDigest:'{image.digest}', imageTag:'{tag or 'null'}'}}"


def archive_image(store: Store, repo: Repository, image: Image, *, emit: bool = True) -> Image:
    """Move an image to the archive: storage class ARCHIVE, status ARCHIVED, ``lastArchivedAt``."""
    with store.lock:
        image.storage_class = ARCHIVE
        image.status = ARCHIVED
        image.last_archived_at = store.clock.now()
        image.restore_due = None
    if emit:
        store.emit("image-archived", {"repository": repo, "image": image})
    return image


def restore_image(store: Store, repo: Repository, image: Image) -> Image:
    """Start restoring an archived image: ACTIVATING for :data:`RESTORE_DURATION` of clock time.

    The image stays in the ARCHIVE storage class (and cannot be pulled) until
    :func:`complete_restores` runs at or after the due time, which
    ``Backend.tick()`` does.
    """
    with store.lock:
        image.status = ACTIVATING
        image.restore_due = store.clock.now() + RESTORE_DURATION
        _pending(store)[(id(repo), image.digest)] = (repo, image)
    store.emit("image-restore-started", {"repository": repo, "image": image})
    return image


def _pending(store: Store) -> dict[tuple[int, str], tuple[Repository, Image]]:
    """Restores in progress, keyed by (repository identity, digest): no scan of all images."""
    return store.pending_restores


def complete_restores(store: Store, now: datetime | None = None) -> list[Image]:
    """Finish every restore due by ``now``: STANDARD / ACTIVE, ``lastActivatedAt`` = due time."""
    when = now or store.clock.now()
    finished: list[tuple[Repository, Image]] = []
    with store.lock:
        pending = _pending(store)
        for key, (repo, image) in list(pending.items()):
            due = image.restore_due
            if image.status != ACTIVATING or due is None:
                del pending[key]
                continue
            if due > when:
                continue
            del pending[key]
            image.restore_due = None
            if repo.images.get(image.digest) is not image:
                continue
            image.storage_class = STANDARD
            image.status = ACTIVE
            image.last_activated_at = due
            finished.append((repo, image))
    for repo, image in finished:
        store.emit("image-restored", {"repository": repo, "image": image})
    return [image for _, image in finished]


def _next_restore_due(store: Store) -> datetime | None:
    dues = [image.restore_due for _, image in list(_pending(store).values())]
    return min((due for due in dues if due is not None), default=None)


def update_storage_class(
    store: Store, repo: Repository, image: Image, target: str, tag: str | None = None
) -> Image:
    """UpdateImageStorageClass: ``ARCHIVE`` archives an ACTIVE image, ``STANDARD`` restores one.

    Refusals change nothing: an image being restored raises
    ImageStorageClassUpdateNotSupportedException; an image already in ``target`` raises
    InvalidParameterException. Due restores are completed first, so the answer reflects the
    clock. A restore started here completes on the store's ticks (``pending_restores``).
    """
    if target not in (ARCHIVE, STANDARD):
        raise InvalidParameter(
            "Invalid parameter at 'targetStorageClass' failed to satisfy constraint: "
            "'Member must satisfy enum value set: [STANDARD, ARCHIVE]'"
        )
    complete_restores(store)
    if image.status == ACTIVATING:
        raise ImageStorageClassUpdateNotSupported(
            f"The image with imageId {_describe(image, tag)} is being restored; its storage "
            "class cannot be updated until the restore completes."
        )
    if image.storage_class == target:
        raise InvalidParameter(
            f"Invalid parameter: the image with imageId {_describe(image, tag)} is already in "
            f"the {target} storage class in the repository with name '{repo.name}' in the "
            f"registry with id '{repo.account}'"
        )
    if target == ARCHIVE:
        return archive_image(store, repo, image)
    return restore_image(store, repo, image)


# --------------------------------------------------------------------------- previews


def start_preview(store: Store, repo: Repository, policy_text: str | None) -> LifecyclePreview:
    """StartLifecyclePolicyPreview: evaluate ``policy_text`` (or the stored policy), change nothing.

    Raises LifecyclePolicyNotFoundException when neither exists, the policy's validation error
    when it does not parse, and LifecyclePolicyPreviewInProgressException while the previous
    preview is still IN_PROGRESS (it becomes COMPLETE at its first :func:`get_preview`). The
    results are a snapshot taken at the clock's current time.
    """
    text = policy_text if policy_text is not None else repo.lifecycle_policy_text
    if not text:
        raise LifecyclePolicyNotFound(repo.name, repo.account)
    rules = parse_lifecycle_policy(text)
    now = store.clock.now()
    with store.lock:
        current = repo.lifecycle_preview
        if current is not None and current.status == "IN_PROGRESS":
            raise LifecyclePolicyPreviewInProgress()
        images = lifecycle_images(repo)
        classes = {image.digest: image.storage_class for image in images}
        results = [
            PreviewResult(
                digest=action.digest,
                tags=action.tags,
                pushed_at=action.pushed_at,
                action=action.action.upper(),
                target_storage_class=(
                    action.target_storage_class.upper() if action.target_storage_class else None
                ),
                rule_priority=action.rule.priority,
                storage_class=classes.get(action.digest, STANDARD),
            )
            for action in evaluate(rules, images, now)
        ]
        preview = LifecyclePreview(
            policy_text=text, status="IN_PROGRESS", results=results, started_at=now
        )
        repo.lifecycle_preview = preview
    return preview


def get_preview(repo: Repository) -> LifecyclePreview:
    """GetLifecyclePolicyPreview: the last preview, COMPLETE from its first read on."""
    preview = repo.lifecycle_preview
    if preview is None:
        raise LifecyclePolicyPreviewNotFound(repo.name, repo.account)
    if preview.status == "IN_PROGRESS":
        preview.status = "COMPLETE"
    return preview


def preview_results(
    store: Store,
    repo: Repository,
    image_ids: Sequence[tuple[str | None, str | None]] | None,
    tag_status: str,
) -> tuple[LifecyclePreview, list[PreviewResult]]:
    """GetLifecyclePolicyPreview: the last preview (COMPLETE from its first read on) and its
    results, narrowed to the images ``image_ids`` (digest, tag) name when given and to
    TAGGED, UNTAGGED or ANY images."""
    with store.lock:
        preview = get_preview(repo)
        results = list(preview.results)
        if image_ids:
            wanted = _selected_digests(repo, image_ids)
            results = [r for r in results if r.digest in wanted]
    return preview, [r for r in results if _tag_status_fits(r, tag_status)]


def _selected_digests(
    repo: Repository, image_ids: Sequence[tuple[str | None, str | None]]
) -> set[str]:
    digests: set[str] = set()
    for digest, tag in image_ids:
        if tag is not None:
            tagged = repo.tags.get(tag)
            if tagged is not None and (digest is None or digest == tagged):
                digests.add(tagged)
        elif digest is not None:
            digests.add(digest)
    return digests


def _tag_status_fits(result: PreviewResult, tag_status: str) -> bool:
    if tag_status == "TAGGED":
        return bool(result.tags)
    if tag_status == "UNTAGGED":
        return not result.tags
    return True


# --------------------------------------------------------------------------- scheduling


class LifecycleScheduler:
    """Applies lifecycle policies as time passes, on the backend clock and in real time.

    - :meth:`tick` (``Backend.tick()``) is cheap and meant to run at the start of every
      request: it completes restores whose 20 minutes have passed and, when the backend
      clock has reached ``last run + period`` (24 h, ECR's "within 24 hours") or moved back
      before the last run, applies every policy. A test that does
      ``clock.advance(days=2)`` and then ticks sees the policies applied.
    - :meth:`start` runs a daemon thread that also applies every ``interval`` real seconds,
      so an idle server keeps acting; :meth:`stop` ends it. Both are idempotent.
    - :meth:`run_now` applies immediately and restarts the period, then runs a layer
      reclamation pass (``ecr_mock.services.reclaim``).
    """

    def __init__(
        self,
        store: Store,
        interval: float = DEFAULT_INTERVAL_SECONDS,
        period: timedelta = DEFAULT_PERIOD,
    ) -> None:
        self.backend = store
        self.interval = interval
        self.period = period
        self.last_run: datetime = store.clock.now()
        self._run_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def next_due(self) -> datetime:
        """When (on the backend clock) :meth:`tick` next applies the policies."""
        return self.last_run + self.period

    def run_now(self) -> list[LifecycleAction]:
        """Complete due restores, then apply every policy; the period restarts from now."""
        with self._run_lock:
            now = self.backend.clock.now()
            complete_restores(self.backend, now)
            self.last_run = now
            actions = apply_lifecycle(self.backend)
        from ecr_mock.services.reclaim import reclaim

        reclaim(self.backend)
        return actions

    def tick(self) -> list[LifecycleAction]:
        """Do whatever the clock says is due; returns the lifecycle actions applied (if any)."""
        now = self.backend.clock.now()
        if now >= self.next_due or now < self.last_run:
            return self.run_now()
        due = _next_restore_due(self.backend)
        if due is not None and due <= now:
            complete_restores(self.backend, now)
        return []

    @property
    def running(self) -> bool:
        """True while the background thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the background thread (harmless when already started)."""
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="ecr-mock-lifecycle", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the background thread and wait for it (harmless when not started)."""
        thread = self._thread
        self._stop.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=max(self.interval, 1.0) + 5.0)
        self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.run_now()
            except Exception:  # keep the server's scheduler alive whatever one run hits
                continue
