"""Making blob files durable: one file-system sync for a group of files, or an fsync each."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from ecr_mock.domain.blobs import Blob
from ecr_mock.domain.errors import BlobUnknown
from ecr_mock.store.persistence.private import make_private_directory

ALWAYS = "always"
"""fsync each blob file and its directory, and every SQLite commit: survives a power loss
with nothing acknowledged lost."""
BATCH = "batch"
"""Blob files written without a sync each, then one file-system sync before the rows naming
them commit; SQLite commits without a sync (WAL). Survives a process crash with nothing
acknowledged lost; after a power loss the directory opens consistent, the last changes may be
missing."""
NEVER = "never"
"""No syncs at all: survives a process crash with nothing acknowledged lost; after a power
loss the directory still opens, but blobs whose bytes did not reach the disk are dropped."""
MODES = (ALWAYS, BATCH, NEVER)


def _load_syncfs() -> Callable[[int], int] | None:
    """libc's ``syncfs`` (Linux), or None where there is none."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        function = libc.syncfs
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int]
    function.restype = ctypes.c_int
    syncfs: Callable[[int], int] = function
    return syncfs


_SYNCFS = _load_syncfs()


def fsync_path(path: Path) -> None:
    """fsync a file or directory by path."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BlobStore(Protocol):
    """Where a state directory keeps blob bytes: its own files, or an object store."""

    def write_all(self, blobs: list[Blob]) -> list[tuple[Blob, Blob]]:
        """Keep each blob durably; (blob, the durable blob replacing it) for those kept."""
        ...

    def open_blob(self, digest: str, size: int) -> Blob | None:
        """The durable blob ``digest`` as stored (None when its bytes are not there)."""
        ...

    def remove(self, digest: str) -> None:
        """Delete the bytes of ``digest``: the one path by which blob bytes are deleted."""
        ...

    def collect_garbage(self, named: set[str]) -> None:
        """Delete stored bytes no row names (left by a crash between writing and committing)."""
        ...


class BlobFiles:
    """The ``blobs/`` and ``tmp/`` directories of a state directory, synced as ``mode`` says."""

    def __init__(self, root: Path, mode: str = BATCH) -> None:
        if mode not in MODES:
            raise ValueError(f"fsync mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.root = root
        self.mode = mode
        self.syncs = 0
        """How many syncs were made (file-system syncs or fsyncs of a file), for tests."""

    def path(self, digest: str) -> Path:
        """Where the bytes of ``digest`` live: ``blobs/<algorithm>/<hex>``."""
        algorithm, _, hexpart = digest.partition(":")
        return self.root / "blobs" / algorithm / hexpart

    def write_all(self, blobs: list[Blob]) -> list[tuple[Blob, Blob]]:
        """Each blob in its content-addressed file, durable as the mode says when this returns.

        Returns (blob, file-backed blob) for those written; blobs released meanwhile are left
        out. In batch mode all files are written first, then one sync covers them all.
        """
        done: list[tuple[Blob, Blob]] = []
        written: list[Path] = []
        for blob in blobs:
            try:
                target = self._write(blob)
            except BlobUnknown:
                continue
            done.append((blob, Blob.from_path(blob.digest, blob.size, str(self.path(blob.digest)))))
            if target is not None:
                written.append(target)
        if written:
            self.sync(written)
        return done

    def sync(self, written: list[Path]) -> None:
        """Make ``written`` files (and their names) durable, as the mode says."""
        if self.mode == NEVER:
            return
        if self.mode == BATCH and _SYNCFS is not None:
            fd = os.open(self.root, os.O_RDONLY)
            try:
                if _SYNCFS(fd) == 0:
                    self.syncs += 1
                    return
            finally:
                os.close(fd)
        for path in written:  # fsync each file (once written), then each directory once
            fsync_path(path)
            self.syncs += 1
        for directory in {path.parent for path in written}:
            fsync_path(directory)

    def _write(self, blob: Blob) -> Path | None:
        """Write the blob's file (no sync); its path, or None when it was there already.

        Renaming before the sync is safe: no row names the file until the sync is done, and
        files no row names are removed when the directory opens.
        """
        target = self.path(blob.digest)
        if target.is_file() and target.stat().st_size == blob.size:
            return None
        make_private_directory(target.parent)
        tmp = self.root / "tmp"
        spilled = blob.file_path
        if spilled is not None and Path(spilled).parent == tmp:
            # The spilled file stays the blob's until it is released (downloads may read it).
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            try:
                os.link(spilled, target)
            except FileNotFoundError:
                raise BlobUnknown(blob.digest) from None
            except OSError:
                pass
            else:
                return target
        temporary = tmp / uuid.uuid4().hex
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            try:
                blob.copy_to(fd)
            finally:
                os.close(fd)
            os.replace(temporary, target)
        except BaseException:  # released meanwhile (reclaimed): leave no half-written file
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise
        return target

    def open_blob(self, digest: str, size: int) -> Blob | None:
        """The file-backed blob ``digest``; None when its file is missing or of another size
        (a file lost to a power loss in ``never`` mode)."""
        path = str(self.path(digest))
        try:
            intact = os.stat(path).st_size == size
        except OSError:
            return None
        return Blob.from_path(digest, size, path) if intact else None

    def remove(self, digest: str) -> None:
        """Delete the file of ``digest`` (gone already is fine)."""
        with contextlib.suppress(OSError):
            self.path(digest).unlink()

    def collect_garbage(self, named: set[str]) -> None:
        """Remove blob files whose digest no row names."""
        for path in (self.root / "blobs").glob("*/*"):
            if f"{path.parent.name}:{path.name}" not in named:
                with contextlib.suppress(OSError):
                    path.unlink()


__all__ = ["ALWAYS", "BATCH", "MODES", "NEVER", "BlobFiles", "BlobStore", "fsync_path"]
