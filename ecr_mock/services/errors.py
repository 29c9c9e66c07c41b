"""Errors the services raise besides ECR's own (those are in ecr_mock.domain.errors)."""

from __future__ import annotations

__all__ = ["SeedError"]


class SeedError(ValueError):
    """A seed document refused as a whole: ``path`` names the bad field, ``message`` why."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


class _Refused(Exception):
    def __init__(self, path: str, code: str, message: str) -> None:
        super().__init__(message)
        self.path, self.code, self.message = path, code, message
