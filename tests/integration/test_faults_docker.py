"""``docker pull`` through a real dockerd while the registry fails: it retries and resumes."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
from typing import Any

from tests.ecr_api.helpers import sha256, upload_layer
from tests.integration.test_public_docker import (
    DOCKER_CONFIG,
    DOCKER_LAYER,
    DOCKER_MANIFEST,
    docker,
    dockerd,
)
from tests.support.live import Live

__all__ = ["dockerd"]  # the module-scoped private dockerd fixture


def push_big_image(client: Any, repository: str, tag: str) -> tuple[str, str, str, int]:
    """Push an image with one ~1 MiB incompressible layer; (digest, layer digest, diff id, size)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        data = os.urandom(1024 * 1024)
        info = tarfile.TarInfo("noise.bin")
        info.size = len(data)
        info.mtime = 1_700_000_000
        tar.addfile(info, io.BytesIO(data))
    raw = out.getvalue()
    layer = gzip.compress(raw, mtime=0)
    diff_id = "sha256:" + hashlib.sha256(raw).hexdigest()
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        }
    ).encode()
    layer_digest = upload_layer(client, repository, layer)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST,
            "config": {
                "mediaType": DOCKER_CONFIG,
                "size": len(config),
                "digest": upload_layer(client, repository, config),
            },
            "layers": [{"mediaType": DOCKER_LAYER, "size": len(layer), "digest": layer_digest}],
        }
    )
    client.put_image(repositoryName=repository, imageManifest=manifest, imageTag=tag)
    return sha256(manifest.encode()), layer_digest, diff_id, len(layer)


def login(live: Live, env: dict[str, str]) -> None:
    done = docker_with_input(
        env, live.password, "login", "-u", "AWS", "--password-stdin", live.endpoint
    )
    assert done.returncode == 0, done.stderr


def docker_with_input(env: dict[str, str], stdin: str, *args: str) -> Any:
    return subprocess.run(
        [shutil.which("docker") or "docker", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def pulled_layers(env: dict[str, str], ref: str) -> list[str]:
    inspected = docker(env, "image", "inspect", ref)
    assert inspected.returncode == 0, inspected.stderr
    layers: list[str] = json.loads(inspected.stdout)[0]["RootFS"]["Layers"]
    return layers


def test_docker_pull_retries_a_503_on_the_layer(live: Live, dockerd: dict[str, str]) -> None:
    live.client.create_repository(repositoryName="flaky")
    digest, _, diff_id, _ = push_big_image(live.client, "flaky", "v1")
    login(live, dockerd)
    rule = live.backend.faults.add(
        operation="blob.get", error="UNAVAILABLE", times=1, repository="flaky"
    )
    ref = f"{live.endpoint}/flaky:v1"
    pulled = docker(dockerd, "pull", ref)
    assert pulled.returncode == 0, pulled.stderr + pulled.stdout
    assert digest in pulled.stdout
    assert pulled_layers(dockerd, ref) == [diff_id]  # docker checked the bytes it unpacked
    assert rule.hits == 1
    statuses = [c.status for c in live.backend.calls.of(operation="blob.get")]
    assert statuses.count(503) == 1 and statuses[0] == 503  # the first download failed
    assert statuses[-1] == 200


def test_docker_pull_resumes_a_layer_cut_mid_download(live: Live, dockerd: dict[str, str]) -> None:
    live.client.create_repository(repositoryName="cut")
    digest, layer, diff_id, size = push_big_image(live.client, "cut", "v1")
    login(live, dockerd)
    # Every download is cut after 600 kB (the small config passes whole; the ~1 MiB layer
    # does not), so the layer arrives only if docker resumes where the cut came.
    rule = live.backend.faults.add(
        operation="blob.get", disconnect_after_bytes=600_000, repository="cut"
    )
    ref = f"{live.endpoint}/cut:v1"
    pulled = docker(dockerd, "pull", ref)
    assert pulled.returncode == 0, pulled.stderr + pulled.stdout
    assert digest in pulled.stdout
    assert pulled_layers(dockerd, ref) == [diff_id]
    gets = [c for c in live.backend.calls.of(operation="blob.get") if c.path and layer in c.path]
    assert [c.status for c in gets] == [200, 206]
    assert gets[0].response_bytes == size and gets[1].response_bytes < 600_000
    assert rule.hits >= 2
