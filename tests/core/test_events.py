"""Tests for the EventBridge-shaped event log and its forwarding to moto's EventBridge."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import boto3
import pytest

from ecr_mock.runtime.providers import moto_events
from ecr_mock.store.events import IMAGE_ACTION, IMAGE_SCAN, LIFECYCLE_ACTION, EventLog
from tests.core.services.test_lifecycle import START, World, policy, rule

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture
def world() -> World:
    return World()


def test_push_is_recorded_as_an_ecr_image_action_push(world: World) -> None:
    image = world.push("a", tag="latest")

    [event] = world.backend.events.all()

    assert UUID.match(event["id"])
    assert {k: v for k, v in event.items() if k != "id"} == {
        "version": "0",
        "detail-type": "ECR Image Action",
        "source": "aws.ecr",
        "account": "123456789012",
        "time": START.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "result": "SUCCESS",
            "repository-name": "team/app",
            "image-digest": image.digest,
            "action-type": "PUSH",
            "image-tag": "latest",
        },
    }


def test_untagged_push_has_no_image_tag_and_delete_is_recorded(world: World) -> None:
    image = world.push("a")
    world.clock.advance(hours=1)
    world.backend.delete_image(world.repo, digest=image.digest)

    push, delete = world.backend.events.of_type(IMAGE_ACTION)

    assert "image-tag" not in push["detail"]
    assert delete["detail"]["action-type"] == "DELETE"
    assert delete["detail"]["image-digest"] == image.digest
    assert delete["time"] == "2026-01-10T13:00:00Z"


def test_scan_completion_is_recorded_with_only_nonzero_severity_counts(world: World) -> None:
    image = world.push("a", tag="v1")
    world.backend.events.clear()

    world.backend.emit(
        "scan-completed",
        {
            "repository": world.repo,
            "image": image,
            "findings_summary": {"findingSeverityCounts": {"CRITICAL": 2, "LOW": 0, "HIGH": 1}},
        },
    )

    [event] = world.backend.events.of_type(IMAGE_SCAN)
    assert event["resources"] == [world.repo.arn]
    assert event["detail"] == {
        "scan-status": "COMPLETE",
        "repository-name": "team/app",
        "finding-severity-counts": {"CRITICAL": 2, "HIGH": 1},
        "image-digest": image.digest,
        "image-tags": ["v1"],
    }


def test_lifecycle_actions_are_recorded_per_image(world: World) -> None:
    expired = world.push("old")
    archived = world.push("cold", tag="v1")
    world.repo.lifecycle_policy_text = policy(
        rule(1, "untagged", "sinceImagePushed", 5),
        rule(2, "any", "sinceImagePushed", 5, action="transition"),
    )
    world.clock.advance(days=6)

    world.backend.apply_lifecycle_policies()

    events = world.backend.events.of_type(LIFECYCLE_ACTION)
    assert [e["detail"] for e in events] == [
        {
            "result": "SUCCESS",
            "repository-name": "team/app",
            "image-digest": expired.digest,
            "image-tags": [],
            "action-type": "EXPIRE",
            "rule-priority": 1,
            "image-pushed-at": "2026-01-10T12:00:00Z",
        },
        {
            "result": "SUCCESS",
            "repository-name": "team/app",
            "image-digest": archived.digest,
            "image-tags": ["v1"],
            "action-type": "TRANSITION",
            "rule-priority": 2,
            "image-pushed-at": "2026-01-10T12:00:00Z",
            "target-storage-class": "ARCHIVE",
        },
    ]
    assert all(e["resources"] == [world.repo.arn] for e in events)
    assert [e["detail"]["action-type"] for e in world.backend.events.of_type(IMAGE_ACTION)] == [
        "PUSH",
        "PUSH",
        "DELETE",
    ]


def test_subscribers_receive_events_and_a_failing_one_breaks_nothing(world: World) -> None:
    received: list[str] = []

    def broken(_event: dict[str, Any]) -> None:
        raise RuntimeError("boom")

    world.backend.events.subscribe(broken)
    unsubscribe = world.backend.events.subscribe(lambda e: received.append(e["detail-type"]))
    world.push("a", tag="one")
    unsubscribe()
    world.push("b", tag="two")

    assert received == ["ECR Image Action"]
    assert len(world.backend.events) == 2


def test_log_keeps_the_newest_events_and_installing_twice_records_once(world: World) -> None:
    log = EventLog(max_events=2)
    log.install(world.backend)
    log.install(world.backend)
    for seed in ("a", "b", "c"):
        world.push(seed, tag=seed)

    assert [e["detail"]["image-tag"] for e in log.all()] == ["b", "c"]


def test_event_times_come_from_the_backend_clock(world: World) -> None:
    world.clock.freeze(datetime(2030, 5, 6, 7, 8, 9, tzinfo=timezone.utc))
    world.push("a")

    assert world.backend.events.all()[-1]["time"] == "2030-05-06T07:08:09Z"


# --------------------------------------------------------------------------- moto EventBridge


@pytest.fixture
def moto_queue() -> Iterator[tuple[Any, str]]:
    from moto import mock_aws

    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        events = boto3.client("events", region_name="us-east-1")
        url = sqs.create_queue(QueueName="ecr-events")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_rule(Name="ecr", EventPattern=json.dumps({"source": ["aws.ecr"]}))
        events.put_targets(Rule="ecr", Targets=[{"Id": "queue", "Arn": arn}])
        yield sqs, url


def test_events_reach_moto_eventbridge_rules_while_moto_is_active(
    world: World, moto_queue: tuple[Any, str]
) -> None:
    sqs, url = moto_queue
    undo = moto_events.install(world.backend)
    assert moto_events.install(world.backend) is undo

    image = world.push("a", tag="latest")

    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    bodies = [json.loads(m["Body"]) for m in messages]
    assert [(b["source"], b["detail-type"]) for b in bodies] == [("aws.ecr", "ECR Image Action")]
    assert bodies[0]["detail"]["image-digest"] == image.digest
    assert bodies[0]["detail"]["image-tag"] == "latest"

    undo()
    world.push("b", tag="next")
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []


def test_forwarder_does_nothing_when_moto_is_not_active(world: World) -> None:
    forwarder = moto_events.MotoEventForwarder()
    world.backend.events.subscribe(forwarder)

    world.push("a", tag="latest")

    assert not moto_events.moto_active()
    assert (forwarder.forwarded, forwarder.errors) == (0, [])


def test_core_event_modules_import_no_moto_or_boto() -> None:
    code = (
        "import sys, ecr_mock.store.events, ecr_mock.services.lifecycle;"
        "print(sorted(m for m in ('moto', 'boto3', 'botocore', 'werkzeug') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
