"""UpdateImageStorageClass through boto3: archive, restore, statuses, pulls refused, errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from ecr_mock import Clock, mock_ecr
from ecr_mock.core.backend import Backend
from ecr_mock.core.errors import ImageArchived
from tests.ecr_api.helpers import call, push_image

REPO = "team/app"
START = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def env() -> Iterator[tuple[Any, Backend, Clock, str]]:
    clock = Clock()
    clock.freeze(START)
    with mock_ecr(clock=clock) as backend:
        client = boto3.client("ecr", region_name="us-east-1")
        client.create_repository(repositoryName=REPO)
        digest = push_image(client, REPO, "app", tag="v1", layer_count=1).digest
        yield client, backend, clock, digest


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def detail(client: Any, digest: str) -> dict[str, Any]:
    [found] = client.describe_images(repositoryName=REPO, imageIds=[{"imageDigest": digest}])[
        "imageDetails"
    ]
    return dict(found)


def update(client: Any, target: str, **image_id: str) -> dict[str, Any]:
    return dict(
        client.update_image_storage_class(
            repositoryName=REPO, imageId=image_id, targetStorageClass=target
        )
    )


def test_archive_makes_the_image_archived_and_unpullable(
    env: tuple[Any, Backend, Clock, str],
) -> None:
    client, backend, clock, digest = env
    clock.advance(hours=1)

    answer = update(client, "ARCHIVE", imageTag="v1")

    assert answer["imageStatus"] == "ARCHIVED"
    assert answer["imageId"] == {"imageDigest": digest, "imageTag": "v1"}
    assert (answer["registryId"], answer["repositoryName"]) == ("123456789012", REPO)
    found = detail(client, digest)
    assert found["imageStatus"] == "ARCHIVED"
    assert found["lastArchivedAt"] == START + timedelta(hours=1)
    [failure] = client.batch_get_image(repositoryName=REPO, imageIds=[{"imageTag": "v1"}])[
        "failures"
    ]
    assert failure["failureCode"] == "ImageInaccessible"
    repo = backend.get_repository(backend.registry(), REPO)
    with pytest.raises(ImageArchived):
        backend.record_pull(repo, repo.images[digest])
    assert "lastRecordedPullTime" not in detail(client, digest)


def test_restore_is_activating_for_twenty_minutes_then_active(
    env: tuple[Any, Backend, Clock, str],
) -> None:
    client, backend, clock, digest = env
    update(client, "ARCHIVE", imageDigest=digest)
    clock.advance(days=1)

    answer = update(client, "STANDARD", imageDigest=digest)

    assert answer["imageStatus"] == "ACTIVATING"
    assert answer["imageId"] == {"imageDigest": digest}
    assert detail(client, digest)["imageStatus"] == "ACTIVATING"
    activating = client.describe_images(repositoryName=REPO, filter={"imageStatus": "ACTIVATING"})
    assert [d["imageDigest"] for d in activating["imageDetails"]] == [digest]
    refused = client.batch_get_image(repositoryName=REPO, imageIds=[{"imageDigest": digest}])
    assert [f["failureCode"] for f in refused["failures"]] == ["ImageInaccessible"]

    clock.advance(minutes=20)
    backend.tick()

    found = detail(client, digest)
    assert found["imageStatus"] == "ACTIVE"
    assert found["lastActivatedAt"] == START + timedelta(days=1, minutes=20)
    pulled = client.batch_get_image(repositoryName=REPO, imageIds=[{"imageDigest": digest}])
    assert [i["imageId"]["imageDigest"] for i in pulled["images"]] == [digest]


def test_storage_class_update_of_a_restoring_image_is_not_supported(
    env: tuple[Any, Backend, Clock, str],
) -> None:
    client, _, _, digest = env
    update(client, "ARCHIVE", imageDigest=digest)
    update(client, "STANDARD", imageDigest=digest)

    for target in ("STANDARD", "ARCHIVE"):
        with pytest.raises(ClientError) as refused:
            update(client, target, imageDigest=digest)
        assert code(refused) == "ImageStorageClassUpdateNotSupportedException"
    assert detail(client, digest)["imageStatus"] == "ACTIVATING"


def test_moving_an_image_to_the_class_it_is_in_is_refused_and_changes_nothing(
    env: tuple[Any, Backend, Clock, str],
) -> None:
    client, _, clock, digest = env
    with pytest.raises(ClientError) as already_standard:
        update(client, "STANDARD", imageDigest=digest)
    assert code(already_standard) == "InvalidParameterException"
    assert detail(client, digest)["imageStatus"] == "ACTIVE"

    update(client, "ARCHIVE", imageDigest=digest)
    before = detail(client, digest)
    clock.advance(days=1)
    with pytest.raises(ClientError) as already_archived:
        update(client, "ARCHIVE", imageTag="v1")

    assert code(already_archived) == "InvalidParameterException"
    assert detail(client, digest) == before


def test_unknown_images_and_repositories_are_reported(
    env: tuple[Any, Backend, Clock, str],
) -> None:
    client, _, _, _ = env
    with pytest.raises(ClientError) as no_tag:
        update(client, "ARCHIVE", imageTag="missing")
    with pytest.raises(ClientError) as no_digest:
        update(client, "ARCHIVE", imageDigest="sha256:" + "0" * 64)
    with pytest.raises(ClientError) as no_repo:
        client.update_image_storage_class(
            repositoryName="nope/none", imageId={"imageTag": "v1"}, targetStorageClass="ARCHIVE"
        )

    assert code(no_tag) == "ImageNotFoundException"
    assert code(no_digest) == "ImageNotFoundException"
    assert code(no_repo) == "RepositoryNotFoundException"


def test_unknown_target_storage_class_is_refused_without_change(
    env: tuple[Any, Backend, Clock, str],
) -> None:
    _, backend, _, digest = env
    status, body = call(
        backend,
        "UpdateImageStorageClass",
        {"repositoryName": REPO, "imageId": {"imageDigest": digest}, "targetStorageClass": "COLD"},
    )
    empty_status, empty_body = call(
        backend,
        "UpdateImageStorageClass",
        {"repositoryName": REPO, "imageId": {}, "targetStorageClass": "ARCHIVE"},
    )

    assert status == 400
    assert body["__type"] in ("InvalidParameterException", "ValidationException")
    assert empty_status == 400
    assert empty_body["__type"] in ("InvalidParameterException", "ValidationException")
    repo = backend.get_repository(backend.registry(), REPO)
    assert repo.images[digest].status == "ACTIVE"
