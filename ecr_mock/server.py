"""The live server: the ECR API and the /v2/ registry of one backend on one threaded HTTP port.

Usage::

    from ecr_mock import Backend
    from ecr_mock.server import serve_backend

    with serve_backend(Backend()) as server:      # port 0: an ephemeral port
        boto3.client("ecr", endpoint_url=server.url, ...)
        # skopeo / docker / oras talk to ``server.endpoint`` (HOST:PORT)

Routing: ``POST /`` carrying ``X-Amz-Target`` is the ECR JSON 1.1 API; ``/v2/...`` and
``/ecr-mock/layers/...`` (layer download URLs) go to the registry; the rest of ``/ecr-mock/`` is
the control API (``ecr_mock.protocols.control``: health, reset, clock, state, seed, tokens...); requests
signed for another AWS service go to moto's server app, or are refused at once (400 JSON naming
the service) when moto does not emulate it; ``GET /`` answers a small status document.

While a backend is served, its ``public_endpoint`` is this server's ``HOST:PORT``, so the
``repositoryUri`` and ``proxyEndpoint`` it returns are addresses docker and skopeo use as they
are (``HOST:PORT/name``, ``http://HOST:PORT``); the previous value comes back on stop.

Several accounts and regions through one server
-----------------------------------------------
One server serves every registry of its backend; a request picks its registry like this:

* ECR API: the region is the one in the SigV4 credential scope of the ``Authorization``
  header (the client's ``region_name`` / ``--region``); the account is the ``registryId``
  parameter when given, else the caller's account: the account of an access key registered
  with ``Backend.add_access_key`` (or ``ecr-mock serve --access-key KEY=ACCOUNT``), else the
  backend's default account.
* ``/v2/``: the Basic credentials are a GetAuthorizationToken password, and each token is bound
  to the registry it was issued for, so the token picks the registry. A client may also address
  a registry by host name, ``<account>.dkr.ecr.<region>.amazonaws.com[:PORT]`` (for example
  ``curl --connect-to`` or an ``/etc/hosts`` entry pointing at the server); the token must then
  belong to that registry, as with real ECR.

Connections are HTTP/1.1 and kept alive: the unread rest of a request body is drained before
the next request is read, and ``Transfer-Encoding: chunked`` request bodies are streamed to the
application (``wsgi.input_terminated``). Request bodies are never buffered by the server.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import ssl
import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any, cast
from urllib.parse import parse_qsl

from werkzeug.serving import (
    ThreadedWSGIServer,
    WSGIRequestHandler,
    get_sockaddr,
    select_address_family,
)

from ecr_mock.protocols.control import (
    CONTROL_PREFIX,
    ControlResponse,
    ControlRouter,
    build_router,
    is_loopback,
)
from ecr_mock.protocols.control import (
    MAX_BODY_BYTES as CONTROL_BODY_LIMIT,
)
from ecr_mock.protocols.registry.routes import is_registry_path
from ecr_mock.runtime import providers
from ecr_mock.runtime.hostnames import misdirected_signature
from ecr_mock.runtime.providers.iam_state import save_identities
from ecr_mock.runtime.providers.moto_iam import (
    moto_serves,
    moto_service,
    moto_wsgi,
    unknown_service_app,
)
from ecr_mock.services.backend import Backend
from ecr_mock.testing.faults import attach
from ecr_mock.testing.seeding import attach as attach_api
from ecr_mock.wire import BodyFraming, ChunkedReader, FramingError, normalize_host, request_framing

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from ecr_mock.runtime.tls import CertificateAuthority

__all__ = ["EcrMockApp", "EcrMockServer", "serve_backend"]

IDLE_TIMEOUT = 75.0
"""Seconds a kept-alive connection may stay idle before the server closes it."""

_DRAIN_CHUNK = 1024 * 1024
DISCONNECT_AFTER_BYTES = "ecr_mock.disconnect_after_bytes"
"""WSGI environ key an application sets to have the body cut after that many bytes."""
_API_BODY_LIMIT = 64 * 1024 * 1024


class EcrMockApp:
    """WSGI application routing each request to the ECR API or the registry of one backend.

    ``backend`` may be replaced at any time; the next request is served by the new one.
    Requests signed for another AWS service (IAM, STS, S3...) go to moto's server app in this
    process, so identities created with ``aws --endpoint-url ... iam`` decide ECR access.
    """

    def __init__(self, backend: Backend, control: ControlRouter | None = None) -> None:
        self._backend = attach_api(backend)
        providers.install(backend)
        self.control = control or build_router()
        """The ``/ecr-mock/`` control API; ``control.add(route)`` adds routes."""

    @property
    def backend(self) -> Backend:
        """The backend served (providers are installed into each one assigned)."""
        return self._backend

    @backend.setter
    def backend(self, backend: Backend) -> None:
        providers.install(backend)
        self._backend = attach_api(backend)

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
        if scope is not False or _changes_an_upload(environ):
            state.uploads.sync(backend)  # a client may resume an upload after a restart
        if scope is False:
            state.touch()
        else:
            state.save(backend, None if scope is True else [scope])
        return result

    def _route(
        self, backend: Backend, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        method = environ.get("REQUEST_METHOD", "GET")
        if path.startswith(CONTROL_PREFIX) and not is_registry_path(path):
            return _control(self.control, backend, environ, start_response)
        if path in ("/v2", "/token") or path.startswith(("/v2/", "/ecr-mock/")):
            return _registry_app(backend)(environ, start_response)
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


_READ_ONLY_API = frozenset(
    {
        "BatchCheckLayerAvailability",
        "BatchGetImage",
        "BatchGetRepositoryScanningConfiguration",
        "CompleteLayerUpload",
        "InitiateLayerUpload",
        "UploadLayerPart",
        "ValidatePullThroughCacheRule",
    }
)
"""ECR operations whose changes (pull times, uploads) need not be saved before answering."""


_UPLOAD_API = ("InitiateLayerUpload", "UploadLayerPart", "CompleteLayerUpload")


def _changes_an_upload(environ: WSGIEnvironment) -> bool:
    """Whether a request may start, extend or end an upload session."""
    method = environ.get("REQUEST_METHOD", "GET")
    if method in ("GET", "HEAD", "OPTIONS"):
        return False
    path = environ.get("PATH_INFO") or "/"
    if "/blobs/uploads" in path:
        return True
    return path == "/" and str(environ.get("HTTP_X_AMZ_TARGET", "")).endswith(_UPLOAD_API)


def saves_at_once(environ: WSGIEnvironment) -> bool | str:
    """Whether a request may change saved state, so its answer waits for the save.

    False for reads, upload starts, chunks and completions (blobs become durable in the
    background, and at the latest with the manifest that names them) and for pulls (pull
    times are saved within a second); a repository name for manifest pushes and deletions
    (only that repository's images need looking at); True for everything else.
    """
    method = environ.get("REQUEST_METHOD", "GET")
    if method in ("GET", "HEAD", "OPTIONS", "PATCH"):
        return False
    path = environ.get("PATH_INFO") or "/"
    if path.startswith("/v2/"):
        name, found, _ = path[len("/v2/") :].rpartition("/manifests/")
        if found:
            return name
        return "/blobs/uploads/" not in path
    if path == "/" and method == "POST":
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        operation = target.rsplit(".", 1)[-1]
        if operation in _READ_ONLY_API:
            return False
        if operation.startswith(("Describe", "List")):
            return False
        return not (operation.startswith("Get") and operation != "GetAuthorizationToken")
    return True


def _control(
    router: ControlRouter,
    backend: Backend,
    environ: WSGIEnvironment,
    start_response: StartResponse,
) -> Iterable[bytes]:
    """The control API (see ``ecr_mock.protocols.control``)."""
    length = _content_length(environ.get("CONTENT_LENGTH"))
    if length is not None and length > CONTROL_BODY_LIMIT:
        answer = ControlResponse(
            413, {"code": "BadRequest", "message": "The body is too large for the control API"}
        )
    else:
        body = environ["wsgi.input"].read(length) if length else b""
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
    from ecr_mock._version import __version__

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


class _HTTPServer(ThreadedWSGIServer):
    """werkzeug's threaded server, remembering open connections so stop() can close them."""

    def __init__(
        self,
        host: str,
        port: int,
        app: WSGIApplication,
        log_requests: bool,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.log_requests = log_requests
        self.tls_context = tls_context
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        # Bind here: werkzeug turns a bind error into sys.exit(1), we raise the OSError.
        family = select_address_family(host, port)
        listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(get_sockaddr(host, port, family))
            listener.listen(self.request_queue_size)
            super().__init__(host, port, app, handler=_Handler, fd=listener.fileno())
        finally:
            listener.close()

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Serve one connection; one that opens with a TLS handshake is served over TLS.

        Plain HTTP and HTTPS (with a self-signed certificate) share the port, so clients that
        insist on trying TLS first (``docker manifest inspect --insecure``) work as they are.
        """
        try:
            request.settimeout(IDLE_TIMEOUT)
            # Small answers are written in pieces (status line, headers, body): without
            # TCP_NODELAY each piece can wait for the client's delayed ACK (about 40 ms).
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            first = request.recv(1, socket.MSG_PEEK)
        except OSError:
            return
        if first == b"\x16":
            try:
                context = self.tls_context or _tls_context()
                request = context.wrap_socket(request, server_side=True)
            except (OSError, ValueError):
                return
        super().finish_request(request, client_address)

    def close_connections(self) -> None:
        """Shut every open client connection (kept-alive ones included)."""
        with self.connections_lock:
            open_connections = list(self.connections)
            self.connections.clear()
        for conn in open_connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _FileDescriptor:
    """A descriptor shaped for ``socket.sendfile``; it never moves a shared file position."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def fileno(self) -> int:
        return self._fd

    def seek(self, offset: int, whence: int = 0) -> int:
        return offset


_TLS: list[ssl.SSLContext] = []
_TLS_LOCK = threading.Lock()


def _tls_context() -> ssl.SSLContext:
    """A server context with a self-signed certificate, made once per process."""
    with _TLS_LOCK:
        if not _TLS:
            from werkzeug.serving import generate_adhoc_ssl_context

            _TLS.append(generate_adhoc_ssl_context())
        return _TLS[0]


class _Handler(WSGIRequestHandler):
    """werkzeug's request parsing, with the framing of bodies and answers decided here.

    Every answer is written by :meth:`_send_head` and :meth:`_write_body`: the status line,
    headers and body cannot disagree (Content-Length is the number of bytes sent; HEAD gets
    GET's headers and no body). A request body the application left unread is drained when
    small, otherwise the answer says ``Connection: close``; a request whose framing cannot be
    trusted is refused (400, or 501 for an unknown transfer coding) and the connection closed.
    """

    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT

    @property
    def _server(self) -> _HTTPServer:
        return cast(_HTTPServer, self.server)

    def setup(self) -> None:
        super().setup()
        with self._server.connections_lock:
            self._server.connections.add(self.connection)

    def finish(self) -> None:
        with self._server.connections_lock:
            self._server.connections.discard(self.connection)
        try:
            super().finish()
        finally:
            self._linger()

    def _linger(self) -> None:
        """Close gracefully when the client may still be sending a body we did not read.

        Closing a socket with unread bytes makes the kernel answer with a reset, and a reset
        can destroy our answer in the client's buffers before it is read (a client pushing a
        large layer would see ``connection reset`` instead of ``401`` or ``404``). So the
        write side is shut first (the answer is complete), and what still arrives is read and
        dropped until the client closes, pauses for ``_LINGER_PAUSE`` or ``_LINGER_TOTAL``
        passes (RFC 9112, section 9.6).
        """
        body = getattr(self, "_body", None)
        if body is None or not self.close_connection or body.awaiting or body.remaining == 0:
            return
        deadline = time.monotonic() + _LINGER_TOTAL
        with contextlib.suppress(OSError, ValueError):
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(_LINGER_PAUSE)
            while time.monotonic() < deadline and self.connection.recv(_DRAIN_CHUNK):
                pass

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Requests are logged by ``ecr_mock.runtime.request_log`` (one line with what they did)."""

    def log_error(self, format: str, *args: Any) -> None:
        if self._server.log_requests:
            super().log_error(format, *args)

    def make_environ(self) -> WSGIEnvironment:
        environ = super().make_environ()
        if isinstance(self.connection, ssl.SSLSocket):
            environ["wsgi.url_scheme"] = "https"
        host = environ.get("HTTP_HOST")
        if host:
            environ["HTTP_HOST"] = normalize_host(host)
        body = self._body
        environ["wsgi.input"] = body
        if body.chunked:
            environ.pop("CONTENT_LENGTH", None)
            environ["wsgi.input_terminated"] = True
        else:
            environ["CONTENT_LENGTH"] = str(body.remaining or 0)
            environ.pop("wsgi.input_terminated", None)
        return environ

    def run_wsgi(self) -> None:
        self._answer = _Answer(self.command == "HEAD")
        try:
            framing = request_framing(
                self.request_version,
                self.headers.get_all("Transfer-Encoding") or [],
                self.headers.get_all("Content-Length") or [],
            )
            hosts = self.headers.get_all("Host") or []
            if len(hosts) > 1 or (not hosts and self.request_version >= "HTTP/1.1"):
                raise FramingError("an HTTP/1.1 request carries exactly one Host header")
        except FramingError as exc:
            self.close_connection = True
            self._body = _Body(self, BodyFraming(chunked=False, length=0, close=True), False)
            self._respond_error(exc.status, exc.message)
            return
        if framing.close:
            self.close_connection = True
        expect = self.headers.get("Expect", "").strip().lower() == "100-continue"
        self._body = _Body(self, framing, expect and self.request_version >= "HTTP/1.1")
        self.environ = environ = self.make_environ()
        answer = self._answer

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            if exc_info and answer.sent:
                raise exc_info[1].with_traceback(exc_info[2])
            answer.status, answer.headers = status, list(headers)
            return self._legacy_write

        try:
            result = self._server.app(environ, start_response)
            try:
                cut = environ.get(DISCONNECT_AFTER_BYTES)
                if cut is not None:
                    self._send_cut(result, int(cut))
                    return
                self._respond(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except (ConnectionError, TimeoutError) as exc:
            self.close_connection = True
            self.connection_dropped(exc, environ)
            return
        except Exception as exc:
            self.close_connection = True
            if self._server.passthrough_errors:
                raise
            if not answer.sent:
                with contextlib.suppress(Exception):
                    self._respond_error(500, "The server failed to answer this request")
            self._server.log("error", f"Error on request {self.command} {self.path}: {exc!r}")
            return
        self._drain()

    def handle_expect_100(self) -> bool:
        """No ``100 Continue`` before the application wants the body (see :class:`_Body`)."""
        return True

    # ----- the one writer of answers ------------------------------------------------------

    def send_continue(self) -> None:
        """``100 Continue``, once, when the application starts reading the body."""
        if not self._answer.sent:
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _legacy_write(self, data: bytes) -> None:
        """The WSGI ``write`` callable: the length is then unknown (chunked or close)."""
        answer = self._answer
        if answer.status is None:
            raise RuntimeError("write() before start_response()")
        if not answer.sent:
            self._send_head(None, b"")
        self._write_body(data)

    def _respond(self, result: Iterable[bytes]) -> None:
        answer = self._answer
        if answer.status is None:
            iterator = iter(result)
            first = next(iterator, None)  # an application may call start_response late
            if answer.status is None:
                raise RuntimeError("the application did not call start_response()")
            result = itertools.chain([first] if first is not None else [], iterator)
        if answer.sent:  # the application used write(): stream the rest
            for data in result:
                self._write_body(data)
            self._end_body()
            return
        code = answer.code
        if answer.head or code in (204, 304) or code < 200:
            length = answer.declared_length()
            if length is None and answer.head and code not in (204, 304):
                length = sum(len(data) for data in result)  # HEAD: GET's Content-Length
            self._send_head(length, b"")
            return
        if self._send_file(result):
            return
        iterator = iter(result)
        buffered: list[bytes] = []
        size = 0
        exhausted = True
        for data in iterator:
            if data:
                buffered.append(bytes(data))
                size += len(data)
            if size > _BUFFERED_ANSWER:
                exhausted = False
                break
        if exhausted:
            self._send_head(size, b"".join(buffered))
            return
        self._send_head(answer.declared_length(), b"")
        for data in itertools.chain(buffered, iterator):
            self._write_body(data)
        self._end_body()

    def _send_cut(self, result: Iterable[bytes], limit: int) -> None:
        """Send the head and the first ``limit`` bytes of the body, then drop the connection
        (a fault rule's ``disconnect_after_bytes``)."""
        self.close_connection = True
        answer = self._answer
        if answer.status is None:
            iterator = iter(result)
            first = next(iterator, None)
            if answer.status is None:
                raise RuntimeError("the application did not call start_response()")
            result = itertools.chain([first] if first is not None else [], iterator)
        self._send_head(answer.declared_length(), b"")
        if not answer.head:
            sent = 0
            for data in result:
                if sent >= limit:
                    break
                piece = data[: limit - sent]
                sent += len(piece)
                if answer.chunked:
                    self.wfile.write(b"%x\r\n%b" % (len(data), piece))
                else:
                    self.wfile.write(piece)
        with contextlib.suppress(OSError):
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)

    def _send_file(self, result: Any) -> bool:
        """Send a file-backed blob body with sendfile (no copies through Python); True if sent."""
        file_range = getattr(result, "file_range", None)
        if file_range is None or isinstance(self.connection, ssl.SSLSocket):
            return False
        span = file_range()
        if span is None:
            return False
        fd, offset, count = span
        self._send_head(count, b"")
        if count > 0:
            sent = self.connection.sendfile(_FileDescriptor(fd), offset, count)
            if sent != count:
                self.close_connection = True
                raise ConnectionError(f"sendfile sent {sent} of {count} bytes")
        self._answer.written = count
        return True

    def _send_head(self, length: int | None, body: bytes) -> None:
        """Status line and headers, with the framing computed here and never taken from the
        application, followed by ``body`` (the whole answer when its length is known)."""
        answer = self._answer
        code = answer.code
        no_body = answer.head or code in (204, 304) or code < 200
        headers = [
            (key, value)
            for key, value in answer.headers or []
            if key.lower() not in _FRAMING_HEADERS
        ]
        for key, value in headers:
            if any(c in key or c in value for c in "\r\n\0"):
                raise ValueError(f"header {key!r} holds a line break")
        answer.length = length
        if length is not None:
            if code != 204 and code >= 200:
                headers.append(("Content-Length", str(length)))
        elif not no_body:
            if self.request_version >= "HTTP/1.1":
                answer.chunked = True
                headers.append(("Transfer-Encoding", "chunked"))
            else:
                self.close_connection = True
        body_left = self._body.remaining
        if body_left is None or body_left > _DRAIN_LIMIT or (body_left and self._body.awaiting):
            self.close_connection = True  # not worth draining, or the client awaits a 100
        if self.close_connection:
            headers.append(("Connection", "close"))
        elif self.request_version < "HTTP/1.1":
            headers.append(("Connection", "keep-alive"))
        lines = [f"{self.protocol_version} {answer.status}\r\n"]
        lines.append(f"Server: {self.version_string()}\r\n")
        lines.append(f"Date: {self.date_time_string()}\r\n")
        lines.extend(f"{key}: {value}\r\n" for key, value in headers)
        lines.append("\r\n")
        head = "".join(lines).encode("latin-1")
        answer.sent = True
        self.log_request(code, length if length is not None else "-")
        if no_body:
            body = b""
        if len(body) < _DRAIN_CHUNK:
            self.wfile.write(head + body)
        else:
            self.wfile.write(head)
            self.wfile.write(body)
        answer.written = len(body)

    def _write_body(self, data: bytes) -> None:
        answer = self._answer
        if not data or answer.head or answer.code in (204, 304):
            return
        if answer.chunked:
            if len(data) < _DRAIN_CHUNK:
                self.wfile.write(b"%x\r\n%b\r\n" % (len(data), data))
            else:
                self.wfile.write(b"%x\r\n" % len(data))
                self.wfile.write(data)
                self.wfile.write(b"\r\n")
            return
        if answer.length is not None:
            room = answer.length - answer.written
            if len(data) > room:  # more than announced: send what was announced, then close
                self.close_connection = True
                data = data[:room]
        self.wfile.write(data)
        answer.written += len(data)

    def _end_body(self) -> None:
        answer = self._answer
        if answer.chunked:
            self.wfile.write(b"0\r\n\r\n")
        elif answer.length is not None and answer.written < answer.length:
            self.close_connection = True  # fewer bytes than announced: the client sees a cut

    def _respond_error(self, status: int, message: str) -> None:
        """A refusal by the server itself, in the shape of the surface the path belongs to."""
        path = self.path.split("?", 1)[0]
        if path == "/v2" or path.startswith("/v2/"):
            code = {400: "SIZE_INVALID", 501: "UNSUPPORTED"}.get(status, "UNKNOWN")
            doc: dict[str, Any] = {"errors": [{"code": code, "message": message, "detail": {}}]}
        else:
            kind = "ServerException" if status >= 500 else "SerializationException"
            doc = {"__type": kind, "message": message}
        answer = self._answer
        answer.status = f"{status} {_REASONS.get(status, 'Error')}"
        answer.headers = [("Content-Type", "application/json")]
        body = json.dumps(doc).encode()
        self._send_head(len(body), body)

    def _drain(self) -> None:
        """Read what the application left of the request body, so the connection can be reused."""
        if self.close_connection:
            return
        try:
            while self._body.read(_DRAIN_CHUNK):
                pass
        except (OSError, ValueError):
            self.close_connection = True


_FRAMING_HEADERS = frozenset(
    {"content-length", "transfer-encoding", "connection", "keep-alive", "date", "server"}
)
_BUFFERED_ANSWER = 256 * 1024
"""Answers up to this size are sent with their exact length in one write."""
_DRAIN_LIMIT = 16 * 1024 * 1024
"""Up to this many unread request body bytes are drained; more closes the connection."""
_LINGER_PAUSE = 2.0
"""Seconds a closing connection waits for more of an unread body before it gives up."""
_LINGER_TOTAL = 30.0
"""Seconds at most a closing connection spends reading and dropping an unread body."""
_REASONS = {
    400: "Bad Request",
    404: "Not Found",
    500: "Internal Server Error",
    501: "Not Implemented",
}


class _Answer:
    """What is known of the answer being written on a connection."""

    __slots__ = ("chunked", "head", "headers", "length", "sent", "status", "written")

    def __init__(self, head: bool) -> None:
        self.head = head
        self.status: str | None = None
        self.headers: list[tuple[str, str]] | None = None
        self.sent = False
        self.chunked = False
        self.length: int | None = None
        self.written = 0

    @property
    def code(self) -> int:
        """The status code (500 before the application gave one)."""
        text = (self.status or "500").split(" ", 1)[0]
        return int(text) if text.isdigit() else 500

    def declared_length(self) -> int | None:
        """The application's Content-Length, when it gave one that is a number."""
        for key, value in self.headers or []:
            if key.lower() == "content-length" and value.strip().isdigit():
                return int(value.strip())
        return None


class _Body:
    """``wsgi.input``: exactly the request body (Content-Length or chunked), nothing after it.

    ``100 Continue`` goes out on the first read when an HTTP/1.1 client asked for it; a body
    that ends early or breaks its chunked framing raises ValueError, and the answer then closes
    the connection.
    """

    def __init__(self, handler: _Handler, framing: BodyFraming, expect_continue: bool) -> None:
        self._handler = handler
        self._rfile = cast("IO[bytes]", handler.rfile)
        self.chunked = framing.chunked
        self._chunks = ChunkedReader(self._rfile) if framing.chunked else None
        self._left = framing.length
        self.awaiting = expect_continue

    @property
    def remaining(self) -> int | None:
        """Bytes not read yet; None while a chunked body is unfinished."""
        if self._chunks is not None:
            return 0 if self._chunks.done else None
        return self._left

    def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` bytes of the body (the rest for -1 or None); b"" at its end."""
        if self.remaining == 0:
            return b""
        if self.awaiting:
            self.awaiting = False
            self._handler.send_continue()
        try:
            if self._chunks is not None:
                return self._chunks.read(-1 if size is None else size)
            count = self._left if size is None or size < 0 else min(size, self._left)
            data = self._rfile.read(count)
            self._left -= len(data)
            if len(data) < count:
                raise FramingError("the request body ended before its Content-Length")
            return data
        except (OSError, ValueError):
            self._handler.close_connection = True
            raise

    def readinto(self, buffer: memoryview | bytearray) -> int:
        """Read into ``buffer`` (no copy for Content-Length bodies); 0 at the end."""
        view = memoryview(buffer).cast("B")
        if self._chunks is not None:
            data = self.read(len(view))
            view[: len(data)] = data
            return len(data)
        if self._left == 0:
            return 0
        if self.awaiting:
            self.awaiting = False
            self._handler.send_continue()
        want = min(len(view), self._left)
        try:
            got = self._rfile.readinto(view[:want])  # type: ignore[attr-defined]
            if not got:
                raise FramingError("the request body ended before its Content-Length")
        except (OSError, ValueError):
            self._handler.close_connection = True
            raise
        self._left -= got
        return int(got)

    def readline(self, size: int | None = -1) -> bytes:
        """One line of the body (WSGI asks for it; the applications here read blocks)."""
        parts: list[bytes] = []
        limit = -1 if size is None else size
        while limit != 0:
            byte = self.read(1)
            if not byte:
                break
            parts.append(byte)
            limit -= 1
            if byte == b"\n":
                break
        return b"".join(parts)

    def readlines(self, hint: int = -1) -> list[bytes]:
        """Every remaining line."""
        return list(iter(self.readline, b""))

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readline, b"")


def _content_length(value: str | None) -> int:
    """A Content-Length the server already checked (0 when absent)."""
    return int(value) if value and value.isdigit() else 0


class EcrMockServer:
    """A threaded HTTP server for one backend's ECR API and registry, in a daemon thread.

    ``port=0`` picks a free ephemeral port; read the real one from :attr:`port` after
    :meth:`start`. Works as a context manager; starting twice and stopping twice are harmless.
    With ``apply_lifecycle`` (the default for ``ecr-mock serve``) the served backend applies its
    lifecycle policies in the background every minute, besides on each request once due.

    With a ``certificate_authority`` (``ecr-mock serve --aws-hostnames``) the server answers as
    AWS itself: TLS connections get a certificate for the SNI name they ask for, signed by that
    CA, and ``repositoryUri`` / ``proxyEndpoint`` keep their AWS forms.
    """

    def __init__(
        self,
        backend: Backend | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        public_endpoint: str | None = None,
        log_requests: bool = False,
        apply_lifecycle: bool = False,
        control_token: str | None = None,
        certificate_authority: CertificateAuthority | None = None,
        cors_origins: Sequence[str] = (),
    ) -> None:
        self._cors_origins = tuple(cors_origins)
        self._app = EcrMockApp(
            attach(backend or Backend()),
            build_router(token=control_token, loopback=is_loopback(host)),
        )
        self._ca = certificate_authority
        self._apply_lifecycle = apply_lifecycle
        self._host = host
        self._requested_port = port
        self._public_endpoint = public_endpoint
        self._log_requests = log_requests
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._saved_endpoint: str | None = None
        self._lock = threading.Lock()

    # ----- the backend --------------------------------------------------------------------

    @property
    def backend(self) -> Backend:
        """The backend being served."""
        return self._app.backend

    @property
    def control(self) -> ControlRouter:
        """The ``/ecr-mock/`` control API router (``server.control.add(route)`` adds routes)."""
        return self._app.control

    def use(self, backend: Backend) -> None:
        """Serve ``backend`` from the next request on; the server keeps its port."""
        with self._lock:
            if backend is self._app.backend:
                return
            running = self._httpd is not None
            if running:
                self._detach()
            self._app.backend = attach(backend)
            if running:
                self._attach()

    def _attach(self) -> None:
        self._saved_endpoint = self._app.backend.public_endpoint
        # Answering as AWS, addresses keep their AWS forms (``<account>.dkr.ecr...``).
        self._app.backend.public_endpoint = None if self._ca is not None else self.endpoint
        if self._apply_lifecycle:
            self._app.backend.lifecycle.start()

    def _detach(self) -> None:
        self._app.backend.public_endpoint = self._saved_endpoint
        self._saved_endpoint = None
        if self._apply_lifecycle:
            self._app.backend.lifecycle.stop()

    # ----- lifecycle ----------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """True between start and stop."""
        return self._httpd is not None

    def start(self) -> EcrMockServer:
        """Bind and serve in a daemon thread (harmless when already running); returns self."""
        with self._lock:
            if self._httpd is not None:
                return self
            app: WSGIApplication = self._app
            if self._cors_origins:  # serve --cors-origin: web registry browsers read /v2/
                from ecr_mock.protocols.cors import Cors

                app = Cors(app, self._cors_origins)
            if self._log_requests:
                from ecr_mock.runtime.request_log import RequestLog

                app = RequestLog(app, lambda: self._app.backend)
            httpd = _HTTPServer(
                self._host,
                self._requested_port,
                app,
                self._log_requests,
                self._ca.server_context() if self._ca is not None else None,
            )
            self._httpd = httpd
            self._thread = threading.Thread(
                target=httpd.serve_forever,
                kwargs={"poll_interval": 0.1},
                name=f"ecr-mock-server:{httpd.port}",
                daemon=True,
            )
            self._thread.start()
            self._attach()
        return self

    def stop(self) -> None:
        """Stop serving, close open connections and restore the backend's endpoint."""
        with self._lock:
            httpd, thread = self._httpd, self._thread
            if httpd is None:
                return
            self._detach()
            self._httpd = None
            self._thread = None
        httpd.shutdown()
        httpd.server_close()
        httpd.close_connections()
        if thread is not None:
            thread.join()

    def __enter__(self) -> EcrMockServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ----- addresses ----------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound port (the requested one until started)."""
        httpd = self._httpd
        return int(httpd.port) if httpd is not None else self._requested_port

    @property
    def host(self) -> str:
        """The host clients use: the bound address, or loopback when bound to all interfaces."""
        if self._host in ("", "0.0.0.0"):
            return "127.0.0.1"
        if self._host == "::":
            return "::1"
        return self._host

    @property
    def endpoint(self) -> str:
        """``HOST:PORT`` clients use (the registry host of ``repositoryUri``)."""
        if self._public_endpoint:
            return self._public_endpoint
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def url(self) -> str:
        """``http://HOST:PORT``: the ``endpoint_url`` for boto3 and ``--endpoint-url``."""
        return f"http://{self.endpoint}"

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<EcrMockServer {self.url} {state}>"


def serve_backend(backend: Backend, host: str = "127.0.0.1", port: int = 0) -> EcrMockServer:
    """Start a server for ``backend`` (port 0: ephemeral) and return it; stop it when done."""
    return EcrMockServer(backend, host, port).start()
