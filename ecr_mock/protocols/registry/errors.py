"""The registry's error table: domain errors to OCI error codes, HTTP statuses and bodies."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ecr_mock.domain.errors import (
    AccessDenied,
    BlobUnknown,
    DigestInvalid,
    DigestMalformed,
    EcrError,
    EmptyUpload,
    ImageArchived,
    ImageDigestDoesNotMatch,
    ImageNotFound,
    ImageTagAlreadyExists,
    InvalidLayer,
    InvalidParameter,
    LayersNotFound,
    LimitExceeded,
    ManifestInvalid,
    RangeInvalid,
    ReferencedImagesNotFound,
    RepositoryNameInvalid,
    RepositoryNotFound,
    SizeInvalid,
    TagInvalid,
    TokenExpired,
    Unauthenticated,
    Unsupported,
    UnsupportedImageType,
    UploadNotFound,
    ValidationFailed,
)

ERROR_CONTENT_TYPE = "application/json; charset=utf-8"

ERROR_TABLE: dict[type[EcrError], tuple[str, int]] = {
    BlobUnknown: ("BLOB_UNKNOWN", 404),
    UploadNotFound: ("BLOB_UPLOAD_UNKNOWN", 404),
    EmptyUpload: ("BLOB_UPLOAD_INVALID", 400),
    DigestInvalid: ("DIGEST_INVALID", 400),
    InvalidLayer: ("DIGEST_INVALID", 400),
    ImageDigestDoesNotMatch: ("DIGEST_INVALID", 400),
    ManifestInvalid: ("MANIFEST_INVALID", 400),
    UnsupportedImageType: ("MANIFEST_INVALID", 400),
    ImageNotFound: ("MANIFEST_UNKNOWN", 404),
    RepositoryNameInvalid: ("NAME_INVALID", 400),
    RepositoryNotFound: ("NAME_UNKNOWN", 404),
    SizeInvalid: ("SIZE_INVALID", 400),
    RangeInvalid: ("RANGE_INVALID", 416),
    LayersNotFound: ("BLOB_UPLOAD_UNKNOWN", 404),
    ReferencedImagesNotFound: ("MANIFEST_BLOB_UNKNOWN", 400),
    ImageTagAlreadyExists: ("TAG_INVALID", 400),
    TagInvalid: ("TAG_INVALID", 400),
    ImageArchived: ("MANIFEST_UNKNOWN", 404),  # AWS: pulls of archived images fail with 404
    AccessDenied: ("DENIED", 403),
    TokenExpired: ("DENIED", 403),
    Unauthenticated: ("UNAUTHORIZED", 401),
    Unsupported: ("UNSUPPORTED", 405),
    LimitExceeded: ("DENIED", 403),
    InvalidParameter: ("UNSUPPORTED", 400),
    ValidationFailed: ("UNSUPPORTED", 400),
    EcrError: ("UNSUPPORTED", 400),
}
"""Domain error class -> (OCI error code, HTTP status); looked up along the class's MRO."""


class RegistryError(Exception):
    """An error answered as an OCI error body: ``code``, ``status``, message, detail, headers."""

    def __init__(
        self,
        code: str,
        status: int,
        message: str,
        detail: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message
        self.detail = detail
        self.headers: dict[str, str] = dict(headers or {})


def unsupported(message: str, status: int = 405) -> RegistryError:
    """UNSUPPORTED: the method or operation is not available here."""
    return RegistryError("UNSUPPORTED", status, message)


def not_found(path: str) -> RegistryError:
    """A path that is no registry route."""
    return RegistryError("NOT_FOUND", 404, f"no such route: {path}")


def translate(exc: EcrError) -> RegistryError:
    """The OCI error for a domain error, per :data:`ERROR_TABLE`."""
    code, status = ("UNSUPPORTED", 400)
    for cls in type(exc).__mro__:
        if cls in ERROR_TABLE:
            code, status = ERROR_TABLE[cls]
            break
    detail: Any = None
    if isinstance(exc, (LayersNotFound, ReferencedImagesNotFound)):
        detail = {"digests": exc.digests}
    elif isinstance(exc, BlobUnknown):
        detail = {"digest": exc.digest}
    elif isinstance(exc, (ImageTagAlreadyExists, TagInvalid)):
        detail = {"tag": exc.tag}
    elif isinstance(exc, RepositoryNameInvalid):
        detail = {"name": exc.name}
    elif isinstance(exc, DigestMalformed):
        detail = {"digest": exc.digest}
    headers: dict[str, str] = {}
    if isinstance(exc, RangeInvalid):
        headers["Range"] = f"0-{max(exc.current_size - 1, 0)}"
    return RegistryError(code, status, exc.message, detail=detail, headers=headers)


def error_body(error: RegistryError) -> bytes:
    """``{"errors":[{"code":..,"message":..,"detail":..}]}`` (detail only when there is one)."""
    entry: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.detail is not None:
        entry["detail"] = error.detail
    return json.dumps({"errors": [entry]}).encode()


def internal_error() -> RegistryError:
    """The answer to an unexpected exception: 500 UNKNOWN, no traceback."""
    return RegistryError("UNKNOWN", 500, "An internal error occurred in the registry")
