"""The control API under ``/ecr-mock/``: a small JSON router other modules add named routes to.

Every answer is JSON. Errors are ``{"code": ..., "message": ..., "field": ...}`` (``field``
names the bad part of the body when there is one): 400 ``BadRequest``, 401 ``Unauthorized``,
403 ``Forbidden``, 404 ``NotFound``, 405 ``MethodNotAllowed``. The built-in routes are in
:mod:`ecr_mock.protocols.control.routes`; :func:`build_router` assembles them. A module adds its own with
``router.add(ControlRoute("name", r"/ecr-mock/things(?:/(?P<id>[^/]+))?", {"GET": handler}))``.

Access: a router made with a ``token`` wants ``Authorization: Bearer <token>`` on every route but
``open`` ones (health). Without a token it is open when the server is bound to a loopback
address and refuses everything else (403), so a server reachable from elsewhere cannot be reset
by anyone who finds it.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ecr_mock.protocols.control.errors import ControlError

if TYPE_CHECKING:
    from ecr_mock.services.backend import Backend

__all__ = [
    "CONTROL_PREFIX",
    "ControlError",
    "ControlRequest",
    "ControlResponse",
    "ControlRoute",
    "ControlRouter",
    "build_router",
    "is_loopback",
]

CONTROL_PREFIX = "/ecr-mock/"
MAX_BODY_BYTES = 64 * 1024 * 1024

_REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    303: "See Other",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    500: "Internal Server Error",
}


@dataclass
class ControlResponse:
    """What a handler answers: a status and a JSON document (None: no body, as for 204).

    ``content`` (with its ``content_type``) answers other bytes than JSON, as the web console's
    pages do.
    """

    status: int = 200
    document: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None
    content_type: str = "application/json"

    def body(self) -> bytes:
        """The encoded body."""
        if self.content is not None:
            return self.content
        return b"" if self.document is None else json.dumps(self.document).encode()

    @property
    def status_line(self) -> str:
        """``200 OK`` and so on."""
        return f"{self.status} {_REASONS.get(self.status, 'Unknown')}"


@dataclass
class ControlRequest:
    """One control call: the backend, method, path, the route's path parameters and the body."""

    backend: Backend
    method: str
    path: str
    params: dict[str, str]
    body: bytes
    headers: Mapping[str, str]
    query: Mapping[str, str]

    def json(self) -> Any:
        """The body as JSON (an empty body is ``{}``); 400 when it is not JSON."""
        if not self.body.strip():
            return {}
        try:
            return json.loads(self.body)
        except (ValueError, RecursionError):
            raise ControlError(400, "BadRequest", "The body is not valid JSON") from None

    def object(self) -> dict[str, Any]:
        """The body as a JSON object; 400 for any other JSON value."""
        doc = self.json()
        if not isinstance(doc, dict):
            raise ControlError(400, "BadRequest", "The body must be a JSON object")
        return doc


Handler = Callable[[ControlRequest], ControlResponse]


@dataclass(frozen=True)
class ControlRoute:
    """A named route: a full-path pattern and one handler per method; ``open`` skips access."""

    name: str
    pattern: str
    handlers: Mapping[str, Handler]
    open: bool = False

    def match(self, path: str) -> dict[str, str] | None:
        """The path parameters when ``path`` is this route's, else None."""
        found = re.fullmatch(self.pattern, path)
        if found is None:
            return None
        return {key: value for key, value in found.groupdict().items() if value is not None}


class ControlRouter:
    """Routes ``/ecr-mock/...`` requests to named handlers, checking access first."""

    def __init__(self, *, token: str | None = None, loopback: bool = True) -> None:
        self.token = token
        """The bearer token every non-open route wants (None: none)."""
        self.loopback = loopback
        """Whether the server is bound to a loopback address (open without a token)."""
        self._routes: list[ControlRoute] = []

    @property
    def routes(self) -> tuple[ControlRoute, ...]:
        """The routes, in matching order."""
        return tuple(self._routes)

    def add(self, route: ControlRoute) -> ControlRoute:
        """Add (or replace, by name) a route; returns it."""
        self._routes = [r for r in self._routes if r.name != route.name]
        self._routes.append(route)
        return route

    def handles(self, path: str) -> bool:
        """True for the paths this router answers (all of ``/ecr-mock/`` it is given)."""
        return path.startswith(CONTROL_PREFIX)

    def handle(
        self,
        backend: Backend,
        method: str,
        path: str,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
    ) -> ControlResponse:
        """Answer one request; never raises."""
        verb = method.upper()
        headers = headers or {}
        try:
            for route in self._routes:
                params = route.match(path)
                if params is None:
                    continue
                handler = route.handlers.get("GET" if verb == "HEAD" else verb)
                if handler is None:
                    allowed = ", ".join(sorted(route.handlers))
                    raise ControlError(
                        405,
                        "MethodNotAllowed",
                        f"{verb} is not allowed on {path}; use {allowed}",
                    )
                if not route.open:
                    self._check_access(headers)
                request = ControlRequest(backend, verb, path, params, body, headers, query or {})
                return handler(request)
            known = ", ".join(route.name for route in self._routes)
            raise ControlError(404, "NotFound", f"No control route {path}; the routes are: {known}")
        except ControlError as exc:
            return ControlResponse(exc.status, exc.document())

    def _check_access(self, headers: Mapping[str, str]) -> None:
        if self.token is not None:
            sent = _header(headers, "Authorization")
            scheme, _, value = sent.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                value.strip().encode(), self.token.encode()
            ):
                raise ControlError(
                    401,
                    "Unauthorized",
                    "The control API wants the header 'Authorization: Bearer <control token>'",
                )
            return
        if not self.loopback:
            raise ControlError(
                403,
                "Forbidden",
                "The control API is closed on a non-loopback address; start the server with "
                "--control-token TOKEN and send 'Authorization: Bearer TOKEN'",
            )


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower())
    return value or ""


def is_loopback(host: str) -> bool:
    """Whether binding to ``host`` keeps the server reachable from this machine only."""
    import ipaddress

    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def build_router(*, token: str | None = None, loopback: bool = True) -> ControlRouter:
    """A router with every built-in route (health, reset, clock, state, seed, ...) and the
    web console."""
    from ecr_mock.protocols.control import routes
    from ecr_mock.protocols.control.console import console_route

    router = ControlRouter(token=token, loopback=loopback)
    for route in routes.builtin_routes():
        router.add(route)
    router.add(console_route(router))  # the web console, /ecr-mock/ui/
    return router
