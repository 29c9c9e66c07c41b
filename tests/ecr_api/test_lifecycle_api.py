"""Lifecycle previews and applied policies through boto3: statuses, results, summary, errors."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ecr_mock import Clock
from ecr_mock.services.backend import Backend
from tests.ecr_api.helpers import call, error, push_image

REPO = "team/app"
START = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)

pytestmark = [
    pytest.mark.ecr_seed({"repositories": [{"name": REPO}]}),
    pytest.mark.frozen_at(START),
]


def policy(*rules: dict[str, Any]) -> str:
    return json.dumps({"rules": list(rules)})


def rule(
    priority: int, tag_status: str, count_type: str, count: int, action: str = "expire", **sel: Any
) -> dict[str, Any]:
    selection: dict[str, Any] = {
        "tagStatus": tag_status,
        "countType": count_type,
        "countNumber": count,
    }
    if count_type != "imageCountMoreThan":
        selection["countUnit"] = "days"
    selection.update(sel)
    act: dict[str, Any] = {"type": action}
    if action == "transition":
        act["targetStorageClass"] = "archive"
    return {"rulePriority": priority, "selection": selection, "action": act}


UNTAGGED_AFTER_1_DAY = policy(rule(1, "untagged", "sinceImagePushed", 1))


def image_count(client: Any) -> int:
    return len(client.describe_images(repositoryName=REPO)["imageDetails"])


def push_untagged(client: Any, clock: Clock, count: int) -> list[str]:
    digests = []
    for i in range(count):
        digests.append(push_image(client, REPO, f"untagged-{i}", layer_count=1).digest)
        clock.advance(minutes=1)
    return digests


def test_start_then_get_reports_in_progress_then_complete_with_results(
    ecr_client: Any, ecr_clock: Clock
) -> None:
    old = push_image(ecr_client, REPO, "old", layer_count=1)
    push_image(ecr_client, REPO, "tagged", tag="v1", layer_count=1)
    ecr_clock.advance(days=2)

    started = ecr_client.start_lifecycle_policy_preview(
        repositoryName=REPO, lifecyclePolicyText=UNTAGGED_AFTER_1_DAY
    )
    got = ecr_client.get_lifecycle_policy_preview(repositoryName=REPO)

    assert started["status"] == "IN_PROGRESS"
    assert started["lifecyclePolicyText"] == UNTAGGED_AFTER_1_DAY
    assert (started["registryId"], started["repositoryName"]) == ("123456789012", REPO)
    assert got["status"] == "COMPLETE"
    assert got["lifecyclePolicyText"] == UNTAGGED_AFTER_1_DAY
    assert got["previewResults"] == [
        {
            "imageTags": [],
            "imageDigest": old.digest,
            "imagePushedAt": START,
            "action": {"type": "EXPIRE"},
            "appliedRulePriority": 1,
            "storageClass": "STANDARD",
        }
    ]
    assert got["summary"] == {"expiringImageTotalCount": 1}
    assert image_count(ecr_client) == 2


def test_the_waiter_completes_on_a_started_preview(ecr_client: Any) -> None:
    ecr_client.start_lifecycle_policy_preview(
        repositoryName=REPO, lifecyclePolicyText=UNTAGGED_AFTER_1_DAY
    )

    ecr_client.get_waiter("lifecycle_policy_preview_complete").wait(
        repositoryName=REPO, WaiterConfig={"Delay": 1, "MaxAttempts": 2}
    )

    assert ecr_client.get_lifecycle_policy_preview(repositoryName=REPO)["status"] == "COMPLETE"


def test_stored_policy_is_used_when_no_text_is_given(ecr_client: Any, ecr_clock: Clock) -> None:
    push_untagged(ecr_client, ecr_clock, 3)
    keep_two = policy(rule(1, "untagged", "imageCountMoreThan", 2))
    ecr_client.put_lifecycle_policy(repositoryName=REPO, lifecyclePolicyText=keep_two)

    started = ecr_client.start_lifecycle_policy_preview(repositoryName=REPO)

    assert json.loads(started["lifecyclePolicyText"]) == json.loads(keep_two)
    summary = ecr_client.get_lifecycle_policy_preview(repositoryName=REPO)["summary"]
    assert summary == {"expiringImageTotalCount": 1}
    assert image_count(ecr_client) == 3


def test_preview_errors_name_the_exceptions_of_the_model(ecr_client: Any) -> None:
    with pytest.raises(ClientError) as missing_preview:
        ecr_client.get_lifecycle_policy_preview(repositoryName=REPO)
    with pytest.raises(ClientError) as missing_policy:
        ecr_client.start_lifecycle_policy_preview(repositoryName=REPO)
    with pytest.raises(ClientError) as missing_repo:
        ecr_client.start_lifecycle_policy_preview(repositoryName="nope/none")
    ecr_client.start_lifecycle_policy_preview(
        repositoryName=REPO, lifecyclePolicyText=UNTAGGED_AFTER_1_DAY
    )
    with pytest.raises(ClientError) as in_progress:
        ecr_client.start_lifecycle_policy_preview(
            repositoryName=REPO, lifecyclePolicyText=UNTAGGED_AFTER_1_DAY
        )

    assert error(missing_preview)[0] == "LifecyclePolicyPreviewNotFoundException"
    assert error(missing_policy)[0] == "LifecyclePolicyNotFoundException"
    assert error(missing_repo)[0] == "RepositoryNotFoundException"
    assert error(in_progress)[0] == "LifecyclePolicyPreviewInProgressException"


def test_invalid_policy_text_is_refused_with_ecr_wording_and_stores_nothing(
    ecr_client: Any,
) -> None:
    bad = policy(rule(1, "tagged", "sinceImagePushed", 1))

    with pytest.raises(ClientError) as refused:
        ecr_client.start_lifecycle_policy_preview(repositoryName=REPO, lifecyclePolicyText=bad)

    code, message = error(refused)
    assert code == "InvalidParameterException"
    assert message == (
        "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: "
        "'Lifecycle policy validation failure: Must specify tagPrefixList or tagPatternList "
        "when tagStatus=TAGGED.'"
    )
    with pytest.raises(ClientError) as none:
        ecr_client.get_lifecycle_policy_preview(repositoryName=REPO)
    assert error(none)[0] == "LifecyclePolicyPreviewNotFoundException"


def test_results_paginate_by_max_results_and_the_paginator_collects_all(
    ecr_client: Any, ecr_clock: Clock
) -> None:
    digests = push_untagged(ecr_client, ecr_clock, 5)
    ecr_clock.advance(days=2)
    ecr_client.start_lifecycle_policy_preview(
        repositoryName=REPO, lifecyclePolicyText=UNTAGGED_AFTER_1_DAY
    )

    first = ecr_client.get_lifecycle_policy_preview(repositoryName=REPO, maxResults=2)
    second = ecr_client.get_lifecycle_policy_preview(
        repositoryName=REPO, maxResults=2, nextToken=first["nextToken"]
    )
    pages = ecr_client.get_paginator("get_lifecycle_policy_preview").paginate(
        repositoryName=REPO, PaginationConfig={"PageSize": 2}
    )
    collected = [r["imageDigest"] for page in pages for r in page["previewResults"]]

    assert [r["imageDigest"] for r in first["previewResults"]] == digests[:2]
    assert [r["imageDigest"] for r in second["previewResults"]] == digests[2:4]
    assert first["summary"] == {"expiringImageTotalCount": 5}
    assert collected == digests


def test_max_results_above_100_is_refused(ecr_backend: Backend) -> None:
    call(
        ecr_backend,
        "StartLifecyclePolicyPreview",
        {"repositoryName": REPO, "lifecyclePolicyText": UNTAGGED_AFTER_1_DAY},
    )

    status, body = call(
        ecr_backend, "GetLifecyclePolicyPreview", {"repositoryName": REPO, "maxResults": 101}
    )

    assert status == 400
    assert body["__type"] in ("InvalidParameterException", "ValidationException")


def test_image_ids_and_tag_status_filter_narrow_the_results(
    ecr_client: Any, ecr_clock: Clock
) -> None:
    untagged = push_untagged(ecr_client, ecr_clock, 2)
    tagged = push_image(ecr_client, REPO, "rc", tag="rc-1", layer_count=1).digest
    ecr_clock.advance(days=2)
    ecr_client.start_lifecycle_policy_preview(
        repositoryName=REPO,
        lifecyclePolicyText=policy(
            rule(1, "untagged", "sinceImagePushed", 1),
            rule(2, "any", "sinceImagePushed", 1),
        ),
    )

    by_id = ecr_client.get_lifecycle_policy_preview(
        repositoryName=REPO, imageIds=[{"imageTag": "rc-1"}, {"imageDigest": untagged[1]}]
    )
    only_tagged = ecr_client.get_lifecycle_policy_preview(
        repositoryName=REPO, filter={"tagStatus": "TAGGED"}
    )
    only_untagged = ecr_client.get_lifecycle_policy_preview(
        repositoryName=REPO, filter={"tagStatus": "UNTAGGED"}
    )
    with pytest.raises(ClientError) as mixed:
        ecr_client.get_lifecycle_policy_preview(
            repositoryName=REPO, imageIds=[{"imageTag": "rc-1"}], maxResults=5
        )

    assert sorted(r["imageDigest"] for r in by_id["previewResults"]) == sorted(
        [tagged, untagged[1]]
    )
    assert [
        (r["imageDigest"], r["appliedRulePriority"]) for r in only_tagged["previewResults"]
    ] == [(tagged, 2)]
    assert [r["imageDigest"] for r in only_untagged["previewResults"]] == untagged
    assert error(mixed)[0] == "InvalidParameterException"


def test_transition_preview_reports_the_target_and_the_transition_summary(
    ecr_client: Any, ecr_clock: Clock
) -> None:
    push_image(ecr_client, REPO, "a", tag="v1", layer_count=1)
    push_image(ecr_client, REPO, "b", tag="v2", layer_count=1)
    ecr_clock.advance(days=31)
    ecr_client.start_lifecycle_policy_preview(
        repositoryName=REPO,
        lifecyclePolicyText=policy(rule(1, "any", "sinceImagePushed", 30, action="transition")),
    )

    got = ecr_client.get_lifecycle_policy_preview(repositoryName=REPO)

    assert {r["action"]["type"] for r in got["previewResults"]} == {"TRANSITION"}
    assert {r["action"]["targetStorageClass"] for r in got["previewResults"]} == {"ARCHIVE"}
    assert got["summary"] == {
        "expiringImageTotalCount": 0,
        "transitioningImageTotalCounts": [{"targetStorageClass": "ARCHIVE", "imageTotalCount": 2}],
    }
    statuses = {
        d["imageStatus"] for d in ecr_client.describe_images(repositoryName=REPO)["imageDetails"]
    }
    assert statuses == {"ACTIVE"}


def test_stored_policy_is_applied_by_tick_after_the_clock_moves(
    ecr_client: Any, ecr_backend: Backend, ecr_clock: Clock
) -> None:
    old = push_untagged(ecr_client, ecr_clock, 1)[0]
    kept = push_image(ecr_client, REPO, "kept", tag="v1", layer_count=1).digest
    ecr_client.put_lifecycle_policy(repositoryName=REPO, lifecyclePolicyText=UNTAGGED_AFTER_1_DAY)
    ecr_backend.tick()
    assert image_count(ecr_client) == 2

    ecr_clock.advance(days=2)
    ecr_backend.tick()

    remaining = [
        d["imageDigest"] for d in ecr_client.describe_images(repositoryName=REPO)["imageDetails"]
    ]
    assert remaining == [kept]
    failures = ecr_client.batch_get_image(repositoryName=REPO, imageIds=[{"imageDigest": old}])[
        "failures"
    ]
    assert [f["failureCode"] for f in failures] == ["ImageNotFound"]


def test_transitioned_images_are_reported_archived_by_describe_images(
    ecr_client: Any, ecr_backend: Backend, ecr_clock: Clock
) -> None:
    push_image(ecr_client, REPO, "a", tag="v1", layer_count=1)
    ecr_client.put_lifecycle_policy(
        repositoryName=REPO,
        lifecyclePolicyText=policy(rule(1, "any", "sinceImagePushed", 30, action="transition")),
    )
    ecr_clock.advance(days=31)

    ecr_backend.apply_lifecycle_policies()

    [detail] = ecr_client.describe_images(repositoryName=REPO, filter={"imageStatus": "ARCHIVED"})[
        "imageDetails"
    ]
    assert detail["imageStatus"] == "ARCHIVED"
    assert detail["lastArchivedAt"] == ecr_clock.now()
