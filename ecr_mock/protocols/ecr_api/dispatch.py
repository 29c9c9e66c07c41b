"""JSON 1.1 dispatch for ECR and ECR Public: X-Amz-Target to handler, caller identity, errors."""

from __future__ import annotations

import base64
import json
import logging
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar, Unpack

from ecr_mock.domain.errors import EcrError, InvalidParameter
from ecr_mock.domain.models import Principal
from ecr_mock.protocols.ecr_api import ecr as operations
from ecr_mock.protocols.ecr_api.access_table import check_operation
from ecr_mock.protocols.ecr_api.context import Context as Context
from ecr_mock.protocols.ecr_api.context import Handler as Handler
from ecr_mock.protocols.ecr_api.context import Params as Params
from ecr_mock.protocols.ecr_api.context import Result as Result
from ecr_mock.protocols.ecr_api.validation import ValidationError, validate_input
from ecr_mock.services.backend import Backend
from ecr_mock.store.calls import Call
from ecr_mock.store.fault_rules import FaultRequest

if TYPE_CHECKING:
    from ecr_mock.store.fault_rules import Fault

_log = logging.getLogger("ecr_mock")


TARGET_PREFIX = "AmazonEC2ContainerRegistry_V20150921."
PUBLIC_TARGET_PREFIX = "SpencerFrontendService."
"""ECR Public's target prefix (``ecr-public`` in botocore)."""
JSON_CONTENT_TYPE = "application/x-amz-json-1.1"
_CREDENTIAL_RE = re.compile(
    r"Credential=([^/,\s]+)/[0-9]{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request"
)

T = TypeVar("T")
MAX_OFFSET = 2**31 - 1
"""The largest position a ``nextToken`` may hold (a forged larger one is an invalid token)."""


def error_body(code: str, message: str, extra: Mapping[str, Any] | None = None) -> bytes:
    """The JSON 1.1 error document."""
    doc: dict[str, Any] = {"__type": code, "message": message}
    if extra:
        doc.update(extra)
    return json.dumps(doc).encode()


def caller_from_headers(
    backend: Backend, headers: Mapping[str, str]
) -> tuple[Principal, str, str | None]:
    """(principal, region, access key) from the SigV4 ``Authorization`` header."""
    auth = headers.get("Authorization") or headers.get("authorization") or ""
    match = _CREDENTIAL_RE.search(auth)
    if not match:
        return backend.principal_for_key(None), backend.default_region, None
    access_key, region = match.group(1), sys.intern(match.group(2))
    return backend.principal_for_key(access_key), region, access_key


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"cannot serialise {type(value).__name__}")


@dataclass(frozen=True)
class ApiService:
    """One JSON 1.1 service served by :func:`handle`: its model, handlers and access check."""

    model: str
    """botocore's name for the service (``ecr``, ``ecr-public``): the model input is checked
    against."""
    handler: Callable[[str], Handler | None]
    """The handler of an operation (None for an operation the service does not have)."""
    check: Callable[[Context, Params], None]
    """Raises unless the caller may make the call (region, IAM)."""
    context: type[Context]


_HANDLERS: dict[str, Handler] = {}
"""ECR operation name -> handler, filled from the operation modules' tables as calls come."""


def ecr_handler(name: str) -> Handler | None:
    """The handler of ECR operation ``name``, its module imported on the first call; None for
    an operation the model does not have."""
    handler = _HANDLERS.get(name)
    if handler is None:
        handler = operations.handler_of(name)
        if handler is not None:
            _HANDLERS[name] = handler
    return handler


def _ecr_service() -> ApiService:
    return ApiService("ecr", ecr_handler, check_operation, Context)


def service_for(target: str) -> tuple[ApiService, str] | None:
    """The service a target names and the operation name; None for a foreign target."""
    if target.startswith(TARGET_PREFIX):
        return _ecr_service(), target[len(TARGET_PREFIX) :]
    if target.startswith(PUBLIC_TARGET_PREFIX):
        from ecr_mock.protocols.ecr_api.ecr_public.operations import SERVICE

        return SERVICE, target[len(PUBLIC_TARGET_PREFIX) :]
    return None


class CallOptions(TypedDict, total=False):
    """How a call arrived: ``source_ip``, ``secure`` (over TLS), ``validate`` (check the model)."""

    source_ip: str
    secure: bool
    validate: bool


def handle(
    backend: Backend,
    target: str,
    body: bytes,
    headers: Mapping[str, str],
    **options: Unpack[CallOptions],
) -> tuple[int, bytes]:
    """Serve one ECR or ECR Public JSON 1.1 call; returns (status, JSON body). Never raises.

    ``validate=False`` skips the model check, so tests can reach the semantic checks behind it.
    """
    answer = answer_call(backend, target, body, headers, **options)
    return answer.status, answer.body


@dataclass
class Answer:
    """A served call: status, JSON body, and the fault applied (the server may cut the body)."""

    status: int
    body: bytes
    fault: Fault | None = None


@dataclass
class _Seen:
    """What a call turned out to be, for its record."""

    operation: str | None
    params: Params | None = None
    principal: str | None = None
    account: str | None = None
    region: str | None = None
    fault: Fault | None = None


def answer_call(
    backend: Backend,
    target: str,
    body: bytes,
    headers: Mapping[str, str],
    source_ip: str = "127.0.0.1",
    secure: bool = False,
    validate: bool = True,
) -> Answer:
    """Serve one ECR JSON 1.1 call with fault rules and quotas applied, and record it."""
    wall, started = time.time(), time.perf_counter()
    found = service_for(target)
    seen = _Seen(operation=sys.intern(found[1]) if found is not None and found[1] else None)
    request = _Request(target, body, headers, source_ip, secure, validate)
    status, payload, code = _serve(backend, found, request, seen)
    params = seen.params or {}
    repository = params.get("repositoryName")
    backend.calls.record(
        Call(
            surface="api",
            operation=seen.operation,
            repository=repository if isinstance(repository, str) else None,
            account_id=seen.account,
            region=seen.region or _scope_region(headers),
            principal=seen.principal,
            status=status,
            error_code=code,
            request_bytes=len(body),
            response_bytes=len(payload),
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            time=wall,
            parameters=_elided(seen.params) if seen.params is not None else None,
            fault=seen.fault.to_dict() if seen.fault is not None else None,
        )
    )
    return Answer(status, payload, seen.fault)


@dataclass(frozen=True)
class _Request:
    """One JSON 1.1 request as it arrived."""

    target: str
    body: bytes
    headers: Mapping[str, str]
    source_ip: str
    secure: bool
    validate: bool


Served = tuple[int, bytes, str | None]
"""(status, body, the ``__type`` of an error answer)."""


def _refuse(status: int, code: str, message: str, extra: Mapping[str, Any] | None = None) -> Served:
    return status, error_body(code, message, extra), code


def _serve(
    backend: Backend, found: tuple[ApiService, str] | None, request: _Request, seen: _Seen
) -> Served:
    target, body, headers = request.target, request.body, request.headers
    source_ip, secure, validate = request.source_ip, request.secure, request.validate
    service, name = found if found is not None else (_ecr_service(), "")
    handler = service.handler(name) if name else None
    if handler is None:
        return _refuse(400, "UnknownOperationException", f"Unknown operation {target!r}")
    try:
        params = json.loads(body or b"{}")
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser goes
        return _refuse(400, "SerializationException", "Request body is not valid JSON")
    if not isinstance(params, dict):
        return _refuse(400, "SerializationException", "Start of list found where not expected.")
    seen.params = params
    fault: Fault | None = None
    try:
        if validate:
            validate_input(name, params, service.model)
        backend.tick()
        principal, region, access_key = caller_from_headers(backend, headers)
        registry_id = params.get("registryId")
        account = registry_id if isinstance(registry_id, str) else principal.account_id
        seen.principal, seen.account, seen.region = principal.arn, account, region
        fault = _fault_for(backend, service.model, name, params, account, region)
        seen.fault = fault
        if fault is not None and fault.error is not None and not fault.after_commit:
            return _fault_answer(fault)
        if service.model == "ecr" and not backend.within_quota(principal.account_id, region, name):
            return _refuse(400, "ThrottlingException", "Rate exceeded")
        ctx = service.context(backend, name, principal, region, access_key, source_ip, secure)
        service.check(ctx, params)
        result = handler(ctx, params)
    except ValidationError as exc:
        return _refuse(400, exc.code, exc.message)
    except EcrError as exc:
        return _after_commit(fault) or _refuse(exc.status, exc.code, exc.message, exc.extra)
    except Exception as exc:  # a bug must still answer like the service, not drop the call
        _log.exception("ecr-mock: %s failed unexpectedly", name)
        return _refuse(500, "ServerException", f"Internal error: {type(exc).__name__}: {exc}")
    return _after_commit(fault) or (200, json.dumps(result, default=_encode).encode(), None)


def _fault_for(
    backend: Backend, model: str, operation: str, params: Params, account: str, region: str
) -> Fault | None:
    """The fault rules' verdict on this call; sleeps the delay they ask for."""
    rules = backend.fault_rules_if_any()
    if rules is None:
        return None

    repository = params.get("repositoryName")
    fault = rules.evaluate(
        FaultRequest(
            "api",
            operation,
            repository if isinstance(repository, str) else None,
            account,
            region,
            service=model,
        )
    )
    if fault is not None and fault.delay_ms:
        time.sleep(fault.delay_ms / 1000)
    return fault


def _fault_answer(fault: Fault) -> Served:
    return _refuse(fault.status or 500, fault.error or "ServerException", fault.message or "")


def _after_commit(fault: Fault | None) -> Served | None:
    """The error of an ``after_commit`` fault (the call was carried out), else None."""
    if fault is not None and fault.error is not None and fault.after_commit:
        return _fault_answer(fault)
    return None


_ELIDED_MEMBERS = frozenset({"layerPartBlob"})
_LONGEST_RECORDED = 4096
_SHARED_LENGTH = 64
"""Recorded string parameters up to this length (names, tags) are shared between records."""


def _elided(params: Params) -> Params:
    """The parameters to record: layer bytes and very long strings replaced by their size."""
    recorded: Params = {}
    for key, value in params.items():
        key = sys.intern(key)  # a record keeps its names once, not once per call
        if isinstance(value, str) and (key in _ELIDED_MEMBERS or len(value) > _LONGEST_RECORDED):
            recorded[key] = f"<{len(value)} characters elided>"
        elif isinstance(value, str) and len(value) <= _SHARED_LENGTH:
            recorded[key] = sys.intern(value)  # names repeat from call to call: kept once
        else:
            recorded[key] = value
    return recorded


def _scope_region(headers: Mapping[str, str]) -> str | None:
    auth = headers.get("Authorization") or headers.get("authorization") or ""
    match = _CREDENTIAL_RE.search(auth)
    return match.group(2) if match else None


# ----- pagination ------------------------------------------------------------------------------


def paginate(
    items: Iterable[T], params: Params, *, default: int, maximum: int
) -> tuple[list[T], str | None]:
    """One page of ``items`` (``nextToken``, ``maxResults``) and the token for the next; reads
    only as far as the page ends."""
    return paginate_with(
        lambda start, stop: list(islice(items, start, stop)),
        params,
        default=default,
        maximum=maximum,
    )


def paginate_with(
    take: Callable[[int, int], list[T]],
    params: Params,
    *,
    default: int,
    maximum: int,
    token_key: str = "nextToken",
    max_key: str = "maxResults",
) -> tuple[list[T], str | None]:
    """One page and the token for the next; ``take(start, stop)`` reads items ``[start, stop)``."""
    start = decode_token(params.get(token_key))
    size = params.get(max_key)
    if size is None:
        size = default
    if not isinstance(size, int) or size < 1 or size > maximum:
        raise InvalidParameter(
            f"Invalid parameter at '{max_key}' failed to satisfy constraint: 'Member must have "
            + (
                f"value less than or equal to {maximum}'"
                if isinstance(size, int) and size > maximum
                else "value greater than or equal to 1'"
            )
        )
    page = take(start, start + size + 1)
    if len(page) > size:
        return page[:size], encode_token(start + size)
    return page, None


def encode_token(offset: int) -> str:
    """An opaque ``nextToken`` for a position."""
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode()


def decode_token(token: Any) -> int:
    """The position in an opaque ``nextToken``; InvalidParameterException when malformed."""
    if token is None:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(str(token).encode()))["o"]
    except (ValueError, KeyError, TypeError, RecursionError):
        raise InvalidParameter(
            "Invalid parameter at 'nextToken' failed to satisfy constraint: 'Invalid token'"
        ) from None
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= MAX_OFFSET:
        raise InvalidParameter(
            "Invalid parameter at 'nextToken' failed to satisfy constraint: 'Invalid token'"
        )
    return offset
