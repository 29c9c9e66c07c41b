"""Errors of what the domain reads besides ECR requests: policy documents, upstream registries."""

from __future__ import annotations


class PolicyParseError(Exception):
    """Raised when a policy document is malformed or breaks a validation rule."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UpstreamError(Exception):
    """Raised by an :class:`UpstreamClient`: ``kind`` is ``unreachable``, ``unauthorized``,
    ``not_found`` or ``bad_response``."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
