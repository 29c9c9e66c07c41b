"""Layers no image references are reclaimed after their grace period, by ``ecr-mock serve``
processes driven over HTTP: memory, state-directory files, pushes in progress, shared layers."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from ecr_mock import Backend
from ecr_mock.testing.remote import RemoteEcrMock
from tests.test_cli import start_serve

ACCOUNT = "123456789012"
KEY = {"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key": "secret"}
MIB = 1024 * 1024
MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Client:
    """A registry and control-API client of one running server."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()
        self.login()
        self.ecr = boto3.client("ecr", endpoint_url=url, region_name="us-east-1", **KEY)

    def control(self, method: str, route: str, body: dict[str, Any] | None = None) -> Any:
        answer = requests.request(method, f"{self.url}/ecr-mock/{route}", json=body, timeout=60)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def login(self) -> None:
        token = self.control("POST", "tokens", {"principal_arn": ACCOUNT})
        self.http.auth = ("AWS", token["password"])

    def advance(self, seconds: float) -> None:
        """Move the server's clock on (and log in again: tokens last 12 hours)."""
        self.control("POST", "clock", {"advance_seconds": seconds})
        self.login()

    def reclaim(self) -> dict[str, Any]:
        return dict(self.control("POST", "reclaim"))

    def layers(self) -> dict[str, Any]:
        [reg] = self.control("GET", "reclaim")["registries"]
        return dict(reg)

    def start(self, repo: str) -> str:
        answer = self.http.post(f"{self.url}/v2/{repo}/blobs/uploads/", timeout=60)
        assert answer.status_code == 202, answer.text
        return str(answer.headers["Location"])

    def patch(self, location: str, data: bytes) -> str:
        answer = self.http.patch(self.url + location, data=data, timeout=60)
        assert answer.status_code == 202, answer.text
        return str(answer.headers["Location"])

    def finish(self, location: str, digest: str) -> None:
        answer = self.http.put(self.url + location, params={"digest": digest}, timeout=60)
        assert answer.status_code == 201, answer.text

    def blob(self, repo: str, data: bytes) -> str:
        digest = sha256(data)
        answer = self.http.post(
            f"{self.url}/v2/{repo}/blobs/uploads/", params={"digest": digest}, data=data
        )
        assert answer.status_code == 201, answer.text
        return digest

    def manifest(self, repo: str, config: str, layers: list[tuple[str, int]], ref: str) -> Any:
        doc = {
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config,
                "size": 2,
            },
            "layers": [
                {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": s}
                for d, s in layers
            ],
        }
        return self.http.put(
            f"{self.url}/v2/{repo}/manifests/{ref}",
            data=json.dumps(doc).encode(),
            headers={"Content-Type": MANIFEST},
            timeout=60,
        )

    def push(self, repo: str, layer: bytes, tag: str) -> tuple[str, str]:
        """Push an image of one config and ``layer``; returns (manifest digest, layer digest)."""
        config = self.blob(repo, b"{}")
        digest = self.blob(repo, layer)
        answer = self.manifest(repo, config, [(digest, len(layer))], tag)
        assert answer.status_code == 201, answer.text
        return str(answer.headers["Docker-Content-Digest"]), digest

    def get_blob(self, repo: str, digest: str) -> requests.Response:
        return self.http.get(f"{self.url}/v2/{repo}/blobs/{digest}", timeout=60)

    def check(self, repo: str, digest: str) -> dict[str, Any]:
        found = self.ecr.batch_check_layer_availability(repositoryName=repo, layerDigests=[digest])
        return {"layers": found["layers"], "failures": found["failures"]}


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def blob_files(state: Path) -> list[Path]:
    return [p for p in (state / "blobs").glob("*/*") if p.is_file()]


def stop(process: Any) -> None:
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=60)


needs_proc = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")


@needs_proc
def test_push_delete_loop_then_clock_past_grace_gives_memory_back(tmp_path: Path) -> None:
    process, url, _ = start_serve(tmp_path, "--port", "0", "--quiet")
    try:
        client = Client(url)
        client.ecr.create_repository(repositoryName="ci/app")
        start = rss_kib(process.pid)
        digests = []
        for round_ in range(96):  # 192 MiB of distinct 2 MiB layers, each pushed then deleted
            layer = round_.to_bytes(4, "big") * (MIB // 2)
            image, layer_digest = client.push("ci/app", layer, f"r{round_}")
            client.ecr.batch_delete_image(
                repositoryName="ci/app", imageIds=[{"imageDigest": image}]
            )
            digests.append(layer_digest)
        grown = rss_kib(process.pid)
        before_grace = client.reclaim()
        still_there = client.get_blob("ci/app", digests[0]).status_code
        figures = client.layers()
        client.advance(24 * 3600 + 1)  # the default grace period, and a second
        reclaimed = client.reclaim()
        after = rss_kib(process.pid)
        gone = client.get_blob("ci/app", digests[0])
        checked = client.check("ci/app", digests[-1])
        summary = client.control("GET", "state")["registries"][0]
    finally:
        stop(process)
    assert (grown - start) * 1024 > 150 * MIB  # the layers were held before
    assert before_grace == {"reclaimedLayers": 0, "reclaimedBytes": 0}
    assert still_there == 200
    assert figures["reclaimableBytes"] == 96 * 2 * MIB + 2
    assert figures["reclaimableNowBytes"] == 0
    assert reclaimed == {"reclaimedLayers": 97, "reclaimedBytes": 96 * 2 * MIB + 2}
    assert (after - start) * 1024 < 64 * MIB, (start, grown, after)
    assert gone.status_code == 404
    assert gone.json()["errors"][0]["code"] == "BLOB_UNKNOWN"
    assert checked == {
        "layers": [
            {"layerDigest": digests[-1], "layerAvailability": "UNAVAILABLE", "layerSize": 2 * MIB}
        ],
        "failures": [],
    }
    assert summary["reclaimedBytes"] == 96 * 2 * MIB + 2
    assert summary["reclaimableBytes"] == 0
    assert summary["blobs"] == 0


def test_state_directory_loses_the_files_of_reclaimed_layers(tmp_path: Path) -> None:
    state = tmp_path / "state"
    process, url, _ = start_serve(
        tmp_path, "--port", "0", "--quiet", "--state-dir", str(state), "--layer-grace", "2h"
    )
    try:
        client = Client(url)
        client.ecr.create_repository(repositoryName="ci/app")
        for round_ in range(20):
            layer = os.urandom(256 * 1024)
            image, _ = client.push("ci/app", layer, f"r{round_}")
            client.ecr.batch_delete_image(
                repositoryName="ci/app", imageIds=[{"imageDigest": image}]
            )
        client.advance(3600)  # an hour: inside the grace period
        within = RemoteEcrMock(url).reclaim_layers()
        files_within = len(blob_files(state))
        client.advance(3601)
        reclaimed = client.reclaim()
        files_after = blob_files(state)
    finally:
        stop(process)
    reopened = Backend.open(state)
    try:
        summary = reopened.state()["registries"][0]
    finally:
        reopened.close()
    assert within["reclaimedLayers"] == 0
    assert files_within == 21  # twenty layers and the shared config
    assert reclaimed["reclaimedLayers"] == 21
    assert files_after == []
    assert summary["blobs"] == 0
    assert summary["reclaimedLayers"] == 21


def test_a_push_whose_manifest_comes_after_a_long_layer_upload_is_never_broken(
    tmp_path: Path,
) -> None:
    process, url, _ = start_serve(tmp_path, "--port", "0", "--quiet", "--layer-grace", "10m")
    try:
        client = Client(url)
        client.ecr.create_repository(repositoryName="slow")
        config = client.blob("slow", b"{}")  # uploaded first, named only by the manifest
        small = client.blob("slow", b"a layer uploaded before the long one")
        location = client.start("slow")
        passes = []
        layer = b""
        for part in range(3):  # each part after more than the grace period
            data = bytes([part]) * MIB
            location = client.patch(location, data)
            layer += data
            client.advance(11 * 60)
            passes.append(client.reclaim()["reclaimedLayers"])
        client.finish(location, sha256(layer))
        passes.append(client.reclaim()["reclaimedLayers"])
        answer = client.manifest("slow", config, [(small, 36), (sha256(layer), len(layer))], "v1")
        client.advance(2 * 24 * 3600)
        passes.append(client.reclaim()["reclaimedLayers"])
        pulled = client.get_blob("slow", small)
    finally:
        stop(process)
    assert passes == [0, 0, 0, 0, 0]
    assert answer.status_code == 201, answer.text
    assert pulled.status_code == 200
    assert sha256(pulled.content) == small


def test_layers_shared_between_images_survive_the_deletion_of_one(tmp_path: Path) -> None:
    process, url, _ = start_serve(tmp_path, "--port", "0", "--quiet", "--layer-grace", "1h")
    try:
        client = Client(url)
        for name in ("base", "app", "other"):
            client.ecr.create_repository(repositoryName=name)
        shared = b"shared base layer" * 1000
        own = b"only the first image has this"
        config = client.blob("base", b"{}")
        shared_digest = client.blob("base", shared)
        own_digest = client.blob("base", own)
        first = client.manifest(
            "base", config, [(shared_digest, len(shared)), (own_digest, len(own))], "one"
        )
        second = client.manifest("base", config, [(shared_digest, len(shared))], "two")
        # the shared layer, mounted into another repository and pushed there too
        mounted = client.http.post(
            f"{url}/v2/app/blobs/uploads/", params={"mount": shared_digest, "from": "base"}
        )
        app_config = client.blob("app", b"{}")
        third = client.manifest("app", app_config, [(shared_digest, len(shared))], "v1")
        client.ecr.batch_delete_image(repositoryName="base", imageIds=[{"imageTag": "one"}])
        client.advance(2 * 3600)
        reclaimed = client.reclaim()
        shared_base = client.get_blob("base", shared_digest)
        own_base = client.get_blob("base", own_digest)
        client.ecr.batch_delete_image(repositoryName="base", imageIds=[{"imageTag": "two"}])
        client.advance(2 * 3600)
        client.reclaim()
        shared_app = client.get_blob("app", shared_digest)
        checked = client.check("app", shared_digest)
    finally:
        stop(process)
    assert [a.status_code for a in (first, second, mounted, third)] == [201, 201, 201, 201]
    assert reclaimed == {"reclaimedLayers": 1, "reclaimedBytes": len(own)}
    assert shared_base.status_code == 200 and sha256(shared_base.content) == shared_digest
    assert own_base.status_code == 404
    assert shared_app.status_code == 200 and sha256(shared_app.content) == shared_digest
    assert checked["layers"][0]["layerAvailability"] == "AVAILABLE"


def test_a_kill_during_a_pass_leaves_a_directory_that_opens_cleanly(tmp_path: Path) -> None:
    state = tmp_path / "state"
    kept: dict[str, bytes] = {}
    for attempt, delay in enumerate((0.0, 0.005, 0.02, 0.05)):
        process, url, _ = start_serve(tmp_path, "--port", "0", "--quiet", "--state-dir", str(state))
        try:
            client = Client(url)
            if attempt == 0:
                client.ecr.create_repository(repositoryName="keep")
            client.ecr.create_repository(repositoryName=f"drop{attempt}")
            layer = os.urandom(64 * 1024)
            _, digest = client.push("keep", layer, f"k{attempt}")
            kept[digest] = layer
            for round_ in range(150):
                image, _ = client.push(f"drop{attempt}", os.urandom(16 * 1024), f"d{round_}")
                client.ecr.batch_delete_image(
                    repositoryName=f"drop{attempt}", imageIds=[{"imageDigest": image}]
                )
            client.advance(2 * 24 * 3600)
            host, port = url.removeprefix("http://").split(":")
            with socket.create_connection((host, int(port))) as sock:
                sock.sendall(
                    b"POST /ecr-mock/reclaim HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
                )
                time.sleep(delay)  # a different moment of the pass each time, not a measurement
                process.kill()
        finally:
            process.kill()
            process.communicate(timeout=60)
        reopened = Backend.open(state)  # opens, whatever moment the pass was killed at
        try:
            reg = reopened.registry(ACCOUNT, "us-east-1")
            repo = reg.repositories["keep"]
            for digest, layer in kept.items():
                assert reopened.get_blob(reg, repo, digest).read() == layer
            for digest, blob in reg.blobs.items():
                assert blob.path is not None and Path(blob.path).is_file(), digest
        finally:
            reopened.close()
    process, url, _ = start_serve(tmp_path, "--port", "0", "--quiet", "--state-dir", str(state))
    try:
        client = Client(url)
        client.advance(2 * 24 * 3600)
        client.reclaim()
        left = client.layers()
        pulled = [client.get_blob("keep", digest).content for digest in kept]
    finally:
        stop(process)
    assert left["reclaimableBytes"] == 0
    assert pulled == list(kept.values())
    assert len(blob_files(state)) == len(kept) + 1  # the kept layers and their config
