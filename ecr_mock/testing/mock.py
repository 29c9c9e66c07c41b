"""``mock_ecr``: serve every boto3 ECR call and ECR registry request in this process."""

from __future__ import annotations

import functools
import inspect
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ecr_mock.domain.names import DEFAULT_ACCOUNT, DEFAULT_REGION
from ecr_mock.runtime import providers
from ecr_mock.runtime.intercept import botocore_hook, requests_hook
from ecr_mock.services.backend import Backend
from ecr_mock.store.clock import Clock
from ecr_mock.testing.seeding import call_operation

if TYPE_CHECKING:
    from ecr_mock.store.fault_rules import FaultCatalog

F = TypeVar("F", bound=Callable[..., Any])


class mock_ecr:
    """Context manager and decorator: ECR goes to an in-memory backend while active.

    Each instance starts with an empty backend unless ``backend`` is given. Starting an active
    mock again, or nesting mocks, is harmless; the innermost active mock answers.

    ``allow_missing_layers=True`` accepts manifests whose layers were never uploaded and
    manifest lists whose images were never pushed, as moto does (see
    ``Backend.allow_missing_layers``); left out, ``ECR_MOCK_ALLOW_MISSING_LAYERS`` decides, and
    unset it is off, as in ECR. Given with a shared ``backend``, it changes that backend.
    """

    def __new__(cls, backend: Any = None, **kwargs: Any) -> Any:
        """``@mock_ecr`` without parentheses decorates directly, like ``@mock_ecr()``."""
        if backend is not None and not isinstance(backend, Backend) and callable(backend):
            return cls(**kwargs)(backend)
        return super().__new__(cls)

    def __init__(
        self,
        backend: Backend | None = None,
        *,
        account_id: str = DEFAULT_ACCOUNT,
        region: str = DEFAULT_REGION,
        clock: Clock | None = None,
        allow_missing_layers: bool | None = None,
        enforce_quotas: bool = False,
        max_calls: int | None = None,
    ) -> None:
        self._shared = backend is not None
        self._options = {"account_id": account_id, "region": region}
        self._clock = clock
        self._enforce_quotas = enforce_quotas
        self._max_calls = max_calls
        self._allow_missing_layers = allow_missing_layers
        if backend is None:
            allow = allow_missing_layers
            if allow is None:
                allow = allow_missing_layers_default()
            backend = Backend(account_id, region, clock=clock, allow_missing_layers=allow)
        elif allow_missing_layers is not None:
            backend.allow_missing_layers = allow_missing_layers
        self.backend = self._prepare(backend)
        self._depth = 0
        self._saved_env: dict[str, str | None] = {}
        self._undo_events: Callable[[], None] | None = None

    def _prepare(self, backend: Backend) -> Backend:
        """Fault rules, seeding, quotas mode and the call record's size, as this mock was asked.

        The fault catalog and the in-process API for seeding load when first used, so a mock
        that never uses them does not pay for importing them.
        """
        if backend.fault_catalog is None:
            backend.fault_catalog = _fault_catalog
        if backend.operation_caller is None:
            backend.operation_caller = _call_operation
        if self._enforce_quotas:
            backend.quotas.enabled = True
        if self._max_calls is not None:
            backend.calls.maxlen = self._max_calls
        return backend

    @property
    def active(self) -> bool:
        """True between start and stop."""
        return self._depth > 0

    def start(self) -> Backend:
        """Begin answering (harmless when already started); returns the backend."""
        if self._depth == 0:
            providers.install(self.backend)
            botocore_hook.push(self.backend)
            requests_hook.install(botocore_hook.active_backend)
            self._saved_env = _fake_credentials()
            if "moto" in sys.modules:  # forward events to moto's EventBridge only beside moto
                from ecr_mock.runtime.providers import moto_events

                self._undo_events = moto_events.install(self.backend)
        self._depth += 1
        return self.backend

    def stop(self) -> None:
        """Stop answering once every start has been matched by a stop."""
        if self._depth == 0:
            return
        self._depth -= 1
        if self._depth == 0:
            botocore_hook.pop(self.backend)
            if botocore_hook.active_backend() is None:
                requests_hook.uninstall()
            _restore_env(self._saved_env)
            if self._undo_events is not None:
                self._undo_events()
                self._undo_events = None

    def reset(self) -> None:
        """Drop all state: a fresh empty backend with the same settings."""

        fresh = self._per_call().backend
        if self.active:
            providers.install(fresh)
            botocore_hook.pop(self.backend)
            botocore_hook.push(fresh)
        self.backend = fresh

    def __enter__(self) -> Backend:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __call__(self, target: F) -> F:
        """Decorate a function (a fresh backend per call) or a class (per test method)."""
        if inspect.isclass(target):
            return self._decorate_class(target)  # type: ignore[return-value]
        return self._decorate_function(target)

    def _per_call(self) -> mock_ecr:
        if self._shared:
            return mock_ecr(self.backend)
        return mock_ecr(
            account_id=self._options["account_id"],
            region=self._options["region"],
            clock=self._clock,
            allow_missing_layers=self._allow_missing_layers,
            enforce_quotas=self._enforce_quotas,
            max_calls=self._max_calls,
        )

    def _decorate_function(self, func: F) -> F:
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with self._per_call():
                    return await func(*args, **kwargs)

            return run_async  # type: ignore[return-value]

        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            with self._per_call():
                return func(*args, **kwargs)

        return run  # type: ignore[return-value]

    def _decorate_class(self, cls: type) -> type:
        set_up = getattr(cls, "setUp", None)
        if set_up is not None and hasattr(cls, "addCleanup"):
            owner = self

            @functools.wraps(set_up)
            def wrapped_set_up(test: Any, *args: Any, **kwargs: Any) -> Any:
                mock = owner._per_call()
                mock.start()
                test.addCleanup(mock.stop)
                return set_up(test, *args, **kwargs)

            cls.setUp = wrapped_set_up  # type: ignore[attr-defined]
            return cls
        for name, member in list(vars(cls).items()):
            if name.startswith("test") and callable(member):
                setattr(cls, name, self._decorate_function(member))
        return cls


def _fault_catalog() -> FaultCatalog:
    """The names fault rules may use (``ecr_mock.testing.faults.catalog``, loaded on first use)."""
    from ecr_mock.testing.faults import catalog

    return catalog()


def _call_operation(
    backend: Backend, operation: str, params: dict[str, Any], account: str, region: str
) -> tuple[int, dict[str, Any]]:
    """``ecr_mock.testing.seeding.call_operation``, loaded on first use (``backend.seed``)."""

    return call_operation(backend, operation, params, account, region)


ALLOW_MISSING_LAYERS_ENV = "ECR_MOCK_ALLOW_MISSING_LAYERS"
"""Environment variable giving ``allow_missing_layers`` to every ``mock_ecr()`` not passing it."""

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


def allow_missing_layers_default() -> bool:
    """``ECR_MOCK_ALLOW_MISSING_LAYERS`` read now: 1/true/yes/on, or 0/false/no/off/unset."""
    value = os.environ.get(ALLOW_MISSING_LAYERS_ENV, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"{ALLOW_MISSING_LAYERS_ENV}={os.environ[ALLOW_MISSING_LAYERS_ENV]!r}: "
        "expected 1, true, yes, on, 0, false, no or off"
    )


_FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIAECRMOCKTESTING00",
    "AWS_SECRET_ACCESS_KEY": "ecr-mock",
}


def _fake_credentials() -> dict[str, str | None]:
    """Set test credentials where none are configured, so boto3 can sign offline."""
    saved: dict[str, str | None] = {}
    if os.environ.get("AWS_ACCESS_KEY_ID") or os.environ.get("AWS_PROFILE"):
        return saved
    for key, value in _FAKE_CREDENTIALS.items():
        saved[key] = os.environ.get(key)
        os.environ[key] = value
    return saved


def _restore_env(saved: dict[str, str | None]) -> None:
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
