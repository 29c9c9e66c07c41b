"""Fault injection and call recording, the public face: attach the rule vocabulary to a backend."""

from __future__ import annotations

from ecr_mock.runtime.emulator import assemble, fault_catalog
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


def catalog() -> FaultCatalog:
    """The names rules may use (built by :func:`ecr_mock.runtime.emulator.fault_catalog`)."""
    return fault_catalog()


def attach(backend: Backend) -> Backend:
    """Let ``backend`` take fault rules and seeds: :func:`ecr_mock.runtime.emulator.assemble`
    without the providers; returns it."""
    return assemble(backend, providers=False)
