"""UpdateImageStorageClass through boto3: archive, restore, statuses, pulls refused, errors."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ecr_mock import Clock
from ecr_mock.domain.errors import ImageArchived
from ecr_mock.services.backend import Backend
from tests.ecr_api.helpers import call, error, push_image

REPO = "team/app"
START = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)

pytestmark = [
    pytest.mark.ecr_seed({"repositories": [{"name": REPO}]}),
    pytest.mark.frozen_at(START),
]


@pytest.fixture
def digest(ecr_client: Any) -> str:
    """The digest of the image tagged ``v1`` in REPO, pushed at START."""
    return push_image(ecr_client, REPO, "app", tag="v1", layer_count=1).digest


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
    ecr_client: Any, ecr_backend: Backend, ecr_clock: Clock, digest: str
) -> None:
    ecr_clock.advance(hours=1)

    answer = update(ecr_client, "ARCHIVE", imageTag="v1")

    assert answer["imageStatus"] == "ARCHIVED"
    assert answer["imageId"] == {"imageDigest": digest, "imageTag": "v1"}
    assert (answer["registryId"], answer["repositoryName"]) == ("123456789012", REPO)
    found = detail(ecr_client, digest)
    assert found["imageStatus"] == "ARCHIVED"
    assert found["lastArchivedAt"] == START + timedelta(hours=1)
    [failure] = ecr_client.batch_get_image(repositoryName=REPO, imageIds=[{"imageTag": "v1"}])[
        "failures"
    ]
    assert failure["failureCode"] == "ImageInaccessible"
    repo = ecr_backend.get_repository(ecr_backend.registry(), REPO)
    with pytest.raises(ImageArchived):
        ecr_backend.record_pull(repo, repo.images[digest])
    assert "lastRecordedPullTime" not in detail(ecr_client, digest)


def test_restore_is_activating_for_twenty_minutes_then_active(
    ecr_client: Any, ecr_backend: Backend, ecr_clock: Clock, digest: str
) -> None:
    update(ecr_client, "ARCHIVE", imageDigest=digest)
    ecr_clock.advance(days=1)

    answer = update(ecr_client, "STANDARD", imageDigest=digest)

    assert answer["imageStatus"] == "ACTIVATING"
    assert answer["imageId"] == {"imageDigest": digest}
    assert detail(ecr_client, digest)["imageStatus"] == "ACTIVATING"
    activating = ecr_client.describe_images(
        repositoryName=REPO, filter={"imageStatus": "ACTIVATING"}
    )
    assert [d["imageDigest"] for d in activating["imageDetails"]] == [digest]
    refused = ecr_client.batch_get_image(repositoryName=REPO, imageIds=[{"imageDigest": digest}])
    assert [f["failureCode"] for f in refused["failures"]] == ["ImageInaccessible"]

    ecr_clock.advance(minutes=20)
    ecr_backend.tick()

    found = detail(ecr_client, digest)
    assert found["imageStatus"] == "ACTIVE"
    assert found["lastActivatedAt"] == START + timedelta(days=1, minutes=20)
    pulled = ecr_client.batch_get_image(repositoryName=REPO, imageIds=[{"imageDigest": digest}])
    assert [i["imageId"]["imageDigest"] for i in pulled["images"]] == [digest]


def test_storage_class_update_of_a_restoring_image_is_not_supported(
    ecr_client: Any, digest: str
) -> None:
    update(ecr_client, "ARCHIVE", imageDigest=digest)
    update(ecr_client, "STANDARD", imageDigest=digest)

    for target in ("STANDARD", "ARCHIVE"):
        with pytest.raises(ClientError) as refused:
            update(ecr_client, target, imageDigest=digest)
        assert error(refused)[0] == "ImageStorageClassUpdateNotSupportedException"
    assert detail(ecr_client, digest)["imageStatus"] == "ACTIVATING"


def test_moving_an_image_to_the_class_it_is_in_is_refused_and_changes_nothing(
    ecr_client: Any, ecr_clock: Clock, digest: str
) -> None:
    with pytest.raises(ClientError) as already_standard:
        update(ecr_client, "STANDARD", imageDigest=digest)
    assert error(already_standard)[0] == "InvalidParameterException"
    assert detail(ecr_client, digest)["imageStatus"] == "ACTIVE"

    update(ecr_client, "ARCHIVE", imageDigest=digest)
    before = detail(ecr_client, digest)
    ecr_clock.advance(days=1)
    with pytest.raises(ClientError) as already_archived:
        update(ecr_client, "ARCHIVE", imageTag="v1")

    assert error(already_archived)[0] == "InvalidParameterException"
    assert detail(ecr_client, digest) == before


def test_unknown_images_and_repositories_are_reported(ecr_client: Any, digest: str) -> None:
    with pytest.raises(ClientError) as no_tag:
        update(ecr_client, "ARCHIVE", imageTag="missing")
    with pytest.raises(ClientError) as no_digest:
        update(ecr_client, "ARCHIVE", imageDigest="sha256:" + "0" * 64)
    with pytest.raises(ClientError) as no_repo:
        ecr_client.update_image_storage_class(
            repositoryName="nope/none", imageId={"imageTag": "v1"}, targetStorageClass="ARCHIVE"
        )

    assert error(no_tag)[0] == "ImageNotFoundException"
    assert error(no_digest)[0] == "ImageNotFoundException"
    assert error(no_repo)[0] == "RepositoryNotFoundException"


def test_unknown_target_storage_class_is_refused_without_change(
    ecr_backend: Backend, digest: str
) -> None:
    status, body = call(
        ecr_backend,
        "UpdateImageStorageClass",
        {"repositoryName": REPO, "imageId": {"imageDigest": digest}, "targetStorageClass": "COLD"},
    )
    empty_status, empty_body = call(
        ecr_backend,
        "UpdateImageStorageClass",
        {"repositoryName": REPO, "imageId": {}, "targetStorageClass": "ARCHIVE"},
    )

    assert status == 400
    assert body["__type"] in ("InvalidParameterException", "ValidationException")
    assert empty_status == 400
    assert empty_body["__type"] in ("InvalidParameterException", "ValidationException")
    repo = ecr_backend.get_repository(ecr_backend.registry(), REPO)
    assert repo.images[digest].status == "ACTIVE"
