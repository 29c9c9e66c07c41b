"""The front of the port: one WSGI application mounting each surface of one backend by path.

``/v2/``, ``/token``, layer download URLs and logos go to the registry; the rest of
``/ecr-mock/`` is the control API (``ecr_mock.protocols.control``); everything else reaches the root
application: requests signed for another AWS service go to moto's server app (or are refused at
once, 400 JSON naming the service, when moto does not emulate it), ``POST /`` is the ECR JSON 1.1
API, and ``GET /`` a small status document. An answer that acknowledges a change goes out only
after the change is saved (:mod:`ecr_mock.runtime.http.persistence`).
"""

from __future__ import annotations

import json
import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qsl

from ecr_mock._version import __version__
from ecr_mock.protocols.control import (
    CONTROL_PREFIX,
    ControlResponse,
    ControlRouter,
    build_router,
)
from ecr_mock.protocols.control import (
    MAX_BODY_BYTES as CONTROL_BODY_LIMIT,
)
from ecr_mock.protocols.registry.routes import TOKEN_PATH
from ecr_mock.protocols.wsgi import BodyError, read_body
from ecr_mock.runtime.emulator import assemble
from ecr_mock.runtime.hostnames import misdirected_signature
from ecr_mock.runtime.http.persistence import changes_an_upload, saves_at_once
from ecr_mock.runtime.providers.iam_state import save_identities
from ecr_mock.runtime.providers.moto_iam import (
    moto_serves,
    moto_service,
    moto_wsgi,
    unknown_service_app,
)
from ecr_mock.services.backend import Backend
from ecr_mock.services.download_urls import LAYER_PATH_PREFIX
from ecr_mock.services.public import LOGO_PATH_PREFIX

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["MOUNTS", "EcrMockApp", "Mount"]

Surface = str
"""The name of an application the front mounts: ``registry``, ``control`` (the root takes
the rest)."""


@dataclass(frozen=True)
class Mount:
    """Where a surface is mounted: ``prefix`` itself (``exact``) and/or the paths under it."""

    prefix: str
    surface: Surface
    exact: bool = False
    subtree: bool = True

    def matches(self, path: str) -> bool:
        """True when ``path`` is this mount's."""
        if path == self.prefix:
            return self.exact
        return self.subtree and path.startswith(self.prefix + "/")


MOUNTS: tuple[Mount, ...] = tuple(
    sorted(
        (
            Mount("/v2", "registry", exact=True),
            Mount(TOKEN_PATH, "registry", exact=True, subtree=False),
            Mount(LAYER_PATH_PREFIX, "registry"),
            Mount(LOGO_PATH_PREFIX, "registry"),
            Mount(CONTROL_PREFIX.rstrip("/"), "control"),
        ),
        key=lambda mount: -len(mount.prefix),
    )
)
"""The path mounts, longest prefix first; a path no mount matches goes to the root."""


def mounted(path: str) -> Surface | None:
    """The surface mounted at ``path`` (None: the root application's)."""
    for mount in MOUNTS:
        if mount.matches(path):
            return mount.surface
    return None


class EcrMockApp:
    """WSGI application routing each request to the ECR API or the registry of one backend.

    ``backend`` may be replaced at any time; the next request is served by the new one.
    Requests signed for another AWS service (IAM, STS, S3...) go to moto's server app in this
    process, so identities created with ``aws --endpoint-url ... iam`` decide ECR access.
    """

    def __init__(self, backend: Backend, control: ControlRouter | None = None) -> None:
        self._backend = assemble(backend)
        self.control = control or build_router()
        """The ``/ecr-mock/`` control API; ``control.add(route)`` adds routes."""

    @property
    def backend(self) -> Backend:
        """The backend served (each one assigned is assembled: ``runtime.emulator.assemble``)."""
        return self._backend

    @backend.setter
    def backend(self, backend: Backend) -> None:
        self._backend = assemble(backend)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        backend = self.backend
        state = backend.state_dir
        if state is None or state.read_only:
            return self._route(backend, environ, start_response)
        result = self._route(backend, environ, start_response)
        # The answer goes out only after what it acknowledges is saved (headers are sent on
        # the first write, after this returns).
        if moto_service(environ) == "iam" and environ.get("REQUEST_METHOD") == "POST":
            save_identities(state.path)  # users, roles, policies, access keys
        scope = saves_at_once(environ)
        if scope is not False or changes_an_upload(environ):
            state.uploads.sync(backend)  # a client may resume an upload after a restart
        if scope is False:
            state.touch()
        else:
            state.save(backend, None if scope is True else [scope])
        return result

    def _route(
        self, backend: Backend, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        surface = mounted(environ.get("PATH_INFO") or "/")
        if surface == "registry":
            return _registry_app(backend)(environ, start_response)
        if surface == "control":
            return _control(self.control, backend, environ, start_response)
        return _root(backend, environ, start_response)


def _root(
    backend: Backend, environ: WSGIEnvironment, start_response: StartResponse
) -> Iterable[bytes]:
    """What no mount takes: moto's services (by signature), the ECR API, the status document."""
    path = environ.get("PATH_INFO") or "/"
    method = environ.get("REQUEST_METHOD", "GET")
    service = moto_service(environ)
    if service is not None:  # IAM, STS, ...: moto's, in this process
        if not moto_serves(service):
            return unknown_service_app(service)(environ, start_response)
        return moto_wsgi(backend.default_account)(environ, start_response)
    if path == "/" and method == "POST":
        refusal = misdirected_signature(
            environ.get("HTTP_HOST", ""), environ.get("HTTP_AUTHORIZATION", "")
        )
        if refusal is not None:  # signed for another region than the host's (AWS names)
            return _api_error(start_response, "InvalidSignatureException", refusal)
        return _api_app(backend)(environ, start_response)
    if path == "/" and method in ("GET", "HEAD"):
        return _json(start_response, "200 OK", _status_document(backend), method == "HEAD")
    return _json(
        start_response,
        "404 Not Found",
        {"message": f"ecr-mock serves POST / (ECR API) and /v2/ (registry), not {path}"},
        method == "HEAD",
    )


def _control(
    router: ControlRouter,
    backend: Backend,
    environ: WSGIEnvironment,
    start_response: StartResponse,
) -> Iterable[bytes]:
    """The control API (see ``ecr_mock.protocols.control``)."""
    try:
        body = read_body(environ, CONTROL_BODY_LIMIT)
    except BodyError as exc:
        answer = ControlResponse(
            413 if exc.too_large else 400,
            {
                "code": "BadRequest",
                "message": "The body is too large for the control API"
                if exc.too_large
                else exc.message,
            },
        )
    else:
        headers = {
            key[5:].replace("_", "-").title(): str(value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = str(environ["CONTENT_TYPE"])
        query = dict(parse_qsl(str(environ.get("QUERY_STRING", ""))))
        answer = router.handle(
            backend,
            environ.get("REQUEST_METHOD", "GET"),
            environ.get("PATH_INFO") or "/",
            body,
            headers,
            query,
        )
    payload = answer.body()
    headers_out = [("Content-Type", answer.content_type)]
    if answer.status != 204:  # a 204 has no body and no Content-Length (RFC 9110 8.6)
        headers_out.append(("Content-Length", str(len(payload))))
    headers_out.extend(answer.headers.items())
    start_response(answer.status_line, headers_out)
    return [] if environ.get("REQUEST_METHOD") == "HEAD" else [payload]


_API_APPS: weakref.WeakKeyDictionary[Backend, WSGIApplication] = weakref.WeakKeyDictionary()
_REGISTRY_APPS: weakref.WeakKeyDictionary[Backend, WSGIApplication] = weakref.WeakKeyDictionary()
_APPS_LOCK = threading.Lock()


def _api_error(start_response: StartResponse, code: str, message: str) -> list[bytes]:
    from ecr_mock.protocols.ecr_api.dispatch import JSON_CONTENT_TYPE, error_body

    body = error_body(code, message)
    start_response(
        "403 Forbidden",
        [("Content-Type", JSON_CONTENT_TYPE), ("Content-Length", str(len(body)))],
    )
    return [body]


def _api_app(backend: Backend) -> WSGIApplication:
    app = _API_APPS.get(backend)
    if app is None:
        from ecr_mock.protocols.ecr_api.app import EcrApiApp

        with _APPS_LOCK:
            app = _API_APPS.setdefault(backend, cast("WSGIApplication", EcrApiApp(backend)))
    return app


def _registry_app(backend: Backend) -> WSGIApplication:
    app = _REGISTRY_APPS.get(backend)
    if app is None:
        from ecr_mock.protocols.registry.app import RegistryApp

        with _APPS_LOCK:
            app = _REGISTRY_APPS.setdefault(backend, cast("WSGIApplication", RegistryApp(backend)))
    return app


def _status_document(backend: Backend) -> dict[str, Any]:

    return {
        "service": "ecr-mock",
        "version": __version__,
        "endpoint": backend.public_endpoint,
        "account": backend.default_account,
        "region": backend.default_region,
    }


def _json(
    start_response: StartResponse, status: str, doc: dict[str, Any], head: bool
) -> list[bytes]:
    body = json.dumps(doc).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [] if head else [body]
