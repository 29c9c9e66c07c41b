"""Reading a state directory's database without changing any file in the directory."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

from ecr_mock.store.errors import SnapshotError

_ATTEMPTS = 5
"""Copies tried while a running server checkpoints its log into the database meanwhile."""


def server_running(directory: Path) -> bool:
    """True when a process holds the directory's lock (a server is using it)."""
    try:
        fd = os.open(directory / "lock", os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing releases a lock taken here
    return False


class Snapshot:
    """A read-only connection to what ``DIR/state.db`` holds now, changing nothing in DIR.

    A database with no pending log and no server is opened as immutable (SQLite then writes
    nothing beside it). Otherwise the database and its write-ahead log are copied to a
    private temporary directory and the copy is opened: SQLite replays the log there, not in
    DIR. The copy is removed by :meth:`close`.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._copy: Path | None = None
        database = directory / "state.db"
        wal = directory / "state.db-wal"
        pending = wal.is_file() and wal.stat().st_size > 0
        if not pending and not server_running(directory):
            uri = database.as_uri() + "?mode=ro&immutable=1"
            self.db = sqlite3.connect(uri, uri=True, check_same_thread=False)
            try:
                _readable(self.db)
            except sqlite3.DatabaseError as exc:
                self.db.close()
                raise SnapshotError(str(exc)) from None
            return
        self.db = self._copied(database, wal)

    def _copied(self, database: Path, wal: Path) -> sqlite3.Connection:
        last: Exception | None = None
        for _ in range(_ATTEMPTS):
            folder = Path(tempfile.mkdtemp(prefix="ecr-mock-snapshot-"))
            os.chmod(folder, 0o700)
            before = _stamp(database)
            shutil.copyfile(database, folder / "state.db")
            with contextlib.suppress(FileNotFoundError):
                shutil.copyfile(wal, folder / "state.db-wal")
            db = sqlite3.connect(folder / "state.db", check_same_thread=False)
            try:
                _readable(db)
            except sqlite3.DatabaseError as exc:
                db.close()
                shutil.rmtree(folder, ignore_errors=True)
                last = exc
                continue
            if _stamp(database) != before:  # checkpointed while copied: copy again
                db.close()
                shutil.rmtree(folder, ignore_errors=True)
                continue
            self._copy = folder
            return db
        raise SnapshotError(str(last) if last else "the database kept changing while copied")

    def close(self) -> None:
        """Close the connection and remove the copy, if one was made."""
        self.db.close()
        if self._copy is not None:
            shutil.rmtree(self._copy, ignore_errors=True)
            self._copy = None


def _stamp(path: Path) -> tuple[int, int]:
    found = path.stat()
    return found.st_size, found.st_mtime_ns


def _readable(db: sqlite3.Connection) -> None:
    """Raise sqlite3.DatabaseError unless the database's structure reads back whole."""
    found = db.execute("PRAGMA quick_check").fetchone()
    if found is None or found[0] != "ok":
        raise sqlite3.DatabaseError(f"database disk image is malformed ({found and found[0]})")
