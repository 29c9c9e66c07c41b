"""Layer operations through boto3 and raw JSON 1.1: uploads, availability, download URLs."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ecr_mock.services.backend import Backend
from tests.ecr_api.helpers import DOCKER_CONFIG, DOCKER_LAYER, b64, call, error, push_image, sha256

REPO = "team/layers"

pytestmark = pytest.mark.ecr_seed({"repositories": [{"name": REPO}]})
MIB = 1024 * 1024
UNKNOWN_UPLOAD = "0f8fad5b-d9cb-469f-a165-70867728950e"


def start(client: Any) -> str:
    return str(client.initiate_layer_upload(repositoryName=REPO)["uploadId"])


def part(client: Any, upload_id: str, first: int, data: bytes) -> dict[str, Any]:
    result: dict[str, Any] = client.upload_layer_part(
        repositoryName=REPO,
        uploadId=upload_id,
        partFirstByte=first,
        partLastByte=first + len(data) - 1,
        layerPartBlob=data,
    )
    return result


def complete(client: Any, upload_id: str, digest: str) -> dict[str, Any]:
    result: dict[str, Any] = client.complete_layer_upload(
        repositoryName=REPO, uploadId=upload_id, layerDigests=[digest]
    )
    return result


# ----- InitiateLayerUpload / UploadLayerPart / CompleteLayerUpload ---------------------------


def test_initiate_layer_upload_returns_upload_id_and_part_size(ecr_client: Any) -> None:
    result = ecr_client.initiate_layer_upload(repositoryName=REPO)
    assert len(result["uploadId"]) == 36
    assert result["partSize"] >= 5 * MIB
    other = ecr_client.initiate_layer_upload(repositoryName=REPO)["uploadId"]
    assert other != result["uploadId"]


def test_initiate_layer_upload_in_unknown_repository_raises_repository_not_found(
    ecr_client: Any,
) -> None:
    with pytest.raises(ClientError) as exc:
        ecr_client.initiate_layer_upload(repositoryName="nope")
    assert error(exc)[0] == "RepositoryNotFoundException"


def test_single_part_upload_completes_with_its_sha256(ecr_client: Any) -> None:
    data = b"a small layer"
    upload_id = start(ecr_client)
    result = part(ecr_client, upload_id, 0, data)
    assert result["lastByteReceived"] == len(data) - 1
    assert result["uploadId"] == upload_id
    assert result["repositoryName"] == REPO
    assert result["registryId"] == "123456789012"
    done = complete(ecr_client, upload_id, sha256(data))
    assert done == {
        "registryId": "123456789012",
        "repositoryName": REPO,
        "uploadId": upload_id,
        "layerDigest": sha256(data),
        "ResponseMetadata": done["ResponseMetadata"],
    }


def test_multi_part_upload_of_5_mib_parts_is_stored_whole(ecr_client: Any) -> None:
    data = bytes(range(256)) * (5 * MIB // 256) + b"tail-bytes"
    upload_id = start(ecr_client)
    part(ecr_client, upload_id, 0, data[: 5 * MIB])
    assert (
        part(ecr_client, upload_id, 5 * MIB, data[5 * MIB :])["lastByteReceived"] == len(data) - 1
    )
    complete(ecr_client, upload_id, sha256(data))
    check = ecr_client.batch_check_layer_availability(
        repositoryName=REPO, layerDigests=[sha256(data)]
    )
    assert check["layers"][0]["layerSize"] == len(data)


def test_part_not_starting_where_the_upload_stands_raises_invalid_layer_part(
    ecr_client: Any,
) -> None:
    upload_id = start(ecr_client)
    part(ecr_client, upload_id, 0, b"x" * (5 * MIB))
    with pytest.raises(ClientError) as exc:
        part(ecr_client, upload_id, 5 * MIB + 10, b"gap")
    assert error(exc)[0] == "InvalidLayerPartException"
    assert exc.value.response["lastValidByteReceived"] == 5 * MIB - 1
    assert exc.value.response["uploadId"] == upload_id


def test_part_overlapping_received_bytes_raises_invalid_layer_part(ecr_client: Any) -> None:
    upload_id = start(ecr_client)
    part(ecr_client, upload_id, 0, b"y" * (5 * MIB))
    with pytest.raises(ClientError) as exc:
        part(ecr_client, upload_id, 100, b"again")
    assert error(exc)[0] == "InvalidLayerPartException"


def test_part_whose_range_does_not_match_its_bytes_raises_invalid_layer_part(
    ecr_client: Any,
) -> None:
    upload_id = start(ecr_client)
    with pytest.raises(ClientError) as exc:
        ecr_client.upload_layer_part(
            repositoryName=REPO,
            uploadId=upload_id,
            partFirstByte=0,
            partLastByte=99,
            layerPartBlob=b"ten bytes!",
        )
    assert error(exc)[0] == "InvalidLayerPartException"


def test_completing_after_a_part_smaller_than_5_mib_raises_layer_part_too_small(
    ecr_client: Any,
) -> None:
    # The model lists LayerPartTooSmallException for CompleteLayerUpload only (S3 multipart).
    upload_id = start(ecr_client)
    part(ecr_client, upload_id, 0, b"tiny")
    assert part(ecr_client, upload_id, 4, b"more")["lastByteReceived"] == 7
    with pytest.raises(ClientError) as exc:
        complete(ecr_client, upload_id, sha256(b"tinymore"))
    assert error(exc)[0] == "LayerPartTooSmallException"


def test_part_larger_than_20_mib_is_refused(ecr_backend: Backend, ecr_client: Any) -> None:
    upload_id = start(ecr_client)
    data = b"z" * (20 * MIB + 1)
    request = {
        "repositoryName": REPO,
        "uploadId": upload_id,
        "partFirstByte": 0,
        "partLastByte": len(data) - 1,
        "layerPartBlob": b64(data),
    }
    status, body = call(ecr_backend, "UploadLayerPart", request)
    assert status == 400
    assert body["__type"] == "InvalidParameterException"
    assert "layerPartBlob" in body["message"]
    status, body = call(ecr_backend, "UploadLayerPart", request, validate=False)
    assert (status, body["__type"]) == (400, "InvalidLayerPartException")


def _unknown_upload(client: Any) -> tuple[str, int]:
    return UNKNOWN_UPLOAD, 0


def _upload_of_another_repository(client: Any) -> tuple[str, int]:
    client.create_repository(repositoryName="other")
    return client.initiate_layer_upload(repositoryName="other")["uploadId"], 0


def _completed_upload(client: Any) -> tuple[str, int]:
    upload_id = start(client)
    part(client, upload_id, 0, b"done")
    complete(client, upload_id, sha256(b"done"))
    return upload_id, 4


@pytest.mark.parametrize(
    "upload",
    [_unknown_upload, _upload_of_another_repository, _completed_upload],
    ids=["unknown", "of-another-repository", "completed"],
)
def test_a_part_for_an_upload_not_open_in_the_repository_is_upload_not_found(
    ecr_client: Any, upload: Callable[[Any], tuple[str, int]]
) -> None:
    upload_id, first_byte = upload(ecr_client)
    with pytest.raises(ClientError) as exc:
        part(ecr_client, upload_id, first_byte, b"late")
    assert error(exc)[0] == "UploadNotFoundException"


def test_complete_with_wrong_digest_raises_invalid_layer(ecr_client: Any) -> None:
    upload_id = start(ecr_client)
    part(ecr_client, upload_id, 0, b"content")
    with pytest.raises(ClientError) as exc:
        complete(ecr_client, upload_id, sha256(b"other content"))
    assert error(exc)[0] == "InvalidLayerException"


def test_complete_with_sha512_digest_of_the_content_succeeds(ecr_client: Any) -> None:
    data = b"sha512 layer"
    digest = "sha512:" + hashlib.sha512(data).hexdigest()
    upload_id = start(ecr_client)
    part(ecr_client, upload_id, 0, data)
    assert complete(ecr_client, upload_id, digest)["layerDigest"] == digest


def test_complete_without_bytes_raises_empty_upload(ecr_client: Any) -> None:
    upload_id = start(ecr_client)
    with pytest.raises(ClientError) as exc:
        complete(ecr_client, upload_id, sha256(b""))
    assert error(exc)[0] == "EmptyUploadException"


def test_complete_of_known_layer_raises_layer_already_exists(ecr_client: Any) -> None:
    data = b"known layer"
    first = start(ecr_client)
    part(ecr_client, first, 0, data)
    complete(ecr_client, first, sha256(data))
    second = start(ecr_client)
    part(ecr_client, second, 0, data)
    with pytest.raises(ClientError) as exc:
        complete(ecr_client, second, sha256(data))
    assert error(exc)[0] == "LayerAlreadyExistsException"


def test_complete_unknown_upload_raises_upload_not_found(ecr_client: Any) -> None:
    with pytest.raises(ClientError) as exc:
        complete(ecr_client, UNKNOWN_UPLOAD, sha256(b"x"))
    assert error(exc)[0] == "UploadNotFoundException"


def raw_part(backend: Backend, upload_id: str, last_byte: int, blob_text: str) -> tuple[int, Any]:
    """UploadLayerPart of ``[0, last_byte]`` through the API's own handler, body as sent."""
    return call(
        backend,
        "UploadLayerPart",
        {
            "repositoryName": REPO,
            "uploadId": upload_id,
            "partFirstByte": 0,
            "partLastByte": last_byte,
            "layerPartBlob": blob_text,
        },
    )


def test_raw_upload_part_with_bad_base64_is_a_serialization_error(
    ecr_backend: Backend, ecr_client: Any
) -> None:
    status, body = raw_part(ecr_backend, start(ecr_client), 2, "!!not base64!!")
    assert status == 400
    assert body["__type"] == "SerializationException"


def test_raw_upload_part_with_base64_text_stores_the_decoded_bytes(
    ecr_backend: Backend, ecr_client: Any
) -> None:
    data = b"raw caller bytes"
    upload_id = start(ecr_client)
    status, body = raw_part(ecr_backend, upload_id, len(data) - 1, b64(data))
    assert (status, body["lastByteReceived"]) == (200, len(data) - 1)
    assert complete(ecr_client, upload_id, sha256(data))["layerDigest"] == sha256(data)


@pytest.mark.parametrize(
    ("operation", "fields"),
    [
        pytest.param(
            "UploadLayerPart",
            {"uploadId": "not-an-upload", "partFirstByte": 0},
            id="upload-part-malformed-upload-id",
        ),
        pytest.param(
            "UploadLayerPart", {"partFirstByte": -1}, id="upload-part-negative-first-byte"
        ),
        pytest.param(
            "CompleteLayerUpload", {"layerDigests": ["nodigest"]}, id="complete-malformed-digest"
        ),
    ],
)
def test_raw_layer_calls_with_invalid_fields_are_refused(
    ecr_backend: Backend, ecr_client: Any, operation: str, fields: dict[str, Any]
) -> None:
    body: dict[str, Any] = {"repositoryName": REPO, "uploadId": start(ecr_client)}
    if operation == "UploadLayerPart":
        body.update(partLastByte=0, layerPartBlob=b64(b"x"))
    body.update(fields)
    status, answer = call(ecr_backend, operation, body)
    assert status == 400
    assert answer["__type"] == "InvalidParameterException"


# ----- BatchCheckLayerAvailability -------------------------------------------------------------


def test_batch_check_reports_available_layers_and_missing_ones(ecr_client: Any) -> None:
    pushed = push_image(ecr_client, REPO, "check")
    missing = "sha256:" + "9" * 64
    result = ecr_client.batch_check_layer_availability(
        repositoryName=REPO, layerDigests=[pushed.layers[0], pushed.config, missing]
    )
    layer, config = result["layers"]
    assert layer["layerDigest"] == pushed.layers[0]
    assert layer["layerAvailability"] == "AVAILABLE"
    assert layer["mediaType"] == DOCKER_LAYER
    assert layer["layerSize"] > 0
    assert config["mediaType"] == DOCKER_CONFIG
    assert result["failures"] == [
        {
            "layerDigest": missing,
            "failureCode": "MissingLayerDigest",
            "failureReason": result["failures"][0]["failureReason"],
        }
    ]


def test_batch_check_of_uploaded_unreferenced_layer_is_available_without_media_type(
    ecr_client: Any,
) -> None:
    data = b"just uploaded"
    upload_id = start(ecr_client)
    part(ecr_client, upload_id, 0, data)
    complete(ecr_client, upload_id, sha256(data))
    result = ecr_client.batch_check_layer_availability(
        repositoryName=REPO, layerDigests=[sha256(data)]
    )
    assert result["layers"] == [
        {"layerDigest": sha256(data), "layerAvailability": "AVAILABLE", "layerSize": len(data)}
    ]


def test_batch_check_reports_malformed_digest_as_invalid(ecr_client: Any) -> None:
    result = ecr_client.batch_check_layer_availability(
        repositoryName=REPO, layerDigests=["sha256:short", ""]
    )
    codes = [(f["layerDigest"], f["failureCode"]) for f in result["failures"]]
    assert codes == [("sha256:short", "InvalidLayerDigest"), ("", "MissingLayerDigest")]
    assert result["layers"] == []


def test_batch_check_does_not_see_layers_of_another_repository(ecr_client: Any) -> None:
    ecr_client.create_repository(repositoryName="other")
    pushed = push_image(ecr_client, "other", "elsewhere")
    result = ecr_client.batch_check_layer_availability(
        repositoryName=REPO, layerDigests=[pushed.layers[0]]
    )
    assert result["failures"][0]["failureCode"] == "MissingLayerDigest"


def test_batch_check_in_unknown_repository_raises_repository_not_found(ecr_client: Any) -> None:
    with pytest.raises(ClientError) as exc:
        ecr_client.batch_check_layer_availability(
            repositoryName="nope", layerDigests=["sha256:" + "0" * 64]
        )
    assert error(exc)[0] == "RepositoryNotFoundException"


# ----- GetDownloadUrlForLayer ------------------------------------------------------------------


def test_download_url_is_given_for_a_referenced_layer(ecr_client: Any) -> None:
    pushed = push_image(ecr_client, REPO, "download")
    result = ecr_client.get_download_url_for_layer(
        repositoryName=REPO, layerDigest=pushed.layers[1]
    )
    assert result["layerDigest"] == pushed.layers[1]
    assert result["downloadUrl"].startswith("https://")
    assert pushed.layers[1].replace(":", "%3A") in result["downloadUrl"]
    assert f"/{REPO}/" in result["downloadUrl"]


def test_download_url_serves_the_layer_bytes(ecr_client: Any) -> None:
    requests = pytest.importorskip("requests")
    pushed = push_image(ecr_client, REPO, "fetch")
    url = ecr_client.get_download_url_for_layer(repositoryName=REPO, layerDigest=pushed.layers[0])[
        "downloadUrl"
    ]
    response = requests.get(url, timeout=30)
    assert response.status_code == 200
    assert sha256(response.content) == pushed.layers[0]


def test_download_url_of_unreferenced_layer_raises_layer_inaccessible(ecr_client: Any) -> None:
    data = b"orphan layer"
    upload_id = start(ecr_client)
    part(ecr_client, upload_id, 0, data)
    complete(ecr_client, upload_id, sha256(data))
    with pytest.raises(ClientError) as exc:
        ecr_client.get_download_url_for_layer(repositoryName=REPO, layerDigest=sha256(data))
    assert error(exc)[0] == "LayerInaccessibleException"


def test_download_url_of_unknown_layer_raises_layers_not_found(ecr_client: Any) -> None:
    with pytest.raises(ClientError) as exc:
        ecr_client.get_download_url_for_layer(repositoryName=REPO, layerDigest="sha256:" + "8" * 64)
    assert error(exc)[0] == "LayersNotFoundException"


def test_download_url_of_layer_after_its_image_is_deleted_is_inaccessible(ecr_client: Any) -> None:
    pushed = push_image(ecr_client, REPO, "gone", tag="v1")
    ecr_client.batch_delete_image(repositoryName=REPO, imageIds=[{"imageTag": "v1"}])
    with pytest.raises(ClientError) as exc:
        ecr_client.get_download_url_for_layer(repositoryName=REPO, layerDigest=pushed.layers[0])
    assert error(exc)[0] == "LayerInaccessibleException"


def test_raw_download_url_with_malformed_digest_is_refused(ecr_backend: Backend) -> None:
    status, body = call(
        ecr_backend, "GetDownloadUrlForLayer", {"repositoryName": REPO, "layerDigest": "bad"}
    )
    assert status == 400
    assert body["__type"] == "InvalidParameterException"
