"""Refusing a damaged state database before anything in its directory is touched."""

from __future__ import annotations

import json
from pathlib import Path

from ecr_mock.store.errors import SnapshotError, StateDirDamaged
from ecr_mock.store.persistence.snapshot import Snapshot

__all__ = ["StateDirDamaged", "check_database", "open_snapshot"]


def open_snapshot(directory: Path) -> Snapshot:
    """A read-only view of ``directory``'s database; StateDirDamaged when it is unreadable."""
    try:
        return Snapshot(directory)
    except (SnapshotError, OSError) as exc:
        raise StateDirDamaged(directory / "state.db", str(exc)) from None


def check_database(directory: Path) -> None:
    """Raise StateDirDamaged unless every row of ``directory``'s database reads back.

    Reads through a :class:`Snapshot`, so a damaged directory is left exactly as it was.
    """
    database = directory / "state.db"
    snapshot = open_snapshot(directory)
    try:
        tables = {
            row[0]
            for row in snapshot.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        if not tables:
            return  # a new directory (its database never got a table)
        missing = {"meta", "rows"} - tables
        if missing:
            raise StateDirDamaged(database, f"no table {', '.join(sorted(missing))}")
        for key, doc in snapshot.db.execute("SELECT key, doc FROM rows"):
            try:
                json.loads(doc)
            except (TypeError, ValueError) as exc:
                raise StateDirDamaged(database, f"the row {key!r} is not JSON ({exc})") from None
    except StateDirDamaged:
        raise
    except Exception as exc:  # sqlite3.DatabaseError and kin: the file is not sound
        raise StateDirDamaged(database, str(exc)) from None
    finally:
        snapshot.close()
