"""The OCI distribution / Docker Registry v2 WSGI application over one backend."""

from __future__ import annotations

import logging
import string
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING
from urllib.parse import quote

from werkzeug.wrappers import Request, Response

from ecr_mock.domain.errors import EcrError, UnverifiableToken
from ecr_mock.domain.models import Principal
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
from ecr_mock.protocols.registry.registry_faults import RETRY_AFTER_SECONDS, route_name
from ecr_mock.protocols.registry.routes import Match, is_registry_path, match
from ecr_mock.protocols.registry.stale_tokens import OncePerClient
from ecr_mock.services.backend import Backend
from ecr_mock.services.public import PUBLIC_REGION
from ecr_mock.store.calls import Call
from ecr_mock.store.fault_rules import Fault, FaultRequest
from ecr_mock.wire import normalize_host

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

API_VERSION_HEADER = "Docker-Distribution-Api-Version"
API_VERSION = "registry/2.0"

DISCONNECT_AFTER_BYTES = "ecr_mock.disconnect_after_bytes"
"""WSGI environ key: the server closes the connection after this many bytes of the body."""

log = logging.getLogger("ecr_mock.registry.app")


class _Seen:
    """What a request turned out to be, for its record."""

    __slots__ = ("account", "error_code", "fault", "operation", "principal", "region", "repository")

    def __init__(self) -> None:
        self.operation: str | None = None
        self.repository: str | None = None
        self.account: str | None = None
        self.region: str | None = None
        self.principal: str | None = None
        self.fault: Fault | None = None
        self.error_code: str | None = None


class RegistryApp:
    """Serves ``/v2/...`` (and signed layer download URLs) against one backend."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._warned = OncePerClient(log)

    def handles(self, path: str) -> bool:
        """True for paths this app answers (for a server dispatching by path)."""
        return is_registry_path(path)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        wall, started = time.time(), time.perf_counter()
        served = environ
        environ = _with_utf8_query(environ)
        host = environ.get("HTTP_HOST")
        if host and host != normalize_host(host):  # one name per host before any decision
            environ = {**environ, "HTTP_HOST": normalize_host(host)}
        request = Request(environ)
        seen = _Seen()
        try:
            self.backend.tick()
            response = self._dispatch(request, seen)
        except RegistryError as exc:
            response = self._error(request, exc)
            seen.error_code = exc.code
        except EcrError as exc:
            if isinstance(exc, UnverifiableToken):
                self._warned.warn_once(environ.get("REMOTE_ADDR"), exc.message)
            error = translate(exc)
            response = self._error(request, error)
            seen.error_code = error.code
        except Exception:
            log.exception("registry request %s %s failed", request.method, request.path)
            response = self._error(request, internal_error())
            seen.error_code = "UNKNOWN"
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
        self.backend.calls.record(
            Call(
                surface="registry",
                operation=seen.operation,
                repository=seen.repository,
                account_id=seen.account,
                region=seen.region,
                principal=seen.principal,
                status=response.status_code,
                error_code=seen.error_code,
                request_bytes=request.content_length or 0,
                response_bytes=int(response.headers.get("Content-Length") or 0),
                duration_ms=round((time.perf_counter() - started) * 1000, 3),
                time=wall,
                method=request.method,
                path=request.path + (f"?{query}" if query else ""),
                fault=fault.to_dict() if fault is not None else None,
            )
        )
        return response(environ, start_response)

    def _dispatch(self, request: Request, seen: _Seen) -> Response:
        method = request.method.upper()
        found = match(request.path, method)
        if isinstance(found, Match):
            seen.operation = route_name(found.route.name, method)
            seen.repository = found.params.get("name")
        if isinstance(found, Match) and not found.route.authenticated:
            seen.account = found.params.get("account")
            seen.region = found.params.get("region")
            self._before(seen)
            return self._commit(
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
        self._before(seen)
        return self._commit(seen, lambda: HANDLERS[(found.route.name, method)](ctx, found.params))

    def _before(self, seen: _Seen) -> None:
        """Apply fault rules (delay, error) and quotas before the request is carried out."""
        rules = self.backend.fault_rules_if_any()
        fault = None
        if rules is not None:
            fault = rules.evaluate(
                FaultRequest(
                    "registry",
                    seen.operation,
                    seen.repository,
                    seen.account,
                    seen.region,
                    service=None if seen.account is None else _service_of(seen.region),
                )
            )
        seen.fault = fault
        if fault is not None:
            if fault.delay_ms:
                time.sleep(fault.delay_ms / 1000)
            if fault.error is not None and not fault.after_commit:
                raise _fault_error(fault)
        if not self.backend.within_route_quota(
            seen.account or "", seen.region or "", seen.operation
        ):
            raise RegistryError(
                "TOOMANYREQUESTS",
                429,
                "Rate exceeded",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )

    @staticmethod
    def _commit(seen: _Seen, run: Callable[[], Response]) -> Response:
        """Carry the request out; an ``after_commit`` fault then answers its error instead."""
        fault = seen.fault
        if fault is None or fault.error is None or not fault.after_commit:
            return run()
        try:
            response = run()
        except (RegistryError, EcrError):
            raise _fault_error(fault) from None
        response.close()
        raise _fault_error(fault)

    @staticmethod
    def _error(request: Request, error: RegistryError) -> Response:
        response = Response(error_body(error), status=error.status)
        response.headers["Content-Type"] = ERROR_CONTENT_TYPE
        response.headers.update(
            (key, value) for key, value in error.headers.items() if key.lower() != "content-length"
        )
        return response


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
