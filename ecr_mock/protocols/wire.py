"""HTTP/1.1 rules without I/O: request body framing, chunked decoding, Host names, byte ranges.

The server and the registry take every framing decision here, once, so a request is judged the
same way wherever it arrives (RFC 9110 and RFC 9112 section numbers are given where they apply).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Final, Literal

from ecr_mock.protocols.errors import FramingError

__all__ = [
    "UNSATISFIABLE",
    "BodyFraming",
    "ChunkedReader",
    "FramingError",
    "byte_range",
    "normalize_host",
    "request_framing",
]

_DIGITS = re.compile(r"[0-9]{1,19}", re.ASCII)
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(;.*)?", re.ASCII | re.DOTALL)
_TOKEN = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED = rb'"(?:[^"\\\r\n]|\\[^\r\n])*"'
_CHUNK_EXT = re.compile(
    rb"(?:[ \t]*;[ \t]*" + _TOKEN + rb"(?:[ \t]*=[ \t]*(?:" + _TOKEN + rb"|" + _QUOTED + rb"))?)*",
    re.ASCII,
)
_FIELD_LINE = re.compile(rb"(" + _TOKEN + rb"):[ \t]*([^\r\n]*?)[ \t]*", re.ASCII)
UNSATISFIABLE: Final = "unsatisfiable"
"""What :func:`byte_range` returns when no range can be satisfied (answer 416)."""
MAX_LINE = 8192
"""Longest chunk-size line or trailer field line accepted."""
MAX_TRAILER_FIELDS = 100


@dataclass(frozen=True)
class BodyFraming:
    """How a request body is delimited: ``chunked``, else ``length`` bytes (0: no body).

    ``close`` says the connection must close after the response (RFC 9112 6.1: a request with
    both Transfer-Encoding and Content-Length).
    """

    chunked: bool
    length: int
    close: bool


def request_framing(
    version: str, transfer_encoding: Iterable[str], content_length: Iterable[str]
) -> BodyFraming:
    """Decide the body framing from the header field values (each occurrence one item).

    Raises FramingError for anything RFC 9112 section 6 calls faulty: a Content-Length that is
    not digits or whose values differ, a transfer coding other than a final ``chunked``
    (501 for codings this server does not implement), Transfer-Encoding in HTTP/1.0.
    """
    codings = [c.strip().lower() for value in transfer_encoding for c in value.split(",")]
    codings = [c for c in codings if c]
    lengths = [v.strip() for value in content_length for v in value.split(",")]
    if codings:
        if version < "HTTP/1.1":
            raise FramingError("Transfer-Encoding is not allowed in an HTTP/1.0 request")
        if codings[-1] != "chunked":
            raise FramingError("the final transfer coding of a request must be chunked")
        if len(codings) > 1:
            raise FramingError(f"transfer coding {codings[0]!r} is not implemented", status=501)
        # RFC 9112 6.3: chunked overrides Content-Length; such a message may be smuggling, so
        # the connection closes after the response.
        return BodyFraming(chunked=True, length=0, close=bool(lengths))
    if not lengths:
        return BodyFraming(chunked=False, length=0, close=False)
    if any(_DIGITS.fullmatch(v) is None for v in lengths):
        raise FramingError("Content-Length must be a decimal number of bytes")
    if len({int(v) for v in lengths}) > 1:
        raise FramingError("the request carries different Content-Length values")
    return BodyFraming(chunked=False, length=int(lengths[0]), close=False)


class ChunkedReader:
    """Decodes a ``Transfer-Encoding: chunked`` request body from a buffered binary stream.

    Chunk extensions are accepted and ignored, trailer fields are read and kept in
    :attr:`trailers` (RFC 9112 7.1). Malformed framing raises FramingError; the caller must then
    close the connection, since the position of the next request is unknown.
    """

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._left = 0
        self.done = False
        self.trailers: list[tuple[str, str]] = []

    def _line(self) -> bytes:
        line = self._stream.readline(MAX_LINE + 1)
        if not line.endswith(b"\n"):
            if len(line) > MAX_LINE:
                raise FramingError("a chunk-size or trailer line is too long")
            raise FramingError("the request body ended inside its chunked framing")
        return line[:-2] if line.endswith(b"\r\n") else line[:-1]

    def _next_chunk(self) -> None:
        found = _CHUNK_SIZE.fullmatch(self._line())
        if found is None or (found[2] and _CHUNK_EXT.fullmatch(found[2]) is None):
            raise FramingError("invalid chunk size line")
        self._left = int(found[1], 16)
        if self._left == 0:
            self._read_trailers()
            self.done = True

    def _read_trailers(self) -> None:
        while True:
            line = self._line()
            if not line:
                return
            field = _FIELD_LINE.fullmatch(line)
            if field is None or len(self.trailers) >= MAX_TRAILER_FIELDS:
                raise FramingError("invalid trailer field")
            self.trailers.append((field[1].decode("ascii"), field[2].decode("latin-1")))

    def _end_of_chunk(self) -> None:
        if self._stream.read(2) not in (b"\r\n",):
            raise FramingError("chunk data is not followed by CRLF")

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes of decoded body (all that is left for -1); b"" at the end."""
        parts: list[bytes] = []
        wanted = size if size is not None and size >= 0 else None
        got = 0
        while not self.done and (wanted is None or got < wanted):
            if self._left == 0:
                self._next_chunk()
                continue
            count = self._left if wanted is None else min(self._left, wanted - got)
            data = self._stream.read(count)
            if len(data) < count:
                raise FramingError("the request body ended inside a chunk")
            parts.append(data)
            got += len(data)
            self._left -= len(data)
            if self._left == 0:
                self._end_of_chunk()
            if wanted is None:
                continue
            break  # one chunk's worth per call keeps reads streaming
        return parts[0] if len(parts) == 1 else b"".join(parts)


def normalize_host(value: str) -> str:
    """A Host value as one name: lower case, no trailing dot, ``:port`` kept (RFC 9110 4.2.3).

    ``Example.COM.:443`` and ``example.com:443`` are the same host; every decision that depends
    on the host (which registry, which token) must see the normalised form.
    """
    host = value.strip().lower()
    if host.startswith("["):
        return host
    name, colon, port = host.rpartition(":") if ":" in host else (host, "", "")
    name = name.rstrip(".")
    return f"{name}{colon}{port}" if colon else name


def byte_range(
    header: str | None,
    size: int,
    etag: str | None = None,
    if_range: str | None = None,
) -> tuple[int, int] | Literal["unsatisfiable"] | None:
    """Apply a ``Range`` header to a representation of ``size`` bytes (RFC 9110 14.2).

    Returns ``(start, stop)`` to answer 206, None to answer 200 with everything (no header, an
    unknown unit, a syntax the server ignores, several ranges, a failed ``If-Range``), or a
    ``UNSATISFIABLE`` to answer 416 (no range can be satisfied).
    """
    if not header:
        return None
    unit, sep, spec = header.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    if if_range is not None and (etag is None or if_range.strip() != etag):
        return None
    specs = [s.strip() for s in spec.split(",") if s.strip()]
    if len(specs) != 1:
        return None
    first, dash, last = specs[0].partition("-")
    first, last = first.strip(), last.strip()
    if not dash or (first and not first.isdigit()) or (last and not last.isdigit()):
        return None
    if not first:
        if not last:
            return None
        suffix = int(last)
        if suffix == 0 or size == 0:
            return UNSATISFIABLE
        return max(size - suffix, 0), size
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        return UNSATISFIABLE
    stop = size if not last else min(int(last) + 1, size)
    return start, stop
