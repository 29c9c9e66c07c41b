"""The OCI distribution / Docker Registry v2 WSGI application over one backend."""

from __future__ import annotations

import logging
import string
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING
from urllib.parse import quote

from werkzeug.wrappers import Request, Response

from ecr_mock.domain.errors import EcrError, UnverifiableToken
from ecr_mock.domain.models import Principal
from ecr_mock.protocols.envelope import CallFacts, guarded, record
from ecr_mock.protocols.registry.auth import authenticate, challenges
from ecr_mock.protocols.registry.errors import (
    ERROR_CONTENT_TYPE,
    RegistryError,
    error_body,
    internal_error,
    not_found,
    translate,
    unsupported,
)
from ecr_mock.protocols.registry.handlers import HANDLERS, PUBLIC_HANDLERS
from ecr_mock.protocols.registry.registry_faults import RETRY_AFTER_SECONDS
from ecr_mock.protocols.registry.routes import Match, is_registry_path, match
from ecr_mock.protocols.registry.spec import route_spec
from ecr_mock.protocols.registry.stale_tokens import OncePerClient
from ecr_mock.protocols.wire import normalize_host
from ecr_mock.protocols.wsgi import API_VERSION, API_VERSION_HEADER, DISCONNECT_AFTER_BYTES
from ecr_mock.services.backend import Backend
from ecr_mock.services.public import PUBLIC_REGION
from ecr_mock.store.fault_rules import Fault

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

log = logging.getLogger("ecr_mock.registry.app")


class RegistryApp:
    """Serves ``/v2/...`` (and signed layer download URLs) against one backend."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._warned = OncePerClient(log)

    def handles(self, path: str) -> bool:
        """True for paths this app answers (for a server dispatching by path)."""
        return is_registry_path(path)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        seen = CallFacts("registry")
        error_code: str | None = None
        served = environ
        environ = _with_utf8_query(environ)
        host = environ.get("HTTP_HOST")
        if host and host != normalize_host(host):  # one name per host before any decision
            environ = {**environ, "HTTP_HOST": normalize_host(host)}
        request = Request(environ)
        try:
            self.backend.tick()
            response = self._dispatch(request, seen)
        except RegistryError as exc:
            response = self._error(request, exc)
            error_code = exc.code
        except EcrError as exc:
            if isinstance(exc, UnverifiableToken):
                self._warned.warn_once(environ.get("REMOTE_ADDR"), exc.message)
            error = translate(exc)
            response = self._error(request, error)
            error_code = error.code
        except Exception:
            log.exception("registry request %s %s failed", request.method, request.path)
            response = self._error(request, internal_error())
            error_code = "UNKNOWN"
        if response.status_code == 401:
            found = match(request.path, request.method.upper())
            name = found.params.get("name") if isinstance(found, Match) else None
            del response.headers["WWW-Authenticate"]
            for value in challenges(self.backend, request, name):
                response.headers.add("WWW-Authenticate", value)
        response.headers[API_VERSION_HEADER] = API_VERSION
        fault = seen.fault
        if fault is not None and fault.disconnect_after_bytes is not None:
            served[DISCONNECT_AFTER_BYTES] = fault.disconnect_after_bytes
        query = environ.get("QUERY_STRING", "")
        record(
            self.backend,
            seen,
            response.status_code,
            error_code,
            request.content_length or 0,
            int(response.headers.get("Content-Length") or 0),
            method=request.method,
            path=request.path + (f"?{query}" if query else ""),
        )
        return response(environ, start_response)

    def _dispatch(self, request: Request, seen: CallFacts) -> Response:
        method = request.method.upper()
        found = match(request.path, method)
        if isinstance(found, Match):
            spec = route_spec(found.route.name, method)
            if spec is not None:
                seen.operation, seen.quota = spec.fault_name, spec.quota
            seen.repository = found.params.get("name")
        if isinstance(found, Match) and not found.route.authenticated:
            seen.account = found.params.get("account")
            seen.region = found.params.get("region")
            return self._guarded(
                seen,
                lambda: PUBLIC_HANDLERS[(found.route.name, method)](
                    self.backend, request, found.params
                ),
            )
        name = found.params.get("name") if isinstance(found, Match) else None
        ctx = authenticate(self.backend, request, name)
        seen.account, seen.region = ctx.registry.account, ctx.registry.region
        seen.principal = ctx.caller.principal_arn
        if found is None:
            raise not_found(request.path)
        if not isinstance(found, Match):
            error = unsupported(f"The method {method} is not allowed on {request.path}")
            error.headers["Allow"] = ", ".join(found)
            raise error
        return self._guarded(seen, lambda: HANDLERS[(found.route.name, method)](ctx, found.params))

    def _guarded(self, seen: CallFacts, run: Callable[[], Response]) -> Response:
        """Fault rules, quota and the run, as on the API (:mod:`ecr_mock.protocols.envelope`)."""
        seen.service = None if seen.account is None else _service_of(seen.region)
        return guarded(
            self.backend,
            seen,
            run,
            refuse=_raise_fault,
            throttle=_raise_throttle,
            errors=(RegistryError, EcrError),
            discard=lambda response: response.close(),
        )

    @staticmethod
    def _error(request: Request, error: RegistryError) -> Response:
        response = Response(error_body(error), status=error.status)
        response.headers["Content-Type"] = ERROR_CONTENT_TYPE
        response.headers.update(
            (key, value) for key, value in error.headers.items() if key.lower() != "content-length"
        )
        return response


def _raise_fault(fault: Fault) -> Response:
    raise _fault_error(fault)


def _raise_throttle() -> Response:
    raise RegistryError(
        "TOOMANYREQUESTS", 429, "Rate exceeded", headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
    )


def _fault_error(fault: Fault) -> RegistryError:
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if fault.status == 429 else {}
    return RegistryError(
        fault.error or "UNKNOWN", fault.status or 500, fault.message or "", headers=headers
    )


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


def _service_of(region: str | None) -> str:
    """``ecr-public`` for a public registry's request, ``ecr`` for a private one's."""
    return "ecr-public" if region == PUBLIC_REGION else "ecr"
