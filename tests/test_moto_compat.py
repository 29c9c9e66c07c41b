"""``allow_missing_layers``: moto-style suites (fake layer digests, lists of unpushed images).

Each switch is tested both ways: on, the moto-style push succeeds and everything else stays
exact; off (the default), ECR's errors come back.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from ecr_mock import mock_ecr
from ecr_mock.testing.mock import ALLOW_MISSING_LAYERS_ENV, allow_missing_layers_default
from tests.support.serve import clean_env, serve_process

ACCOUNT = "123456789012"
REGION = "us-east-1"
HOST = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"


def fake_digest(seed: str) -> str:
    """A digest of something never uploaded, the way moto's tests make them."""
    return "sha256:" + hashlib.sha256(seed.encode()).hexdigest()


def moto_style_manifest(seed: str = "image") -> dict[str, Any]:
    """An image manifest naming a config and layers that were never uploaded."""
    return {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 7023,
            "digest": fake_digest(f"{seed}-config"),
        },
        "layers": [
            {
                "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "size": 32654,
                "digest": fake_digest(f"{seed}-layer1"),
            },
            {
                "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "size": 16724,
                "digest": fake_digest(f"{seed}-layer2"),
            },
        ],
    }


def moto_style_manifest_list(children: list[bytes]) -> dict[str, Any]:
    """A manifest list naming ``children`` by digest (pushed or not)."""
    return {
        "schemaVersion": 2,
        "mediaType": DOCKER_LIST,
        "manifests": [
            {
                "mediaType": DOCKER_MANIFEST,
                "size": len(child),
                "digest": "sha256:" + hashlib.sha256(child).hexdigest(),
                "platform": {"architecture": arch, "os": "linux"},
            }
            for child, arch in zip(
                children, ["amd64", "arm64", "ppc64le"][: len(children)], strict=True
            )
        ],
    }


def put_moto_style_image(client: Any, repo: str = "app", tag: str = "latest") -> dict[str, Any]:
    client.create_repository(repositoryName=repo)
    text = json.dumps(moto_style_manifest())
    image: dict[str, Any] = client.put_image(repositoryName=repo, imageManifest=text, imageTag=tag)[
        "image"
    ]
    return image


def assert_layers_not_found(client: Any, repo: str = "app") -> None:
    client.create_repository(repositoryName=repo)
    with pytest.raises(ClientError) as caught:
        client.put_image(
            repositoryName=repo, imageManifest=json.dumps(moto_style_manifest()), imageTag="v1"
        )
    assert caught.value.response["Error"]["Code"] == "LayersNotFoundException"
    assert client.list_images(repositoryName=repo)["imageIds"] == []


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ALLOW_MISSING_LAYERS_ENV, raising=False)


# ----- mock_ecr(allow_missing_layers=...) ------------------------------------------------------


@pytest.mark.usefixtures("no_env")
def test_missing_layers_are_refused_by_default() -> None:
    with mock_ecr():
        assert_layers_not_found(boto3.client("ecr", region_name=REGION))


@pytest.mark.usefixtures("no_env")
def test_switch_on_accepts_fake_layers_and_keeps_the_real_digest_and_sizes() -> None:
    text = json.dumps(moto_style_manifest())
    with mock_ecr(allow_missing_layers=True):
        client = boto3.client("ecr", region_name=REGION)
        client.create_repository(repositoryName="app")
        image = client.put_image(repositoryName="app", imageManifest=text, imageTag="v1")["image"]
        detail = client.describe_images(repositoryName="app")["imageDetails"][0]
        pulled = client.batch_get_image(repositoryName="app", imageIds=[{"imageTag": "v1"}])[
            "images"
        ][0]
    expected = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    assert image["imageId"]["imageDigest"] == expected
    assert image["imageManifestMediaType"] == DOCKER_MANIFEST
    assert detail["imageDigest"] == expected
    assert detail["imageTags"] == ["v1"]
    assert detail["imageSizeInBytes"] == 32654 + 16724  # the layers' descriptor sizes
    assert pulled["imageManifest"] == text


@pytest.mark.usefixtures("no_env")
def test_switch_on_missing_layers_stay_missing_for_layer_operations() -> None:
    layer = moto_style_manifest()["layers"][0]["digest"]
    with mock_ecr(allow_missing_layers=True):
        client = boto3.client("ecr", region_name=REGION)
        put_moto_style_image(client)
        checked = client.batch_check_layer_availability(repositoryName="app", layerDigests=[layer])
        with pytest.raises(ClientError) as caught:
            client.get_download_url_for_layer(repositoryName="app", layerDigest=layer)
    assert checked["layers"] == []
    assert checked["failures"][0]["failureCode"] == "MissingLayerDigest"
    assert caught.value.response["Error"]["Code"] == "LayersNotFoundException"


@pytest.mark.usefixtures("no_env")
def test_manifest_list_of_unpushed_images_is_refused_by_default() -> None:
    children = [json.dumps(moto_style_manifest(s)).encode() for s in ("amd", "arm")]
    with mock_ecr():
        client = boto3.client("ecr", region_name=REGION)
        client.create_repository(repositoryName="multi")
        with pytest.raises(ClientError) as caught:
            client.put_image(
                repositoryName="multi",
                imageManifest=json.dumps(moto_style_manifest_list(children)),
                imageTag="multiarch",
            )
    assert caught.value.response["Error"]["Code"] == "ReferencedImagesNotFoundException"


@pytest.mark.usefixtures("no_env")
def test_switch_on_accepts_a_manifest_list_of_unpushed_images() -> None:
    children = [json.dumps(moto_style_manifest(s)).encode() for s in ("amd", "arm")]
    text = json.dumps(moto_style_manifest_list(children))
    with mock_ecr(allow_missing_layers=True):
        client = boto3.client("ecr", region_name=REGION)
        client.create_repository(repositoryName="multi")
        image = client.put_image(repositoryName="multi", imageManifest=text, imageTag="multi")
        listed = client.list_images(repositoryName="multi")["imageIds"]
    assert image["image"]["imageId"]["imageDigest"] == (
        "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    )
    assert image["image"]["imageManifestMediaType"] == DOCKER_LIST
    assert [item.get("imageTag") for item in listed] == ["multi"]


@pytest.mark.usefixtures("no_env")
def test_switch_on_keeps_tag_immutability_and_manifest_checks() -> None:
    with mock_ecr(allow_missing_layers=True):
        client = boto3.client("ecr", region_name=REGION)
        client.create_repository(repositoryName="fixed", imageTagMutability="IMMUTABLE")
        client.put_image(
            repositoryName="fixed",
            imageManifest=json.dumps(moto_style_manifest("one")),
            imageTag="v1",
        )
        with pytest.raises(ClientError) as overwrite:
            client.put_image(
                repositoryName="fixed",
                imageManifest=json.dumps(moto_style_manifest("two")),
                imageTag="v1",
            )
        with pytest.raises(ClientError) as garbage:
            client.put_image(repositoryName="fixed", imageManifest="{not json", imageTag="v2")
        with pytest.raises(ClientError) as again:
            client.put_image(
                repositoryName="fixed",
                imageManifest=json.dumps(moto_style_manifest("one")),
                imageTag="v1",
            )
    assert overwrite.value.response["Error"]["Code"] == "ImageTagAlreadyExistsException"
    assert garbage.value.response["Error"]["Code"] == "InvalidParameterException"
    assert again.value.response["Error"]["Code"] == "ImageAlreadyExistsException"


@pytest.mark.usefixtures("no_env")
def test_decorator_form_takes_the_switch() -> None:
    @mock_ecr(allow_missing_layers=True)
    def moto_style_test() -> str:
        image = put_moto_style_image(boto3.client("ecr", region_name=REGION))
        return str(image["imageId"]["imageTag"])

    @mock_ecr
    def strict_test() -> None:
        assert_layers_not_found(boto3.client("ecr", region_name=REGION))

    assert moto_style_test() == "latest"
    strict_test()


@pytest.mark.usefixtures("no_env")
def test_switch_on_a_shared_backend_and_reset_keep_the_setting() -> None:
    outer = mock_ecr(allow_missing_layers=True)
    with outer:
        outer.reset()
        assert outer.backend.allow_missing_layers is True
        put_moto_style_image(boto3.client("ecr", region_name=REGION))
    with mock_ecr(outer.backend, allow_missing_layers=False):
        assert_layers_not_found(boto3.client("ecr", region_name=REGION), repo="strict")


# ----- ECR_MOCK_ALLOW_MISSING_LAYERS ----------------------------------------------------------


@pytest.mark.parametrize("value", ["1", "true", "YES", "on"])
def test_environment_variable_turns_the_switch_on(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(ALLOW_MISSING_LAYERS_ENV, value)
    with mock_ecr():
        image = put_moto_style_image(boto3.client("ecr", region_name=REGION))
    assert image["imageId"]["imageTag"] == "latest"


@pytest.mark.parametrize("value", ["0", "false", "off", ""])
def test_environment_variable_off_values_keep_ecr_checks(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(ALLOW_MISSING_LAYERS_ENV, value)
    with mock_ecr():
        assert_layers_not_found(boto3.client("ecr", region_name=REGION))


def test_explicit_argument_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ALLOW_MISSING_LAYERS_ENV, "1")
    with mock_ecr(allow_missing_layers=False):
        assert_layers_not_found(boto3.client("ecr", region_name=REGION))


def test_environment_is_read_per_decorated_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ALLOW_MISSING_LAYERS_ENV, raising=False)

    @mock_ecr
    def moto_style_test() -> str:
        return str(put_moto_style_image(boto3.client("ecr", region_name=REGION))["imageId"])

    monkeypatch.setenv(ALLOW_MISSING_LAYERS_ENV, "1")
    assert "imageDigest" in moto_style_test()


def test_unknown_environment_value_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ALLOW_MISSING_LAYERS_ENV, "maybe")
    with pytest.raises(ValueError, match="ECR_MOCK_ALLOW_MISSING_LAYERS='maybe'"):
        allow_missing_layers_default()
    with pytest.raises(ValueError, match="expected 1, true"):
        mock_ecr()


# ----- /v2/ with the switch ------------------------------------------------------------------


def _v2_push(tag: str, body: bytes) -> requests.Response:
    client = boto3.client("ecr", region_name=REGION)
    client.create_repository(repositoryName="web")
    token = client.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    password = base64.b64decode(token).decode().split(":", 1)[1]
    return requests.put(
        f"https://{HOST}/v2/web/manifests/{tag}",
        data=body,
        headers={"Content-Type": DOCKER_MANIFEST},
        auth=("AWS", password),
        timeout=30,
    )


@pytest.mark.usefixtures("no_env")
def test_v2_manifest_put_with_missing_layers_is_refused_by_default() -> None:
    body = json.dumps(moto_style_manifest()).encode()
    with mock_ecr():
        response = _v2_push("v1", body)
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "BLOB_UPLOAD_UNKNOWN"


@pytest.mark.usefixtures("no_env")
def test_v2_switch_on_stores_the_manifest_and_missing_blobs_are_blob_unknown() -> None:
    manifest = moto_style_manifest()
    body = json.dumps(manifest).encode()
    layer = manifest["layers"][0]["digest"]
    with mock_ecr(allow_missing_layers=True) as backend:
        pushed = _v2_push("v1", body)
        password = backend.tokens.issue(backend.principal_for_key(None), ACCOUNT, REGION).password
        auth = ("AWS", password)
        pulled = requests.get(
            f"https://{HOST}/v2/web/manifests/v1",
            headers={"Accept": DOCKER_MANIFEST},
            auth=auth,
            timeout=30,
        )
        blob = requests.get(f"https://{HOST}/v2/web/blobs/{layer}", auth=auth, timeout=30)
        head = requests.head(f"https://{HOST}/v2/web/blobs/{layer}", auth=auth, timeout=30)
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    assert pushed.status_code == 201
    assert pushed.headers["Docker-Content-Digest"] == digest
    assert pulled.status_code == 200
    assert pulled.content == body
    assert pulled.headers["Docker-Content-Digest"] == digest
    assert blob.status_code == 404
    assert blob.json()["errors"][0]["code"] == "BLOB_UNKNOWN"
    assert head.status_code == 404


# ----- ecr-mock serve --allow-missing-layers ---------------------------------------------------


def _serve(tmp_path: Path, *args: str, **env: str) -> Iterator[str]:
    server = serve_process(
        [sys.executable, "-m", "ecr_mock", "serve", "--port", "0", *args],
        clean_env(tmp_path, **env),
    )
    try:
        yield server.url
    finally:
        server.process.terminate()
        server.process.communicate(timeout=30)


@pytest.fixture
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    args, env = request.param
    yield from _serve(tmp_path, *args, **env)


def _client(url: str) -> Any:
    return boto3.client(
        "ecr",
        region_name=REGION,
        endpoint_url=url,
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="secret",
    )


@pytest.mark.parametrize(
    "served",
    [(["--allow-missing-layers"], {}), ([], {ALLOW_MISSING_LAYERS_ENV: "1"})],
    ids=["flag", "environment"],
    indirect=True,
)
def test_serve_with_the_switch_accepts_moto_style_images(served: str) -> None:
    client = _client(served)
    image = put_moto_style_image(client)
    children = [json.dumps(moto_style_manifest(s)).encode() for s in ("amd", "arm")]
    listed = client.put_image(
        repositoryName="app",
        imageManifest=json.dumps(moto_style_manifest_list(children)),
        imageTag="multi",
    )
    assert image["imageId"]["imageTag"] == "latest"
    assert listed["image"]["imageManifestMediaType"] == DOCKER_LIST


@pytest.mark.parametrize("served", [([], {})], ids=["default"], indirect=True)
def test_serve_without_the_switch_refuses_moto_style_images(served: str) -> None:
    assert_layers_not_found(_client(served))


def test_serve_refuses_an_unknown_environment_value(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ecr_mock", "serve", "--port", "0"],
        env=clean_env(tmp_path, **{ALLOW_MISSING_LAYERS_ENV: "perhaps"}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "ECR_MOCK_ALLOW_MISSING_LAYERS='perhaps'" in result.stderr


def test_env_helper_reads_the_environment_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ALLOW_MISSING_LAYERS_ENV, "on")
    assert allow_missing_layers_default() is True
    monkeypatch.delenv(ALLOW_MISSING_LAYERS_ENV)
    assert allow_missing_layers_default() is False


@pytest.mark.usefixtures("no_env")
def test_switch_on_replication_copies_the_image_and_leaves_missing_layers_missing() -> None:
    rules = [{"destinations": [{"region": "us-west-2", "registryId": ACCOUNT}]}]
    with mock_ecr(allow_missing_layers=True):
        source = boto3.client("ecr", region_name=REGION)
        source.put_replication_configuration(replicationConfiguration={"rules": rules})
        image = put_moto_style_image(source)
        target = boto3.client("ecr", region_name="us-west-2")
        copied = target.describe_images(repositoryName="app")["imageDetails"]
        status = source.describe_image_replication_status(
            repositoryName="app", imageId={"imageTag": "latest"}
        )["replicationStatuses"]
    assert [item["imageDigest"] for item in copied] == [image["imageId"]["imageDigest"]]
    assert copied[0]["imageTags"] == ["latest"]
    assert [item["status"] for item in status] == ["COMPLETE"]
