"""Fault injection and call recording, the public face: attach the rule vocabulary to a backend."""

from __future__ import annotations

import functools

from ecr_mock.protocols.ecr_api.api_faults import api_errors, api_operations
from ecr_mock.protocols.registry.registry_faults import OCI_ERRORS, registry_routes
from ecr_mock.services.backend import Backend
from ecr_mock.store.calls import Call, CallLog
from ecr_mock.store.fault_rules import Fault, FaultCatalog, FaultRule, FaultRuleError, FaultRules
from ecr_mock.store.quotas import API_RATE_QUOTAS, Quotas

__all__ = [
    "API_RATE_QUOTAS",
    "Call",
    "CallLog",
    "Fault",
    "FaultCatalog",
    "FaultRule",
    "FaultRuleError",
    "FaultRules",
    "Quotas",
    "attach",
    "catalog",
]


@functools.lru_cache(maxsize=1)
def catalog() -> FaultCatalog:
    """The names rules may use: ECR's operations and error codes (from botocore's model) and
    the registry's route names and OCI error codes."""

    return FaultCatalog(
        api_operations=api_operations(),
        api_errors=api_errors(),
        registry_routes=registry_routes(),
        registry_errors=dict(OCI_ERRORS),
    )


def attach(backend: Backend) -> Backend:
    """Let ``backend`` take fault rules (mock_ecr and the servers do this); returns it."""
    if backend.fault_catalog is None:
        backend.fault_catalog = catalog
    return backend
