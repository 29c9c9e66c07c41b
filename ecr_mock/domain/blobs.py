"""Content-addressed blob storage and upload sessions: hashed while bytes stream in, freed when
nothing references them, each session owned by one writer at a time.

Lifecycle
---------
* A blob is immutable once stored. Small blobs live in memory; larger ones in a file of their
  own under a private temporary directory, opened only while someone reads it (so open file
  handles are bounded by concurrent downloads and spilled uploads, not by stored blobs).
* Each registry holding a blob counts once (:meth:`Blob.retain` / :meth:`Blob.release`), and
  each download in flight counts while it streams (:meth:`Blob.open`). When the last holder
  lets go and no download reads it, its memory and file are released at once.
* An upload session ends exactly once: completed by its writer, or ended by a cancel, an idle
  expiry or the deletion of its repository (:meth:`UploadSession.end`). Whichever comes first
  wins; the other side gets the reason it lost (404 BLOB_UPLOAD_UNKNOWN or NAME_UNKNOWN). A
  writer in the middle of a body sees the end at its next chunk and stops.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import io
import os
import queue
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO

from ecr_mock.domain.errors import (
    BlobUnknown,
    DigestInvalid,
    EcrError,
    RangeInvalid,
    SizeInvalid,
    UploadNotFound,
)
from ecr_mock.domain.names import is_digest

SPILL_BYTES = 4 * 1024 * 1024
"""Uploads larger than this move from memory to a file of their own."""

READ_CHUNK = 1024 * 1024

UPLOAD_IDLE_TIMEOUT = timedelta(hours=1)
"""An upload session untouched this long (backend clock) expires; ``Backend`` can change it."""

_SPILL_DIR: list[str] = []
_SPILL_LOCK = threading.Lock()


def _spill_dir() -> str:
    """This process's private directory for spilled blobs, removed when the process exits."""
    with _SPILL_LOCK:
        if not _SPILL_DIR:
            path = tempfile.mkdtemp(prefix="ecr-mock-blobs-")
            atexit.register(shutil.rmtree, path, True)
            _SPILL_DIR.append(path)
        return _SPILL_DIR[0]


class Blob:
    """Immutable content: bytes in memory when small, a file of its own when large, or a file
    of a state directory (which that directory removes, not the blob, when no row names it)."""

    __slots__ = (
        "_data",
        "_dropped",
        "_durable",
        "_freed",
        "_holders",
        "_lock",
        "_path",
        "_readers",
        "digest",
        "size",
    )

    def __init__(
        self,
        digest: str,
        size: int,
        data: bytes | None,
        path: str | None,
        *,
        durable: bool = False,
    ) -> None:
        self.digest = digest
        self.size = size
        self._data = data
        self._path = path
        self._durable = path if durable else None
        self._lock = threading.Lock()
        self._holders = 0
        self._readers = 0
        self._dropped = False
        self._freed = False

    @classmethod
    def from_bytes(cls, data: bytes, digest: str | None = None) -> Blob:
        """A blob holding ``data`` (digest computed when not given)."""
        return cls(digest or "sha256:" + hashlib.sha256(data).hexdigest(), len(data), data, None)

    @classmethod
    def from_path(cls, digest: str, size: int, path: str) -> Blob:
        """A blob whose bytes are the state-directory file at ``path`` (kept when freed)."""
        return cls(digest, size, None, path, durable=True)

    @property
    def path(self) -> str | None:
        """The state-directory file holding the bytes (None: not durable yet)."""
        return self._durable

    @property
    def file_path(self) -> str | None:
        """The file holding the bytes while they are held (None: in memory, or freed)."""
        return self._path

    # ----- references ---------------------------------------------------------------------

    def retain(self) -> None:
        """One more registry holds the blob."""
        with self._lock:
            if self._freed:
                raise BlobUnknown(self.digest)
            self._holders += 1
            self._dropped = False

    def release(self) -> None:
        """A registry lets go; the last one frees the bytes (once no download reads them)."""
        with self._lock:
            self._holders = max(self._holders - 1, 0)
            if self._holders:
                return
            self._dropped = True
        self._free_if_unused()

    def discard(self) -> None:
        """Free a blob no registry took (a duplicate of one already stored, a failed copy)."""
        with self._lock:
            if self._holders:
                return
            self._dropped = True
        self._free_if_unused()

    def _free_if_unused(self) -> None:
        with self._lock:
            if not self._dropped or self._readers or self._freed:
                return
            self._freed = True
            self._data = None
            path, self._path = self._path, None
        if path is not None and self._durable is None:
            with contextlib.suppress(OSError):
                os.unlink(path)

    @property
    def freed(self) -> bool:
        """True once the bytes are gone (nothing referenced the blob any more)."""
        return self._freed

    @property
    def reading(self) -> bool:
        """True while a download in flight reads the bytes."""
        return self._readers > 0

    @property
    def in_memory(self) -> bool:
        """True when the bytes are held in memory rather than in a file."""
        return self._data is not None

    # ----- reading ------------------------------------------------------------------------

    def open(self) -> _Reader:
        """A reader of the bytes; the blob stays whole until the reader is closed."""
        with self._lock:
            if self._freed:
                raise BlobUnknown(self.digest)
            self._readers += 1
            data, path = self._data, self._path
        try:
            fd = os.open(path, os.O_RDONLY) if data is None and path is not None else None
        except OSError:
            self._reader_done()
            raise BlobUnknown(self.digest) from None
        return _Reader(self, data, fd)

    def _reader_done(self) -> None:
        with self._lock:
            self._readers -= 1
        self._free_if_unused()

    def iter_bytes(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Yield the bytes ``[start, end)`` in chunks; safe for concurrent readers."""
        reader = self.open()
        try:
            yield from reader.chunks(start, self.size if end is None else min(end, self.size))
        finally:
            reader.close()

    def body(self, start: int = 0, end: int | None = None) -> BlobBody:
        """The bytes ``[start, end)`` as a response body a server may send with sendfile.

        The body holds a reader from now until it is closed (a WSGI server closes it).
        """
        stop = self.size if end is None else min(end, self.size)
        return BlobBody(self.open(), start, max(stop, start))

    def read(self) -> bytes:
        """All the bytes (for small blobs such as configs)."""
        data = self._data
        if data is not None:
            return data
        return b"".join(self.iter_bytes())

    def copy_to(self, fd: int) -> None:
        """Write every byte to the file descriptor ``fd`` (in the kernel when file-backed)."""
        reader = self.open()
        try:
            source = reader.fd
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
            for chunk in reader.chunks(0, self.size):
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view) :]
        finally:
            reader.close()

    def sync(self) -> None:
        """Flush the bytes of a file-backed blob to disk (fsync)."""
        reader = self.open()
        try:
            if reader.fd is not None:
                os.fsync(reader.fd)
        finally:
            reader.close()


class _Reader:
    """An open view of a blob's bytes (memory, or a file descriptor of its own)."""

    __slots__ = ("_blob", "_closed", "data", "fd")

    def __init__(self, blob: Blob, data: bytes | None, fd: int | None) -> None:
        self._blob = blob
        self.data = data
        self.fd = fd
        self._closed = False

    def chunks(self, start: int, stop: int) -> Iterator[bytes]:
        if self.data is not None:
            view = memoryview(self.data)
            for pos in range(start, stop, READ_CHUNK):
                yield bytes(view[pos : min(pos + READ_CHUNK, stop)])
            return
        if self.fd is None:
            return
        pos = start
        while pos < stop:
            chunk = os.pread(self.fd, min(READ_CHUNK, stop - pos), pos)
            if not chunk:
                break
            pos += len(chunk)
            yield chunk

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = None
        self._blob._reader_done()

    def __del__(self) -> None:
        self.close()


class BlobBody:
    """An iterable over part of a blob that can also name its file span for zero-copy sends."""

    __slots__ = ("_reader", "start", "stop")

    def __init__(self, reader: _Reader, start: int, stop: int) -> None:
        self._reader = reader
        self.start = start
        self.stop = stop

    def __iter__(self) -> Iterator[bytes]:
        return self._reader.chunks(self.start, self.stop)

    def file_range(self) -> tuple[int, int, int] | None:
        """(file descriptor, offset, count) when the bytes live in a file, else None."""
        fd = self._reader.fd
        if fd is None:
            return None
        return fd, self.start, self.stop - self.start

    def close(self) -> None:
        """Let go of the blob (a WSGI server calls this when the answer is sent)."""
        self._reader.close()


class _Spool:
    """Received bytes: in memory up to SPILL_BYTES, then in a file of their own (in
    ``directory`` when given: a state directory's, so making the blob durable is a link)."""

    def __init__(self, directory: str | None = None) -> None:
        self._directory = directory
        self._memory: io.BytesIO | None = io.BytesIO()
        self._fd: int | None = None
        self._path: str | None = None
        self.size = 0

    def write(self, chunk: bytes | memoryview) -> None:
        if self._memory is not None and self.size + len(chunk) > SPILL_BYTES:
            fd, self._path = tempfile.mkstemp(dir=self._directory or _spill_dir())
            self._fd = fd
            held = self._memory.getbuffer()
            self._write_fd(held)
            held.release()
            self._memory = None
        if self._memory is not None:
            self._memory.write(chunk)
        else:
            self._write_fd(chunk)
        self.size += len(chunk)

    def _write_fd(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        while view:
            fd = self._fd
            if fd is None:
                raise ValueError("the upload was discarded")
            written = os.write(fd, view)
            view = view[written:]

    def chunks(self) -> Iterator[bytes]:
        if self._memory is not None:
            data = self._memory.getvalue()
            for pos in range(0, len(data), READ_CHUNK):
                yield data[pos : pos + READ_CHUNK]
            return
        pos = 0
        while self._fd is not None and pos < self.size:
            chunk = os.pread(self._fd, min(READ_CHUNK, self.size - pos), pos)
            if not chunk:
                break
            pos += len(chunk)
            yield chunk

    def to_blob(self, digest: str) -> Blob:
        """The bytes as a blob; the spool is empty afterwards (no copy for spilled ones)."""
        if self._memory is not None:
            data = self._memory.getvalue()
            self._memory = None
            return Blob(digest, len(data), data, None)
        fd, path = self._fd, self._path
        self._fd = self._path = None
        if fd is not None:
            os.close(fd)
        return Blob(digest, self.size, None, path)

    def discard(self) -> None:
        self._memory = None
        fd, path = self._fd, self._path
        self._fd = self._path = None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)
        if path is not None:
            with contextlib.suppress(OSError):
                os.unlink(path)


PIPELINE_BYTES = 2 * READ_CHUNK
"""Bodies larger than this are received, hashed and written by three threads at once."""


class _Pipeline:
    """Receive | hash | write for one request body, in order, over a few reused buffers."""

    _BUFFERS = 4

    def __init__(self, session: UploadSession) -> None:
        self._session = session
        self._free: queue.Queue[memoryview] = queue.Queue()
        for _ in range(self._BUFFERS):
            self._free.put(memoryview(bytearray(READ_CHUNK)))
        self._to_hash: queue.Queue[tuple[memoryview, int] | None] = queue.Queue()
        self._to_write: queue.Queue[tuple[memoryview, int] | None] = queue.Queue()
        self._pending: dict[int, int] = {}
        self._lock = threading.Lock()
        self._error: BaseException | None = None
        self._threads = [
            threading.Thread(target=self._run, args=(self._to_hash, self._hash), daemon=True),
            threading.Thread(target=self._run, args=(self._to_write, self._write), daemon=True),
        ]

    def __enter__(self) -> _Pipeline:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._to_hash.put(None)
        self._to_write.put(None)
        for thread in self._threads:
            thread.join()
        if self._error is not None and exc[0] is None:
            raise self._error

    def free_buffer(self) -> memoryview:
        while True:
            if self._error is not None:
                raise self._error
            try:
                return self._free.get(timeout=0.5)
            except queue.Empty:
                continue

    def give_back(self, buffer: memoryview) -> None:
        self._free.put(buffer)

    def submit(self, buffer: memoryview, count: int) -> None:
        with self._lock:
            self._pending[id(buffer)] = 2
        self._session.size += count
        self._to_hash.put((buffer, count))
        self._to_write.put((buffer, count))

    def _hash(self, data: memoryview) -> None:
        self._session._hasher.update(data)

    def _write(self, data: memoryview) -> None:
        self._session._spool.write(data)

    def _run(
        self, work: queue.Queue[tuple[memoryview, int] | None], step: Callable[[memoryview], None]
    ) -> None:
        while (item := work.get()) is not None:
            buffer, count = item
            try:
                if self._error is None:
                    step(buffer[:count])
            except BaseException as exc:  # handed to the receiving thread
                self._error = exc
            with self._lock:
                self._pending[id(buffer)] -= 1
                done = self._pending[id(buffer)] == 0
            if done:
                self._free.put(buffer)


@dataclass
class UploadSession:
    """An upload in progress: shared by the layer API (``uploadId``) and ``/v2/`` uploads.

    Writers (PATCH, PUT, UploadLayerPart, CompleteLayerUpload) work inside :meth:`writing`,
    one at a time; :meth:`end` (cancel, expiry, repository deletion) may come at any moment.
    """

    upload_id: str
    repository: str
    started_at: datetime
    size: int = 0
    parts: int = 0
    last_part_size: int | None = None
    # Size of a part under 5 MiB that another part followed; CompleteLayerUpload refuses it.
    small_part_size: int | None = None
    last_active: datetime | None = None
    account: str = ""
    _hasher: hashlib._Hash = field(default_factory=hashlib.sha256)
    _spool: _Spool = field(default_factory=_Spool)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _state: threading.Lock = field(default_factory=threading.Lock)
    closed: bool = False
    busy: bool = False
    ended_by: EcrError | None = None

    # ----- ownership ----------------------------------------------------------------------

    def _lost(self) -> EcrError:
        return self.ended_by or UploadNotFound(self.upload_id, self.repository, self.account)

    def check_open(self) -> None:
        """Raise why the session ended (UploadNotFound, RepositoryNotFound) if it has."""
        if self.closed:
            raise self._lost()

    @contextlib.contextmanager
    def writing(self, now: datetime | None = None) -> Iterator[UploadSession]:
        """Be the one writer: wait for another writer, fail if the session has ended."""
        with self.lock:
            with self._state:
                self.check_open()
                self.busy = True
            try:
                yield self
            finally:
                with self._state:
                    self.busy = False
                    if now is not None:
                        self.last_active = now
                    orphaned = self.closed and self.ended_by is not None
                if orphaned:
                    self._spool.discard()

    def end(self, reason: EcrError) -> bool:
        """End the session for ``reason`` unless it already ended; True for the one that ends it.

        The bytes are freed now, or by the writer at work when it notices.
        """
        with self._state:
            if self.closed:
                return False
            self.closed = True
            self.ended_by = reason
            idle = not self.busy
        if idle:
            self._spool.discard()
        return True

    def idle_since(self) -> datetime:
        """When a writer last touched the session (its start when none did)."""
        return self.last_active or self.started_at

    def expired(self, now: datetime, idle_timeout: timedelta) -> bool:
        """True when no writer is at work and none was for ``idle_timeout``."""
        return not self.busy and not self.closed and now - self.idle_since() > idle_timeout

    # ----- bytes --------------------------------------------------------------------------

    def append(self, chunk: bytes | memoryview) -> None:
        """Add bytes at the end of the upload."""
        if not chunk:
            return
        self.check_open()
        self._hasher.update(chunk)
        self._spool.write(chunk)
        self.size += len(chunk)

    def append_stream(self, stream: IO[bytes], length: int | None) -> int:
        """Copy a request body in; raise SizeInvalid when it ends before ``length`` bytes.

        Large bodies go through a pipeline: this thread receives, one thread hashes, another
        writes (each releases the GIL), so a push costs about its slowest stage, not the sum.
        """
        if length is not None and length <= PIPELINE_BYTES:
            return self._append_simple(stream, length)
        with _Pipeline(self) as pipeline:
            received = 0
            readinto = getattr(stream, "readinto", None)
            while length is None or received < length:
                self.check_open()
                want = READ_CHUNK if length is None else min(READ_CHUNK, length - received)
                buffer = pipeline.free_buffer()
                if readinto is not None:
                    got = int(readinto(buffer[:want]))
                else:
                    chunk = stream.read(want)
                    got = len(chunk)
                    buffer[:got] = chunk
                if not got:
                    pipeline.give_back(buffer)
                    break
                pipeline.submit(buffer, got)
                received += got
        if length is not None and received < length:
            raise SizeInvalid(f"body ended after {received} of {length} bytes")
        return received

    def _append_simple(self, stream: IO[bytes], length: int) -> int:
        received = 0
        while received < length:
            chunk = stream.read(min(READ_CHUNK, length - received))
            if not chunk:
                raise SizeInvalid(f"body ended after {received} of {length} bytes")
            self.append(chunk)
            received += len(chunk)
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
        for chunk in self._spool.chunks():
            hasher.update(chunk)
        return f"{algorithm}:" + hasher.hexdigest()

    def finish(self, expected_digest: str) -> Blob:
        """Check the digest and turn the received bytes into a blob (no copy for large ones).

        The session ends here, unless a cancel ended it first (then its reason is raised).
        """
        if not is_digest(expected_digest):
            raise DigestInvalid(f"Invalid digest: '{expected_digest}'", digest=expected_digest)
        algorithm = expected_digest.split(":", 1)[0]
        actual = self.digest(algorithm)
        if actual != expected_digest:
            raise DigestInvalid(
                f"The digest '{expected_digest}' does not match the content digest '{actual}'",
                digest=expected_digest,
            )
        with self._state:
            self.check_open()
            self.closed = True
        return self._spool.to_blob(expected_digest)

    def discard(self) -> None:
        """Drop what was received (the session ends)."""
        self.end(UploadNotFound(self.upload_id, self.repository, self.account))


def new_upload(
    repository: str, now: datetime, account: str = "", spill_dir: str | None = None
) -> UploadSession:
    """Start an empty upload session with an unguessable id (large ones spill to
    ``spill_dir`` when given, else to a private temporary directory)."""
    return UploadSession(
        upload_id=str(uuid.uuid4()),
        repository=repository,
        started_at=now,
        last_active=now,
        account=account,
        _spool=_Spool(spill_dir),
    )
