"""Errors and warnings of the runtime: TLS that cannot be set up, a dropped in-process answer, missing layers."""

from __future__ import annotations

import http.client


class TlsSetupError(Exception):
    """The CA cannot be used: the library is missing or its directory cannot be written."""


class MissingLayersWarning(UserWarning):
    """PutImage named layers never uploaded; ``allow_missing_layers=True`` accepts them."""


class DroppedAnswer(http.client.IncompleteRead):
    """The connection dropped after ``sent`` bytes (a fault rule), as ``http.client`` says it."""

    def __init__(self, sent: int, more: int) -> None:
        super().__init__(b"", more)
        self.sent = sent

    def __repr__(self) -> str:
        return f"IncompleteRead({self.sent} bytes read, {self.expected} more expected)"

    __str__ = __repr__
