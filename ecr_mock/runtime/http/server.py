"""The live server: the ECR API and the /v2/ registry of one backend on one threaded HTTP port.

Usage::

    from ecr_mock import Backend
    from ecr_mock.runtime.http import serve_backend

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

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ecr_mock.protocols.control import ControlRouter, build_router, is_loopback
from ecr_mock.runtime.http.engine import HTTPServer
from ecr_mock.runtime.http.front import EcrMockApp
from ecr_mock.services.backend import Backend

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

    from ecr_mock.runtime.tls import CertificateAuthority

__all__ = ["EcrMockServer", "serve_backend"]


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
            backend or Backend(),
            build_router(token=control_token, loopback=is_loopback(host)),
        )
        self._ca = certificate_authority
        self._apply_lifecycle = apply_lifecycle
        self._host = host
        self._requested_port = port
        self._public_endpoint = public_endpoint
        self._log_requests = log_requests
        self._httpd: HTTPServer | None = None
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
            self._app.backend = backend
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
            httpd = HTTPServer(
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
