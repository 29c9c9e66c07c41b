"""Uploads in progress kept in ``DIR/uploads/``, so a client resumes its PATCH after a restart."""

from __future__ import annotations

import contextlib
import json
import os
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecr_mock.domain.blobs import UploadSession, _Spool
from ecr_mock.store.persistence.private import make_private_directory

if TYPE_CHECKING:
    from ecr_mock.store.state import Store

_FIELDS = ("size", "parts", "last_part_size", "small_part_size")


@dataclass
class _Kept:
    """What is on disk for one session: its metadata and where its bytes are."""

    stamp: tuple[Any, ...]
    spool_path: str | None
    """The session's own spilled file linked as the data file (None: bytes copied in)."""
    copied: int
    """Bytes copied into the data file from a session held in memory."""


class UploadKeeper:
    """Writes each upload session's bytes and metadata durably; restores them on open.

    ``<id>.data`` holds the bytes received (a hard link to the session's spilled file in
    ``DIR/tmp``, or a copy of the bytes held in memory); ``<id>.json`` the session's metadata,
    replaced atomically after the bytes are synced, so it never claims bytes not on disk.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.folder = directory / "uploads"
        self._kept: dict[str, _Kept] = {}
        self._lock = threading.Lock()

    def sync(self, store: Store) -> int:
        """Make every open session durable and forget ended ones; returns how many written."""
        with store.lock:
            sessions = [
                (reg.account, reg.region, s)
                for reg in store.registries.values()
                for s in reg.uploads.values()
                if not s.closed
            ]
        written = 0
        with self._lock:
            live = set()
            for account, region, session in sessions:
                live.add(session.upload_id)
                with session.lock:  # no writer in between: size and bytes agree
                    if session.closed:
                        continue
                    written += self._keep(account, region, session)
            for upload_id in set(self._kept) - live:
                self._forget(upload_id)
        return written

    def _keep(self, account: str, region: str, session: UploadSession) -> int:
        stamp = (session.size, session.parts, session.last_active)
        kept = self._kept.get(session.upload_id)
        if kept is not None and kept.stamp == stamp:
            return 0
        make_private_directory(self.folder)
        data = self.folder / f"{session.upload_id}.data"
        spool: _Spool = session._spool
        spool_path = spool._path
        if spool_path is not None:
            if spool_path != str(data) and (kept is None or kept.spool_path != spool_path):
                with contextlib.suppress(FileNotFoundError):
                    data.unlink()
                os.link(spool_path, data)
            if spool._fd is not None:
                os.fsync(spool._fd)
            kept = _Kept(stamp, spool_path, 0)
        else:
            memory = spool._memory
            held = memory.getbuffer() if memory is not None else memoryview(b"")
            try:
                start = kept.copied if kept is not None and kept.spool_path is None else 0
                flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if start else os.O_TRUNC)
                fd = os.open(data, flags, 0o600)
                try:
                    os.write(fd, held[start : session.size])
                    os.fsync(fd)
                finally:
                    os.close(fd)
            finally:
                held.release()
            kept = _Kept(stamp, None, session.size)
        doc = {
            "upload_id": session.upload_id,
            "account": account,
            "region": region,
            "repository": session.repository,
            "session_account": session.account,
            "started_at": session.started_at.isoformat(),
            "last_active": session.last_active.isoformat() if session.last_active else None,
            **{name: getattr(session, name) for name in _FIELDS},
        }
        _replace(self.folder / f"{session.upload_id}.json", json.dumps(doc).encode())
        self._kept[session.upload_id] = kept
        return 1

    def _forget(self, upload_id: str) -> None:
        kept = self._kept.pop(upload_id, None)
        data = self.folder / f"{upload_id}.data"
        with contextlib.suppress(OSError):
            (self.folder / f"{upload_id}.json").unlink()
        if kept is None or kept.spool_path != str(data):  # a restored session's own file
            with contextlib.suppress(OSError):  # stays its own (a blob made of it reads it)
                data.unlink()

    def restore(self, store: Store, spill_dir: Path) -> int:
        """Open again every session kept (after the state is loaded); returns how many.

        A session continues in its data file, cut to the size its metadata claims, hashed
        again so the digest continues where it was. ``spill_dir`` is where it would spill.
        """
        if not self.folder.is_dir():
            return 0
        restored = 0
        for meta in sorted(self.folder.glob("*.json")):
            upload_id = meta.stem
            try:
                doc = json.loads(meta.read_bytes())
                session = self._rebuild(store, doc, spill_dir)
            except (OSError, ValueError, KeyError, TypeError):
                self._forget(upload_id)  # unusable: the client starts the upload again
                continue
            if session is None:
                self._forget(upload_id)
                continue
            restored += 1
        for leftover in self.folder.glob("*"):  # half-written files, bytes without metadata
            orphan = leftover.suffix == ".data" and not leftover.with_suffix(".json").exists()
            if orphan or leftover.name.startswith("."):
                with contextlib.suppress(OSError):
                    leftover.unlink()
        return restored

    def _rebuild(self, store: Store, doc: dict[str, Any], spill_dir: Path) -> UploadSession | None:
        registry = store.registries.get((doc["account"], doc["region"]))
        if registry is None or doc["repository"] not in registry.repositories:
            return None
        size = int(doc["size"])
        data = self.folder / f"{doc['upload_id']}.data"
        if not data.is_file() or data.stat().st_size < size:
            return None
        spooled = data  # the session's file from now on: it removes it when done with it
        fd = os.open(spooled, os.O_RDWR)
        os.truncate(fd, size)
        os.lseek(fd, size, os.SEEK_SET)
        spool = _Spool(str(spill_dir))
        spool._memory = None
        spool._fd = fd
        spool._path = str(spooled)
        spool.size = size
        last_active = doc.get("last_active")
        session = UploadSession(
            upload_id=doc["upload_id"],
            repository=doc["repository"],
            started_at=datetime.fromisoformat(doc["started_at"]),
            last_active=datetime.fromisoformat(last_active) if last_active else None,
            account=doc.get("session_account", ""),
            _spool=spool,
        )
        for name in _FIELDS:
            setattr(session, name, doc.get(name))
        session.size = size
        session.parts = int(doc.get("parts") or 0)
        for chunk in spool.chunks():
            session._hasher.update(chunk)
        with store.lock:
            registry.uploads[session.upload_id] = session
        self._kept[session.upload_id] = _Kept(
            (session.size, session.parts, session.last_active), str(spooled), 0
        )
        return session


def _replace(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all: a synced temporary file renamed over it."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
