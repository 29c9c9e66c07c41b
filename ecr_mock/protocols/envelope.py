"""The call envelope both protocols share: fault before, quota, run, fault after commit, record.

Each adapter resolves the call's name and caller (after ``store.tick()``) into a
:class:`CallFacts`, hands :func:`guarded` the work and its own wire answers (a fault's error, a
throttle), and records the call with :func:`record`. So a fault rule or a quota acts the same
on the ECR API and on ``/v2/``, and every call leaves the same kind of record.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from ecr_mock.store.calls import Call
from ecr_mock.store.fault_rules import Fault, FaultRequest
from ecr_mock.store.state import Store

__all__ = ["CallFacts", "guarded", "record"]

R = TypeVar("R")


@dataclass
class CallFacts:
    """What a call turned out to be; the adapter fills it in as it resolves the call."""

    surface: Literal["api", "registry"]
    operation: str | None = None
    """The ECR operation or the registry route's fault name."""
    repository: str | None = None
    account: str | None = None
    region: str | None = None
    principal: str | None = None
    service: str | None = None
    """``ecr`` or ``ecr-public`` (None: neither, e.g. an unknown registry)."""
    quota: str | None = None
    """The quota bucket the call draws from (None: none)."""
    quota_account: str | None = None
    """The account whose quota the call counts against, when not ``account`` (the API's
    caller, whatever registry it names)."""
    fault: Fault | None = None
    """The fault rules' verdict, once :func:`guarded` asked for it."""
    wall: float = field(default_factory=time.time)
    started: float = field(default_factory=time.perf_counter)


def _evaluate(store: Store, facts: CallFacts) -> Fault | None:
    """The fault rules' verdict on the call; sleeps the delay they ask for."""
    rules = store.fault_rules_if_any()
    if rules is None:
        return None
    fault = rules.evaluate(
        FaultRequest(
            facts.surface,
            facts.operation,
            facts.repository,
            facts.account,
            facts.region,
            service=facts.service,
        )
    )
    if fault is not None and fault.delay_ms:
        time.sleep(fault.delay_ms / 1000)
    return fault


def guarded(
    store: Store,
    facts: CallFacts,
    run: Callable[[], R],
    *,
    refuse: Callable[[Fault], R],
    throttle: Callable[[], R],
    errors: tuple[type[BaseException], ...],
    discard: Callable[[R], None] = lambda result: None,
) -> R:
    """Fault before, quota, ``run()``, fault after commit: the call's answer.

    A fault with an error that is not ``after_commit`` answers ``refuse(fault)`` without
    running; a call over its quota (``facts.quota_account`` or ``facts.account``, in
    ``facts.quota``'s bucket) answers ``throttle()``. An
    ``after_commit`` fault runs the call first (its result, or one of ``errors`` it raises, is
    dropped: ``discard(result)``), then answers ``refuse(fault)``.
    """
    fault = _evaluate(store, facts)
    facts.fault = fault
    failing = fault is not None and fault.error is not None
    if failing and fault is not None and not fault.after_commit:
        return refuse(fault)
    account = facts.quota_account or facts.account or ""
    if facts.quota is not None and not store.within_quota(account, facts.region or "", facts.quota):
        return throttle()
    if not failing or fault is None:
        return run()
    try:
        result = run()
    except errors:
        return refuse(fault)
    discard(result)
    return refuse(fault)


def record(
    store: Store,
    facts: CallFacts,
    status: int,
    error_code: str | None,
    request_bytes: int,
    response_bytes: int,
    **extra: Any,
) -> None:
    """Record the call (``extra``: ``parameters``, or the registry's ``method`` and ``path``)."""
    fault = facts.fault
    store.calls.record(
        Call(
            surface=facts.surface,
            operation=facts.operation,
            repository=facts.repository,
            account_id=facts.account,
            region=facts.region,
            principal=facts.principal,
            status=status,
            error_code=error_code,
            request_bytes=request_bytes,
            response_bytes=response_bytes,
            duration_ms=round((time.perf_counter() - facts.started) * 1000, 3),
            time=facts.wall,
            fault=fault.to_dict() if fault is not None else None,
            **extra,
        )
    )
