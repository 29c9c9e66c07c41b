"""Seed image bytes streamed into blobs: hashed while read, spilled to files (a state directory's
when there is one) past the spill size, limited in size, held until the seed is applied."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import IO

from ecr_mock.domain.blobs import Blob, new_upload
from ecr_mock.domain.errors import SizeInvalid
from ecr_mock.services.errors import TooLarge as TooLarge

__all__ = [
    "MAX_LAYER_BYTES",
    "MAX_MANIFEST_BYTES",
    "SeedBlobs",
    "TooLarge",
    "hold",
    "reading",
    "stream_blob",
]

MAX_LAYER_BYTES = 52_000 * 1024 * 1024
"""The largest layer a seed may hold: ECR's own limit (52,000 MiB)."""

MAX_MANIFEST_BYTES = 4 * 1024 * 1024
"""The largest manifest, index or config a seed reads (ECR's manifest limit: 4 MiB)."""


@dataclass
class SeedBlobs:
    """The blobs one seed read, each held once (so a scratch run cannot free them) until the
    seed is applied or refused; where large ones spill."""

    spill_dir: str | None = None
    held: list[Blob] = field(default_factory=list)

    def release(self) -> None:
        """Let go of every hold; blobs no registry took are freed (their files removed)."""
        held, self.held = self.held, []
        for blob in held:
            blob.release()


_CURRENT: contextvars.ContextVar[SeedBlobs | None] = contextvars.ContextVar(
    "ecr_mock_seed_blobs", default=None
)


@contextlib.contextmanager
def reading(spill_dir: str | None) -> Iterator[SeedBlobs]:
    """Blobs read inside spill to ``spill_dir`` and are held until the block ends."""
    batch = SeedBlobs(spill_dir)
    token = _CURRENT.set(batch)
    try:
        yield batch
    finally:
        _CURRENT.reset(token)
        batch.release()


def hold(blob: Blob) -> Blob:
    """Hold ``blob`` for the seed being read (no-op outside :func:`reading`)."""
    batch = _CURRENT.get()
    if batch is not None:
        blob.retain()
        batch.held.append(blob)
    return blob


def stream_blob(
    handle: IO[bytes], size: int, where: str, expected: str | None = None, limit: int | None = None
) -> Blob:
    """The ``size`` bytes of ``handle`` as a blob, hashed while read in 1 MiB chunks; more than
    the spill size goes to a file. TooLarge past ``limit`` (default :data:`MAX_LAYER_BYTES`),
    before anything is read; ValueError when the bytes are short or do not match ``expected``."""
    top = MAX_LAYER_BYTES if limit is None else limit
    if size > top:
        raise TooLarge(
            f"{where} holds {size} bytes, more than the {top} a seed layer may have "
            f"({top // (1024 * 1024)} MiB, ECR's limit); push it with a registry client instead"
        )
    batch = _CURRENT.get()
    session = new_upload(
        "seed", datetime.now(timezone.utc), spill_dir=batch.spill_dir if batch else None
    )
    try:
        try:
            session.append_stream(handle, size)
        except SizeInvalid:
            raise ValueError(f"{where} ends before its {size} bytes") from None
        digest = session.digest()
        if expected is not None and expected != digest:
            raise ValueError(f"{where} does not match its digest")
        blob = session.finish(digest)
    except BaseException:
        session.discard()
        raise
    return hold(blob)
