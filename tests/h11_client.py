"""A strict HTTP/1.1 client over one socket: h11 parses every answer, raw bytes go out as given."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from typing import Any

import h11

from ecr_mock.runtime.http import EcrMockServer


@dataclass
class Answer:
    """One parsed answer: status, headers (lower-case names, in order), the body, and whether
    the server closed the connection after it."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    informational: list[int]

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k == name.lower()]
        assert len(values) <= 1, f"{name} appears {len(values)} times"
        return values[0] if values else None

    @property
    def closes(self) -> bool:
        return (self.header("connection") or "").lower() == "close"

    def json(self) -> Any:
        return json.loads(self.body)


class Connection:
    """One client connection to ``server``; every answer must be well framed (h11 checks)."""

    def __init__(self, server: EcrMockServer) -> None:
        self.server = server
        self.sock = socket.create_connection((server.host, server.port), timeout=30)
        self.closed = False

    def close(self) -> None:
        self.sock.close()
        self.closed = True

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        target: str,
        headers: dict[str, str] | list[tuple[str, str]] | None = None,
        body: bytes = b"",
        *,
        version: str = "1.1",
    ) -> Answer:
        """Send a request with Content-Length framing (unless the headers frame it) and parse
        the answer."""
        items = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
        names = {k.lower() for k, _ in items}
        if "host" not in names:
            items.insert(0, ("Host", self.server.endpoint))
        if body and "content-length" not in names and "transfer-encoding" not in names:
            items.append(("Content-Length", str(len(body))))
        head = f"{method} {target} HTTP/{version}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in items)
        return self.raw(head.encode("latin-1") + b"\r\n" + body, method)

    def raw(self, data: bytes, method: str = "GET") -> Answer:
        """Send ``data`` as it is and parse one final answer to a ``method`` request."""
        parser = h11.Connection(h11.CLIENT)
        # h11 needs to know the request it parses an answer to (HEAD has no body).
        parser.send(h11.Request(method=method, target="/", headers=[("Host", "x")]))
        parser.send(h11.EndOfMessage())
        self.sock.sendall(data)
        informational: list[int] = []
        status = 0
        headers: list[tuple[str, str]] = []
        body = bytearray()
        while True:
            event = parser.next_event()
            if event is h11.NEED_DATA:
                chunk = self.sock.recv(1 << 16)
                parser.receive_data(chunk)
                continue
            if isinstance(event, h11.InformationalResponse):
                informational.append(event.status_code)
            elif isinstance(event, h11.Response):
                status = event.status_code
                headers = [(k.decode().lower(), v.decode("latin-1")) for k, v in event.headers]
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise AssertionError("the server closed the connection without an answer")
        assert parser.trailing_data == (b"", False), parser.trailing_data
        answer = Answer(status, headers, bytes(body), informational)
        if answer.closes:
            self.sock.settimeout(10)
            assert self.sock.recv(1) == b"", "Connection: close, but the server kept it open"
            self.close()
        return answer

    def sentinel(self) -> None:
        """The connection still works: a status request gets its complete, exact answer."""
        answer = self.request("GET", "/")
        assert answer.status == 200
        assert answer.json()["service"] == "ecr-mock"
