"""The call record: every API and /v2/ request a backend answered, in a bounded ring."""

from __future__ import annotations

import copy
import hashlib
import threading
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, overload

if TYPE_CHECKING:
    from ecr_mock.domain.models import Registry

__all__ = ["DEFAULT_MAX_CALLS", "Call", "CallLog", "CallQueries"]

DEFAULT_MAX_CALLS = 10_000
"""How many calls a backend remembers by default (the oldest go first)."""


_FIELDS = (
    "surface",
    "operation",
    "repository",
    "account_id",
    "region",
    "principal",
    "status",
    "error_code",
    "request_bytes",
    "response_bytes",
    "duration_ms",
    "time",
    "parameters",
    "method",
    "path",
    "fault",
)


class Call:
    """One request as the backend saw and answered it (read-only).

    ``surface`` is ``"api"`` (ECR JSON 1.1) or ``"registry"`` (/v2/); ``operation`` the ECR
    operation (``PutImage``) or the registry route (``manifest.put``); ``principal`` the caller's
    ARN when known; ``error_code`` the ``__type`` of an API error or the OCI code of a registry
    error; ``time`` the wall-clock time the request arrived (seconds since the epoch);
    ``parameters`` the API call's parameters (large blobs elided); ``method`` and ``path`` the
    registry request's (with the query string); ``fault`` the fault applied: rule ids and effects.

    A record of PutImage keeps the manifest the store holds instead of a second copy of it: the
    ``imageManifest`` parameter reads as the text the caller sent.
    """

    __slots__ = (
        "_parameters",
        "account_id",
        "duration_ms",
        "error_code",
        "fault",
        "method",
        "operation",
        "path",
        "principal",
        "region",
        "repository",
        "request_bytes",
        "response_bytes",
        "status",
        "surface",
        "time",
    )

    surface: str
    operation: str | None
    repository: str | None
    account_id: str | None
    region: str | None
    principal: str | None
    status: int
    error_code: str | None
    request_bytes: int
    response_bytes: int
    duration_ms: float
    time: float
    _parameters: dict[str, Any] | tuple[Any, ...] | None
    """The parameters as given, or, once shared, keys and values alternating in a tuple."""
    method: str | None
    path: str | None
    fault: dict[str, Any] | None

    def __init__(
        self,
        surface: str,
        operation: str | None,
        repository: str | None,
        account_id: str | None,
        region: str | None,
        principal: str | None,
        status: int,
        error_code: str | None,
        request_bytes: int,
        response_bytes: int,
        duration_ms: float,
        time: float,
        parameters: dict[str, Any] | None = None,
        method: str | None = None,
        path: str | None = None,
        fault: dict[str, Any] | None = None,
    ) -> None:
        put = object.__setattr__
        put(self, "surface", surface)
        put(self, "operation", operation)
        put(self, "repository", repository)
        put(self, "account_id", account_id)
        put(self, "region", region)
        put(self, "principal", principal)
        put(self, "status", status)
        put(self, "error_code", error_code)
        put(self, "request_bytes", request_bytes)
        put(self, "response_bytes", response_bytes)
        put(self, "duration_ms", duration_ms)
        put(self, "time", time)
        put(self, "_parameters", parameters)
        put(self, "method", method)
        put(self, "path", path)
        put(self, "fault", fault)

    @property
    def parameters(self) -> dict[str, Any] | None:
        """The API call's parameters (large blobs elided), as the caller sent them."""
        kept = self._parameters
        if not isinstance(kept, tuple):
            return kept
        pairs = zip(kept[::2], kept[1::2], strict=True)
        return {
            key: value.decode("utf-8") if type(value) is bytes else value for key, value in pairs
        }

    def _share(self, key: str, stored: bytes) -> None:
        """Keep ``stored`` (the store's bytes of the same text) instead of parameter ``key``,
        and the parameters as a tuple (a third of a small dict's size)."""
        given = self._parameters
        if not isinstance(given, dict):
            return
        kept = dict(given)
        kept[key] = stored
        object.__setattr__(self, "_parameters", tuple(v for pair in kept.items() for v in pair))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: a call record is read-only")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: a call record is read-only")

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in _FIELDS)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Call)
        return self._values() == other._values()

    __hash__ = None  # type: ignore[assignment]  # holds dicts, like the dataclass it was

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in _FIELDS)
        return f"Call({shown})"

    def __reduce__(self) -> tuple[type[Call], tuple[Any, ...]]:
        return (Call, self._values())  # copy and pickle build a record as the constructor does

    def to_dict(self) -> dict[str, Any]:
        """The record as a JSON-ready dict."""
        doc = {name: getattr(self, name) for name in _FIELDS}
        return copy.deepcopy(doc)


class CallQueries(ABC):
    """Questions about a call record; a subclass says where the records are (:meth:`snapshot`)."""

    @abstractmethod
    def snapshot(self) -> list[Call]:
        """The records now, oldest first."""

    def of(
        self,
        operation: str | None = None,
        repository: str | None = None,
        *,
        surface: str | None = None,
        status: int | None = None,
        error_code: str | None = None,
    ) -> list[Call]:
        """The records matching every given value, oldest first."""
        wanted = {
            "operation": operation,
            "repository": repository,
            "surface": surface,
            "status": status,
            "error_code": error_code,
        }
        tests = [(key, value) for key, value in wanted.items() if value is not None]
        return [
            call
            for call in self.snapshot()
            if all(getattr(call, key) == value for key, value in tests)
        ]

    def operations(self, surface: str | None = None) -> list[str | None]:
        """The operation (or route) of each record, oldest first."""
        return [call.operation for call in self.snapshot() if surface in (None, call.surface)]

    def errors(self) -> list[Call]:
        """The records answered with a status of 400 or above."""
        return [call for call in self.snapshot() if call.status >= 400]

    def __iter__(self) -> Iterator[Call]:
        return iter(self.snapshot())

    @overload
    def __getitem__(self, index: int) -> Call: ...

    @overload
    def __getitem__(self, index: slice) -> list[Call]: ...

    def __getitem__(self, index: int | slice) -> Call | list[Call]:
        return self.snapshot()[index]


class CallLog(CallQueries):
    """A thread-safe ring of :class:`Call` records with small filters.

    ``len(calls)``, ``calls[-1]``, iteration (oldest first), ``calls.of(operation=...)``,
    ``calls.operations()``; ``maxlen`` can be changed (the newest records are kept).
    """

    def __init__(
        self,
        maxlen: int = DEFAULT_MAX_CALLS,
        registries: Mapping[tuple[str, str], Registry] | None = None,
    ) -> None:
        self._check(maxlen)
        self._calls: deque[Call] = deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self._registries = registries
        """Where PutImage's stored manifests are, so a record refers to them (no second copy)."""

    @staticmethod
    def _check(maxlen: int) -> None:
        if isinstance(maxlen, bool) or not isinstance(maxlen, int) or maxlen < 1:
            raise ValueError(f"maxlen must be a positive integer, got {maxlen!r}")

    @property
    def maxlen(self) -> int:
        """How many records are kept."""
        return self._calls.maxlen or DEFAULT_MAX_CALLS

    @maxlen.setter
    def maxlen(self, value: int) -> None:
        self._check(value)
        with self._lock:
            self._calls = deque(self._calls, maxlen=value)

    def record(self, call: Call) -> None:
        """Append a record (the oldest is dropped when full)."""
        if self._registries is not None and call.operation == "PutImage" and call.status == 200:
            _share_manifest(call, self._registries)
        with self._lock:
            self._calls.append(call)

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            self._calls.clear()

    def snapshot(self) -> list[Call]:
        """The records now, oldest first."""
        with self._lock:
            return list(self._calls)

    def __len__(self) -> int:
        return len(self._calls)

    def __bool__(self) -> bool:
        return bool(self._calls)

    def __repr__(self) -> str:
        return f"<CallLog {len(self)} of {self.maxlen}>"


def _share_manifest(call: Call, registries: Mapping[tuple[str, str], Registry]) -> None:
    """Make a PutImage record keep the stored manifest's bytes instead of its own text."""
    kept = call._parameters
    text = kept.get("imageManifest") if isinstance(kept, dict) else None
    if not isinstance(text, str) or call.account_id is None or call.region is None:
        return
    reg = registries.get((call.account_id, call.region))
    repo = reg.repositories.get(call.repository) if reg is not None and call.repository else None
    if repo is None or not isinstance(kept, dict):
        return
    encoded = text.encode("utf-8", "surrogatepass")
    digest = kept.get("imageDigest")
    if not isinstance(digest, str) or digest not in repo.images:
        tag = kept.get("imageTag")
        digest = repo.tags.get(tag) if isinstance(tag, str) else None
    if digest is None:
        digest = "sha256:" + hashlib.sha256(encoded).hexdigest()
    image = repo.images.get(digest)
    if image is not None and image.manifest == encoded:
        call._share("imageManifest", image.manifest)
