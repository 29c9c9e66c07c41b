"""The HTTP/1.1 engine: the socket, the connection threads and the request handler.

It serves one WSGI application. werkzeug's threaded server accepts connections and parses
request lines and headers; everything about framing is decided here and in
:mod:`ecr_mock.protocols.wire`: a request body is exactly its ``Content-Length`` or its chunked
coding (streamed to the application, ``wsgi.input_terminated``), the unread rest of a body is
drained before the next request on a kept-alive connection, and every answer's status line,
headers and body are written by one writer, so they cannot disagree. A connection that opens
with a TLS handshake is served over TLS on the same port.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from typing import IO, TYPE_CHECKING, Any, cast

from werkzeug.serving import (
    ThreadedWSGIServer,
    WSGIRequestHandler,
    get_sockaddr,
    select_address_family,
)

from ecr_mock.protocols.wire import (
    BodyFraming,
    ChunkedReader,
    FramingError,
    normalize_host,
    request_framing,
)
from ecr_mock.protocols.wsgi import DISCONNECT_AFTER_BYTES, INPUT_TERMINATED

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication, WSGIEnvironment

__all__ = ["IDLE_TIMEOUT", "HTTPServer"]

IDLE_TIMEOUT = 75.0
"""Seconds a kept-alive connection may stay idle before the server closes it."""

_DRAIN_CHUNK = 1024 * 1024


class HTTPServer(ThreadedWSGIServer):
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
    def _server(self) -> HTTPServer:
        return cast(HTTPServer, self.server)

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
            environ[INPUT_TERMINATED] = True
        else:
            environ["CONTENT_LENGTH"] = str(body.remaining or 0)
            environ.pop(INPUT_TERMINATED, None)
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
