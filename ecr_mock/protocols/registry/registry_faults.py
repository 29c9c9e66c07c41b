"""Fault injection on /v2/: route names for rules, OCI error codes, and a faulted answer."""

from __future__ import annotations

from collections.abc import Mapping

from ecr_mock.protocols.registry.spec import ROUTE_SPECS

ROUTE_NAMES: Mapping[tuple[str, str], str] = {
    key: spec.fault_name for key, spec in ROUTE_SPECS.items() if spec.fault_name is not None
}
"""(route, method) to the name fault rules and call records use."""

OCI_ERRORS: Mapping[str, int] = {
    "BLOB_UNKNOWN": 404,
    "BLOB_UPLOAD_INVALID": 400,
    "BLOB_UPLOAD_UNKNOWN": 404,
    "DENIED": 403,
    "DIGEST_INVALID": 400,
    "MANIFEST_BLOB_UNKNOWN": 404,
    "MANIFEST_INVALID": 400,
    "MANIFEST_UNKNOWN": 404,
    "NAME_INVALID": 400,
    "NAME_UNKNOWN": 404,
    "RANGE_INVALID": 416,
    "SIZE_INVALID": 400,
    "TAG_INVALID": 400,
    "TOOMANYREQUESTS": 429,
    "UNAUTHORIZED": 401,
    "UNAVAILABLE": 503,
    "UNKNOWN": 500,
    "UNSUPPORTED": 405,
}
"""OCI distribution error codes (and distribution's UNAVAILABLE / UNKNOWN) with their status."""

RETRY_AFTER_SECONDS = 1
"""``Retry-After`` sent with a TOOMANYREQUESTS fault."""


def route_name(route: str, method: str) -> str | None:
    """The fault/record name of a request to ``route`` with ``method``."""
    return ROUTE_NAMES.get((route, method))


def registry_routes() -> frozenset[str]:
    """Every route name a fault rule may match."""
    return frozenset(ROUTE_NAMES.values())
