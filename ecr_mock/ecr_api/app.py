"""The ECR API as a WSGI application (``POST /`` with ``X-Amz-Target``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ecr_mock.core.backend import Backend
from ecr_mock.ecr_api import operations as _operations  # noqa: F401  (loads handlers on demand)
from ecr_mock.ecr_api.dispatch import JSON_CONTENT_TYPE, handle

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment


class EcrApiApp:
    """Serves ECR JSON 1.1 calls against one backend."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        status, payload = handle(
            self.backend,
            environ.get("HTTP_X_AMZ_TARGET", ""),
            body,
            headers,
            source_ip=environ.get("REMOTE_ADDR", "127.0.0.1"),
            secure=environ.get("wsgi.url_scheme") == "https",
        )
        reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden"}.get(
            status, "Internal Server Error"
        )
        start_response(
            f"{status} {reason}",
            [
                ("Content-Type", JSON_CONTENT_TYPE),
                ("Content-Length", str(len(payload))),
                ("x-amzn-RequestId", _request_id()),
            ],
        )
        return [payload]


def _request_id() -> str:
    import uuid

    return str(uuid.uuid4())
