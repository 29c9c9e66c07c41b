"""The replication backfill service: start, plan, run to the end, stop, find, retention."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ecr_mock import Backend, Clock
from ecr_mock.domain.errors import (
    InvalidParameter,
    ReplicationBackfillInProgress,
    ReplicationBackfillInvalidStatus,
    ReplicationBackfillNotFound,
)
from ecr_mock.domain.models import Registry, Repository
from ecr_mock.services import replication, replication_backfill, repositories
from ecr_mock.services.replication_backfill import COMPLETE, IN_PROGRESS, PREPARING, STOPPED
from tests.support.services import Push

ACCOUNT = "123456789012"
WEST = "us-west-2"


def replicate_to(ecr_backend: Backend, reg: Registry, region: str = WEST) -> None:
    replication.put_replication_configuration(
        ecr_backend, reg, [{"destinations": [{"region": region, "registryId": ACCOUNT}]}]
    )


def test_a_backfill_copies_what_was_pushed_before_replication(
    ecr_backend: Backend, reg: Registry, repo: Repository, push: Push
) -> None:
    tagged = push(tag="v1")
    push(tag="v2", seed="b")
    replicate_to(ecr_backend, reg)
    assert ecr_backend.registry(ACCOUNT, WEST).repositories == {}

    backfill = replication_backfill.start(ecr_backend, reg, WEST, ACCOUNT)
    assert (backfill.status, backfill.progress()) == (PREPARING, None)
    replication_backfill.observe(ecr_backend, reg, backfill)
    assert backfill.status == IN_PROGRESS
    assert [(p.repository_name, p.tag) for p in backfill.plan or []] == [
        ("app", "v1"),
        ("app", "v2"),
    ]
    replication_backfill.run_to_end(ecr_backend, reg, backfill)

    assert backfill.status == COMPLETE and backfill.ended_at is not None
    assert backfill.progress() == {
        "totalReplicationCount": 2,
        "completedReplicationCount": 2,
        "failedReplicationCount": 0,
        "failureCodes": [],
    }
    copy = ecr_backend.registry(ACCOUNT, WEST).repositories["app"]
    assert copy.tags["v1"] == tagged.digest
    assert backfill.visible_results()[0].to_api()["imageId"] == {
        "imageDigest": tagged.digest,
        "imageTag": "v1",
    }


def test_an_image_gone_before_its_turn_fails_its_replication(
    ecr_backend: Backend, reg: Registry, repo: Repository, push: Push
) -> None:
    push(tag="v1")
    replicate_to(ecr_backend, reg)
    backfill = replication_backfill.start(ecr_backend, reg, WEST, ACCOUNT)
    replication_backfill.observe(ecr_backend, reg, backfill)
    repositories.delete_repository(ecr_backend, reg, "app", force=True)
    replication_backfill.run_to_end(ecr_backend, reg, backfill)
    assert [r.failure_code for r in backfill.visible_results("FAILED")] == [
        "ImageNotFoundException"
    ]


def test_start_needs_a_configured_destination_and_one_per_region(
    ecr_backend: Backend, reg: Registry
) -> None:
    with pytest.raises(InvalidParameter) as unconfigured:
        replication_backfill.start(ecr_backend, reg, WEST, ACCOUNT)
    assert "is not in the registry's replication configuration" in unconfigured.value.message
    replicate_to(ecr_backend, reg)
    first = replication_backfill.start(ecr_backend, reg, WEST, ACCOUNT)
    with pytest.raises(ReplicationBackfillInProgress):
        replication_backfill.start(ecr_backend, reg, WEST, ACCOUNT)
    replication_backfill.stop(ecr_backend, reg, first.backfill_id)
    assert replication_backfill.start(ecr_backend, reg, WEST, ACCOUNT) is not first


def test_stop_get_and_the_ninety_day_retention(
    ecr_backend: Backend, ecr_clock: Clock, reg: Registry
) -> None:
    ecr_clock.freeze(ecr_clock.now())
    replicate_to(ecr_backend, reg)
    backfill = replication_backfill.start(ecr_backend, reg, WEST, ACCOUNT)
    assert replication_backfill.get(ecr_backend, reg, backfill.backfill_id.upper()) is backfill
    replication_backfill.stop(ecr_backend, reg, backfill.backfill_id)
    assert backfill.status == STOPPED and backfill.summary()["endedAt"] == ecr_clock.now()
    with pytest.raises(ReplicationBackfillInvalidStatus):
        replication_backfill.stop(ecr_backend, reg, backfill.backfill_id)
    ecr_clock.advance(timedelta(days=90, seconds=1))
    assert replication_backfill.backfills(ecr_backend, reg) == []
    with pytest.raises(ReplicationBackfillNotFound):
        replication_backfill.get(ecr_backend, reg, backfill.backfill_id)
