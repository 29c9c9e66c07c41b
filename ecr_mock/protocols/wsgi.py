"""The WSGI conventions every application on the port shares: environ keys, header names, bodies."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Final

from ecr_mock.protocols.errors import BodyError

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

__all__ = [
    "API_VERSION",
    "API_VERSION_HEADER",
    "DISCONNECT_AFTER_BYTES",
    "INPUT_TERMINATED",
    "REQUEST_ID_HEADER",
    "TARGET_ENVIRON",
    "TARGET_HEADER",
    "BodyError",
    "read_body",
]

DISCONNECT_AFTER_BYTES: Final = "ecr_mock.disconnect_after_bytes"
"""WSGI environ key an application sets to have the answer's body cut after that many bytes
(a fault rule's ``disconnect_after_bytes``); the server, and in-process the requests hook, obey."""
INPUT_TERMINATED: Final = "wsgi.input_terminated"
"""WSGI environ key: ``wsgi.input`` ends at the end of the body (a chunked request)."""
TARGET_HEADER: Final = "X-Amz-Target"
"""The JSON 1.1 header naming the operation (``<prefix>.<Operation>``)."""
TARGET_ENVIRON: Final = "HTTP_X_AMZ_TARGET"
""":data:`TARGET_HEADER` as a WSGI environ key."""
REQUEST_ID_HEADER: Final = "x-amzn-RequestId"
"""The request id header of every ECR API answer."""
API_VERSION_HEADER: Final = "Docker-Distribution-Api-Version"
"""The header every /v2/ answer carries."""
API_VERSION: Final = "registry/2.0"
"""Its value."""

_READ_CHUNK = 1024 * 1024


def read_body(environ: WSGIEnvironment, limit: int) -> bytes:
    """The whole request body, at most ``limit`` bytes, read in bounded pieces.

    A ``Content-Length`` body is read to exactly that length; a chunked one
    (``wsgi.input_terminated``, no ``CONTENT_LENGTH``) to its end. Raises :class:`BodyError`
    for a bad ``Content-Length``, a body over ``limit`` and a body that ends early.
    """
    declared = environ.get("CONTENT_LENGTH")
    to_end = not declared and bool(environ.get(INPUT_TERMINATED))
    length = limit + 1 if to_end else _content_length(declared)
    if length is None:
        raise BodyError("Invalid Content-Length header")
    if not to_end and length > limit:
        raise BodyError(f"The request body is larger than {limit} bytes", too_large=True)
    stream = environ["wsgi.input"]
    chunks: list[bytes] = []
    received = 0
    try:
        while received < length:
            chunk = stream.read(min(length - received, _READ_CHUNK))
            if not chunk:
                break
            chunks.append(chunk)
            received += len(chunk)
    except Exception as exc:
        if not isinstance(exc, (OSError, ValueError)) and not _client_disconnected(exc):
            raise
        raise BodyError(f"The request body ended after {received} bytes") from None
    if received > limit:
        raise BodyError(f"The request body is larger than {limit} bytes", too_large=True)
    if received < length and not to_end:
        raise BodyError(f"The request body ended after {received} of {length} bytes")
    return b"".join(chunks)


def _content_length(value: str | None) -> int | None:
    """The declared body length (0 when absent); None when it is no non-negative integer."""
    if not value:
        return 0
    text = value.strip()
    if not text.isdigit() or not text.isascii():
        return None
    return int(text)


def _client_disconnected(exc: Exception) -> bool:
    """werkzeug's ClientDisconnected (a stream of its own), without importing werkzeug."""
    module = sys.modules.get("werkzeug.exceptions")
    return module is not None and isinstance(exc, module.ClientDisconnected)
