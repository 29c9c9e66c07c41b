"""One module per group of ECR operations, imported on the first call of one of its operations.

Each module declares its own ``HANDLERS`` table (operation name -> handler); :data:`MODULES`
(from each operation's spec, :mod:`ecr_mock.protocols.ecr_api.spec`) says which module serves which operation, so a call imports only the module it needs.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ecr_mock.protocols.ecr_api.spec import ECR

if TYPE_CHECKING:
    from ecr_mock.protocols.ecr_api.context import Handler


def _modules() -> dict[str, tuple[str, ...]]:
    modules: dict[str, tuple[str, ...]] = {}
    for spec in sorted(ECR.values(), key=lambda spec: spec.name):
        modules[spec.module] = (*modules.get(spec.module, ()), spec.name)
    return modules


MODULES: dict[str, tuple[str, ...]] = _modules()
"""Module name -> the operations it serves (a test checks this against the modules' tables)."""

MODULE_OF: dict[str, str] = {op: module for module, ops in MODULES.items() for op in ops}


def handlers(module: str) -> Mapping[str, Handler]:
    """The ``HANDLERS`` table of operation module ``module`` (imported on first use)."""
    table: Mapping[str, Handler] = importlib.import_module(f"{__name__}.{module}").HANDLERS
    return table


def handler_of(operation: str) -> Handler | None:
    """The handler of ``operation``, importing only its module; None when no module serves it."""
    module = MODULE_OF.get(operation)
    return handlers(module).get(operation) if module is not None else None


def all_handlers() -> dict[str, Handler]:
    """Every ECR operation's handler, by name (imports every operation module)."""
    return {name: handler for module in MODULES for name, handler in handlers(module).items()}
