"""CORS for ``/v2/`` (``serve --cors-origin``): web registry browsers on another origin may read
the registry; preflight requests are answered here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

ALLOW_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
ALLOW_HEADERS = (
    "Authorization, Accept, Content-Type, Content-Length, Content-Range, Range, If-None-Match"
)
EXPOSE_HEADERS = (
    "Docker-Content-Digest, Docker-Distribution-Api-Version, Docker-Upload-Uuid, Location, "
    "Link, Range, Content-Range, Content-Length, Content-Type, ETag, OCI-Subject, OCI-Filters-Applied, "
    "WWW-Authenticate"
)
MAX_AGE = "600"


class Cors:
    """Wraps a WSGI app: ``/v2/`` answers to an allowed ``Origin`` carry CORS headers, and an
    ``OPTIONS`` preflight for ``/v2/`` is answered 204 without reaching the registry.

    ``origins`` are exact origins (``https://ui.example:8080``) or ``*`` for any. Requests
    from other origins, and every path outside ``/v2/``, are left as they are.
    """

    def __init__(self, app: WSGIApplication, origins: Sequence[str]) -> None:
        self.app = app
        self.any = "*" in origins
        self.origins = frozenset(o.rstrip("/") for o in origins if o != "*")

    def _allowed(self, origin: str) -> str | None:
        if not origin:
            return None
        if origin in self.origins:
            return origin
        return "*" if self.any else None

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO") or "/")
        if not (path == "/v2" or path.startswith("/v2/")):
            return self.app(environ, start_response)
        allowed = self._allowed(str(environ.get("HTTP_ORIGIN", "")))
        if allowed is None:
            return self.app(environ, start_response)
        common = [("Access-Control-Allow-Origin", allowed)]
        if allowed != "*":
            common += [("Access-Control-Allow-Credentials", "true"), ("Vary", "Origin")]
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "OPTIONS" and environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD"):
            start_response(
                "204 No Content",
                [
                    *common,
                    ("Access-Control-Allow-Methods", ALLOW_METHODS),
                    ("Access-Control-Allow-Headers", ALLOW_HEADERS),
                    ("Access-Control-Max-Age", MAX_AGE),
                ],
            )
            return []

        def start_with_cors(status: str, headers: list[tuple[str, str]], exc_info=None):  # type: ignore[no-untyped-def]
            headers = [h for h in headers if not h[0].lower().startswith("access-control-")]
            headers += [*common, ("Access-Control-Expose-Headers", EXPOSE_HEADERS)]
            return start_response(status, headers, exc_info)

        return self.app(environ, start_with_cors)
