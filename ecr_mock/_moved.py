"""Internal: every module path ecr_mock used before, still importable, with a DeprecationWarning.

``import ecr_mock.remote`` (or any path of :data:`MOVED`) gives the module now at the new path
(the same module object) and warns once, naming the new path. ``ecr_mock.core`` itself, which
had no single successor, forwards the names it exported.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
import warnings
from collections.abc import Sequence
from typing import Any

MOVED: dict[str, str] = {
    "ecr_mock.services.calls": "ecr_mock.store.calls",
    "ecr_mock.services.fault_rules": "ecr_mock.store.fault_rules",
    "ecr_mock.services.quotas": "ecr_mock.store.quotas",
    "ecr_mock.control": "ecr_mock.protocols.control",
    "ecr_mock.control.events": "ecr_mock.protocols.control.events",
    "ecr_mock.control.faults": "ecr_mock.protocols.control.fault_routes",
    "ecr_mock.control.findings": "ecr_mock.protocols.control.findings",
    "ecr_mock.control.routes": "ecr_mock.protocols.control.routes",
    "ecr_mock.core.access": "ecr_mock.services.access",
    "ecr_mock.core.backend": "ecr_mock.services.backend",
    "ecr_mock.core.blobs": "ecr_mock.domain.blobs",
    "ecr_mock.core.clock": "ecr_mock.store.clock",
    "ecr_mock.core.errors": "ecr_mock.domain.errors",
    "ecr_mock.core.events": "ecr_mock.store.events",
    "ecr_mock.core.lifecycle": "ecr_mock.domain.lifecycle_rules",
    "ecr_mock.core.lifecycle_runner": "ecr_mock.services.lifecycle",
    "ecr_mock.core.manifests": "ecr_mock.domain.manifests",
    "ecr_mock.core.models": "ecr_mock.domain.models",
    "ecr_mock.core.names": "ecr_mock.domain.names",
    "ecr_mock.core.persistence": "ecr_mock.store.persistence",
    "ecr_mock.core.persistence.codec": "ecr_mock.store.persistence.codec",
    "ecr_mock.core.persistence.statedir": "ecr_mock.store.persistence.statedir",
    "ecr_mock.core.policy": "ecr_mock.domain.iam_policy",
    "ecr_mock.core.ports": "ecr_mock.domain.ports",
    "ecr_mock.core.pull_through": "ecr_mock.services.pull_through",
    "ecr_mock.core.replication": "ecr_mock.services.replication",
    "ecr_mock.core.replication_backfill": "ecr_mock.services.replication_backfill",
    "ecr_mock.core.scanning": "ecr_mock.services.scanning",
    "ecr_mock.core.services": "ecr_mock.services",
    "ecr_mock.core.services.access": "ecr_mock.services.access",
    "ecr_mock.core.services.admin": "ecr_mock.services.admin",
    "ecr_mock.core.services.calls": "ecr_mock.store.calls",
    "ecr_mock.core.services.download_urls": "ecr_mock.services.download_urls",
    "ecr_mock.core.services.faults": "ecr_mock.store.fault_rules",
    "ecr_mock.core.services.images": "ecr_mock.services.images",
    "ecr_mock.core.services.lifecycle": "ecr_mock.services.lifecycle",
    "ecr_mock.core.services.policies": "ecr_mock.services.policies",
    "ecr_mock.core.services.public": "ecr_mock.services.public",
    "ecr_mock.core.services.pull_through": "ecr_mock.services.pull_through",
    "ecr_mock.core.services.quotas": "ecr_mock.store.quotas",
    "ecr_mock.core.services.referrers": "ecr_mock.services.referrers",
    "ecr_mock.core.services.registry_auth": "ecr_mock.services.registry_auth",
    "ecr_mock.core.services.replication": "ecr_mock.services.replication",
    "ecr_mock.core.services.replication_backfill": "ecr_mock.services.replication_backfill",
    "ecr_mock.core.services.repositories": "ecr_mock.services.repositories",
    "ecr_mock.core.services.resolution": "ecr_mock.services.resolution",
    "ecr_mock.core.services.scanning": "ecr_mock.services.scanning",
    "ecr_mock.core.services.seed": "ecr_mock.services.seed",
    "ecr_mock.core.services.settings": "ecr_mock.services.settings",
    "ecr_mock.core.services.signing": "ecr_mock.services.signing",
    "ecr_mock.core.services.templates": "ecr_mock.services.templates",
    "ecr_mock.core.services.uploads": "ecr_mock.services.uploads",
    "ecr_mock.core.signing": "ecr_mock.services.signing",
    "ecr_mock.core.state": "ecr_mock.store.state",
    "ecr_mock.core.templates": "ecr_mock.services.templates",
    "ecr_mock.core.tokens": "ecr_mock.store.tokens",
    "ecr_mock.core.wildcards": "ecr_mock.domain.wildcards",
    "ecr_mock.ecr_api": "ecr_mock.protocols.ecr_api",
    "ecr_mock.ecr_api.access_table": "ecr_mock.protocols.ecr_api.access_table",
    "ecr_mock.ecr_api.app": "ecr_mock.protocols.ecr_api.app",
    "ecr_mock.ecr_api.dispatch": "ecr_mock.protocols.ecr_api.dispatch",
    "ecr_mock.ecr_api.faults": "ecr_mock.protocols.ecr_api.api_faults",
    "ecr_mock.ecr_api.operations": "ecr_mock.protocols.ecr_api.ecr",
    "ecr_mock.ecr_api.operations.archive": "ecr_mock.protocols.ecr_api.ecr.archive",
    "ecr_mock.ecr_api.operations.auth": "ecr_mock.protocols.ecr_api.ecr.auth",
    "ecr_mock.ecr_api.operations.images": "ecr_mock.protocols.ecr_api.ecr.images",
    "ecr_mock.ecr_api.operations.layers": "ecr_mock.protocols.ecr_api.ecr.layers",
    "ecr_mock.ecr_api.operations.lifecycle": "ecr_mock.protocols.ecr_api.ecr.lifecycle_previews",
    "ecr_mock.ecr_api.operations.policies": "ecr_mock.protocols.ecr_api.ecr.policies",
    "ecr_mock.ecr_api.operations.pull_through": "ecr_mock.protocols.ecr_api.ecr.pull_through",
    "ecr_mock.ecr_api.operations.referrers": "ecr_mock.protocols.ecr_api.ecr.referrers",
    "ecr_mock.ecr_api.operations.replication": "ecr_mock.protocols.ecr_api.ecr.replication",
    "ecr_mock.ecr_api.operations.repositories": "ecr_mock.protocols.ecr_api.ecr.repositories",
    "ecr_mock.ecr_api.operations.scanning": "ecr_mock.protocols.ecr_api.ecr.scanning",
    "ecr_mock.ecr_api.operations.settings": "ecr_mock.protocols.ecr_api.ecr.settings",
    "ecr_mock.ecr_api.operations.signing": "ecr_mock.protocols.ecr_api.ecr.signing",
    "ecr_mock.ecr_api.operations.tagging": "ecr_mock.protocols.ecr_api.ecr.tagging",
    "ecr_mock.ecr_api.operations.templates": "ecr_mock.protocols.ecr_api.ecr.templates",
    "ecr_mock.ecr_api.public": "ecr_mock.protocols.ecr_api.ecr_public.operations",
    "ecr_mock.ecr_api.serialize": "ecr_mock.protocols.ecr_api.serialize",
    "ecr_mock.ecr_api.validation": "ecr_mock.protocols.ecr_api.validation",
    "ecr_mock.faults": "ecr_mock.testing.faults",
    "ecr_mock.hostnames": "ecr_mock.runtime.hostnames",
    "ecr_mock.intercept": "ecr_mock.runtime.intercept",
    "ecr_mock.intercept.botocore_hook": "ecr_mock.runtime.intercept.botocore_hook",
    "ecr_mock.intercept.moto_events": "ecr_mock.runtime.providers.moto_events",
    "ecr_mock.intercept.moto_iam": "ecr_mock.runtime.providers.moto_iam",
    "ecr_mock.intercept.requests_hook": "ecr_mock.runtime.intercept.requests_hook",
    "ecr_mock.intercept.upstream_http": "ecr_mock.runtime.providers.upstream_http",
    "ecr_mock.mock": "ecr_mock.testing.mock",
    "ecr_mock.providers": "ecr_mock.runtime.providers",
    "ecr_mock.providers.moto_events": "ecr_mock.runtime.providers.moto_events",
    "ecr_mock.providers.moto_iam": "ecr_mock.runtime.providers.moto_iam",
    "ecr_mock.providers.upstream_http": "ecr_mock.runtime.providers.upstream_http",
    "ecr_mock.registry": "ecr_mock.protocols.registry",
    "ecr_mock.registry.app": "ecr_mock.protocols.registry.app",
    "ecr_mock.registry.auth": "ecr_mock.protocols.registry.auth",
    "ecr_mock.registry.errors": "ecr_mock.protocols.registry.errors",
    "ecr_mock.registry.faults": "ecr_mock.protocols.registry.registry_faults",
    "ecr_mock.registry.handlers": "ecr_mock.protocols.registry.handlers",
    "ecr_mock.registry.routes": "ecr_mock.protocols.registry.routes",
    "ecr_mock.registry.urls": "ecr_mock.services.download_urls",
    "ecr_mock.remote": "ecr_mock.testing.remote",
    "ecr_mock.request_log": "ecr_mock.runtime.request_log",
    "ecr_mock.seeding": "ecr_mock.testing.seeding",
    "ecr_mock.tls": "ecr_mock.runtime.tls",
    "ecr_mock.wire": "ecr_mock.protocols.wire",
}
"""Old module path -> the module that holds its code now."""

_CORE = "ecr_mock.core"
_CORE_NAMES = {
    "Backend": "ecr_mock",
    "Clock": "ecr_mock",
    "EcrError": "ecr_mock",
    "Image": "ecr_mock.domain.models",
    "Principal": "ecr_mock",
    "Registry": "ecr_mock.domain.models",
    "Repository": "ecr_mock.domain.models",
}
"""What ``ecr_mock.core`` exported, and where each name lives now."""


_BOOTSTRAP = "<frozen importlib._bootstrap>"
_IMPORT_FILES = frozenset({__file__, _BOOTSTRAP, importlib.__file__})


def _warn(old: str, new: str) -> None:
    # The warning names the line that imported the old path; warnings itself skips the import
    # system's frozen frames when it counts ``stacklevel``, so those are not counted here.
    level = 2
    frame: types.FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename in _IMPORT_FILES:
        if frame.f_code.co_filename != _BOOTSTRAP:
            level += 1
        frame = frame.f_back
    warnings.warn(
        f"{old} is deprecated: import from {new} instead", DeprecationWarning, stacklevel=level
    )


def _core_getattr(name: str) -> Any:
    home = _CORE_NAMES.get(name)
    if home is None:
        raise AttributeError(f"module {_CORE!r} has no attribute {name!r}")
    _warn(f"{_CORE}.{name}", home)
    return getattr(importlib.import_module(home), name)


class MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds the old paths of :data:`MOVED`; loading one gives the module at its new path."""

    def __init__(self) -> None:
        self._specs: dict[str, Any] = {}

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != _CORE and fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self, is_package=fullname == _CORE)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        if spec.name == _CORE:
            module = types.ModuleType(_CORE, "Deprecated: the package's layers replaced it.")
            module.__getattr__ = _core_getattr  # type: ignore[method-assign]
            return module
        module = importlib.import_module(MOVED[spec.name])
        self._specs[spec.name] = module.__spec__
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        spec = module.__spec__
        if spec is None or spec.name == _CORE:
            return
        old = spec.name
        module.__spec__ = self._specs.pop(old)  # the import system set the old name's spec
        _warn(old, MOVED[old])


def install() -> None:
    """Let the old paths import (once per process; the package does this when imported)."""
    if not any(isinstance(finder, MovedModules) for finder in sys.meta_path):
        sys.meta_path.insert(0, MovedModules())
