"""The call record: a bounded ring, filters, resizing, JSON form."""

from __future__ import annotations

import json

import pytest

from ecr_mock.store.calls import DEFAULT_MAX_CALLS, Call, CallLog


def call(
    operation: str, repository: str | None = "app", status: int = 200, **extra: object
) -> Call:
    return Call(
        surface=str(extra.pop("surface", "api")),
        operation=operation,
        repository=repository,
        account_id="123456789012",
        region="us-east-1",
        principal=None,
        status=status,
        error_code=None if status < 400 else "X",
        request_bytes=1,
        response_bytes=2,
        duration_ms=0.5,
        time=0.0,
    )


def test_default_size_and_ring_behaviour() -> None:
    log = CallLog()
    assert log.maxlen == DEFAULT_MAX_CALLS == 10_000
    small = CallLog(maxlen=3)
    for index in range(5):
        small.record(call(f"Op{index}"))
    assert [c.operation for c in small] == ["Op2", "Op3", "Op4"]
    assert small[-1].operation == "Op4" and [c.operation for c in small[:1]] == ["Op2"]
    small.maxlen = 2
    assert small.operations() == ["Op3", "Op4"]
    small.maxlen = 10
    small.record(call("Op5"))
    assert small.operations() == ["Op3", "Op4", "Op5"]
    small.clear()
    assert len(small) == 0 and not small


@pytest.mark.parametrize("bad", [0, -1, True, "5"])
def test_sizes_must_be_positive_integers(bad: object) -> None:
    with pytest.raises(ValueError, match="positive integer"):
        CallLog(maxlen=bad)  # type: ignore[arg-type]


def test_filters() -> None:
    log = CallLog()
    log.record(call("PutImage", "a"))
    log.record(call("PutImage", "b", status=400))
    log.record(call("manifest.get", "a", surface="registry"))
    assert [c.repository for c in log.of(operation="PutImage")] == ["a", "b"]
    assert [c.operation for c in log.of(repository="a")] == ["PutImage", "manifest.get"]
    assert [c.operation for c in log.of(surface="registry")] == ["manifest.get"]
    assert [c.repository for c in log.of(status=400)] == ["b"]
    assert [c.repository for c in log.errors()] == ["b"]
    assert log.operations(surface="api") == ["PutImage", "PutImage"]
    assert json.loads(json.dumps(log[0].to_dict()))["operation"] == "PutImage"
