"""The OCI distribution / Docker Registry v2 WSGI application over one backend."""

from __future__ import annotations

import logging
import string
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import quote

from werkzeug.wrappers import Request, Response

from ecr_mock.core.backend import Backend
from ecr_mock.core.errors import EcrError
from ecr_mock.core.models import Principal
from ecr_mock.registry.auth import authenticate, challenges
from ecr_mock.registry.errors import (
    ERROR_CONTENT_TYPE,
    RegistryError,
    error_body,
    internal_error,
    not_found,
    translate,
    unsupported,
)
from ecr_mock.registry.handlers import HANDLERS, PUBLIC_HANDLERS
from ecr_mock.registry.routes import Match, is_registry_path, match

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

API_VERSION_HEADER = "Docker-Distribution-Api-Version"
API_VERSION = "registry/2.0"

log = logging.getLogger(__name__)


class RegistryApp:
    """Serves ``/v2/...`` (and signed layer download URLs) against one backend."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def handles(self, path: str) -> bool:
        """True for paths this app answers (for a server dispatching by path)."""
        return is_registry_path(path)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        environ = _with_utf8_query(environ)
        request = Request(environ)
        try:
            self.backend.tick()
            response = self._dispatch(request)
        except RegistryError as exc:
            response = self._error(request, exc)
        except EcrError as exc:
            response = self._error(request, translate(exc))
        except Exception:
            log.exception("registry request %s %s failed", request.method, request.path)
            response = self._error(request, internal_error())
        if response.status_code == 401:
            found = match(request.path, request.method.upper())
            name = found.params.get("name") if isinstance(found, Match) else None
            del response.headers["WWW-Authenticate"]
            for value in challenges(self.backend, request, name):
                response.headers.add("WWW-Authenticate", value)
        response.headers[API_VERSION_HEADER] = API_VERSION
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        method = request.method.upper()
        found = match(request.path, method)
        if isinstance(found, Match) and not found.route.authenticated:
            return PUBLIC_HANDLERS[(found.route.name, method)](self.backend, request, found.params)
        name = found.params.get("name") if isinstance(found, Match) else None
        ctx = authenticate(self.backend, request, name)
        if found is None:
            raise not_found(request.path)
        if not isinstance(found, Match):
            error = unsupported(f"The method {method} is not allowed on {request.path}")
            error.headers["Allow"] = ", ".join(found)
            raise error
        return HANDLERS[(found.route.name, method)](ctx, found.params)

    @staticmethod
    def _error(request: Request, error: RegistryError) -> Response:
        response = Response(error_body(error), status=error.status)
        response.headers["Content-Type"] = ERROR_CONTENT_TYPE
        response.headers.update(error.headers)
        return response


def _with_utf8_query(environ: WSGIEnvironment) -> WSGIEnvironment:
    """The environ with a query string that decodes as UTF-8.

    Raw bytes that are not UTF-8 are percent-encoded, so such a parameter reads as the literal
    text a client percent-encoding them would send (and then fails its own check), instead of
    failing the whole request while werkzeug decodes it.
    """
    raw: str = environ.get("QUERY_STRING", "")
    if raw.isascii():
        return environ
    try:
        raw.encode("latin-1").decode("utf-8")
        return environ
    except UnicodeError:
        pass
    try:
        data = raw.encode("latin-1")
    except UnicodeEncodeError:  # a server that handed over decoded text, not latin-1 bytes
        data = raw.encode("utf-8", "surrogateescape")
    fixed = dict(environ)
    fixed["QUERY_STRING"] = quote(data, safe=string.punctuation)
    return fixed


def basic_auth_headers(
    backend: Backend,
    account: str | None = None,
    region: str | None = None,
    principal: Principal | None = None,
) -> dict[str, str]:
    """``Authorization`` header for a fresh token on (account, region) (tests and examples)."""
    acct = account or backend.default_account
    token = backend.tokens.issue(
        principal or Principal.root(acct), acct, region or backend.default_region
    )
    return {"Authorization": f"Basic {token.authorization_token}"}
