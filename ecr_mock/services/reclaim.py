"""Layer reclamation: layers no image references are deleted after a grace period, as ECR does.

ECR has no call to delete a layer: it removes on its own the layers that no image of the
registry references. Here a layer (any blob: config or layer) of a registry is reclaimed by a
pass when all of these hold:

* no image of any repository of the registry references it;
* for every repository that knows it (uploaded, mounted, or once referenced there), the grace
  period (:attr:`Store.layer_grace`, default 24 hours of backend clock) has passed since the
  layer was last uploaded or mounted there, since its last image there went away, and since
  a layer upload into that repository last started or ended (a push in progress keeps the
  layers it uploaded before its manifest);
* no upload session into such a repository is open, and no download reads it.

A reclaimed layer is gone from memory and its spill file, then every blob deleter
(:attr:`Store.blob_deleters`) is told: a state directory saves (the layer's row goes, then its
file), and a blob store keeping bytes elsewhere (S3) plugs its delete in the same way. ``/v2/`` then answers ``BLOB_UNKNOWN`` for it and
``BatchCheckLayerAvailability`` ``UNAVAILABLE``. Passes run from ``Store.tick`` every few
minutes of backend clock, with the lifecycle scheduler, and on demand (:func:`reclaim`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ecr_mock.domain.blobs import Blob
from ecr_mock.domain.models import Image, Registry, Repository
from ecr_mock.store.state import DEFAULT_LAYER_GRACE, Store

__all__ = [
    "DEFAULT_LAYER_GRACE",
    "MAX_RECLAIMED_RECORDED",
    "RECLAIM_CHECK_PERIOD",
    "ReclaimReport",
    "layer_summary",
    "note_released",
    "parse_grace",
    "reclaim",
    "reclaim_if_due",
    "touch_layer",
    "touch_repository",
    "was_reclaimed",
]

RECLAIM_CHECK_PERIOD = timedelta(minutes=5)
"""How often (backend clock) ``Store.tick`` runs a reclamation pass."""

MAX_RECLAIMED_RECORDED = 10_000
"""How many reclaimed digests a registry remembers (for UNAVAILABLE answers)."""

_PASS_LOCK = threading.Lock()


@dataclass(frozen=True)
class ReclaimReport:
    """What one pass reclaimed: how many layers and bytes, and their digests by registry."""

    layers: int = 0
    bytes: int = 0
    digests: tuple[tuple[str, str, str], ...] = ()
    """(account, region, digest) of each layer reclaimed."""

    def document(self) -> dict[str, Any]:
        """The JSON form the control API answers."""
        return {"reclaimedLayers": self.layers, "reclaimedBytes": self.bytes}


def parse_grace(text: str) -> timedelta:
    """A grace period from ``SECONDS`` or a number with a unit: ``90s``, ``30m``, ``24h``, ``2d``.

    ValueError when malformed or negative.
    """
    value = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    factor = 1
    if value and value[-1] in units:
        factor = units[value[-1]]
        value = value[:-1]
    try:
        amount = float(value)
    except ValueError:
        raise ValueError(f"not a duration: {text!r} (e.g. 3600, 90m, 24h, 2d)") from None
    if not amount >= 0 or amount * factor > 1e10:
        raise ValueError(f"not a duration of 0 or more: {text!r}")
    return timedelta(seconds=amount * factor)


# ----- bookkeeping (called under the store lock by uploads, mounts and image removal) ---------


def touch_layer(store: Store, reg: Registry, repo: Repository, digest: str) -> None:
    """``digest`` was uploaded or mounted into ``repo`` now: its grace period starts again."""
    now = store.now()
    repo.blob_touched[digest] = now
    repo.layers_touched_at = now
    reg.reclaimed.pop(digest, None)


def touch_repository(store: Store, repo: Repository) -> None:
    """A layer upload into ``repo`` started: every layer it knows is kept a grace period more."""
    repo.layers_touched_at = store.now()


def note_released(store: Store, repo: Repository, image: Image) -> None:
    """``image`` left ``repo``: the layers no other image there references start their grace."""
    now = store.now()
    for digest in image.parsed.blob_digests():
        if digest not in repo.blob_refs:
            repo.blob_touched[digest] = now


def was_reclaimed(reg: Registry, digest: str) -> int | None:
    """The size of ``digest`` when it was reclaimed lately in ``reg``, else None."""
    return reg.reclaimed.get(digest)


# ----- finding and reclaiming ---------------------------------------------------------------


def _candidates(store: Store, reg: Registry, now: datetime) -> tuple[list[Blob], list[Blob]]:
    """(unreferenced blobs past their grace and free, every unreferenced blob) of ``reg``.

    Held by the store lock. A repository's bookkeeping gets a start time for layers that had
    none (a state directory written before reclamation): their grace starts now.
    """
    referenced: set[str] = set()
    held_by_upload = {s.repository for s in reg.uploads.values() if not s.closed}
    for repo in reg.repositories.values():
        referenced.update(repo.blob_refs)
    latest: dict[str, datetime] = {}
    held: set[str] = set()
    for repo in reg.repositories.values():
        pushing = repo.layers_touched_at
        for digest in repo.blobs:
            if digest in referenced:
                continue
            touched = repo.blob_touched.get(digest)
            if touched is None:
                repo.blob_touched[digest] = touched = now
            if pushing is not None and pushing > touched:
                touched = pushing
            if repo.name in held_by_upload:
                held.add(digest)
            if digest not in latest or touched > latest[digest]:
                latest[digest] = touched
    unreferenced = [blob for digest, blob in reg.blobs.items() if digest not in referenced]
    due = [
        blob
        for blob in unreferenced
        if blob.digest not in held
        and not blob.reading
        and now - latest.get(blob.digest, now - store.layer_grace) >= store.layer_grace
    ]
    return due, unreferenced


def _forget(reg: Registry, blob: Blob) -> None:
    digest = blob.digest
    for repo in reg.repositories.values():
        repo.blobs.discard(digest)
        repo.blob_touched.pop(digest, None)
        repo.layer_types.pop(digest, None)
    del reg.blobs[digest]
    reg.reclaimed[digest] = blob.size
    while len(reg.reclaimed) > MAX_RECLAIMED_RECORDED:
        del reg.reclaimed[next(iter(reg.reclaimed))]
    reg.reclaimed_bytes += blob.size
    reg.reclaimed_layers += 1
    blob.release()


def reclaim(
    store: Store, registries: Iterable[Registry] | None = None, now: datetime | None = None
) -> ReclaimReport:
    """Run one pass now over ``registries`` (default: all): reclaim every layer past its grace.

    Every blob deleter is told before this returns (a state directory's files are gone by
    then). Returns what was reclaimed.
    """
    with _PASS_LOCK:
        gone: list[tuple[str, str, str]] = []
        total = 0
        with store.lock:
            now = now or store.clock.now()
            store.reclaim_checked_at = now
            regs = list(registries) if registries is not None else list(store.registries.values())
            for reg in regs:
                due, _ = _candidates(store, reg, now)
                for blob in due:
                    _forget(reg, blob)
                    gone.append((reg.account, reg.region, blob.digest))
                    total += blob.size
        if gone:
            by_registry: dict[tuple[str, str], list[str]] = {}
            for account, region, digest in gone:
                by_registry.setdefault((account, region), []).append(digest)
            for deleter in list(store.blob_deleters):
                for (account, region), digests in by_registry.items():
                    deleter(account, region, digests)
            _give_back_memory()
        return ReclaimReport(len(gone), total, tuple(gone))


def reclaim_if_due(store: Store) -> ReclaimReport | None:
    """Run :func:`reclaim` when a few minutes of backend clock passed since the last pass."""
    now = store.clock.now()
    if abs(now - store.reclaim_checked_at) < RECLAIM_CHECK_PERIOD:
        return None
    with store.lock:  # one of the requests ticking at once runs the pass
        if abs(now - store.reclaim_checked_at) < RECLAIM_CHECK_PERIOD:
            return None
        store.reclaim_checked_at = now
        if not any(reg.blobs for reg in store.registries.values()):
            return None
    return reclaim(store, now=now)


def layer_summary(store: Store, reg: Registry) -> dict[str, int]:
    """The registry's layer figures: unreferenced (reclaimable) and reclaimed, in bytes and
    layers; ``reclaimableNowBytes`` counts those past their grace."""
    with store.lock:
        due, unreferenced = _candidates(store, reg, store.clock.now())
        return {
            "layers": len(reg.blobs),
            "layerBytes": sum(blob.size for blob in reg.blobs.values()),
            "reclaimableLayers": len(unreferenced),
            "reclaimableBytes": sum(blob.size for blob in unreferenced),
            "reclaimableNowBytes": sum(blob.size for blob in due),
            "reclaimedLayers": reg.reclaimed_layers,
            "reclaimedBytes": reg.reclaimed_bytes,
        }


_MALLOC_TRIM: list[Any] = []


def _give_back_memory() -> None:
    """Hand freed heap pages back to the system (glibc keeps them otherwise), so a long-running
    server's resident size falls once its layers are reclaimed."""
    if not sys.platform.startswith("linux"):
        return
    if not _MALLOC_TRIM:
        trim: Any = None
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            trim = getattr(libc, "malloc_trim", None)
        except OSError:
            trim = None
        _MALLOC_TRIM.append(trim)
    trim = _MALLOC_TRIM[0]
    if trim is not None:
        trim(0)
