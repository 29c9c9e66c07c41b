"""The server's request log: one line per request (surface, operation, repository, caller, outcome).

Each request served by ``ecr-mock serve`` is logged at INFO on the ``ecr_mock.requests`` logger
when it ends, with these fields:

``time`` (UTC), ``surface`` (``api``, ``registry``, ``control`` or ``other`` for AWS services
served by moto), ``operation`` (the ECR operation, registry route or control route; for other
services the signing name), ``repository``, ``account``, ``region``, ``principal`` (ARN),
``status``, ``error`` (the ECR ``__type``, the OCI error code or the control code), ``bytes``
(response body bytes) and ``ms`` (duration). Fields that do not apply are ``-``/null.

``--log-format text`` writes ``key=value`` lines, ``json`` one JSON object per line.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ecr_mock.protocols.registry.routes import Match, is_registry_path, match

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from ecr_mock.services.backend import Backend

__all__ = ["FIELDS", "JsonFormatter", "RequestLog", "TextFormatter", "configure_logging"]

log = logging.getLogger("ecr_mock.requests")

FIELDS = (
    "surface",
    "operation",
    "repository",
    "account",
    "region",
    "principal",
    "status",
    "error",
    "bytes",
    "ms",
)
_ECR_TARGETS = ("AmazonEC2ContainerRegistry_V20150921.", "SpencerFrontendService.")
_SCOPE_RE = re.compile(r"Credential=([^/,\s]+)/[0-9]{8}/([a-z0-9-]+)/([a-z0-9.-]+)/aws4_request")
_KEEP_BODY = 64 * 1024
_KEEP_ERROR = 16 * 1024


class _Tee:
    """A request body stream that keeps a copy of its first bytes (to name the repository)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.kept = bytearray()

    def read(self, size: int = -1) -> bytes:
        data: bytes = self._stream.read(size)
        if len(self.kept) < _KEEP_BODY:
            self.kept += data[: _KEEP_BODY - len(self.kept)]
        return data

    def readline(self, size: int = -1) -> bytes:
        data: bytes = self._stream.readline(size)
        if len(self.kept) < _KEEP_BODY:
            self.kept += data[: _KEEP_BODY - len(self.kept)]
        return data

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readline, b"")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _Logged:
    """The application's answer, counted as it is sent; logs the request when closed."""

    def __init__(self, result: Iterable[bytes], done: Callable[[int, bytes], None]) -> None:
        self._result = result
        self._done = done
        self._sent = 0
        self._head = bytearray()
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._result:
            self._sent += len(chunk)
            if len(self._head) < _KEEP_ERROR:
                self._head += chunk[: _KEEP_ERROR - len(self._head)]
            yield chunk

    def file_range(self) -> tuple[int, int, int] | None:
        """The wrapped body's file span (for sendfile), counted as sent."""
        getter = getattr(self._result, "file_range", None)
        span: tuple[int, int, int] | None = getter() if getter is not None else None
        if span is not None:
            self._sent += span[2]
        return span

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            close = getattr(self._result, "close", None)
            if close is not None:
                close()
        finally:
            self._done(self._sent, bytes(self._head))


class RequestLog:
    """WSGI middleware logging one line per request on ``ecr_mock.requests`` at INFO."""

    def __init__(self, app: WSGIApplication, backend: Callable[[], Backend]) -> None:
        self.app = app
        self._backend = backend

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if not log.isEnabledFor(logging.INFO):
            return self.app(environ, start_response)
        started = time.perf_counter()
        when = datetime.now(timezone.utc)
        tee: _Tee | None = None
        if str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith(_ECR_TARGETS):
            tee = _Tee(environ["wsgi.input"])
            environ["wsgi.input"] = tee
        seen: dict[str, Any] = {"status": 0}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"] = int(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info)

        def done(sent: int, head: bytes) -> None:
            try:
                record = self._describe(environ, tee, seen["status"], head)
            except Exception:  # the log must never break a request
                record = {"surface": "other", "operation": environ.get("PATH_INFO")}
            record.update(
                bytes=sent,
                ms=round((time.perf_counter() - started) * 1000, 1),
                status=seen["status"] or 500,
            )
            emit(when, record)

        try:
            result = self.app(environ, capture)
        except Exception:
            log.exception(
                "request %s %s failed", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")
            )
            seen["status"] = 500
            done(0, b"")
            raise
        return _Logged(result, done)

    # ----- what a request was ---------------------------------------------------------------

    def _describe(
        self, environ: WSGIEnvironment, tee: _Tee | None, status: int, head: bytes
    ) -> dict[str, Any]:

        path = str(environ.get("PATH_INFO") or "/")
        record: dict[str, Any] = dict.fromkeys(FIELDS)
        if tee is not None:
            self._api(environ, tee, record)
        elif is_registry_path(path):
            self._registry(environ, path, record)
        elif path.startswith("/ecr-mock/"):
            record["surface"] = "control"
            record["operation"] = path.removeprefix("/ecr-mock/").split("/", 1)[0] or "-"
        else:
            scope = _SCOPE_RE.search(str(environ.get("HTTP_AUTHORIZATION", "")))
            record["surface"] = "other"
            if scope is not None and scope.group(3) != "ecr":
                record["operation"] = scope.group(3)
                record["region"] = scope.group(2)
            else:
                record["operation"] = f"{environ.get('REQUEST_METHOD')} {path}"
        if status >= 400:
            record["error"] = _error_code(head)
        return record

    def _api(self, environ: WSGIEnvironment, tee: _Tee, record: dict[str, Any]) -> None:
        backend = self._backend()
        record["surface"] = "api"
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        record["operation"] = target.split(".", 1)[-1]
        if target.startswith(_ECR_TARGETS[1]):
            record["operation"] = "ecr-public:" + record["operation"]
        params: dict[str, Any] = {}
        try:
            doc = json.loads(bytes(tee.kept) or b"{}")
            if isinstance(doc, dict):
                params = doc
        except ValueError:
            pass
        scope = _SCOPE_RE.search(str(environ.get("HTTP_AUTHORIZATION", "")))
        record["region"] = scope.group(2) if scope else backend.default_region
        try:
            principal = backend.principal_for_key(scope.group(1) if scope else None)
        except Exception:
            principal = None
        if principal is not None:
            record["principal"] = principal.arn
        registry_id = params.get("registryId")
        record["account"] = (
            registry_id
            if isinstance(registry_id, str)
            else (principal.account_id if principal else None)
        )
        name = params.get("repositoryName")
        if isinstance(name, str):
            record["repository"] = name

    def _registry(self, environ: WSGIEnvironment, path: str, record: dict[str, Any]) -> None:

        record["surface"] = "registry"
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        found = match(path, method)
        if isinstance(found, Match):
            record["operation"] = found.route.name
            record["repository"] = found.params.get("name")
            record["account"] = found.params.get("account")
            record["region"] = found.params.get("region")
        else:
            record["operation"] = f"{method} {path}"
        token = self._token(environ)
        if token is not None:
            record["account"] = token.account
            record["region"] = token.region
            record["principal"] = token.principal.arn

    def _token(self, environ: WSGIEnvironment) -> Any:
        import base64
        import binascii

        auth = str(environ.get("HTTP_AUTHORIZATION", ""))
        scheme, _, value = auth.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        _, _, password = decoded.partition(":")
        return self._backend().tokens.find(password)


def _error_code(head: bytes) -> str | None:
    try:
        doc = json.loads(head)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    for key in ("__type", "code"):
        if isinstance(doc.get(key), str):
            return str(doc[key]).rsplit("#", 1)[-1]
    errors = doc.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        code = errors[0].get("code")
        return str(code) if code is not None else None
    return None


def emit(when: datetime, record: dict[str, Any]) -> None:
    """Log one request ``record`` (the FIELDS) at INFO."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
    text = " ".join(f"{key}={_text(record.get(key))}" for key in FIELDS)
    log.info("%s", text, extra={"ecr_mock_request": {"time": stamp, **record}})


_UNSAFE = re.compile(r'[\x00-\x20"=\\\x7f-\x9f\u2028\u2029]')
"""Characters that make a text-format value quoted: controls (C0, DEL, C1, line separators),
space, quote, equals and backslash."""
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def _text(value: Any) -> str:
    """A value as the text format writes it: bare when plain, else a JSON string literal whose
    control characters are all escaped (no value can end a line or reach a terminal raw)."""
    if value is None or value == "":
        return "-"
    text = str(value)
    if _UNSAFE.search(text) is None:
        return text
    return json.dumps(text).replace("\x7f", "\\u007f")


def escape_controls(text: str) -> str:
    """``text`` with every control character but none of the others escaped: ``\\n``,
    ``\\r``, ``\\t``, else ``\\xNN`` / ``\\uNNNN`` (CR, LF, ESC, C0, DEL, C1)."""

    def one(found: re.Match[str]) -> str:
        code = ord(found[0])
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    text = text.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return _CONTROLS.sub(one, text)


class TextFormatter(logging.Formatter):
    """``<time> <LEVEL> <message>`` with tracebacks, one request per line."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        when = datetime.fromtimestamp(record.created, timezone.utc)
        return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        """One line per record, every control character of the message escaped; a traceback
        follows on lines indented by four spaces (escaped too), so none can pass for a record."""
        line = (
            f"{self.formatTime(record)} {record.levelname} {escape_controls(record.getMessage())}"
        )
        extra = []
        if record.exc_info:
            extra.append(self.formatException(record.exc_info))
        elif record.exc_text:
            extra.append(record.exc_text)
        if record.stack_info:
            extra.append(self.formatStack(record.stack_info))
        for block in extra:
            line += "".join("\n    " + escape_controls(part) for part in block.split("\n"))
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: the request fields, or level, logger, message and traceback."""

    def format(self, record: logging.LogRecord) -> str:
        request = getattr(record, "ecr_mock_request", None)
        if isinstance(request, dict):
            return json.dumps({"level": record.levelname, **request})
        when = datetime.fromtimestamp(record.created, timezone.utc)
        doc: dict[str, Any] = {
            "time": when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            doc["traceback"] = self.formatException(record.exc_info)
        return json.dumps(doc)


def configure_logging(log_format: str = "text", quiet: bool = False) -> logging.Handler:
    """Send ecr_mock's logs to stderr: requests at INFO (WARNING with ``quiet``), errors always."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    package = logging.getLogger("ecr_mock")
    package.addHandler(handler)
    package.setLevel(logging.INFO)
    package.propagate = False
    log.setLevel(logging.WARNING if quiet else logging.INFO)
    return handler
