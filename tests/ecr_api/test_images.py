"""Image operations through boto3 and raw JSON 1.1: PutImage, BatchGet/Delete, List/Describe."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ecr_mock.services.backend import Backend
from tests.ecr_api.helpers import (
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_MANIFEST,
    call,
    config_blob,
    error,
    image_manifest,
    index_manifest,
    push_image,
    sha256,
    upload_layer,
)

REPO = "team/app"
START = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)

pytestmark = [
    pytest.mark.ecr_seed({"repositories": [{"name": REPO}]}),
    pytest.mark.frozen_at(START),
]


def upload_blobs(client: Any, seed: str, layer_count: int = 1) -> tuple[bytes, list[bytes]]:
    config = config_blob(seed)
    layers = [f"{seed}-layer-{i}".encode() * 7 for i in range(layer_count)]
    for blob in [config, *layers]:
        upload_layer(client, REPO, blob)
    return config, layers


def describe(client: Any, **kwargs: Any) -> list[dict[str, Any]]:
    return list(client.describe_images(repositoryName=REPO, **kwargs)["imageDetails"])


def archive(backend: Backend, digest: str) -> None:
    image = backend.registry().repositories[REPO].images[digest]
    image.status = "ARCHIVED"
    image.storage_class = "ARCHIVE"


# ----- PutImage ------------------------------------------------------------------------------


def test_put_image_returns_manifest_byte_for_byte_and_its_sha256(ecr_client: Any) -> None:
    config, layers = upload_blobs(ecr_client, "exact")
    manifest = image_manifest(config, layers, indent=7).replace('"layers"', '  "layers"')
    result = ecr_client.put_image(repositoryName=REPO, imageManifest=manifest, imageTag="v1")[
        "image"
    ]
    assert result["imageManifest"] == manifest
    assert result["imageId"] == {"imageDigest": sha256(manifest.encode()), "imageTag": "v1"}
    assert result["imageManifestMediaType"] == DOCKER_MANIFEST
    assert result["registryId"] == "123456789012"
    assert result["repositoryName"] == REPO
    got = ecr_client.batch_get_image(repositoryName=REPO, imageIds=[{"imageTag": "v1"}])
    assert got["images"][0]["imageManifest"] == manifest


def test_put_image_keeps_key_order_and_unicode_of_the_manifest(ecr_client: Any) -> None:
    config, layers = upload_blobs(ecr_client, "order")
    doc = json.loads(image_manifest(config, layers))
    manifest = json.dumps(
        {"layers": doc["layers"], "annotations": {"note": "caf\u00e9 \u2603"}, **doc},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    result = ecr_client.put_image(repositoryName=REPO, imageManifest=manifest)["image"]
    assert result["imageManifest"] == manifest
    assert result["imageId"]["imageDigest"] == sha256(manifest.encode("utf-8"))


def test_put_image_of_unknown_layers_raises_layers_not_found(ecr_client: Any) -> None:
    config, _ = upload_blobs(ecr_client, "missing")
    manifest = image_manifest(config, [b"never uploaded"])
    with pytest.raises(ClientError) as exc:
        ecr_client.put_image(repositoryName=REPO, imageManifest=manifest)
    assert error(exc)[0] == "LayersNotFoundException"
    assert sha256(b"never uploaded") in str(exc.value)


def test_put_image_of_unknown_config_raises_layers_not_found(ecr_client: Any) -> None:
    _, layers = upload_blobs(ecr_client, "noconfig")
    manifest = image_manifest(config_blob("other"), layers)
    with pytest.raises(ClientError) as exc:
        ecr_client.put_image(repositoryName=REPO, imageManifest=manifest)
    assert error(exc)[0] == "LayersNotFoundException"


def test_put_image_of_blobs_uploaded_to_another_repository_raises_layers_not_found(
    ecr_client: Any,
) -> None:
    ecr_client.create_repository(repositoryName="other")
    config = config_blob("elsewhere")
    layer = b"elsewhere layer"
    upload_layer(ecr_client, "other", config)
    upload_layer(ecr_client, "other", layer)
    with pytest.raises(ClientError) as exc:
        ecr_client.put_image(repositoryName=REPO, imageManifest=image_manifest(config, [layer]))
    assert error(exc)[0] == "LayersNotFoundException"


def test_put_image_into_unknown_repository_raises_repository_not_found(ecr_client: Any) -> None:
    with pytest.raises(ClientError) as exc:
        ecr_client.put_image(repositoryName="nope", imageManifest="{}")
    assert error(exc)[0] == "RepositoryNotFoundException"


def test_put_image_again_with_same_tag_raises_image_already_exists(ecr_client: Any) -> None:
    pushed = push_image(ecr_client, REPO, "again", tag="v1")
    with pytest.raises(ClientError) as exc:
        ecr_client.put_image(repositoryName=REPO, imageManifest=pushed.manifest, imageTag="v1")
    assert error(exc)[0] == "ImageAlreadyExistsException"


def test_put_image_again_untagged_raises_image_already_exists(ecr_client: Any) -> None:
    pushed = push_image(ecr_client, REPO, "untagged-again")
    with pytest.raises(ClientError) as exc:
        ecr_client.put_image(repositoryName=REPO, imageManifest=pushed.manifest)
    assert error(exc)[0] == "ImageAlreadyExistsException"


def test_new_tag_on_existing_digest_tags_the_same_image(ecr_client: Any) -> None:
    pushed = push_image(ecr_client, REPO, "retag", tag="v1")
    result = ecr_client.put_image(repositoryName=REPO, imageManifest=pushed.manifest, imageTag="v2")
    assert result["image"]["imageId"] == {"imageDigest": pushed.digest, "imageTag": "v2"}
    details = describe(ecr_client)
    assert len(details) == 1
    assert sorted(details[0]["imageTags"]) == ["v1", "v2"]


def test_tag_moves_to_new_image_on_mutable_repository_leaving_old_untagged(ecr_client: Any) -> None:
    first = push_image(ecr_client, REPO, "first", tag="latest")
    second = push_image(ecr_client, REPO, "second", tag="latest")
    by_digest = {d["imageDigest"]: d for d in describe(ecr_client)}
    assert by_digest[second.digest]["imageTags"] == ["latest"]
    assert "imageTags" not in by_digest[first.digest]
    untagged = ecr_client.list_images(repositoryName=REPO, filter={"tagStatus": "UNTAGGED"})
    assert untagged["imageIds"] == [{"imageDigest": first.digest}]


def test_immutable_repository_refuses_to_move_a_tag(ecr_client: Any) -> None:
    ecr_client.create_repository(repositoryName="frozen", imageTagMutability="IMMUTABLE")
    push_image(ecr_client, "frozen", "one", tag="v1")
    with pytest.raises(ClientError) as exc:
        push_image(ecr_client, "frozen", "two", tag="v1")
    assert error(exc)[0] == "ImageTagAlreadyExistsException"
    assert "'v1'" in exc.value.response["Error"]["Message"]


def test_immutable_repository_accepts_new_tags_on_an_image(ecr_client: Any) -> None:
    ecr_client.create_repository(repositoryName="frozen", imageTagMutability="IMMUTABLE")
    pushed = push_image(ecr_client, "frozen", "one", tag="v1")
    ecr_client.put_image(repositoryName="frozen", imageManifest=pushed.manifest, imageTag="v2")
    ids = ecr_client.list_images(repositoryName="frozen")["imageIds"]
    assert sorted(i["imageTag"] for i in ids) == ["v1", "v2"]


def test_immutable_with_exclusion_lets_excluded_tags_move_only(ecr_client: Any) -> None:
    ecr_client.create_repository(
        repositoryName="mixed",
        imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "latest*"}],
    )
    push_image(ecr_client, "mixed", "a", tag="latest")
    push_image(ecr_client, "mixed", "b", tag="v1")
    second = push_image(ecr_client, "mixed", "c", tag="latest")
    tagged = ecr_client.list_images(repositoryName="mixed", filter={"tagStatus": "TAGGED"})
    assert {"imageDigest": second.digest, "imageTag": "latest"} in tagged["imageIds"]
    with pytest.raises(ClientError) as exc:
        push_image(ecr_client, "mixed", "d", tag="v1")
    assert error(exc)[0] == "ImageTagAlreadyExistsException"


def test_mutable_with_exclusion_freezes_excluded_tags_only(ecr_client: Any) -> None:
    ecr_client.create_repository(
        repositoryName="mostly",
        imageTagMutability="MUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "release-*"}],
    )
    push_image(ecr_client, "mostly", "a", tag="release-1")
    push_image(ecr_client, "mostly", "b", tag="dev")
    push_image(ecr_client, "mostly", "c", tag="dev")
    with pytest.raises(ClientError) as exc:
        push_image(ecr_client, "mostly", "d", tag="release-1")
    assert error(exc)[0] == "ImageTagAlreadyExistsException"


def test_put_image_with_matching_digest_succeeds(ecr_client: Any) -> None:
    config, layers = upload_blobs(ecr_client, "digest-ok")
    manifest = image_manifest(config, layers)
    digest = sha256(manifest.encode())
    result = ecr_client.put_image(repositoryName=REPO, imageManifest=manifest, imageDigest=digest)
    assert result["image"]["imageId"]["imageDigest"] == digest


@pytest.mark.parametrize(
    ("given", "code"),
    [
        pytest.param(
            {"imageDigest": "sha256:" + "0" * 64},
            "ImageDigestDoesNotMatchException",
            id="other-digest",
        ),
        pytest.param(
            {"imageDigest": "sha256:abc"}, "ImageDigestDoesNotMatchException", id="short-digest"
        ),
        pytest.param(
            {"imageDigest": "not a digest"}, "InvalidParameterException", id="malformed-digest"
        ),
        pytest.param({"imageTag": "a/b"}, "InvalidParameterException", id="invalid-tag"),
    ],
)
def test_put_image_refuses_a_digest_or_tag_that_does_not_fit(
    ecr_client: Any, given: dict[str, str], code: str
) -> None:
    config, layers = upload_blobs(ecr_client, "refused")
    with pytest.raises(ClientError) as exc:
        ecr_client.put_image(
            repositoryName=REPO, imageManifest=image_manifest(config, layers), **given
        )
    assert error(exc)[0] == code


def test_put_image_of_invalid_json_raises_invalid_parameter(ecr_client: Any) -> None:
    with pytest.raises(ClientError) as exc:
        ecr_client.put_image(repositoryName=REPO, imageManifest="{not json")
    assert error(exc)[0] == "InvalidParameterException"
    assert "ImageManifest" in exc.value.response["Error"]["Message"]


def test_put_image_of_schema2_manifest_without_media_type_needs_the_parameter(
    ecr_client: Any,
) -> None:
    config, layers = upload_blobs(ecr_client, "nomedia")
    manifest = image_manifest(config, layers, oci=True, media_type_field=False)
    with pytest.raises(ClientError) as exc:
        ecr_client.put_image(repositoryName=REPO, imageManifest=manifest)
    assert error(exc)[0] == "InvalidParameterException"
    assert exc.value.response["Error"]["Message"] == (
        "image manifest mediatype not provided in manifest or parameter"
    )
    result = ecr_client.put_image(
        repositoryName=REPO, imageManifest=manifest, imageManifestMediaType=OCI_MANIFEST
    )
    assert result["image"]["imageManifestMediaType"] == OCI_MANIFEST
    assert result["image"]["imageManifest"] == manifest


def test_put_image_with_media_type_parameter_contradicting_manifest_is_refused(
    ecr_client: Any,
) -> None:
    config, layers = upload_blobs(ecr_client, "contradict")
    manifest = image_manifest(config, layers)
    with pytest.raises(ClientError) as exc:
        ecr_client.put_image(
            repositoryName=REPO, imageManifest=manifest, imageManifestMediaType=OCI_MANIFEST
        )
    assert error(exc)[0] == "InvalidParameterException"


def test_put_image_with_media_type_parameter_equal_to_manifest_is_accepted(ecr_client: Any) -> None:
    config, layers = upload_blobs(ecr_client, "agree")
    manifest = image_manifest(config, layers)
    result = ecr_client.put_image(
        repositoryName=REPO, imageManifest=manifest, imageManifestMediaType=DOCKER_MANIFEST
    )
    assert result["image"]["imageManifestMediaType"] == DOCKER_MANIFEST


def test_put_image_of_manifest_type_unknown_to_ecr_raises_invalid_parameter(
    ecr_client: Any,
) -> None:
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/x-unknown+json"})
    with pytest.raises(ClientError) as exc:
        ecr_client.put_image(repositoryName=REPO, imageManifest=manifest)
    assert error(exc)[0] == "InvalidParameterException"
    assert "application/x-unknown+json" in exc.value.response["Error"]["Message"]


def test_put_oci_manifest_reports_oci_media_types(ecr_client: Any) -> None:
    pushed = push_image(ecr_client, REPO, "oci", tag="oci", oci=True)
    detail = describe(ecr_client, imageIds=[{"imageTag": "oci"}])[0]
    assert detail["imageDigest"] == pushed.digest
    assert detail["imageManifestMediaType"] == OCI_MANIFEST
    assert detail["artifactMediaType"] == OCI_CONFIG


def test_put_docker_manifest_list_of_pushed_images(ecr_client: Any) -> None:
    amd = push_image(ecr_client, REPO, "amd", architecture="amd64")
    arm = push_image(ecr_client, REPO, "arm", architecture="arm64")
    index = index_manifest(
        [(amd.manifest, DOCKER_MANIFEST, "amd64"), (arm.manifest, DOCKER_MANIFEST, "arm64")]
    )
    result = ecr_client.put_image(repositoryName=REPO, imageManifest=index, imageTag="multi")
    assert result["image"]["imageManifestMediaType"] == DOCKER_MANIFEST_LIST
    assert result["image"]["imageManifest"] == index
    detail = describe(ecr_client, imageIds=[{"imageTag": "multi"}])[0]
    assert detail["imageSizeInBytes"] == max(amd.size, arm.size)


def test_put_oci_index_of_pushed_images(ecr_client: Any) -> None:
    one = push_image(ecr_client, REPO, "one", oci=True)
    index = index_manifest([(one.manifest, OCI_MANIFEST, "amd64")], oci=True)
    result = ecr_client.put_image(repositoryName=REPO, imageManifest=index, imageTag="idx")
    assert result["image"]["imageManifestMediaType"] == OCI_INDEX


def test_put_index_referencing_missing_image_raises_referenced_images_not_found(
    ecr_client: Any,
) -> None:
    config, layers = upload_blobs(ecr_client, "ghost")
    ghost = image_manifest(config, layers)
    index = index_manifest([(ghost, DOCKER_MANIFEST, "amd64")])
    with pytest.raises(ClientError) as exc:
        ecr_client.put_image(repositoryName=REPO, imageManifest=index)
    assert error(exc)[0] == "ReferencedImagesNotFoundException"


def test_put_image_larger_than_4_mib_is_refused(ecr_backend: Backend) -> None:
    config = config_blob("huge")
    manifest = image_manifest(config, [], extra={"annotations": {"pad": "x" * (4 * 1024 * 1024)}})
    status, body = call(
        ecr_backend, "PutImage", {"repositoryName": REPO, "imageManifest": manifest}
    )
    assert status == 400
    assert body["__type"] == "InvalidParameterException"


def test_image_can_hold_at_most_1000_tags(ecr_client: Any) -> None:
    pushed = push_image(ecr_client, REPO, "many")
    for i in range(1000):
        ecr_client.put_image(repositoryName=REPO, imageManifest=pushed.manifest, imageTag=f"t{i}")
    with pytest.raises(ClientError) as exc:
        ecr_client.put_image(repositoryName=REPO, imageManifest=pushed.manifest, imageTag="t1000")
    assert error(exc)[0] == "LimitExceededException"


# ----- BatchGetImage ---------------------------------------------------------------------------


def test_batch_get_image_by_tag_and_by_digest(ecr_client: Any) -> None:
    pushed = push_image(ecr_client, REPO, "get", tag="v1")
    result = ecr_client.batch_get_image(
        repositoryName=REPO, imageIds=[{"imageTag": "v1"}, {"imageDigest": pushed.digest}]
    )
    ids = [image["imageId"] for image in result["images"]]
    assert ids == [{"imageDigest": pushed.digest, "imageTag": "v1"}, {"imageDigest": pushed.digest}]
    assert all(image["imageManifest"] == pushed.manifest for image in result["images"])
    assert result["failures"] == []


UNKNOWN_DIGEST = "sha256:" + "1" * 64
BAD_IMAGE_IDS = [
    ({"imageTag": "missing"}, "ImageNotFound"),
    ({"imageDigest": UNKNOWN_DIGEST}, "ImageNotFound"),
    ({"imageTag": "v1", "imageDigest": UNKNOWN_DIGEST}, "ImageTagDoesNotMatchDigest"),
    ({"imageDigest": "not-a-digest"}, "InvalidImageDigest"),
    ({"imageTag": "bad/tag"}, "InvalidImageTag"),
]
"""Image ids that BatchGetImage and BatchDeleteImage refuse (with ``v1`` pushed), and why."""


def test_batch_get_image_reports_each_failure_code(ecr_client: Any) -> None:
    pushed = push_image(ecr_client, REPO, "fail", tag="v1")
    result = ecr_client.batch_get_image(
        repositoryName=REPO,
        imageIds=[
            *(image_id for image_id, _ in BAD_IMAGE_IDS),
            {"imageTag": "v1", "imageDigest": pushed.digest},
        ],
    )
    codes = [(f["imageId"], f["failureCode"]) for f in result["failures"]]
    assert codes == BAD_IMAGE_IDS
    assert all(f["failureReason"] for f in result["failures"])
    assert [i["imageId"] for i in result["images"]] == [
        {"imageDigest": pushed.digest, "imageTag": "v1"}
    ]


def test_batch_get_image_without_digest_or_tag_fails_missing_digest_and_tag(
    ecr_backend: Backend,
) -> None:
    status, body = call(
        ecr_backend, "BatchGetImage", {"repositoryName": REPO, "imageIds": [{}]}, validate=False
    )
    assert status == 200
    assert body["failures"][0]["failureCode"] == "MissingDigestAndTag"


def test_batch_get_image_returns_duplicate_ids_once(ecr_client: Any) -> None:
    push_image(ecr_client, REPO, "dup", tag="v1")
    result = ecr_client.batch_get_image(
        repositoryName=REPO, imageIds=[{"imageTag": "v1"}, {"imageTag": "v1"}]
    )
    assert len(result["images"]) == 1
    missing = ecr_client.batch_get_image(
        repositoryName=REPO, imageIds=[{"imageTag": "nope"}, {"imageTag": "nope"}]
    )
    assert len(missing["failures"]) == 1


def test_batch_get_image_records_last_pull_time(ecr_client: Any, ecr_backend: Backend) -> None:
    pushed = push_image(ecr_client, REPO, "pull", tag="v1")
    assert "lastRecordedPullTime" not in describe(ecr_client)[0]
    ecr_backend.clock.advance(timedelta(hours=3))
    ecr_client.batch_get_image(repositoryName=REPO, imageIds=[{"imageTag": "v1"}])
    detail = describe(ecr_client)[0]
    assert detail["imageDigest"] == pushed.digest
    assert detail["lastRecordedPullTime"].timestamp() == (START + timedelta(hours=3)).timestamp()
    assert detail["imagePushedAt"].timestamp() == START.timestamp()


def test_batch_get_image_of_archived_image_fails_inaccessible(
    ecr_client: Any, ecr_backend: Backend
) -> None:
    pushed = push_image(ecr_client, REPO, "cold", tag="v1")
    archive(ecr_backend, pushed.digest)
    result = ecr_client.batch_get_image(repositoryName=REPO, imageIds=[{"imageTag": "v1"}])
    assert result["images"] == []
    assert result["failures"][0]["failureCode"] == "ImageInaccessible"
    assert "lastRecordedPullTime" not in describe(ecr_client, imageIds=[{"imageTag": "v1"}])[0]


def test_batch_get_image_returns_stored_type_when_accepted(ecr_client: Any) -> None:
    pushed = push_image(ecr_client, REPO, "acc", tag="v1", oci=True)
    result = ecr_client.batch_get_image(
        repositoryName=REPO, imageIds=[{"imageTag": "v1"}], acceptedMediaTypes=[OCI_MANIFEST]
    )
    image = result["images"][0]
    assert image["imageManifest"] == pushed.manifest
    assert image["imageManifestMediaType"] == OCI_MANIFEST


def test_batch_get_image_of_list_not_accepted_serves_the_amd64_image(ecr_client: Any) -> None:
    arm = push_image(ecr_client, REPO, "arm", architecture="arm64")
    amd = push_image(ecr_client, REPO, "amd", architecture="amd64")
    index = index_manifest(
        [(arm.manifest, DOCKER_MANIFEST, "arm64"), (amd.manifest, DOCKER_MANIFEST, "amd64")]
    )
    ecr_client.put_image(repositoryName=REPO, imageManifest=index, imageTag="multi")
    only_images = ecr_client.batch_get_image(
        repositoryName=REPO, imageIds=[{"imageTag": "multi"}], acceptedMediaTypes=[DOCKER_MANIFEST]
    )["images"][0]
    assert only_images["imageManifest"] == amd.manifest
    assert only_images["imageManifestMediaType"] == DOCKER_MANIFEST
    assert only_images["imageId"] == {"imageDigest": amd.digest, "imageTag": "multi"}
    with_lists = ecr_client.batch_get_image(
        repositoryName=REPO,
        imageIds=[{"imageTag": "multi"}],
        acceptedMediaTypes=[DOCKER_MANIFEST, DOCKER_MANIFEST_LIST],
    )["images"][0]
    assert with_lists["imageManifest"] == index
    default = ecr_client.batch_get_image(repositoryName=REPO, imageIds=[{"imageTag": "multi"}])
    assert default["images"][0]["imageManifestMediaType"] == DOCKER_MANIFEST_LIST


def test_batch_get_image_without_convertible_type_returns_what_is_stored(ecr_client: Any) -> None:
    pushed = push_image(ecr_client, REPO, "asis", tag="v1")
    result = ecr_client.batch_get_image(
        repositoryName=REPO, imageIds=[{"imageTag": "v1"}], acceptedMediaTypes=[OCI_MANIFEST]
    )
    assert result["images"][0]["imageManifest"] == pushed.manifest
    assert result["images"][0]["imageManifestMediaType"] == DOCKER_MANIFEST


def test_batch_get_image_in_unknown_repository_raises_repository_not_found(ecr_client: Any) -> None:
    with pytest.raises(ClientError) as exc:
        ecr_client.batch_get_image(repositoryName="nope", imageIds=[{"imageTag": "v1"}])
    assert error(exc)[0] == "RepositoryNotFoundException"


# ----- BatchDeleteImage ------------------------------------------------------------------------


def test_delete_by_tag_of_last_tag_deletes_the_image(ecr_client: Any) -> None:
    pushed = push_image(ecr_client, REPO, "del", tag="v1")
    result = ecr_client.batch_delete_image(repositoryName=REPO, imageIds=[{"imageTag": "v1"}])
    assert result["imageIds"] == [{"imageDigest": pushed.digest, "imageTag": "v1"}]
    assert result["failures"] == []
    assert describe(ecr_client) == []


def test_delete_by_tag_of_one_of_several_tags_keeps_the_image(ecr_client: Any) -> None:
    pushed = push_image(ecr_client, REPO, "keep", tag="v1")
    ecr_client.put_image(repositoryName=REPO, imageManifest=pushed.manifest, imageTag="v2")
    ecr_client.batch_delete_image(repositoryName=REPO, imageIds=[{"imageTag": "v1"}])
    details = describe(ecr_client)
    assert [d["imageTags"] for d in details] == [["v2"]]


def test_delete_by_digest_removes_image_and_all_its_tags(ecr_client: Any) -> None:
    pushed = push_image(ecr_client, REPO, "all", tag="v1")
    ecr_client.put_image(repositoryName=REPO, imageManifest=pushed.manifest, imageTag="v2")
    result = ecr_client.batch_delete_image(
        repositoryName=REPO, imageIds=[{"imageDigest": pushed.digest}]
    )
    assert sorted(i["imageTag"] for i in result["imageIds"]) == ["v1", "v2"]
    assert ecr_client.list_images(repositoryName=REPO)["imageIds"] == []


def test_delete_untagged_image_by_digest(ecr_client: Any) -> None:
    pushed = push_image(ecr_client, REPO, "bare")
    result = ecr_client.batch_delete_image(
        repositoryName=REPO, imageIds=[{"imageDigest": pushed.digest}]
    )
    assert result["imageIds"] == [{"imageDigest": pushed.digest}]


def test_batch_delete_image_reports_each_failure_code(ecr_client: Any) -> None:
    pushed = push_image(ecr_client, REPO, "faildel", tag="v1")
    result = ecr_client.batch_delete_image(
        repositoryName=REPO, imageIds=[image_id for image_id, _ in BAD_IMAGE_IDS]
    )
    codes = [(f["imageId"], f["failureCode"]) for f in result["failures"]]
    assert codes == BAD_IMAGE_IDS
    assert result["imageIds"] == []
    assert describe(ecr_client)[0]["imageDigest"] == pushed.digest


def test_batch_delete_image_without_digest_or_tag_fails_missing_digest_and_tag(
    ecr_backend: Backend,
) -> None:
    status, body = call(
        ecr_backend, "BatchDeleteImage", {"repositoryName": REPO, "imageIds": [{}]}, validate=False
    )
    assert status == 200
    assert body["failures"][0]["failureCode"] == "MissingDigestAndTag"


def test_image_referenced_by_manifest_list_cannot_be_deleted(ecr_client: Any) -> None:
    child = push_image(ecr_client, REPO, "child")
    index = index_manifest([(child.manifest, DOCKER_MANIFEST, "amd64")])
    ecr_client.put_image(repositoryName=REPO, imageManifest=index, imageTag="multi")
    result = ecr_client.batch_delete_image(
        repositoryName=REPO, imageIds=[{"imageDigest": child.digest}]
    )
    assert result["failures"][0]["failureCode"] == "ImageReferencedByManifestList"
    ecr_client.batch_delete_image(repositoryName=REPO, imageIds=[{"imageTag": "multi"}])
    result = ecr_client.batch_delete_image(
        repositoryName=REPO, imageIds=[{"imageDigest": child.digest}]
    )
    assert result["imageIds"] == [{"imageDigest": child.digest}]


def test_batch_delete_image_handles_a_repeated_id_once(ecr_client: Any) -> None:
    push_image(ecr_client, REPO, "rep", tag="v1")
    result = ecr_client.batch_delete_image(
        repositoryName=REPO, imageIds=[{"imageTag": "v1"}, {"imageTag": "v1"}]
    )
    assert len(result["imageIds"]) == 1
    assert result["failures"] == []


# ----- ListImages ------------------------------------------------------------------------------


def test_list_images_gives_one_entry_per_tag_and_one_per_untagged_image(ecr_client: Any) -> None:
    tagged = push_image(ecr_client, REPO, "tagged", tag="a")
    ecr_client.put_image(repositoryName=REPO, imageManifest=tagged.manifest, imageTag="b")
    bare = push_image(ecr_client, REPO, "bare")
    ids = ecr_client.list_images(repositoryName=REPO)["imageIds"]
    assert ids == [
        {"imageDigest": tagged.digest, "imageTag": "a"},
        {"imageDigest": tagged.digest, "imageTag": "b"},
        {"imageDigest": bare.digest},
    ]


def test_list_images_filters_by_tag_status(ecr_client: Any) -> None:
    tagged = push_image(ecr_client, REPO, "tagged", tag="a")
    bare = push_image(ecr_client, REPO, "bare")

    def listed(status: str) -> list[dict[str, str]]:
        return list(
            ecr_client.list_images(repositoryName=REPO, filter={"tagStatus": status})["imageIds"]
        )

    assert listed("TAGGED") == [{"imageDigest": tagged.digest, "imageTag": "a"}]
    assert listed("UNTAGGED") == [{"imageDigest": bare.digest}]
    assert len(listed("ANY")) == 2


def test_list_images_hides_archived_images_unless_asked(
    ecr_client: Any, ecr_backend: Backend
) -> None:
    cold = push_image(ecr_client, REPO, "cold", tag="old")
    warm = push_image(ecr_client, REPO, "warm", tag="new")
    archive(ecr_backend, cold.digest)
    default = ecr_client.list_images(repositoryName=REPO)["imageIds"]
    assert [i["imageDigest"] for i in default] == [warm.digest]
    archived = ecr_client.list_images(repositoryName=REPO, filter={"imageStatus": "ARCHIVED"})
    assert [i["imageDigest"] for i in archived["imageIds"]] == [cold.digest]
    every = ecr_client.list_images(repositoryName=REPO, filter={"imageStatus": "ANY"})
    assert len(every["imageIds"]) == 2


def test_list_images_of_unknown_repository_raises_repository_not_found(ecr_client: Any) -> None:
    with pytest.raises(ClientError) as exc:
        ecr_client.list_images(repositoryName="nope")
    assert error(exc)[0] == "RepositoryNotFoundException"


def test_list_images_rejects_invalid_tag_status_from_raw_callers(ecr_backend: Backend) -> None:
    status, body = call(
        ecr_backend, "ListImages", {"repositoryName": REPO, "filter": {"tagStatus": "SOME"}}
    )
    assert status == 400
    assert body["__type"] == "InvalidParameterException"
    assert "tagStatus" in body["message"]


# ----- DescribeImages --------------------------------------------------------------------------


def test_describe_images_reports_size_push_time_and_media_types(ecr_client: Any) -> None:
    pushed = push_image(ecr_client, REPO, "desc", tag="v1", layer_count=3)
    detail = describe(ecr_client)[0]
    assert detail["registryId"] == "123456789012"
    assert detail["repositoryName"] == REPO
    assert detail["imageDigest"] == pushed.digest
    assert detail["imageTags"] == ["v1"]
    assert detail["imageSizeInBytes"] == pushed.size
    assert detail["imagePushedAt"].timestamp() == START.timestamp()
    assert detail["imageManifestMediaType"] == DOCKER_MANIFEST
    assert detail["artifactMediaType"] == "application/vnd.docker.container.image.v1+json"
    assert detail["imageStatus"] == "ACTIVE"


def test_describe_images_by_ids_and_missing_id_raises_image_not_found(ecr_client: Any) -> None:
    pushed = push_image(ecr_client, REPO, "ids", tag="v1")
    details = describe(ecr_client, imageIds=[{"imageTag": "v1"}, {"imageDigest": pushed.digest}])
    assert [d["imageDigest"] for d in details] == [pushed.digest]
    with pytest.raises(ClientError) as exc:
        describe(ecr_client, imageIds=[{"imageTag": "v1"}, {"imageTag": "gone"}])
    assert error(exc)[0] == "ImageNotFoundException"
    assert "gone" in exc.value.response["Error"]["Message"]


def test_describe_images_with_tag_not_matching_digest_raises_image_not_found(
    ecr_client: Any,
) -> None:
    push_image(ecr_client, REPO, "mismatch", tag="v1")
    with pytest.raises(ClientError) as exc:
        describe(ecr_client, imageIds=[{"imageTag": "v1", "imageDigest": "sha256:" + "3" * 64}])
    assert error(exc)[0] == "ImageNotFoundException"


def test_describe_images_filters_by_tag_status(ecr_client: Any) -> None:
    tagged = push_image(ecr_client, REPO, "tagged", tag="a")
    bare = push_image(ecr_client, REPO, "bare")
    only_tagged = describe(ecr_client, filter={"tagStatus": "TAGGED"})
    only_bare = describe(ecr_client, filter={"tagStatus": "UNTAGGED"})
    assert [d["imageDigest"] for d in only_tagged] == [tagged.digest]
    assert [d["imageDigest"] for d in only_bare] == [bare.digest]


def test_describe_images_reports_archived_images_when_asked(
    ecr_client: Any, ecr_backend: Backend
) -> None:
    cold = push_image(ecr_client, REPO, "cold", tag="old")
    archive(ecr_backend, cold.digest)
    assert describe(ecr_client) == []
    archived = describe(ecr_client, filter={"imageStatus": "ARCHIVED"})
    assert [(d["imageDigest"], d["imageStatus"]) for d in archived] == [(cold.digest, "ARCHIVED")]
    assert describe(ecr_client, imageIds=[{"imageTag": "old"}])[0]["imageStatus"] == "ARCHIVED"


def test_describe_images_with_ids_and_max_results_is_refused(ecr_client: Any) -> None:
    push_image(ecr_client, REPO, "both", tag="v1")
    with pytest.raises(ClientError) as exc:
        describe(ecr_client, imageIds=[{"imageTag": "v1"}], maxResults=5)
    assert error(exc)[0] == "InvalidParameterException"


def test_describe_images_of_unknown_repository_raises_repository_not_found(ecr_client: Any) -> None:
    with pytest.raises(ClientError) as exc:
        ecr_client.describe_images(repositoryName="nope")
    assert error(exc)[0] == "RepositoryNotFoundException"


def test_describe_images_from_raw_caller_with_bad_max_results_is_refused(
    ecr_backend: Backend,
) -> None:
    status, body = call(ecr_backend, "DescribeImages", {"repositoryName": REPO, "maxResults": 1001})
    assert status == 400
    assert body["__type"] == "InvalidParameterException"
    assert "maxResults" in body["message"]
    status, body = call(
        ecr_backend, "DescribeImages", {"repositoryName": REPO, "maxResults": "ten"}
    )
    assert status == 400
    assert body["__type"] == "SerializationException"


def test_raw_put_image_without_manifest_is_refused(ecr_backend: Backend) -> None:
    status, body = call(ecr_backend, "PutImage", {"repositoryName": REPO})
    assert status == 400
    assert body["__type"] == "InvalidParameterException"
    assert "imageManifest" in body["message"]


def test_raw_batch_get_image_with_empty_id_list_is_refused(ecr_backend: Backend) -> None:
    status, body = call(ecr_backend, "BatchGetImage", {"repositoryName": REPO, "imageIds": []})
    assert status == 400
    assert body["__type"] == "InvalidParameterException"
