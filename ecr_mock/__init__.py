"""ecr_mock: a local, offline emulator of Amazon ECR (the ECR API and an OCI registry).

The names of :data:`__all__` are the public API; each is imported on first use, so
``import ecr_mock`` stays light and never imports moto. Modules whose names start with an
underscore, and every module not named here or in the README, are internal.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ecr_mock import _moved
from ecr_mock._version import __version__ as __version__

if TYPE_CHECKING:
    from ecr_mock.domain.errors import EcrError
    from ecr_mock.domain.models import Principal
    from ecr_mock.runtime.http import EcrMockServer, serve_backend
    from ecr_mock.runtime.providers.moto_iam import add_ecr_managed_policies
    from ecr_mock.services.access import StaticIdentities
    from ecr_mock.services.backend import Backend
    from ecr_mock.services.errors import SeedError
    from ecr_mock.services.scanning import set_scan_findings
    from ecr_mock.store.clock import Clock
    from ecr_mock.store.errors import FaultRuleError, StateDirError
    from ecr_mock.testing.mock import mock_ecr
    from ecr_mock.testing.remote import RemoteEcrMock

__all__ = [
    "Backend",
    "Clock",
    "EcrError",
    "EcrMockServer",
    "FaultRuleError",
    "Principal",
    "RemoteEcrMock",
    "SeedError",
    "StateDirError",
    "StaticIdentities",
    "add_ecr_managed_policies",
    "mock_ecr",
    "serve_backend",
    "set_scan_findings",
]

_HOMES = {
    "Backend": "ecr_mock.services.backend",
    "Clock": "ecr_mock.store.clock",
    "EcrError": "ecr_mock.domain.errors",
    "EcrMockServer": "ecr_mock.runtime.http",
    "FaultRuleError": "ecr_mock.store.errors",
    "Principal": "ecr_mock.domain.models",
    "RemoteEcrMock": "ecr_mock.testing.remote",
    "SeedError": "ecr_mock.services.errors",
    "StateDirError": "ecr_mock.store.errors",
    "StaticIdentities": "ecr_mock.services.access",
    "add_ecr_managed_policies": "ecr_mock.runtime.providers.moto_iam",
    "mock_ecr": "ecr_mock.testing.mock",
    "serve_backend": "ecr_mock.runtime.http",
    "set_scan_findings": "ecr_mock.services.scanning",
}
"""Where each public name is defined (imported from there on first use)."""


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'ecr_mock' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


_moved.install()  # the paths modules had before the layers keep importing, with a warning
