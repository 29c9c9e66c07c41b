"""Replication backfills through boto3: existing images copied to a configured destination."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from ecr_mock.services import replication_backfill
from ecr_mock.services.backend import Backend
from tests.ecr_api.helpers import (
    DOCKER_MANIFEST,
    config_blob,
    error,
    image_manifest,
    index_manifest,
    push_image,
    sha256,
    upload_layer,
)

ACCOUNT = "123456789012"
OTHER = "210987654321"
EU = {"region": "eu-west-1", "registryId": ACCOUNT}
TERMINAL = {"COMPLETE", "FAILED", "STOPPED"}


def client(region: str = "us-east-1") -> Any:
    return boto3.client("ecr", region_name=region)


def one_image_backfill() -> tuple[Any, str]:
    """A client, and the id of a just-started backfill to EU of repository ``web`` (``v1``)."""
    ecr = client()
    ecr.create_repository(repositoryName="web")
    push(ecr, "web", "a", "v1")
    replicate_to(ecr, EU)
    return ecr, ecr.start_replication_backfill(destination=EU)["replicationBackfillId"]


def progress(
    total: int, completed: int, failed: int, codes: list[str] | None = None
) -> dict[str, Any]:
    """The ``progress`` object of a backfill answer."""
    return {
        "totalReplicationCount": total,
        "completedReplicationCount": completed,
        "failedReplicationCount": failed,
        "failureCodes": codes or [],
    }


def replicate_to(ecr: Any, *destinations: dict[str, str], prefix: str | None = None) -> None:
    rule: dict[str, Any] = {"destinations": list(destinations)}
    if prefix is not None:
        rule["repositoryFilters"] = [{"filter": prefix, "filterType": "PREFIX_MATCH"}]
    ecr.put_replication_configuration(replicationConfiguration={"rules": [rule]})


def push(ecr: Any, repository: str, seed: str, *tags: str) -> str:
    """Push one image under every tag in ``tags`` (untagged when none); returns its digest."""
    config, layer = config_blob(seed), f"layer-{seed}".encode()
    upload_layer(ecr, repository, config)
    upload_layer(ecr, repository, layer)
    manifest = image_manifest(config, [layer])
    digest = ""
    for tag in tags or (None,):
        kwargs: dict[str, Any] = {"repositoryName": repository, "imageManifest": manifest}
        if tag is not None:
            kwargs["imageTag"] = tag
        digest = ecr.put_image(**kwargs)["image"]["imageId"]["imageDigest"]
    return digest


def finish(ecr: Any, backfill_id: str) -> dict[str, Any]:
    """Poll DescribeReplicationBackfillResults until the backfill ends (a few calls at most)."""
    for _ in range(5):
        answer: dict[str, Any] = ecr.describe_replication_backfill_results(
            replicationBackfillId=backfill_id
        )
        if answer["status"] in TERMINAL:
            return answer
    raise AssertionError(f"backfill {backfill_id} did not end")


def result_ids(answer: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    return [
        (r["repositoryName"], r["imageId"]["imageDigest"], r["imageId"].get("imageTag"))
        for r in answer["results"]
    ]


def test_images_pushed_before_replication_was_configured_are_copied_by_a_backfill(
    ecr_backend: Backend,
) -> None:
    ecr, eu = client(), client("eu-west-1")
    ecr.create_repository(repositoryName="web")
    digest = push(ecr, "web", "a", "v1")
    replicate_to(ecr, EU)
    assert "web" not in ecr_backend.registry(ACCOUNT, "eu-west-1").repositories

    started = ecr.start_replication_backfill(destination=EU)
    assert started["status"] == "PREPARING"
    assert started["registryId"] == ACCOUNT
    assert started["destination"] == EU
    ended = finish(ecr, started["replicationBackfillId"])

    assert ended["status"] == "COMPLETE"
    assert ended["results"] == [
        {
            "repositoryName": "web",
            "imageId": {"imageDigest": digest, "imageTag": "v1"},
            "status": "COMPLETE",
        }
    ]
    copied = eu.batch_get_image(repositoryName="web", imageIds=[{"imageTag": "v1"}])["images"]
    assert [image["imageId"]["imageDigest"] for image in copied] == [digest]
    status = ecr.describe_image_replication_status(repositoryName="web", imageId={"imageTag": "v1"})
    assert status["replicationStatuses"] == [
        {"region": "eu-west-1", "registryId": ACCOUNT, "status": "COMPLETE"}
    ]


def test_the_replicated_layers_download_with_the_source_bytes(ecr_backend: Backend) -> None:
    ecr, eu = client(), client("eu-west-1")
    ecr.create_repository(repositoryName="web")
    pushed = push_image(ecr, "web", "bytes", tag="v1")
    replicate_to(ecr, EU)
    finish(ecr, ecr.start_replication_backfill(destination=EU)["replicationBackfillId"])
    for digest in pushed.layers:
        url = eu.get_download_url_for_layer(repositoryName="web", layerDigest=digest)
        response = requests.get(url["downloadUrl"], timeout=30)
        assert response.status_code == 200
        assert sha256(response.content) == digest


def test_status_goes_preparing_in_progress_complete_with_progress_counts(
    ecr_backend: Backend,
) -> None:
    ecr = client()
    ecr.create_repository(repositoryName="web")
    push(ecr, "web", "a", "v1", "latest")
    push(ecr, "web", "b")
    replicate_to(ecr, EU)
    backfill_id = ecr.start_replication_backfill(destination=EU)["replicationBackfillId"]

    [listed] = ecr.list_replication_backfills()["backfills"]
    assert listed["status"] == "IN_PROGRESS"
    assert listed["progress"] == progress(3, 0, 0)
    assert "endedAt" not in listed

    ended = ecr.describe_replication_backfill_results(replicationBackfillId=backfill_id)
    assert ended["status"] == "COMPLETE"
    assert ended["progress"] == progress(3, 3, 0)
    assert ended["endedAt"] >= ended["startedAt"]


def test_a_preparing_backfill_has_no_progress_and_no_results(ecr_backend: Backend) -> None:
    ecr, backfill_id = one_image_backfill()
    reg = ecr_backend.registry(ACCOUNT, "us-east-1")
    found = replication_backfill.get(ecr_backend, reg, backfill_id)
    assert found.status == "PREPARING"
    assert "progress" not in found.summary()

    first = ecr.describe_replication_backfill_results(replicationBackfillId=backfill_id)
    assert first["status"] == "IN_PROGRESS"
    assert first["results"] == []


def test_each_tag_is_one_replication_and_an_untagged_image_is_one(ecr_backend: Backend) -> None:
    ecr = client()
    ecr.create_repository(repositoryName="web")
    tagged = push(ecr, "web", "a", "v1", "v2")
    untagged = push(ecr, "web", "b")
    replicate_to(ecr, EU)
    ended = finish(ecr, ecr.start_replication_backfill(destination=EU)["replicationBackfillId"])
    assert sorted(result_ids(ended), key=str) == sorted(
        [("web", tagged, "v1"), ("web", tagged, "v2"), ("web", untagged, None)], key=str
    )
    listed = client("eu-west-1").list_images(repositoryName="web")["imageIds"]
    assert sorted(map(str, listed)) == sorted(
        map(
            str,
            [
                {"imageDigest": tagged, "imageTag": "v1"},
                {"imageDigest": tagged, "imageTag": "v2"},
                {"imageDigest": untagged},
            ],
        )
    )


def test_only_repositories_the_rules_send_to_the_destination_are_backfilled(
    ecr_backend: Backend,
) -> None:
    ecr = client()
    for name in ("prod/api", "dev/api"):
        ecr.create_repository(repositoryName=name)
    prod = push(ecr, "prod/api", "p", "v1")
    push(ecr, "dev/api", "d", "v1")
    replicate_to(ecr, EU, prefix="prod")
    ended = finish(ecr, ecr.start_replication_backfill(destination=EU)["replicationBackfillId"])
    assert result_ids(ended) == [("prod/api", prod, "v1")]
    assert sorted(ecr_backend.registry(ACCOUNT, "eu-west-1").repositories) == ["prod/api"]


def test_a_manifest_list_is_one_replication_carrying_its_platform_images(
    ecr_backend: Backend,
) -> None:
    ecr = client()
    ecr.create_repository(repositoryName="multi")
    children = []
    for arch in ("amd64", "arm64"):
        config, layer = config_blob(arch, arch), f"layer-{arch}".encode()
        upload_layer(ecr, "multi", config)
        upload_layer(ecr, "multi", layer)
        manifest = image_manifest(config, [layer])
        ecr.put_image(repositoryName="multi", imageManifest=manifest)
        children.append((manifest, DOCKER_MANIFEST, arch))
    index = ecr.put_image(
        repositoryName="multi", imageManifest=index_manifest(children), imageTag="v1"
    )["image"]["imageId"]["imageDigest"]
    replicate_to(ecr, EU)
    ended = finish(ecr, ecr.start_replication_backfill(destination=EU)["replicationBackfillId"])
    assert ended["results"] == [
        {
            "repositoryName": "multi",
            "imageId": {"imageDigest": index, "imageTag": "v1"},
            "status": "COMPLETE",
            "subImageFailureCodes": [],
        }
    ]
    copied = client("eu-west-1").describe_images(repositoryName="multi")["imageDetails"]
    assert len(copied) == 3


def test_cross_account_failures_are_counted_with_their_code_and_filtered(
    ecr_backend: Backend,
) -> None:
    ecr = client()
    ecr.create_repository(repositoryName="web")
    first = push(ecr, "web", "a", "v1")
    second = push(ecr, "web", "b", "v2")
    other = {"region": "us-east-1", "registryId": OTHER}
    replicate_to(ecr, other)
    backfill_id = ecr.start_replication_backfill(destination=other)["replicationBackfillId"]
    ended = finish(ecr, backfill_id)

    assert ended["status"] == "COMPLETE"  # fewer than 100 replications: no failure threshold
    assert ended["progress"] == progress(2, 0, 2, ["REGISTRY_POLICY_DENIED"])
    assert {r["failureCode"] for r in ended["results"]} == {"REGISTRY_POLICY_DENIED"}
    failed = ecr.describe_replication_backfill_results(
        replicationBackfillId=backfill_id, resultStatusFilter="FAILED"
    )
    assert sorted(result_ids(failed)) == sorted([("web", first, "v1"), ("web", second, "v2")])
    done = ecr.describe_replication_backfill_results(
        replicationBackfillId=backfill_id, resultStatusFilter="COMPLETE"
    )
    assert done["results"] == []
    assert ecr_backend.registry(OTHER, "us-east-1").repositories == {}


def test_half_failed_after_a_hundred_replications_fails_the_backfill(ecr_backend: Backend) -> None:
    ecr = client()
    ecr.create_repository(repositoryName="web")
    reg = ecr_backend.registry(ACCOUNT, "us-east-1")
    repo = reg.repositories["web"]
    config, layer = config_blob("many"), b"many layer"
    upload_layer(ecr, "web", config)
    upload_layer(ecr, "web", layer)
    for i in range(120):
        manifest = image_manifest(config, [layer], extra={"annotations": {"n": str(i)}})
        ecr_backend.put_image(reg, repo, manifest.encode(), tag=f"t{i:03d}")
    other = {"region": "us-east-1", "registryId": OTHER}
    replicate_to(ecr, other)
    ended = finish(ecr, ecr.start_replication_backfill(destination=other)["replicationBackfillId"])
    assert ended["status"] == "FAILED"
    assert ended["failureCode"] == "REPLICATION_FAILURE_THRESHOLD_EXCEEDED"
    assert ended["progress"]["totalReplicationCount"] == 120
    assert ended["progress"]["failedReplicationCount"] == 100
    assert ended["progress"]["completedReplicationCount"] == 0


def test_results_page_with_max_results_and_next_token(ecr_backend: Backend) -> None:
    ecr = client()
    ecr.create_repository(repositoryName="web")
    digests = {push(ecr, "web", f"s{i}", f"v{i}") for i in range(5)}
    replicate_to(ecr, EU)
    backfill_id = ecr.start_replication_backfill(destination=EU)["replicationBackfillId"]
    finish(ecr, backfill_id)
    first = ecr.describe_replication_backfill_results(
        replicationBackfillId=backfill_id, maxResults=2
    )
    assert len(first["results"]) == 2
    pages = ecr.get_paginator("describe_replication_backfill_results").paginate(
        replicationBackfillId=backfill_id, PaginationConfig={"PageSize": 2}
    )
    seen = [r["imageId"]["imageDigest"] for page in pages for r in page["results"]]
    assert sorted(seen) == sorted(digests)


def test_backfills_list_oldest_first_and_page(ecr_backend: Backend) -> None:
    ecr = client()
    ecr.create_repository(repositoryName="web")
    push(ecr, "web", "a", "v1")
    replicate_to(ecr, EU)
    started = []
    for _ in range(3):
        backfill_id = ecr.start_replication_backfill(destination=EU)["replicationBackfillId"]
        finish(ecr, backfill_id)
        started.append(backfill_id)
    first = ecr.list_replication_backfills(maxResults=2)
    assert [b["replicationBackfillId"] for b in first["backfills"]] == started[:2]
    rest = ecr.list_replication_backfills(maxResults=2, nextToken=first["nextToken"])
    assert [b["replicationBackfillId"] for b in rest["backfills"]] == started[2:]
    assert "nextToken" not in rest


def test_stopping_a_preparing_backfill_stops_it_without_progress(ecr_backend: Backend) -> None:
    ecr, backfill_id = one_image_backfill()
    stopped = ecr.stop_replication_backfill(replicationBackfillId=backfill_id)
    assert stopped["status"] == "STOPPED"
    assert stopped["replicationBackfillId"] == backfill_id
    assert stopped["destination"] == EU
    described = ecr.describe_replication_backfill_results(replicationBackfillId=backfill_id)
    assert described["status"] == "STOPPED"
    assert "progress" not in described
    assert described["results"] == []
    assert "web" not in ecr_backend.registry(ACCOUNT, "eu-west-1").repositories


def test_stopping_an_in_progress_backfill_copies_nothing_more(ecr_backend: Backend) -> None:
    ecr, backfill_id = one_image_backfill()
    assert ecr.list_replication_backfills()["backfills"][0]["status"] == "IN_PROGRESS"
    assert ecr.stop_replication_backfill(replicationBackfillId=backfill_id)["status"] == "STOPPED"
    described = ecr.describe_replication_backfill_results(replicationBackfillId=backfill_id)
    assert described["status"] == "STOPPED"
    assert described["progress"]["totalReplicationCount"] == 1
    assert described["progress"]["completedReplicationCount"] == 0
    assert "web" not in ecr_backend.registry(ACCOUNT, "eu-west-1").repositories


def test_stopping_an_ended_backfill_is_an_invalid_status(ecr_backend: Backend) -> None:
    ecr = client()
    replicate_to(ecr, EU)
    backfill_id = ecr.start_replication_backfill(destination=EU)["replicationBackfillId"]
    assert finish(ecr, backfill_id)["status"] == "COMPLETE"
    with pytest.raises(ClientError) as caught:
        ecr.stop_replication_backfill(replicationBackfillId=backfill_id)
    assert error(caught)[0] == "ReplicationBackfillInvalidStatusException"


def test_a_second_backfill_to_a_region_in_progress_is_refused_until_the_first_ends(
    ecr_backend: Backend,
) -> None:
    ecr = client()
    replicate_to(ecr, EU, {"region": "eu-west-1", "registryId": OTHER})
    first = ecr.start_replication_backfill(destination=EU)["replicationBackfillId"]
    with pytest.raises(ClientError) as caught:
        ecr.start_replication_backfill(destination={"region": "eu-west-1", "registryId": OTHER})
    assert error(caught)[0] == "ReplicationBackfillInProgressException"
    ecr.stop_replication_backfill(replicationBackfillId=first)
    again = ecr.start_replication_backfill(destination=EU)
    assert again["replicationBackfillId"] != first


def test_an_eleventh_unfinished_backfill_exceeds_the_limit(ecr_backend: Backend) -> None:
    ecr = client()
    regions = [f"test-region-{i:02d}" for i in range(11)]
    replicate_to(ecr, *({"region": r, "registryId": ACCOUNT} for r in regions))
    for region in regions[:10]:
        ecr.start_replication_backfill(destination={"region": region, "registryId": ACCOUNT})
    with pytest.raises(ClientError) as caught:
        ecr.start_replication_backfill(destination={"region": regions[10], "registryId": ACCOUNT})
    assert error(caught)[0] == "LimitExceededException"


def test_a_destination_missing_from_the_configuration_is_an_invalid_parameter(
    ecr_backend: Backend,
) -> None:
    ecr = client()
    replicate_to(ecr, EU)
    with pytest.raises(ClientError) as caught:
        ecr.start_replication_backfill(destination={"region": "ap-south-1", "registryId": ACCOUNT})
    assert error(caught)[0] == "InvalidParameterException"
    assert ecr.list_replication_backfills()["backfills"] == []


def test_an_unknown_backfill_id_is_not_found(ecr_backend: Backend) -> None:
    ecr = client()
    unknown = "0f8fad5b-d9cb-469f-a165-70867728950e"
    with pytest.raises(ClientError) as caught:
        ecr.describe_replication_backfill_results(replicationBackfillId=unknown)
    assert error(caught)[0] == "ReplicationBackfillNotFoundException"
    with pytest.raises(ClientError) as caught:
        ecr.stop_replication_backfill(replicationBackfillId=unknown)
    assert error(caught)[0] == "ReplicationBackfillNotFoundException"


def test_a_malformed_backfill_id_fails_model_validation(ecr_backend: Backend) -> None:
    with pytest.raises(ClientError) as caught:
        client().describe_replication_backfill_results(replicationBackfillId="not-a-uuid")
    assert error(caught)[0] in ("ValidationException", "InvalidParameterException")


def test_a_backfill_of_another_region_is_not_found(ecr_backend: Backend) -> None:
    ecr = client()
    replicate_to(ecr, EU)
    backfill_id = ecr.start_replication_backfill(destination=EU)["replicationBackfillId"]
    with pytest.raises(ClientError) as caught:
        client("us-west-2").describe_replication_backfill_results(replicationBackfillId=backfill_id)
    assert error(caught)[0] == "ReplicationBackfillNotFoundException"


def test_ended_backfills_are_gone_after_ninety_days(ecr_backend: Backend) -> None:
    ecr = client()
    replicate_to(ecr, EU)
    backfill_id = ecr.start_replication_backfill(destination=EU)["replicationBackfillId"]
    finish(ecr, backfill_id)
    ecr_backend.clock.advance(timedelta(days=89))
    assert len(ecr.list_replication_backfills()["backfills"]) == 1
    ecr_backend.clock.advance(timedelta(days=2))
    assert ecr.list_replication_backfills()["backfills"] == []
    with pytest.raises(ClientError) as caught:
        ecr.describe_replication_backfill_results(replicationBackfillId=backfill_id)
    assert error(caught)[0] == "ReplicationBackfillNotFoundException"


def test_replicas_are_not_backfilled_again(ecr_backend: Backend) -> None:
    ecr, eu = client(), client("eu-west-1")
    ecr.create_repository(repositoryName="web")
    replicate_to(ecr, EU)
    push(ecr, "web", "a", "v1")  # replicated on push to eu-west-1
    replicate_to(eu, {"region": "us-east-1", "registryId": ACCOUNT})
    back = {"region": "us-east-1", "registryId": ACCOUNT}
    ended = finish(eu, eu.start_replication_backfill(destination=back)["replicationBackfillId"])
    assert ended["status"] == "COMPLETE"
    assert ended["progress"]["totalReplicationCount"] == 0
    assert ended["results"] == []


def test_run_to_end_finishes_a_backfill_without_polling(ecr_backend: Backend) -> None:
    ecr = client()
    ecr.create_repository(repositoryName="web")
    digest = push(ecr, "web", "a", "v1")
    replicate_to(ecr, EU)
    reg = ecr_backend.registry(ACCOUNT, "us-east-1")
    started = replication_backfill.start(ecr_backend, reg, "eu-west-1", ACCOUNT)
    replication_backfill.run_to_end(ecr_backend, reg, started)
    assert started.status == "COMPLETE"
    assert ecr_backend.registry(ACCOUNT, "eu-west-1").repositories["web"].tags == {"v1": digest}
