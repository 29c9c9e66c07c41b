"""In-process ECR and ECR Public APIs: botocore's endpoint answers their calls from the backend."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from typing import Any

from botocore import endpoint as _endpoint
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError

from ecr_mock.protocols.ecr_api.dispatch import JSON_CONTENT_TYPE, answer_call
from ecr_mock.services.backend import Backend

_lock = threading.RLock()
_active: list[Backend] = []
_original: Any = None
_SERVICES = {"ECR": "ecr", "ECR PUBLIC": "ecr-public"}
"""botocore service ids served here, with the model name each is validated against."""
PUBLIC_ENDPOINT_REGIONS = frozenset({"us-east-1", "us-west-2"})
"""Regions with an ECR Public API host name (botocore's endpoints.json): elsewhere the host
does not exist, so a call fails to connect as it does against AWS."""
_HEADERS_READ = ("Authorization", "X-Amz-Target")
"""The request headers the API dispatch reads (the caller's credential scope, the operation)."""
_PUBLIC_HOST_RE = re.compile(r"https://api\.ecr-public\.([a-z0-9-]+)\.amazonaws\.com(?:/.*)?")


class _RawBody(io.BytesIO):
    """A body botocore can ``stream()``."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        data = self.read()
        while data:
            yield data
            data = self.read()


def active_backend() -> Backend | None:
    """The backend of the innermost active mock, if any."""
    return _active[-1] if _active else None


def push(backend: Backend) -> None:
    """Make ``backend`` answer ECR calls until :func:`pop`; installs the patch on first use."""
    global _original
    with _lock:
        if _original is None:
            _original = _endpoint.Endpoint._do_get_response
            _endpoint.Endpoint._do_get_response = _do_get_response
        _active.append(backend)


def pop(backend: Backend) -> None:
    """Stop ``backend`` answering; removes the patch when no mock is left."""
    global _original
    with _lock:
        for index in range(len(_active) - 1, -1, -1):
            if _active[index] is backend:
                del _active[index]
                break
        if not _active and _original is not None:
            _endpoint.Endpoint._do_get_response = _original
            _original = None


def _do_get_response(
    self: Any, request: Any, operation_model: Any, context: Any
) -> tuple[Any, Exception | None]:
    backend = active_backend()
    original = _original
    service = _SERVICES.get(str(operation_model.service_model.service_id))
    if backend is None or service is None:
        return original(self, request, operation_model, context)  # type: ignore[no-any-return]
    if service not in _primed:
        _prime(operation_model, service)
    if service == "ecr-public":
        host = _PUBLIC_HOST_RE.fullmatch(str(request.url))
        if host is not None and host.group(1) not in PUBLIC_ENDPOINT_REGIONS:
            raise EndpointConnectionError(endpoint_url=str(request.url))
    headers = {}
    for name in _HEADERS_READ:  # not all of them: botocore's header object is slow to walk
        value = request.headers.get(name)
        if value is not None:
            headers[name] = _text(value)
    body = request.body
    if hasattr(body, "read"):
        body = body.read()
    if isinstance(body, str):
        body = body.encode()
    answer = answer_call(
        backend,
        headers.get("X-Amz-Target", ""),
        body or b"",
        headers,
        secure=str(request.url).startswith("https"),
    )
    status, payload = answer.status, answer.body
    fault = answer.fault
    if status == 400:
        from ecr_mock.runtime.intercept.moto_hints import note_answer

        note_answer(backend, headers.get("X-Amz-Target", ""), status, payload, fault is not None)
    cut = fault.disconnect_after_bytes if fault is not None else None
    if cut is not None and cut < len(payload):  # the connection drops mid-answer
        from botocore.exceptions import ConnectionClosedError

        return None, ConnectionClosedError(endpoint_url=request.url)
    http_response = AWSResponse(
        request.url,
        status,
        {"Content-Type": JSON_CONTENT_TYPE, "Content-Length": str(len(payload))},
        _RawBody(payload),
    )
    response_dict = _endpoint.convert_to_response_dict(http_response, operation_model)
    protocol = getattr(operation_model.service_model, "resolved_protocol", "json")
    parser = self._response_parser_factory.create_parser(protocol)
    parsed = parser.parse(response_dict, operation_model.output_shape)
    if status >= 300:
        self._add_modeled_error_fields(response_dict, parsed, operation_model, parser)
    return (http_response, parsed), None


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


_primed: set[str] = set()


def _prime(operation_model: Any, service: str) -> None:
    """Hand the model boto3 already parsed to the validator (no second read of the file)."""
    from ecr_mock.protocols.ecr_api.validation import prime_model

    description = getattr(operation_model.service_model, "_service_description", None)
    if description is not None:
        prime_model(description, service)
    _primed.add(service)
