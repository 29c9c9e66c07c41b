"""The call record: every API and /v2/ request a backend answered, in a bounded ring."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any, overload

__all__ = ["DEFAULT_MAX_CALLS", "Call", "CallLog", "CallQueries"]

DEFAULT_MAX_CALLS = 10_000
"""How many calls a backend remembers by default (the oldest go first)."""


@dataclass(frozen=True, slots=True)
class Call:
    """One request as the backend saw and answered it."""

    surface: str
    """``"api"`` (ECR JSON 1.1) or ``"registry"`` (/v2/)."""
    operation: str | None
    """The ECR operation (``PutImage``) or the registry route (``manifest.put``)."""
    repository: str | None
    account_id: str | None
    region: str | None
    principal: str | None
    """The caller's ARN, when known."""
    status: int
    error_code: str | None
    """``__type`` of an API error, or the OCI code of a registry error."""
    request_bytes: int
    response_bytes: int
    duration_ms: float
    time: float
    """Wall-clock time the request arrived (seconds since the epoch)."""
    parameters: dict[str, Any] | None = None
    """The API call's parameters (large blobs elided)."""
    method: str | None = None
    path: str | None = None
    """The registry request's method and path (with the query string)."""
    fault: dict[str, Any] | None = None
    """The fault applied, if any: rule ids and effects."""

    def to_dict(self) -> dict[str, Any]:
        """The record as a JSON-ready dict."""
        return asdict(self)


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

    def __init__(self, maxlen: int = DEFAULT_MAX_CALLS) -> None:
        self._check(maxlen)
        self._calls: deque[Call] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

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
