"""Content-addressed blob storage and upload sessions, hashed while bytes stream in."""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO

from ecr_mock.core.errors import DigestInvalid, RangeInvalid, SizeInvalid
from ecr_mock.core.names import is_digest

SPILL_BYTES = 4 * 1024 * 1024
"""Uploads larger than this move from memory to an anonymous temporary file."""

READ_CHUNK = 1024 * 1024


class Blob:
    """Immutable content: in memory when small, in a temporary file when large, or in a file of
    a state directory (opened on first read)."""

    __slots__ = ("_data", "_file", "_open_lock", "digest", "path", "size")

    def __init__(
        self,
        digest: str,
        size: int,
        data: bytes | None,
        file: IO[bytes] | None,
        path: str | None = None,
    ) -> None:
        self.digest = digest
        self.size = size
        self._data = data
        self._file = file
        self.path = path
        """The durable file holding the bytes, for blobs of a state directory."""
        self._open_lock = threading.Lock() if path is not None else None

    @classmethod
    def from_path(cls, digest: str, size: int, path: str) -> Blob:
        """A blob whose bytes are the file at ``path`` (opened when first read)."""
        return cls(digest, size, None, None, path)

    def _fileno(self) -> int | None:
        if self._file is None and self.path is not None and self._open_lock is not None:
            with self._open_lock:
                if self._file is None:
                    self._file = open(self.path, "rb")  # noqa: SIM115  (kept open for readers)
        return None if self._file is None else self._file.fileno()

    @classmethod
    def from_bytes(cls, data: bytes, digest: str | None = None) -> Blob:
        """A blob holding ``data`` (digest computed when not given)."""
        return cls(digest or "sha256:" + hashlib.sha256(data).hexdigest(), len(data), data, None)

    def iter_bytes(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Yield the bytes ``[start, end)`` in chunks; safe for concurrent readers."""
        stop = self.size if end is None else min(end, self.size)
        if self._data is not None:
            view = memoryview(self._data)
            for pos in range(start, stop, READ_CHUNK):
                yield bytes(view[pos : min(pos + READ_CHUNK, stop)])
            return
        fd = self._fileno()
        if fd is None:
            return
        pos = start
        while pos < stop:
            chunk = os.pread(fd, min(READ_CHUNK, stop - pos), pos)
            if not chunk:
                break
            pos += len(chunk)
            yield chunk

    def body(self, start: int = 0, end: int | None = None) -> BlobBody:
        """The bytes ``[start, end)`` as a response body a server may send with sendfile."""
        stop = self.size if end is None else min(end, self.size)
        return BlobBody(self, start, max(stop, start))

    def read(self) -> bytes:
        """All the bytes (for small blobs such as configs)."""
        if self._data is not None:
            return self._data
        return b"".join(self.iter_bytes())

    def copy_to(self, fd: int) -> None:
        """Write every byte to the file descriptor ``fd`` (in the kernel when file-backed)."""
        source = None if self._data is not None else self._fileno()
        if source is not None and hasattr(os, "copy_file_range"):
            pos = 0
            try:
                while pos < self.size:
                    copied = os.copy_file_range(source, fd, self.size - pos, pos)
                    if copied == 0:
                        break
                    pos += copied
                if pos == self.size:
                    return
            except OSError:
                pass
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
        for chunk in self.iter_bytes():
            view = memoryview(chunk)
            while view:
                view = view[os.write(fd, view) :]

    @property
    def spool_path(self) -> str | None:
        """The named upload file holding the bytes (uploads into a state directory), if any."""
        if self._data is not None or self._file is None:
            return None
        found = getattr(self._file, "durable_path", None)
        return found if isinstance(found, str) else None

    def sync(self) -> None:
        """Flush the bytes of a file-backed blob to disk (fsync)."""
        fd = self._fileno()
        if fd is not None:
            os.fsync(fd)

    @property
    def in_memory(self) -> bool:
        """True when the bytes are held in memory rather than in a temporary file."""
        return self._data is not None


class BlobBody:
    """An iterable over part of a blob that can also name its file span for zero-copy sends."""

    __slots__ = ("blob", "start", "stop")

    def __init__(self, blob: Blob, start: int, stop: int) -> None:
        self.blob = blob
        self.start = start
        self.stop = stop

    def __iter__(self) -> Iterator[bytes]:
        return self.blob.iter_bytes(self.start, self.stop)

    def file_range(self) -> tuple[int, int, int] | None:
        """(file descriptor, offset, count) when the bytes live in a file, else None."""
        if self.blob._data is not None:
            return None
        fd = self.blob._fileno()
        if fd is None:
            return None
        return fd, self.start, self.stop - self.start


@dataclass
class UploadSession:
    """An upload in progress: shared by the layer API (``uploadId``) and ``/v2/`` uploads."""

    upload_id: str
    repository: str
    started_at: datetime
    size: int = 0
    parts: int = 0
    last_part_size: int | None = None
    # Size of a part under 5 MiB that another part followed; CompleteLayerUpload refuses it.
    small_part_size: int | None = None
    _hasher: hashlib._Hash = field(default_factory=hashlib.sha256)
    _spool: IO[bytes] = field(
        default_factory=lambda: tempfile.SpooledTemporaryFile(max_size=SPILL_BYTES)  # noqa: SIM115
    )
    lock: threading.Lock = field(default_factory=threading.Lock)
    closed: bool = False

    def append(self, chunk: bytes) -> None:
        """Add bytes at the end of the upload."""
        if not chunk:
            return
        self._hasher.update(chunk)
        self._spool.write(chunk)
        self.size += len(chunk)

    def append_stream(self, stream: IO[bytes], length: int | None) -> int:
        """Copy a request body in; raise SizeInvalid when it ends before ``length`` bytes."""
        received = 0
        while length is None or received < length:
            want = READ_CHUNK if length is None else min(READ_CHUNK, length - received)
            chunk = stream.read(want)
            if not chunk:
                break
            self.append(chunk)
            received += len(chunk)
        if length is not None and received < length:
            raise SizeInvalid(f"body ended after {received} of {length} bytes")
        return received

    def check_offset(self, first_byte: int) -> None:
        """Raise RangeInvalid unless ``first_byte`` continues the upload."""
        if first_byte != self.size:
            raise RangeInvalid(
                f"the chunk starts at byte {first_byte} but the upload holds {self.size} bytes",
                current_size=self.size,
            )

    def digest(self, algorithm: str = "sha256") -> str:
        """The digest of what was received, for sha256 (streamed) or sha512 (rehashed)."""
        if algorithm == "sha256":
            return "sha256:" + self._hasher.copy().hexdigest()
        hasher = hashlib.new(algorithm)
        for chunk in self._iter_spool():
            hasher.update(chunk)
        return f"{algorithm}:" + hasher.hexdigest()

    def _iter_spool(self) -> Iterator[bytes]:
        self._spool.seek(0)
        while True:
            chunk = self._spool.read(READ_CHUNK)
            if not chunk:
                break
            yield chunk
        self._spool.seek(0, os.SEEK_END)

    def finish(self, expected_digest: str) -> Blob:
        """Check the digest and turn the received bytes into a blob (no copy for large ones)."""
        if not is_digest(expected_digest):
            raise DigestInvalid(f"Invalid digest: '{expected_digest}'", digest=expected_digest)
        algorithm = expected_digest.split(":", 1)[0]
        actual = self.digest(algorithm)
        if actual != expected_digest:
            raise DigestInvalid(
                f"The digest '{expected_digest}' does not match the content digest '{actual}'",
                digest=expected_digest,
            )
        self.closed = True
        spool = self._spool
        rolled = getattr(spool, "_rolled", True)
        if not rolled:
            spool.seek(0)
            data = spool.read()
            spool.close()
            return Blob(expected_digest, self.size, data, None)
        spool.flush()
        # Keep the spool itself: on Python 3.11+ it closes its file when garbage-collected.
        return Blob(expected_digest, self.size, None, spool)

    def discard(self) -> None:
        """Drop what was received."""
        self.closed = True
        self._spool.close()


def new_upload(
    repository: str, now: datetime, spool: Callable[[], IO[bytes]] | None = None
) -> UploadSession:
    """Start an empty upload session with an unguessable id (``spool`` makes its file)."""
    session_id = str(uuid.uuid4())
    if spool is None:
        return UploadSession(upload_id=session_id, repository=repository, started_at=now)
    return UploadSession(
        upload_id=session_id, repository=repository, started_at=now, _spool=spool()
    )
