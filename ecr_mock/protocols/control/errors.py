"""The control API's errors: a refused request with its HTTP status, and a console page not found."""

from __future__ import annotations

from typing import Any


class ControlError(Exception):
    """A refusal of the control API: HTTP status, a short code, a message, the bad field."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field

    @classmethod
    def bad_field(cls, name: str, message: str) -> ControlError:
        """400 naming the body field ``name``."""
        return cls(400, "BadRequest", message, field=name)

    def document(self) -> dict[str, Any]:
        """The JSON body of this error."""
        doc: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            doc["field"] = self.field
        return doc


class NotFound(Exception):
    """A console page names a registry, repository or image that does not exist."""
