"""The state directory's blobs in its own files or in S3 (moto's S3 server, as a process):
the same round trip, a restart, deletion freeing the bytes, and kill -9 mid multipart upload."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from ecr_mock import Backend
from ecr_mock.runtime.providers.s3_blobs import s3_blob_store
from tests.integration.oci_layout import OCI_MANIFEST
from tests.integration.test_persistence_server import Served, push_v2, registry_session, serve
from tests.support.live import require

BUCKET = "ecr-blobs"
PREFIX = "team/registry"
PORT_RE = re.compile(r"Running on http://127\.0\.0\.1:([0-9]+)")


@dataclass
class S3:
    """moto's S3 server and a client of it."""

    endpoint: str
    client: Any

    def object_keys(self) -> set[str]:
        found = self.client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
        return {item["Key"] for item in found}

    def multipart_uploads(self) -> list[dict[str, Any]]:
        uploads: list[dict[str, Any]] = self.client.list_multipart_uploads(Bucket=BUCKET).get(
            "Uploads", []
        )
        return uploads


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[S3]:
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        monkeypatch.setenv(name, value)
    process = subprocess.Popen(
        [require("moto_server"), "-H", "127.0.0.1", "-p", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        port = None
        for line in process.stderr:
            found = PORT_RE.search(line)
            if found:
                port = found.group(1)
                break
        assert port is not None, "moto_server did not start"
        endpoint = f"http://127.0.0.1:{port}"
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield S3(endpoint, client)
    finally:
        process.kill()
        process.wait(timeout=30)


def store_args(kind: str, s3: S3 | None) -> list[str]:
    if kind == "file":
        return []
    assert s3 is not None
    return ["--blob-store", f"s3://{BUCKET}/{PREFIX}", "--s3-endpoint-url", s3.endpoint]


def stored(kind: str, state_dir: Path, s3: S3 | None) -> set[str]:
    """The digests whose bytes the store holds."""
    if kind == "file":
        return {f"{p.parent.name}:{p.name}" for p in (state_dir / "blobs").glob("*/*")}
    assert s3 is not None
    return {"sha256:" + key.rsplit("/", 1)[1] for key in s3.object_keys()}


def pull_and_check(served: Served, tag: str, digest: str, layers: list[bytes]) -> None:
    session = registry_session(served)
    got = session.get(
        f"{served.url}/v2/kept/manifests/{tag}", headers={"Accept": OCI_MANIFEST}, timeout=60
    )
    assert got.status_code == 200
    assert "sha256:" + hashlib.sha256(got.content).hexdigest() == digest
    descriptors = json.loads(got.content)["layers"]
    for descriptor, data in zip(descriptors, layers, strict=True):
        url = f"{served.url}/v2/kept/blobs/{descriptor['digest']}"
        assert session.get(url, timeout=60).content == data
        part = session.get(url, headers={"Range": "bytes=100-9000099"}, timeout=60)
        assert part.status_code == 206
        assert part.content == data[100:9000100]


@pytest.fixture(params=["file", "s3"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_push_pull_restart_delete_round_trip(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    s3: S3 | None = request.getfixturevalue("s3") if kind == "s3" else None
    state_dir = tmp_path / "state"
    layers = [os.urandom(9 * 1024 * 1024 + 5), os.urandom(20_000)]  # one multipart, one not
    served = serve(state_dir, *store_args(kind, s3))
    try:
        served.client().create_repository(repositoryName="kept")
        served.client().create_repository(repositoryName="gone")
        digest, _ = push_v2(registry_session(served), served.url, "kept", "v1", layers)
        other = [os.urandom(30_000)]
        push_v2(registry_session(served), served.url, "gone", "v1", other)
        pull_and_check(served, "v1", digest, layers)
        assert served.stop() == 0
        if kind == "s3":
            assert list((state_dir / "blobs").glob("*/*")) == []  # the bytes are in S3 only
        layer_digests = {"sha256:" + hashlib.sha256(d).hexdigest() for d in layers + other}
        assert layer_digests <= stored(kind, state_dir, s3)
        served = serve(state_dir, *store_args(kind, s3))
        pull_and_check(served, "v1", digest, layers)
        served.client().delete_repository(repositoryName="gone", force=True)
        gone = "sha256:" + hashlib.sha256(other[0]).hexdigest()
        assert gone not in stored(kind, state_dir, s3)  # freed before the answer
        assert served.stop() == 0
        served = serve(state_dir, *store_args(kind, s3))
        pull_and_check(served, "v1", digest, layers)
        names = [
            r["repositoryName"] for r in served.client().describe_repositories()["repositories"]
        ]
        assert names == ["kept"]
        assert served.stop() == 0
        checked = subprocess.run(
            [sys.executable, "-m", "ecr_mock", "check", "--state-dir", str(state_dir)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "is sound (" in checked.stdout
        in_s3 = f"blob bytes are kept in s3://{BUCKET}/{PREFIX}: not verified"
        assert (in_s3 in checked.stdout) == (kind == "s3")
    finally:
        served.stop(signal.SIGKILL)


def test_kill_9_during_a_multipart_upload_leaves_s3_and_the_directory_consistent(
    s3: S3, tmp_path: Path
) -> None:
    state_dir = tmp_path / "state"
    args = store_args("s3", s3)
    small = [os.urandom(5000)]
    served = serve(state_dir, *args)
    try:
        served.client().create_repository(repositoryName="kept")
        digest, _ = push_v2(registry_session(served), served.url, "kept", "v1", small)
        big = os.urandom(96 * 1024 * 1024)
        big_digest = "sha256:" + hashlib.sha256(big).hexdigest()
        session = registry_session(served)
        started = session.post(f"{served.url}/v2/kept/blobs/uploads/", timeout=60)
        location = started.headers["Location"]
        location = served.url + location if location.startswith("/") else location
        done = session.put(f"{location}?digest={big_digest}", data=big, timeout=300)
        assert done.status_code == 201
        # The blob goes up to S3 in parts in the background: kill while parts are going up.
        seen = False
        for _ in range(3000):
            seen = bool(s3.multipart_uploads())
            if seen:
                break
            time.sleep(0.01)
        served.process.kill()
        served.process.wait(timeout=30)
    finally:
        served.stop(signal.SIGKILL)
    assert seen, "no multipart upload was seen in S3 before the kill"
    served = serve(state_dir, *args)
    try:
        assert s3.multipart_uploads() == []  # what the crash left is aborted on open
        pull_and_check(served, "v1", digest, small)
        session = registry_session(served)
        head = session.head(f"{served.url}/v2/kept/blobs/{big_digest}", timeout=60)
        assert head.status_code in (200, 404)  # a blob no image names need not survive
        if head.status_code == 200:
            got = session.get(f"{served.url}/v2/kept/blobs/{big_digest}", timeout=300)
            assert hashlib.sha256(got.content).hexdigest() == big_digest.split(":")[1]
    finally:
        assert served.stop() == 0
    store = s3_blob_store(f"s3://{BUCKET}/{PREFIX}", s3.endpoint)
    viewer = Backend.open(state_dir, read_only=True, blob_store=store)
    try:
        named = {digest for reg in viewer.registries.values() for digest in reg.blobs}
    finally:
        viewer.close()
    assert stored("s3", state_dir, s3) == named  # no object that no row names


def test_presigned_downloads_redirect_to_the_bucket(s3: S3, tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    args = [*store_args("s3", s3), "--presigned-downloads"]
    layers = [os.urandom(40_000)]
    served = serve(state_dir, *args)
    try:
        ecr = served.client()
        ecr.create_repository(repositoryName="kept")
        push_v2(registry_session(served), served.url, "kept", "v1", layers)
        assert served.stop() == 0  # every blob is in S3 now
        served = serve(state_dir, *args)
        layer = "sha256:" + hashlib.sha256(layers[0]).hexdigest()
        session = registry_session(served)
        url = f"{served.url}/v2/kept/blobs/{layer}"
        answer = session.get(url, allow_redirects=False, timeout=60)
        assert answer.status_code == 307
        assert answer.headers["Location"].startswith(s3.endpoint + "/")
        assert session.get(url, timeout=60).content == layers[0]  # followed, without the token
        assert session.head(url, timeout=60).status_code == 200  # HEAD answers here
        download = served.client().get_download_url_for_layer(
            repositoryName="kept", layerDigest=layer
        )["downloadUrl"]
        assert download.startswith(s3.endpoint + "/")
        assert requests.get(download, timeout=60).content == layers[0]
    finally:
        served.stop(signal.SIGKILL)


def test_presigned_downloads_need_a_blob_store(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ecr_mock", "serve", "--port", "0", "--presigned-downloads"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert "--presigned-downloads is used with --blob-store" in result.stderr
