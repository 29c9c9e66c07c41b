"""Moved to :mod:`ecr_mock.runtime.http`; importing from here still works and warns once per name.

``from ecr_mock.server import serve_backend`` (and ``EcrMockServer``, ``EcrMockApp``,
``saves_at_once``, ``IDLE_TIMEOUT``, ``DISCONNECT_AFTER_BYTES``) keeps working with a
``DeprecationWarning`` naming the new place.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

__all__ = ["EcrMockApp", "EcrMockServer", "serve_backend"]  # noqa: F822 (served by __getattr__)

_MOVED = {
    "EcrMockApp": "ecr_mock.runtime.http",
    "EcrMockServer": "ecr_mock.runtime.http",
    "serve_backend": "ecr_mock.runtime.http",
    "saves_at_once": "ecr_mock.runtime.http.persistence",
    "IDLE_TIMEOUT": "ecr_mock.runtime.http.engine",
    "DISCONNECT_AFTER_BYTES": "ecr_mock.protocols.wsgi",
}


def __getattr__(name: str) -> Any:
    module = _MOVED.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(
        f"ecr_mock.server.{name} is deprecated: import from {module} instead",
        DeprecationWarning,
        stacklevel=2,
    )
    return getattr(importlib.import_module(module), name)
