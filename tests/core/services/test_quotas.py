"""Quotas mode's token buckets: the documented rates, refill on the injected clock, per key."""

from __future__ import annotations

import pytest

from ecr_mock.protocols.registry.spec import ROUTE_SPECS
from ecr_mock.store.quotas import API_RATE_QUOTAS, Quotas


class FakeTime:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_the_documented_rates() -> None:
    assert dict(API_RATE_QUOTAS) == {
        "BatchCheckLayerAvailability": 1000,
        "BatchGetImage": 2000,
        "CompleteLayerUpload": 100,
        "GetAuthorizationToken": 500,
        "GetDownloadUrlForLayer": 3000,
        "InitiateLayerUpload": 100,
        "PutImage": 10,
        "UploadLayerPart": 500,
    }
    quotas = {spec.quota for spec in ROUTE_SPECS.values() if spec.quota is not None}
    assert quotas <= set(API_RATE_QUOTAS)


def test_off_by_default_and_for_operations_without_a_rate() -> None:
    quotas = Quotas(time_source=FakeTime())
    assert all(quotas.allow("111111111111", "us-east-1", "PutImage") for _ in range(100))
    quotas.enabled = True
    assert all(quotas.allow("111111111111", "us-east-1", "ListImages") for _ in range(100))


@pytest.mark.parametrize(("operation", "rate"), sorted(API_RATE_QUOTAS.items()))
def test_a_full_bucket_passes_one_second_of_requests_then_refills_at_the_rate(
    operation: str, rate: float
) -> None:
    now = FakeTime()
    quotas = Quotas(enabled=True, time_source=now)
    granted = sum(
        quotas.allow("111111111111", "us-east-1", operation) for _ in range(int(rate) + 5)
    )
    assert granted == rate
    now.now += 2.5 / rate  # two and a half tokens back
    assert [quotas.allow("111111111111", "us-east-1", operation) for _ in range(3)] == [
        True,
        True,
        False,
    ]
    now.now += 60  # never more than one second's worth
    granted = sum(
        quotas.allow("111111111111", "us-east-1", operation) for _ in range(int(rate) + 5)
    )
    assert granted == rate


def test_buckets_are_per_account_region_and_operation() -> None:
    quotas = Quotas(enabled=True, time_source=FakeTime())
    for _ in range(10):
        assert quotas.allow("111111111111", "us-east-1", "PutImage")
    assert not quotas.allow("111111111111", "us-east-1", "PutImage")
    assert quotas.allow("222222222222", "us-east-1", "PutImage")
    assert quotas.allow("111111111111", "eu-west-1", "PutImage")
    assert quotas.allow("111111111111", "us-east-1", "CompleteLayerUpload")
    manifest_put, tags_list = ROUTE_SPECS["manifest", "PUT"], ROUTE_SPECS["tags_list", "GET"]
    assert not quotas.allow("111111111111", "us-east-1", manifest_put.quota)
    assert quotas.allow("111111111111", "us-east-1", tags_list.quota)
    quotas.reset()
    assert quotas.allow("111111111111", "us-east-1", "PutImage")
