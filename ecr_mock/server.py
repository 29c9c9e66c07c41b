"""The live server: the ECR API and the /v2/ registry of one backend on one threaded HTTP port.

Usage::

    from ecr_mock import Backend
    from ecr_mock.server import serve_backend

    with serve_backend(Backend()) as server:      # port 0: an ephemeral port
        boto3.client("ecr", endpoint_url=server.url, ...)
        # skopeo / docker / oras talk to ``server.endpoint`` (HOST:PORT)

Routing: ``POST /`` carrying ``X-Amz-Target`` is the ECR JSON 1.1 API; ``/v2/...`` and
``/ecr-mock/...`` (layer download URLs) go to the registry; ``GET /`` answers a small status
document, which makes a convenient readiness probe.

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
import json
import socket
import ssl
import threading
import weakref
from collections.abc import Iterable
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, cast

from werkzeug.serving import (
    DechunkedInput,
    ThreadedWSGIServer,
    WSGIRequestHandler,
    get_sockaddr,
    select_address_family,
)
from werkzeug.wsgi import LimitedStream

from ecr_mock import providers
from ecr_mock.core.backend import Backend
from ecr_mock.faults import attach
from ecr_mock.hostnames import misdirected_signature
from ecr_mock.providers.moto_iam import moto_service, moto_wsgi

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from ecr_mock.tls import CertificateAuthority

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

    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        providers.install(backend)

    @property
    def backend(self) -> Backend:
        """The backend served (providers are installed into each one assigned)."""
        return self._backend

    @backend.setter
    def backend(self, backend: Backend) -> None:
        providers.install(backend)
        self._backend = backend

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        backend = self.backend
        path = environ.get("PATH_INFO") or "/"
        method = environ.get("REQUEST_METHOD", "GET")
        if path.startswith("/ecr-mock/findings/"):
            return _findings(backend, environ, start_response)
        if path.startswith(("/ecr-mock/faults", "/ecr-mock/calls")):
            from ecr_mock.fault_control import serve_fault_control

            return serve_fault_control(backend, environ, start_response)
        if path in ("/v2", "/token") or path.startswith(("/v2/", "/ecr-mock/")):
            return _registry_app(backend)(environ, start_response)
        if moto_service(environ) is not None:  # IAM, STS, ...: moto's, in this process
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
            {"message": f"ecr-mock serves POST / (ECR API), /v2/ (registry); not {method} {path}"},
            method == "HEAD",
        )


def _findings(
    backend: Backend, environ: WSGIEnvironment, start_response: StartResponse
) -> Iterable[bytes]:
    """The test-control endpoint that fixes scan findings (see ``ecr_mock.control``)."""
    from ecr_mock.control import handle_findings_request

    length = _content_length(environ.get("CONTENT_LENGTH")) or 0
    body = environ["wsgi.input"].read(min(length, _API_BODY_LIMIT)) if length else b""
    status, payload = handle_findings_request(
        backend, environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO") or "/", body
    )
    reasons = {200: "OK", 204: "No Content", 400: "Bad Request", 404: "Not Found"}
    start_response(
        f"{status} {reasons.get(status, 'Method Not Allowed')}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
    )
    return [payload]


_API_APPS: weakref.WeakKeyDictionary[Backend, WSGIApplication] = weakref.WeakKeyDictionary()
_REGISTRY_APPS: weakref.WeakKeyDictionary[Backend, WSGIApplication] = weakref.WeakKeyDictionary()
_APPS_LOCK = threading.Lock()


def _api_error(start_response: StartResponse, code: str, message: str) -> list[bytes]:
    from ecr_mock.ecr_api.dispatch import JSON_CONTENT_TYPE, error_body

    body = error_body(code, message)
    start_response(
        "403 Forbidden",
        [("Content-Type", JSON_CONTENT_TYPE), ("Content-Length", str(len(body)))],
    )
    return [body]


def _api_app(backend: Backend) -> WSGIApplication:
    app = _API_APPS.get(backend)
    if app is None:
        from ecr_mock.ecr_api.app import EcrApiApp

        with _APPS_LOCK:
            app = _API_APPS.setdefault(backend, cast("WSGIApplication", EcrApiApp(backend)))
    return app


def _registry_app(backend: Backend) -> WSGIApplication:
    app = _REGISTRY_APPS.get(backend)
    if app is None:
        from ecr_mock.registry.app import RegistryApp

        with _APPS_LOCK:
            app = _REGISTRY_APPS.setdefault(backend, cast("WSGIApplication", RegistryApp(backend)))
    return app


def _status_document(backend: Backend) -> dict[str, Any]:
    from ecr_mock import __version__

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
    """werkzeug's WSGI handler with HTTP/1.1 keep-alive and exact request-body draining."""

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
        super().finish()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if self._server.log_requests:
            super().log_request(code, size)

    def log_error(self, format: str, *args: Any) -> None:
        if self._server.log_requests:
            super().log_error(format, *args)

    def make_environ(self) -> WSGIEnvironment:
        environ = super().make_environ()
        if isinstance(self.connection, ssl.SSLSocket):
            environ["wsgi.url_scheme"] = "https"
        if not isinstance(environ["wsgi.input"], DechunkedInput):
            # Bound the body so neither the app nor the drain reads into the next request.
            length = _content_length(environ.get("CONTENT_LENGTH"))
            if length is None:
                self.close_connection = True
                length = 0
            environ["wsgi.input"] = LimitedStream(cast("IO[bytes]", self.rfile), length)
        return environ

    def run_wsgi(self) -> None:
        if self.headers.get("Expect", "").lower().strip() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        self.environ = environ = self.make_environ()
        state: dict[str, Any] = {"status": None, "headers": None, "sent": False, "chunked": False}

        def write(data: bytes) -> None:
            if state["status"] is None:
                raise RuntimeError("write() before start_response()")
            if not state["sent"]:
                self._send_head(environ, state)
            if data:
                if not state["chunked"]:
                    self.wfile.write(data)
                elif len(data) < _DRAIN_CHUNK:
                    self.wfile.write(b"%x\r\n%b\r\n" % (len(data), data))
                else:
                    self.wfile.write(b"%x\r\n" % len(data))
                    self.wfile.write(data)
                    self.wfile.write(b"\r\n")

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            if exc_info and state["sent"]:
                raise exc_info[1].with_traceback(exc_info[2])
            state["status"], state["headers"] = status, headers
            return write

        def execute(app: WSGIApplication) -> None:
            result = app(environ, start_response)
            try:
                cut = environ.get(DISCONNECT_AFTER_BYTES)
                if cut is not None:
                    self._send_cut(result, environ, state, write, int(cut))
                    return
                if self._send_file_range(result, environ, state, write):
                    return
                for data in result:
                    write(data)
                if not state["sent"]:
                    write(b"")
                if state["chunked"]:
                    self.wfile.write(b"0\r\n\r\n")
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()

        try:
            execute(self._server.app)
        except (ConnectionError, TimeoutError) as exc:
            self.close_connection = True
            self.connection_dropped(exc, environ)
            return
        except Exception as exc:
            self.close_connection = True
            if self._server.passthrough_errors:
                raise
            if not state["sent"]:
                from werkzeug.exceptions import InternalServerError

                state["status"] = None
                with contextlib.suppress(Exception):
                    execute(InternalServerError())
            self._server.log("error", f"Error on request {self.command} {self.path}: {exc!r}")
            return
        self._drain(environ)

    def _send_cut(
        self,
        result: Iterable[bytes],
        environ: WSGIEnvironment,
        state: dict[str, Any],
        write: Any,
        limit: int,
    ) -> None:
        """Send the head and the first ``limit`` bytes of the body, then drop the connection
        (a fault rule's ``disconnect_after_bytes``)."""
        self.close_connection = True
        write(b"")
        if environ["REQUEST_METHOD"] != "HEAD":
            sent = 0
            for data in result:
                if sent >= limit:
                    break
                piece = data[: limit - sent]
                sent += len(piece)
                if state["chunked"]:
                    self.wfile.write(b"%x\r\n%b" % (len(data), piece))
                else:
                    self.wfile.write(piece)
        with contextlib.suppress(OSError):
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)

    def _send_file_range(
        self,
        result: Any,
        environ: WSGIEnvironment,
        state: dict[str, Any],
        write: Any,
    ) -> bool:
        """Send a file-backed blob body with sendfile (no copies through Python); True if sent."""
        file_range = getattr(result, "file_range", None)
        if file_range is None or state["status"] is None or environ["REQUEST_METHOD"] == "HEAD":
            return False
        if isinstance(self.connection, ssl.SSLSocket):
            return False
        span = file_range()
        if span is None:
            return False
        fd, offset, count = span
        write(b"")
        if state["chunked"]:
            return False
        if count > 0:
            self.connection.sendfile(_FileDescriptor(fd), offset, count)
        return True

    def _send_head(self, environ: WSGIEnvironment, state: dict[str, Any]) -> None:
        status: str = state["status"]
        headers: list[tuple[str, str]] = state["headers"]
        code_text, _, reason = status.partition(" ")
        code = int(code_text)
        self.send_response(code, reason)
        keys = set()
        for key, value in headers:
            self.send_header(key, value)
            keys.add(key.lower())
        if not (
            "content-length" in keys
            or environ["REQUEST_METHOD"] == "HEAD"
            or 100 <= code < 200
            or code in (204, 304)
        ):
            if self.request_version >= "HTTP/1.1":
                state["chunked"] = True
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.close_connection = True
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        state["sent"] = True

    def _drain(self, environ: WSGIEnvironment) -> None:
        """Read what the application left of the request body, so the connection can be reused."""
        if self.close_connection:
            return
        stream = environ["wsgi.input"]
        try:
            while stream.read(_DRAIN_CHUNK):
                pass
        except (OSError, ValueError):
            self.close_connection = True


def _content_length(value: str | None) -> int | None:
    if not value:
        return 0
    try:
        length = int(value)
    except ValueError:
        return None
    return length if length >= 0 else None


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
        certificate_authority: CertificateAuthority | None = None,
    ) -> None:
        self._app = EcrMockApp(attach(backend or Backend()))
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
            httpd = _HTTPServer(
                self._host,
                self._requested_port,
                self._app,
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

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
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
