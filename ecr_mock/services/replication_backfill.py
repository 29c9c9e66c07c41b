"""Replication backfills: copying a registry's existing images to one configured destination."""

# How a backfill progresses (the emulator's choice; the service does the work asynchronously):
#
# * StartReplicationBackfill records the backfill as PREPARING (progress null), as the service
#   answers. Nothing is copied yet.
# * Every observation of the backfill (DescribeReplicationBackfillResults of its id, or a
#   ListReplicationBackfills that shows it) moves it one step, like a scan that reports
#   IN_PROGRESS when started and COMPLETE on the next read:
#     1. PREPARING -> IN_PROGRESS: the qualifying images are chosen from the replication rules
#        in force now; progress counts them (total N, completed 0, failed 0).
#     2. IN_PROGRESS -> COMPLETE or FAILED: every planned replication runs, through the same
#        copy as push-triggered replication; endedAt is set and per-image results appear.
#   So a client polling until a terminal status sees PREPARING, IN_PROGRESS, then the end.
#   ``run_to_end`` does both steps at once for code that drives the backend directly.
# * Which images qualify: every image of every repository that a rule sends to the
#   destination, except replicas (images this registry received by replication: a replica is
#   never replicated again), archived images, and untagged images that a manifest list of the
#   same repository references (they are copied with the list). Each image and tag is one
#   replication; an untagged image is one replication without a tag.
# * A replication fails with the code of the copy's failure (``REGISTRY_POLICY_DENIED``,
#   ``ImageTagAlreadyExistsException``, ``LayersNotFoundException``, ``ImageNotFoundException``
#   when the image went away after preparing, ...). Once at least 100 replications ran, the
#   backfill fails (FAILED, failureCode ``REPLICATION_FAILURE_THRESHOLD_EXCEEDED``) as soon as
#   half or more of them failed; the rest do not run. Below 100 the threshold is not applied,
#   so a smaller backfill ends COMPLETE with its failures counted in progress and results.
# * StopReplicationBackfill of a PREPARING or IN_PROGRESS backfill stops it at once (STOPPED):
#   the emulator never has a copy in flight between two observations, so STOPPING is not seen.
#   Stopping an ended backfill is ReplicationBackfillInvalidStatusException.
# * One backfill may be unfinished per destination region (ReplicationBackfillInProgress), and
#   at most 10 per registry (LimitExceeded). Ended backfills are kept 90 days on the backend
#   clock after they end; then they are gone (not listed, not found).

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING

from ecr_mock.domain.errors import (
    InvalidParameter,
    LimitExceeded,
    ReplicationBackfillInProgress,
    ReplicationBackfillInvalidStatus,
    ReplicationBackfillNotFound,
)
from ecr_mock.domain.models import (
    ACTIVE,
    ARCHIVE,
    COMPLETE,
    FAILED,
    IN_PROGRESS,
    PREPARING,
    STOPPED,
    STOPPING,
    Backfill,
    BackfillResult,
    Destination,
    Planned,
    Registry,
)
from ecr_mock.services.images import images_referenced_by_indexes
from ecr_mock.services.replication import copy_image, destinations_for

if TYPE_CHECKING:
    from ecr_mock.store.state import Store

STOPPABLE = (PREPARING, IN_PROGRESS)
MAX_UNFINISHED = 10
"""Backfills a registry may have unfinished at once."""
RETENTION = timedelta(days=90)
FAILURE_THRESHOLD_MINIMUM = 100
"""Replications that must have run before the 50% failure threshold is applied."""
THRESHOLD_FAILURE = "REPLICATION_FAILURE_THRESHOLD_EXCEEDED"
IMAGE_GONE = "ImageNotFoundException"


def _table(reg: Registry) -> dict[str, Backfill]:
    return reg.replication_backfills


def _expire(store: Store, reg: Registry) -> dict[str, Backfill]:
    """The registry's backfills, without those that ended more than 90 days ago."""
    table = _table(reg)
    cutoff = store.now() - RETENTION
    for key in [k for k, b in table.items() if b.ended_at is not None and b.ended_at < cutoff]:
        del table[key]
    return table


def _configured(reg: Registry, dest: Destination) -> bool:
    return any(
        item.get("region") == dest.region and item.get("registryId") == dest.registry_id
        for rule in reg.replication_rules
        for item in rule.get("destinations") or []
    )


def start(store: Store, reg: Registry, region: str, registry_id: str) -> Backfill:
    """StartReplicationBackfill: record a PREPARING backfill of ``reg`` to the destination."""
    dest = Destination(registry_id, region)
    with store.lock:
        if not _configured(reg, dest):
            raise InvalidParameter(
                "Invalid parameter at 'destination' failed to satisfy constraint: 'The "
                f"destination (region '{region}', registry id '{registry_id}') is not in the "
                "registry's replication configuration'"
            )
        table = _expire(store, reg)
        unfinished = [b for b in table.values() if not b.ended]
        for other in unfinished:
            if other.destination.region == region:
                raise ReplicationBackfillInProgress(region, other.backfill_id, reg.account)
        if len(unfinished) >= MAX_UNFINISHED:
            raise LimitExceeded(
                f"The registry with id '{reg.account}' already has {MAX_UNFINISHED} replication "
                "backfills in progress, the most allowed at once"
            )
        backfill = Backfill(str(uuid.uuid4()), reg.account, dest, store.now())
        table[backfill.backfill_id] = backfill
    return backfill


def get(store: Store, reg: Registry, backfill_id: str) -> Backfill:
    """The backfill with ``backfill_id``; ReplicationBackfillNotFoundException otherwise."""
    with store.lock:
        found = _expire(store, reg).get(backfill_id.lower())
    if found is None:
        raise ReplicationBackfillNotFound(backfill_id, reg.account)
    return found


def backfills(store: Store, reg: Registry) -> list[Backfill]:
    """The registry's backfills, oldest first (ended ones for 90 days)."""
    with store.lock:
        return list(_expire(store, reg).values())


def observe(store: Store, reg: Registry, backfill: Backfill) -> Backfill:
    """Move ``backfill`` one step, as an observation does (see the module notes).

    The step holds the backend lock throughout, so concurrent observers never run it twice.
    """
    with store.lock:
        if backfill.status == PREPARING:
            backfill.plan = plan(store, reg, backfill.destination)
            backfill.status = IN_PROGRESS
        elif backfill.status == IN_PROGRESS:
            _run(store, reg, backfill)
        elif backfill.status == STOPPING:
            backfill.status = STOPPED
            backfill.ended_at = store.now()
    return backfill


def run_to_end(store: Store, reg: Registry, backfill: Backfill) -> Backfill:
    """Prepare and run ``backfill`` now, until it reaches a terminal status."""
    while not backfill.ended:
        observe(store, reg, backfill)
    return backfill


def stop(store: Store, reg: Registry, backfill_id: str) -> Backfill:
    """StopReplicationBackfill: a PREPARING or IN_PROGRESS backfill becomes STOPPED."""
    backfill = get(store, reg, backfill_id)
    with store.lock:
        if backfill.status not in STOPPABLE:
            raise ReplicationBackfillInvalidStatus(backfill.backfill_id, backfill.status)
        backfill.status = STOPPED
        backfill.ended_at = store.now()
    return backfill


def plan(store: Store, reg: Registry, dest: Destination) -> list[Planned]:
    """The replications a backfill of ``reg`` to ``dest`` performs, per the rules in force."""
    planned: list[Planned] = []
    for name in sorted(reg.repositories):
        if dest not in destinations_for(reg, name):
            continue
        repo = reg.repositories[name]
        carried = images_referenced_by_indexes(store, repo)
        images = sorted(repo.images.values(), key=lambda i: (i.pushed_at, i.digest))
        for image in images:
            if image.replicated_from is not None or image.status != ACTIVE:
                continue
            if image.storage_class == ARCHIVE or (not image.tags and image.digest in carried):
                continue
            tags: Iterable[str | None] = sorted(image.tags) if image.tags else [None]
            planned.extend(Planned(name, image.digest, tag) for tag in tags)
    return planned


def _code(failure: str) -> str:
    """The code part of a copy failure ``CODE: message``."""
    return failure.split(":", 1)[0].strip() or failure


def _run(store: Store, reg: Registry, backfill: Backfill) -> None:
    """Perform every planned replication; the backfill ends COMPLETE or FAILED."""
    for item in backfill.plan or []:
        repo = reg.repositories.get(item.repository_name)
        image = repo.images.get(item.digest) if repo is not None else None
        if repo is None or image is None or (item.tag is not None and item.tag not in image.tags):
            result = BackfillResult(item, FAILED, IMAGE_GONE)
        else:
            failure = copy_image(store, repo, image, item.tag, backfill.destination)
            code = _code(failure) if failure is not None else None
            result = BackfillResult(item, COMPLETE if code is None else FAILED, code)
            if image.parsed.is_index:
                carried = code == "LayersNotFoundException"
                result.sub_image_failure_codes = [code] if code is not None and carried else []
        with store.lock:
            backfill.results.append(result)
        failed = sum(1 for r in backfill.results if r.status == FAILED)
        ran = len(backfill.results)
        if ran >= FAILURE_THRESHOLD_MINIMUM and failed * 2 >= ran:
            with store.lock:
                backfill.status = FAILED
                backfill.failure_code = THRESHOLD_FAILURE
                backfill.ended_at = store.now()
            return
    with store.lock:
        backfill.status = COMPLETE
        backfill.ended_at = store.now()
