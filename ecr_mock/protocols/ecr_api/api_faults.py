"""Fault injection on the ECR API: the names rules may use, and a faulted call's answer."""

from __future__ import annotations

from collections.abc import Mapping

from ecr_mock.protocols.ecr_api.spec import OPERATIONS
from ecr_mock.protocols.ecr_api.validation import error_statuses

COMMON_ERRORS: Mapping[str, int] = {
    "AccessDeniedException": 400,
    "ExpiredTokenException": 400,
    "IncompleteSignature": 400,
    "InternalFailure": 500,
    "InvalidClientTokenId": 403,
    "RequestExpired": 400,
    "ServiceUnavailable": 503,
    "ThrottlingException": 400,
    "UnrecognizedClientException": 400,
}
"""Errors every AWS JSON service may answer besides those of its model, with their status."""


SERVICES = ("ecr", "ecr-public")
"""The JSON 1.1 services the API serves (a rule's operation may be one of either)."""


def api_operations() -> frozenset[str]:
    """The operation names of the ECR and ECR Public models."""
    return frozenset(spec.fault_name for table in OPERATIONS.values() for spec in table.values())


def api_errors() -> dict[str, int]:
    """Error codes a fault may answer on the API: the models' and the common AWS ones."""
    errors = dict(COMMON_ERRORS)
    for service in reversed(SERVICES):
        errors.update(error_statuses(service))
    return errors
