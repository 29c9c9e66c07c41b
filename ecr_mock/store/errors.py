"""Errors of the store: state that cannot be written, read back or opened, and bad fault rules."""

from __future__ import annotations


class Unencodable(TypeError):
    """A value of the state has a type the codec cannot write (a lock, a function, a socket)."""


class Undecodable(ValueError):
    """A stored document names a class that does not exist here or cannot be rebuilt."""


class StateDirError(Exception):
    """A state directory cannot be used: locked by another server, unknown schema, unreadable."""


class FaultRuleError(ValueError):
    """A fault rule that cannot be used: an unknown field, operation, route or error code."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        """The rule field at fault, when one is."""
