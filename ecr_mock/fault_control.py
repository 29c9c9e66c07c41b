"""The control endpoints for fault rules and the call record: ``/ecr-mock/faults``, ``/ecr-mock/calls``."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from ecr_mock.core.backend import Backend
from ecr_mock.core.services.faults import FaultRuleError

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

FAULTS_PATH = "/ecr-mock/faults"
CALLS_PATH = "/ecr-mock/calls"
MAX_BODY_BYTES = 1024 * 1024
_CALL_FILTERS = ("operation", "repository", "surface", "status", "error_code")
_REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
}

Answer = tuple[int, bytes]


def _json(status: int, doc: object) -> Answer:
    return status, json.dumps(doc).encode()


def _error(status: int, message: str) -> Answer:
    return _json(status, {"message": message})


def handle_fault_control(
    backend: Backend, method: str, path: str, query: str, body: bytes
) -> Answer:
    """Serve the fault and call endpoints; returns (status, JSON body).

    * ``POST /ecr-mock/faults``: a rule (or a list of rules) as JSON; 201 with the rule(s) and
      their ``id``; 400 naming the bad field and the valid values.
    * ``GET /ecr-mock/faults``: ``{"faults": [rule with hits, ...]}``;
      ``GET /ecr-mock/faults/<id>``: one rule.
    * ``DELETE /ecr-mock/faults``: remove every rule; ``DELETE /ecr-mock/faults/<id>``: one.
    * ``GET /ecr-mock/calls``: ``{"calls": [...]}``, oldest first, filtered by ``operation``,
      ``repository``, ``surface``, ``status``, ``error_code``; ``limit=N`` keeps the last N.
    * ``DELETE /ecr-mock/calls``: forget the record.
    """
    verb = method.upper()
    path = path.rstrip("/")
    if path == FAULTS_PATH:
        return _faults(backend, verb, body)
    if path.startswith(FAULTS_PATH + "/"):
        return _fault(backend, verb, path[len(FAULTS_PATH) + 1 :])
    if path == CALLS_PATH:
        return _calls(backend, verb, query)
    return _error(404, f"No such control path {path!r}; try {FAULTS_PATH} or {CALLS_PATH}")


def _faults(backend: Backend, verb: str, body: bytes) -> Answer:
    if verb == "GET":
        return _json(200, {"faults": [rule.to_dict() for rule in backend.faults]})
    if verb == "DELETE":
        backend.faults.clear()
        return 204, b""
    if verb != "POST":
        return _error(
            405, f"Method {verb} is not allowed on {FAULTS_PATH}; use GET, POST or DELETE"
        )
    try:
        doc = json.loads(body or b"null")
    except (ValueError, RecursionError):
        return _error(400, "The body must be a JSON object (a fault rule) or a list of them")
    rules = doc if isinstance(doc, list) else [doc]
    if not rules or not all(isinstance(rule, dict) for rule in rules):
        return _error(400, "The body must be a JSON object (a fault rule) or a list of them")
    added = []
    try:
        for rule in rules:
            added.append(backend.faults.add_rule(rule))
    except FaultRuleError as exc:
        for rule in added:  # all or nothing
            rule.remove()
        return _error(400, str(exc))
    docs = [rule.to_dict() for rule in added]
    return _json(201, docs if isinstance(doc, list) else docs[0])


def _fault(backend: Backend, verb: str, rule_id: str) -> Answer:
    rule = backend.faults.get(rule_id)
    if rule is None:
        return _error(404, f"No fault rule with id {rule_id!r}")
    if verb == "GET":
        return _json(200, rule.to_dict())
    if verb == "DELETE":
        rule.remove()
        return 204, b""
    return _error(405, f"Method {verb} is not allowed on a fault rule; use GET or DELETE")


def _calls(backend: Backend, verb: str, query: str) -> Answer:
    if verb == "DELETE":
        backend.calls.clear()
        return 204, b""
    if verb != "GET":
        return _error(405, f"Method {verb} is not allowed on {CALLS_PATH}; use GET or DELETE")
    params = {key: values[-1] for key, values in parse_qs(query).items()}
    unknown = sorted(set(params) - {*_CALL_FILTERS, "limit"})
    if unknown:
        return _error(
            400,
            f"Unknown filter(s) {', '.join(unknown)}; use {', '.join(_CALL_FILTERS)} or limit",
        )
    filters: dict[str, Any] = {key: params[key] for key in _CALL_FILTERS if key in params}
    for number in ("status", "limit"):
        if number in params and not params[number].isdigit():
            return _error(400, f"{number} must be a non-negative integer; got {params[number]!r}")
    if "status" in filters:
        filters["status"] = int(filters["status"])
    calls = backend.calls.of(**filters)
    if "limit" in params:
        limit = int(params["limit"])
        calls = calls[len(calls) - limit :] if limit else []
    return _json(200, {"calls": [call.to_dict() for call in calls]})


def serve_fault_control(
    backend: Backend, environ: WSGIEnvironment, start_response: StartResponse
) -> Iterable[bytes]:
    """The WSGI face of :func:`handle_fault_control`."""
    body = _read(environ)
    if body is None:
        status, payload = _error(400, f"The body is larger than {MAX_BODY_BYTES} bytes")
    else:
        status, payload = handle_fault_control(
            backend,
            environ.get("REQUEST_METHOD", "GET"),
            environ.get("PATH_INFO") or "/",
            environ.get("QUERY_STRING", ""),
            body,
        )
    headers = [("Content-Type", "application/json")]
    if status != 204:
        headers.append(("Content-Length", str(len(payload))))
    start_response(f"{status} {_REASONS.get(status, 'Error')}", headers)
    return [payload] if status != 204 else []


def _read(environ: Mapping[str, Any]) -> bytes | None:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        return None
    return environ["wsgi.input"].read(length) if length > 0 else b""
