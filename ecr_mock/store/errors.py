"""Errors of the store: state that cannot be written, read back or opened, and bad fault rules."""

from __future__ import annotations

from pathlib import Path


class Unencodable(TypeError):
    """A value of the state has a type the codec cannot write (a lock, a function, a socket)."""


class Undecodable(ValueError):
    """A stored document names a class that does not exist here or cannot be rebuilt."""


class StateDirError(Exception):
    """A state directory cannot be used: locked by another server, unknown schema, unreadable."""


class StateDirDamaged(StateDirError):
    """``state.db`` cannot be read as ecr-mock state: not SQLite, truncated, or a broken row."""

    def __init__(self, database: Path, problem: str) -> None:
        super().__init__(
            f"the state database {database} is damaged: {problem}; nothing was changed "
            f"(restore it from a copy, or see: ecr-mock check --state-dir {database.parent})"
        )
        self.database = database
        self.problem = problem


class SnapshotError(Exception):
    """The database cannot be read: damaged, not SQLite, or changing too fast to copy."""


class TokenKeyError(Exception):
    """The token key file cannot be read or made; the message names the file."""


class TokenKeyDamaged(TokenKeyError):
    """The token key file is there but does not hold a key."""


class FaultRuleError(ValueError):
    """A fault rule that cannot be used: an unknown field, operation, route or error code."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        """The rule field at fault, when one is."""
