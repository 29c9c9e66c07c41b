"""The ECR API as a WSGI application (``POST /`` with ``X-Amz-Target``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ecr_mock.protocols.ecr_api.dispatch import JSON_CONTENT_TYPE, answer_call, error_body
from ecr_mock.protocols.wsgi import (
    DISCONNECT_AFTER_BYTES,
    REQUEST_ID_HEADER,
    TARGET_ENVIRON,
    BodyError,
    read_body,
)
from ecr_mock.services.backend import Backend

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

MAX_BODY_BYTES = 64 * 1024 * 1024
"""The largest request body read (a 20 MiB layer part is about 27 MiB of base64)."""
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
        try:
            body = read_body(environ, MAX_BODY_BYTES)
        except BodyError as exc:
            status, payload = 400, error_body("SerializationException", exc.message)
        else:
            headers = {
                key[5:].replace("_", "-").title(): value
                for key, value in environ.items()
                if key.startswith("HTTP_")
            }
            answer = answer_call(
                self.backend,
                environ.get(TARGET_ENVIRON, ""),
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
                (REQUEST_ID_HEADER, _request_id()),
            ],
        )
        return [payload]


def _request_id() -> str:
    import uuid

    return str(uuid.uuid4())
