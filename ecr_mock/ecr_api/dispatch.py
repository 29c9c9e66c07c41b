"""JSON 1.1 dispatch for ECR and ECR Public: X-Amz-Target to handler, caller identity, errors."""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any, TypeVar

from ecr_mock.core.backend import Backend
from ecr_mock.core.errors import EcrError, InvalidParameter
from ecr_mock.core.models import Principal, Registry, Repository
from ecr_mock.ecr_api.access_table import check_operation
from ecr_mock.ecr_api.validation import ValidationError, validate_input

_log = logging.getLogger("ecr_mock")


TARGET_PREFIX = "AmazonEC2ContainerRegistry_V20150921."
PUBLIC_TARGET_PREFIX = "SpencerFrontendService."
"""ECR Public's target prefix (``ecr-public`` in botocore)."""
JSON_CONTENT_TYPE = "application/x-amz-json-1.1"
_CREDENTIAL_RE = re.compile(
    r"Credential=([^/,\s]+)/[0-9]{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request"
)

Params = dict[str, Any]
Result = dict[str, Any]
Handler = Callable[["Context", Params], Result]
OPERATIONS: dict[str, Handler] = {}
T = TypeVar("T")
MAX_OFFSET = 2**31 - 1
"""The largest position a ``nextToken`` may hold (a forged larger one is an invalid token)."""


def operation(name: str) -> Callable[[Handler], Handler]:
    """Register a handler as the ECR operation ``name``."""

    def register(func: Handler) -> Handler:
        OPERATIONS[name] = func
        return func

    return register


@dataclass
class Context:
    """One API call: the backend, who is calling, and from which region."""

    backend: Backend
    operation: str
    principal: Principal
    region: str
    access_key: str | None = None
    source_ip: str = "127.0.0.1"
    secure_transport: bool = False

    @property
    def account(self) -> str:
        """The caller's account id."""
        return self.principal.account_id

    def registry(self, params: Params) -> Registry:
        """The registry named by ``registryId`` (default: the caller's) in the call's region."""
        registry_id = params.get("registryId") or self.account
        return self.backend.registry(registry_id, self.region)

    def repository(self, params: Params, reg: Registry | None = None) -> Repository:
        """The repository named by ``repositoryName``; RepositoryNotFoundException otherwise."""
        reg = reg or self.registry(params)
        return self.backend.get_repository(reg, params["repositoryName"])


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
    access_key, region = match.group(1), match.group(2)
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


def _ecr_handler(name: str) -> Handler | None:
    handler = OPERATIONS.get(name)
    if handler is None and _load_operation(name):
        handler = OPERATIONS.get(name)
    return handler


def _ecr_service() -> ApiService:
    return ApiService("ecr", _ecr_handler, check_operation, Context)


def service_for(target: str) -> tuple[ApiService, str] | None:
    """The service a target names and the operation name; None for a foreign target."""
    if target.startswith(TARGET_PREFIX):
        return _ecr_service(), target[len(TARGET_PREFIX) :]
    if target.startswith(PUBLIC_TARGET_PREFIX):
        from ecr_mock.ecr_api.public import SERVICE

        return SERVICE, target[len(PUBLIC_TARGET_PREFIX) :]
    return None


def handle(
    backend: Backend,
    target: str,
    body: bytes,
    headers: Mapping[str, str],
    source_ip: str = "127.0.0.1",
    secure: bool = False,
    validate: bool = True,
) -> tuple[int, bytes]:
    """Serve one ECR or ECR Public JSON 1.1 call; returns (status, JSON body). Never raises.

    ``validate=False`` skips the model check, so tests can reach the semantic checks behind it.
    """
    found = service_for(target)
    service, name = found if found is not None else (_ecr_service(), "")
    handler = service.handler(name) if name else None
    if handler is None:
        return 400, error_body("UnknownOperationException", f"Unknown operation {target!r}")
    try:
        params = json.loads(body or b"{}")
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser goes
        return 400, error_body("SerializationException", "Request body is not valid JSON")
    if not isinstance(params, dict):
        return 400, error_body("SerializationException", "Start of list found where not expected.")
    try:
        if validate:
            validate_input(name, params, service.model)
        backend.tick()
        principal, region, access_key = caller_from_headers(backend, headers)
        ctx = service.context(backend, name, principal, region, access_key, source_ip, secure)
        service.check(ctx, params)
        result = handler(ctx, params)
    except ValidationError as exc:
        return 400, error_body(exc.code, exc.message)
    except EcrError as exc:
        return exc.status, error_body(exc.code, exc.message, exc.extra)
    except Exception as exc:  # a bug must still answer like the service, not drop the call
        _log.exception("ecr-mock: %s failed unexpectedly", name)
        return 500, error_body("ServerException", f"Internal error: {type(exc).__name__}: {exc}")
    return 200, json.dumps(result, default=_encode).encode()


def _load_operation(name: str) -> bool:
    from ecr_mock.ecr_api.operations import load

    return load(name)


# ----- pagination ------------------------------------------------------------------------------


def paginate(
    items: Iterable[T],
    params: Params,
    *,
    default: int,
    maximum: int,
    token_key: str = "nextToken",
    max_key: str = "maxResults",
) -> tuple[list[T], str | None]:
    """One page of ``items`` and the token for the next; reads only as far as the page ends."""
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
    page = list(islice(items, start, start + size + 1))
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
