"""The ECR API as a WSGI application (``POST /`` with ``X-Amz-Target``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from werkzeug.exceptions import ClientDisconnected

from ecr_mock.protocols.ecr_api.dispatch import JSON_CONTENT_TYPE, answer_call, error_body
from ecr_mock.services.backend import Backend

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

MAX_BODY_BYTES = 64 * 1024 * 1024
"""The largest request body read (a 20 MiB layer part is about 27 MiB of base64)."""
_READ_CHUNK = 1024 * 1024
DISCONNECT_AFTER_BYTES = "ecr_mock.disconnect_after_bytes"
"""WSGI environ key: the server closes the connection after this many bytes of the body."""
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class EcrApiApp:
    """Serves ECR JSON 1.1 calls against one backend."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        body, problem = _read_body(environ)
        if problem is not None:
            status, payload = 400, error_body("SerializationException", problem)
        else:
            headers = {
                key[5:].replace("_", "-").title(): value
                for key, value in environ.items()
                if key.startswith("HTTP_")
            }
            answer = answer_call(
                self.backend,
                environ.get("HTTP_X_AMZ_TARGET", ""),
                body,
                headers,
                source_ip=environ.get("REMOTE_ADDR", "127.0.0.1"),
                secure=environ.get("wsgi.url_scheme") == "https",
            )
            status, payload = answer.status, answer.body
            if answer.fault is not None and answer.fault.disconnect_after_bytes is not None:
                environ[DISCONNECT_AFTER_BYTES] = answer.fault.disconnect_after_bytes
        reason = _REASONS.get(status, "Internal Server Error")
        start_response(
            f"{status} {reason}",
            [
                ("Content-Type", JSON_CONTENT_TYPE),
                ("Content-Length", str(len(payload))),
                ("x-amzn-RequestId", _request_id()),
            ],
        )
        return [payload]


def _read_body(environ: WSGIEnvironment) -> tuple[bytes, str | None]:
    """The request body, or the reason it cannot be had (bad or too large ``Content-Length``,
    a body that ends early): exactly ``Content-Length`` bytes, read in bounded chunks."""
    declared = environ.get("CONTENT_LENGTH")
    to_end = not declared and bool(environ.get("wsgi.input_terminated"))  # chunked
    length = MAX_BODY_BYTES + 1 if to_end else _content_length(declared)
    if length is None:
        return b"", "Invalid Content-Length header"
    if not to_end and length > MAX_BODY_BYTES:
        return b"", f"The request body is larger than {MAX_BODY_BYTES} bytes"
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
    except (ClientDisconnected, OSError, ValueError):
        return b"", f"The request body ended after {received} bytes"
    if received > MAX_BODY_BYTES:
        return b"", f"The request body is larger than {MAX_BODY_BYTES} bytes"
    if received < length and not to_end:
        return b"", f"The request body ended after {received} of {length} bytes"
    return b"".join(chunks), None


def _content_length(value: str | None) -> int | None:
    """The declared body length (0 when absent); None when it is no non-negative integer."""
    if not value:
        return 0
    text = value.strip()
    if not text.isdigit() or not text.isascii():
        return None
    return int(text)


def _request_id() -> str:
    import uuid

    return str(uuid.uuid4())
