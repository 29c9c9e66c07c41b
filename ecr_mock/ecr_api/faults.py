"""Fault injection on the ECR API: the names rules may use, and a faulted call's answer."""

from __future__ import annotations

from collections.abc import Mapping

from ecr_mock.ecr_api.validation import error_statuses, operation_names

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


def api_operations() -> frozenset[str]:
    """The operation names of ECR's model."""
    return frozenset(operation_names())


def api_errors() -> dict[str, int]:
    """Error codes a fault may answer on the API: the model's and the common AWS ones."""
    errors = dict(COMMON_ERRORS)
    errors.update(error_statuses())
    return errors
