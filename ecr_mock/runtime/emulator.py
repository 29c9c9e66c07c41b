"""The composition root: what turns a Store into a running emulator's, in one place.

:func:`assemble` gives a Store the fault rules' vocabulary, the in-process ECR API that seeding
calls (the real dispatcher) and the providers (moto's identities, the upstream HTTP client).
``mock_ecr``, the live server, ``ecr-mock serve`` and the pytest fixtures all call it; each part
loads when first used, so a mock that never uses one does not pay for importing it.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, TypeVar, cast

if TYPE_CHECKING:
    from ecr_mock.store.fault_rules import FaultCatalog
    from ecr_mock.store.state import Store

__all__ = ["assemble", "call_operation", "fault_catalog"]

S = TypeVar("S", bound="Store")


def assemble(store: S, *, providers: bool = True) -> S:
    """Make ``store`` an emulator's (harmless when done already); returns it.

    ``providers=False`` leaves the providers out until a later call (``mock_ecr`` installs them
    when it starts answering).
    """
    if store.fault_catalog is None:
        store.fault_catalog = fault_catalog
    if store.operation_caller is None:
        store.operation_caller = call_operation
    if providers:
        from ecr_mock.runtime import providers as installer

        installer.install(store)
    return store


@functools.lru_cache(maxsize=1)
def fault_catalog() -> FaultCatalog:
    """The names rules may use: ECR's operations and error codes (from the operation specs and
    botocore's models) and the registry's route names and OCI error codes."""
    from ecr_mock.protocols.ecr_api.api_faults import api_errors, api_operations
    from ecr_mock.protocols.registry.registry_faults import OCI_ERRORS, registry_routes
    from ecr_mock.store.fault_rules import FaultCatalog

    return FaultCatalog(
        api_operations=api_operations(),
        api_errors=api_errors(),
        registry_routes=registry_routes(),
        registry_errors=dict(OCI_ERRORS),
    )


def call_operation(
    store: Store, operation: str, params: dict[str, Any], account: str, region: str
) -> tuple[int, dict[str, Any]]:
    """One ECR API call as the root of ``account`` in ``region``, through the API's dispatcher."""
    from ecr_mock.protocols.ecr_api.dispatch import call_operation as call
    from ecr_mock.services.backend import Backend

    # Every Store the faces build is a Backend (the Store with its services as methods).
    return call(cast(Backend, store), operation, params, account, region)
