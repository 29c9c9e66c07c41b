"""Errors the services raise besides ECR's own (those are in ecr_mock.domain.errors)."""

from __future__ import annotations

__all__ = ["SeedError", "SeedModeError", "TooLarge"]


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


class TooLarge(ValueError):
    """A seed file larger than its limit (message says which and how to push it instead)."""


class SeedModeError(SeedError):
    """A seed that differs from the one the kept state was seeded with, under ``once``."""
