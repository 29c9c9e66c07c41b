"""Blob files checked against their digests: in the background after loading, or on first read;
a damaged one is moved to ``DIR/quarantine/`` and is never served."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecr_mock.domain.blobs import Blob
from ecr_mock.domain.errors import BlobUnknown
from ecr_mock.store.persistence.private import make_private_directory

if TYPE_CHECKING:
    from ecr_mock.domain.blobs import _Reader
    from ecr_mock.store.state import Store

log = logging.getLogger("ecr_mock.state")

CHUNK = 1 << 20
PROGRESS_EVERY = 10.0
"""Seconds between progress lines of the background verification."""


def file_digest_problem(path: Path, digest: str, size: int) -> str | None:
    """Why the file at ``path`` is not the blob ``digest`` of ``size`` bytes (None: it is)."""
    algorithm, _, expected = digest.partition(":")
    try:
        hasher = hashlib.new(algorithm)
    except ValueError:
        return f"unknown digest algorithm {algorithm!r}"
    try:
        with open(path, "rb") as handle:
            read = 0
            while chunk := handle.read(CHUNK):
                hasher.update(chunk)
                read += len(chunk)
    except FileNotFoundError:
        return "its file is missing"
    except OSError as exc:
        return f"its file cannot be read ({exc.strerror})"
    if read != size:
        return f"its file holds {read} bytes, not {size}"
    if hasher.hexdigest() != expected:
        return f"its bytes hash to {algorithm}:{hasher.hexdigest()}"
    return None


def quarantine_path(directory: Path, digest: str) -> Path:
    """Where a damaged blob's file is moved: ``DIR/quarantine/<algorithm>-<hex>``."""
    return directory / "quarantine" / digest.replace(":", "-", 1)


def move_to_quarantine(directory: Path, digest: str, source: Path) -> Path | None:
    """Move ``source`` (a blob file of ``directory``) to the quarantine; None when it is gone."""
    target = quarantine_path(directory, digest)
    make_private_directory(target.parent)
    try:
        os.replace(source, target)
    except FileNotFoundError:
        return None
    for folder in (target.parent, source.parent):
        with contextlib.suppress(OSError):
            fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    return target


class CheckedBlob(Blob):
    """A blob loaded from a state directory: its file is hashed before the first read."""

    __slots__ = ("_verified", "_verifier", "_verify_lock")

    def __init__(self, digest: str, size: int, path: str, verifier: Verifier) -> None:
        super().__init__(digest, size, None, path, durable=True)
        self._verifier = verifier
        self._verified = False
        self._verify_lock = threading.Lock()

    def verify(self) -> bool:
        """True when the file holds the digest's bytes (checked once); False once damaged."""
        if self._verified:
            return True
        with self._verify_lock:
            if not self._verified:
                self._verified = self._verifier.check(self)
            return self._verified

    def open(self) -> _Reader:
        """A reader of the bytes, once they are known to match the digest (else BlobUnknown)."""
        if not self.verify():
            raise BlobUnknown(self.digest)
        return super().open()


class Verifier:
    """Checks the blobs a state directory loaded; quarantines the damaged ones.

    ``quarantine=False`` (a read-only open) only refuses them: nothing is moved.
    """

    def __init__(
        self,
        directory: Path,
        backend: Store,
        *,
        quarantine: bool = True,
        touch: Callable[[], None] | None = None,
    ) -> None:
        self.directory = directory
        self._backend = backend
        self._quarantine = quarantine
        self._touch = touch
        """Called after a quarantine: the state directory saves the blob's row away."""
        self.damaged: dict[str, str] = {}
        """Digest -> what is wrong with its file, for every blob refused so far."""
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def note_missing(self, digest: str, path: Path, size: int) -> None:
        """A blob the state names whose file is gone or of another size (not loaded)."""
        problem = file_digest_problem(path, digest, size) or "its file changed while loading"
        self.damaged.setdefault(digest, problem)

    def make_blob(self, digest: str, size: int, path: str) -> Blob:
        """A loaded blob that is verified before it is served."""
        return CheckedBlob(digest, size, path, self)

    def check(self, blob: CheckedBlob) -> bool:
        """Hash ``blob``'s file; a mismatch is quarantined and logged. True when sound."""
        if blob.digest in self.damaged:
            return False
        path = Path(blob.file_path or blob.path or "")
        problem = file_digest_problem(path, blob.digest, blob.size)
        if problem is None:
            return True
        self._refuse(blob, path, problem)
        return False

    def _refuse(self, blob: CheckedBlob, path: Path, problem: str) -> None:
        backend = self._backend
        self.damaged[blob.digest] = problem
        moved = None
        if self._quarantine:
            with backend.lock:
                for reg in list(backend.registries.values()):
                    if reg.blobs.get(blob.digest) is blob:
                        del reg.blobs[blob.digest]
                        blob.release()
            moved = move_to_quarantine(self.directory, blob.digest, path)
            if self._touch is not None:
                self._touch()  # the blob's row goes with the next save
        images = [f"{i['repository']}@{i['digest']}" for i in self.damaged_images()]
        log.warning(
            "blob %s is damaged (%s)%s; it is answered as BLOB_UNKNOWN; images needing it: %s",
            blob.digest,
            problem,
            f": moved to {moved}" if moved is not None else "",
            ", ".join(images) or "none",
        )

    def damaged_images(self) -> list[dict[str, Any]]:
        """Every image needing a refused blob its registry does not hold (again)."""
        if not self.damaged:
            return []
        found = []
        with self._backend.lock:
            for reg in self._backend.registries.values():
                for repo in reg.repositories.values():
                    for image in repo.images.values():
                        missing = [
                            d
                            for d in image.parsed.stored_blob_digests()
                            if d in self.damaged and d not in reg.blobs
                        ]
                        if missing:
                            found.append(
                                {
                                    "account": reg.account,
                                    "region": reg.region,
                                    "repository": repo.name,
                                    "digest": image.digest,
                                    "tags": sorted(image.tags),
                                    "damagedBlobs": missing,
                                }
                            )
        return found

    # ----- in the background ----------------------------------------------------------------

    def start(self) -> None:
        """Verify every loaded blob in a background thread, logging its progress."""
        if self._thread is not None:
            return
        if self.damaged:  # found while loading: files missing or cut short
            images = [f"{i['repository']}@{i['digest']}" for i in self.damaged_images()]
            for digest, problem in self.damaged.items():
                log.warning("blob %s is damaged (%s); it is answered as BLOB_UNKNOWN", digest,
                            problem)  # fmt: skip
            log.warning("images needing a damaged blob: %s", ", ".join(images) or "none")
        with self._backend.lock:
            blobs = [
                blob
                for reg in self._backend.registries.values()
                for blob in reg.blobs.values()
                if isinstance(blob, CheckedBlob)
            ]
        if not blobs:
            return
        self._thread = threading.Thread(
            target=self._run, args=(blobs,), name="ecr-mock-blob-verifier", daemon=True
        )
        self._thread.start()

    def _run(self, blobs: list[CheckedBlob]) -> None:
        total = sum(blob.size for blob in blobs)
        log.info(
            "verifying %d blobs (%s) in %s in the background; each is also verified before "
            "its first read",
            len(blobs),
            _mib(total),
            self.directory,
        )
        size_done = 0
        last = time.monotonic()
        for done, blob in enumerate(blobs, 1):
            if self._stop.is_set():
                return
            with contextlib.suppress(Exception):
                blob.verify()
            size_done += blob.size
            if time.monotonic() - last >= PROGRESS_EVERY:
                last = time.monotonic()
                log.info("verified %d of %d blobs (%s of %s)", done, len(blobs), _mib(size_done),
                         _mib(total))  # fmt: skip
        bad = len(self.damaged)
        if bad:
            log.warning(
                "verified %d blobs: %d damaged, moved to %s",
                len(blobs),
                bad,
                self.directory / "quarantine",
            )
        else:
            log.info("verified %d blobs: all match their digests", len(blobs))

    def stop(self) -> None:
        """Stop the background verification (reads still verify first)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()


def _mib(size: int) -> str:
    return f"{size / (1 << 20):.1f} MiB"
