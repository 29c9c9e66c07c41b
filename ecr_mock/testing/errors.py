"""Errors of the testing faces: a control API answer that is an error (standard library only)."""

from __future__ import annotations


class ControlAPIError(Exception):
    """The control API refused a call: HTTP ``status``, ``code``, ``message``, the bad ``field``."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(f"{status} {code}: {message}" + (f" (field {field})" if field else ""))
        self.status = status
        self.code = code
        self.message = message
        self.field = field
