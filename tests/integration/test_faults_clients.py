"""Real clients through injected faults: skopeo retries 503s and cut layers; the AWS CLI reports."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.integration.oci_layout import Layout
from tests.integration.test_skopeo import push, skopeo
from tests.support.live import Live, require


def pull(live: Live, ref: str, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """``skopeo copy docker://<endpoint>/<ref> oci:<out>:<tag>``."""
    return skopeo(
        "copy",
        "--preserve-digests",
        "--src-tls-verify=false",
        "--src-creds",
        live.creds,
        *extra,
        f"docker://{live.endpoint}/{ref}",
        f"oci:{out}:{ref.rsplit(':', 1)[1]}",
        check=False,
    )


def assert_same_blobs(out: Path, blobs: dict[str, bytes]) -> None:
    for digest, data in blobs.items():
        assert (out / "blobs" / "sha256" / digest.split(":")[1]).read_bytes() == data


def test_skopeo_pull_retries_through_a_throttled_first_blob_get(
    live: Live, layout: Layout, tmp_path: Path
) -> None:
    live.client.create_repository(repositoryName="app")
    built = layout.image("v1", layers=2, layer_bytes=256 * 1024)
    assert push(live, layout, "app:v1").returncode == 0
    rule = live.backend.faults.add(operation="blob.get", error="TOOMANYREQUESTS", times=1)
    result = pull(live, "app:v1", tmp_path / "pulled", "--retry-times", "3")
    assert result.returncode == 0, result.stderr
    assert_same_blobs(tmp_path / "pulled", built.blobs)
    assert rule.hits == 1
    statuses = [c.status for c in live.backend.calls.of(operation="blob.get")]
    assert statuses[0] == 429 and statuses.count(429) == 1


def test_skopeo_pull_through_a_503_on_the_first_blob_get(
    live: Live, layout: Layout, tmp_path: Path
) -> None:
    """skopeo retries registry errors it can parse (429 above); a bare 503 on a blob download
    ends this copy (skopeo 1.9 does not retry it), and the next run gets the right bytes."""
    live.client.create_repository(repositoryName="app")
    built = layout.image("v1", layers=2, layer_bytes=256 * 1024)
    assert push(live, layout, "app:v1").returncode == 0
    rule = live.backend.faults.add(operation="blob.get", error="UNAVAILABLE", times=1)
    first = pull(live, "app:v1", tmp_path / "pulled", "--retry-times", "3")
    if first.returncode != 0:
        assert "503" in first.stderr
        again = pull(live, "app:v1", tmp_path / "pulled", "--retry-times", "3")
        assert again.returncode == 0, again.stderr
    assert_same_blobs(tmp_path / "pulled", built.blobs)
    assert rule.hits == 1
    statuses = [c.status for c in live.backend.calls.of(operation="blob.get")]
    assert statuses[0] == 503 and statuses.count(503) == 1


def test_skopeo_pull_through_a_connection_cut_mid_layer(
    live: Live, layout: Layout, tmp_path: Path
) -> None:
    live.client.create_repository(repositoryName="app")
    built = layout.image("v1", layers=1, layer_bytes=2 * 1024 * 1024)
    assert push(live, layout, "app:v1").returncode == 0
    layer = json.loads(built.manifest)["layers"][0]["digest"]
    rule = live.backend.faults.add(
        operation="blob.get", disconnect_after_bytes=300_000, times=1, repository="app"
    )
    out = tmp_path / "pulled"
    first = pull(live, "app:v1", out, "--retry-times", "3")
    if first.returncode != 0:  # skopeo 1.9 gives up on a cut body; newer ones resume
        assert "unexpected EOF" in first.stderr
        assert not (out / "blobs" / "sha256" / layer.split(":")[1]).exists()
        again = pull(live, "app:v1", out, "--retry-times", "3")
        assert again.returncode == 0, again.stderr
    assert_same_blobs(out, built.blobs)
    assert rule.hits == 1
    layer_gets = [
        c for c in live.backend.calls.of(operation="blob.get") if c.path and layer in c.path
    ]
    assert len(layer_gets) == 2 and layer_gets[0].fault is not None


def test_a_resumable_download_continues_with_range_after_a_cut(live: Live) -> None:
    import requests

    from tests.ecr_api.helpers import upload_layer

    data = os.urandom(1024 * 1024)
    live.client.create_repository(repositoryName="big")
    digest = upload_layer(live.client, "big", data)
    live.backend.faults.add(operation="blob.get", disconnect_after_bytes=200_000, times=1)
    url = f"{live.url}/v2/big/blobs/{digest}"
    auth = ("AWS", live.password)
    received = b""
    while len(received) < len(data):
        headers = {"Range": f"bytes={len(received)}-"} if received else {}
        try:
            with requests.get(url, auth=auth, headers=headers, stream=True, timeout=30) as answer:
                assert answer.status_code == (206 if received else 200)
                for chunk in answer.iter_content(65536):
                    received += chunk
        except requests.exceptions.ChunkedEncodingError as exc:
            assert "IncompleteRead(200000 bytes read" in str(exc)  # cut where the rule said
    assert received == data
    statuses = [c.status for c in live.backend.calls.of(operation="blob.get")]
    assert statuses == [200, 206]


def test_skopeo_push_through_a_failed_manifest_put_leaves_no_image_then_succeeds(
    live: Live, layout: Layout
) -> None:
    live.client.create_repository(repositoryName="app")
    built = layout.image("v1", layers=2)
    live.backend.faults.add(operation="manifest.put", error="UNAVAILABLE", times=1, id="put")
    failed = push(live, layout, "app:v1")
    assert failed.returncode != 0
    assert live.client.describe_images(repositoryName="app")["imageDetails"] == []
    assert live.client.list_images(repositoryName="app")["imageIds"] == []
    assert push(live, layout, "app:v1").returncode == 0
    images = live.client.describe_images(repositoryName="app")["imageDetails"]
    assert [(d["imageDigest"], d["imageTags"]) for d in images] == [(built.digest, ["v1"])]


def test_skopeo_push_retries_through_throttled_uploads(live: Live, layout: Layout) -> None:
    live.client.create_repository(repositoryName="app")
    built = layout.image("v1", layers=2)
    live.backend.faults.add(operation="upload.start", error="TOOMANYREQUESTS", times=1)
    result = push(live, layout, "app:v1", "--retry-times", "3")
    assert result.returncode == 0, result.stderr
    got = live.client.batch_get_image(repositoryName="app", imageIds=[{"imageTag": "v1"}])
    assert got["images"][0]["imageManifest"].encode() == built.manifest


AWS = shutil.which("aws")


@pytest.mark.skipif(AWS is None, reason="the AWS CLI (aws) is not installed")
def test_aws_cli_reports_an_injected_server_exception_after_its_retries(
    live: Live, tmp_path: Path
) -> None:
    live.backend.faults.add(operation="DescribeRepositories", error="ServerException")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="AKIAIOSFODNN7EXAMPLE",
        AWS_SECRET_ACCESS_KEY="secret",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(tmp_path / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"),
        AWS_RETRY_MODE="standard",
        AWS_MAX_ATTEMPTS="3",
    )
    result = subprocess.run(
        [require("aws"), "--endpoint-url", live.url, "ecr", "describe-repositories"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "(ServerException)" in result.stderr
    assert "reached max retries: 2" in result.stderr
    attempts = live.backend.calls.of(operation="DescribeRepositories")
    assert [(c.status, c.error_code) for c in attempts] == [(500, "ServerException")] * 3
