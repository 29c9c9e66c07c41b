"""docker through a real dockerd: pulls of ECR Public images with no login, and pushes after
``docker login`` with the public token."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from tests.ecr_api.helpers import sha256, upload_layer
from tests.support.live import Live

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


@pytest.fixture(scope="module")
def dockerd() -> Iterator[dict[str, str]]:
    """A private dockerd (own data, exec root and socket) for the module; the environment that
    points the docker CLI at it."""
    daemon, client = shutil.which("dockerd"), shutil.which("docker")
    if daemon is None or client is None:
        pytest.skip("dockerd and the docker CLI are needed (.ci/run installs docker.io)")
    if os.geteuid() != 0:
        pytest.skip("dockerd needs root")
    root = Path(tempfile.mkdtemp(prefix="ecrmock-dockerd-"))
    socket = root / "docker.sock"
    log = (root / "dockerd.log").open("wb")
    process = subprocess.Popen(
        [
            daemon,
            "--iptables=false",
            "--ip-forward=false",
            "--bridge=none",
            "--storage-driver=vfs",
            "--data-root",
            str(root / "data"),
            "--exec-root",
            str(root / "exec"),
            "--pidfile",
            str(root / "docker.pid"),
            "-H",
            f"unix://{socket}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    env = {**os.environ, "DOCKER_HOST": f"unix://{socket}", "DOCKER_CONFIG": str(root / "cfg")}
    try:
        deadline = time.monotonic() + 60
        while True:
            probe = subprocess.run([client, "version"], env=env, capture_output=True, check=False)
            if probe.returncode == 0:
                break
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.skip("dockerd did not start: " + (root / "dockerd.log").read_text()[-500:])
            time.sleep(0.2)
        yield env
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(root, ignore_errors=True)


def docker(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [shutil.which("docker") or "docker", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def layer_tar(files: dict[str, bytes]) -> bytes:
    """An uncompressed tar with ``files``."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def push_runnable_image(client: Any, repository: str, tag: str) -> tuple[str, str, str]:
    """Push an image docker can unpack (a gzipped tar layer); returns its digest, the layer's
    diff id and the layer's digest."""
    raw = layer_tar({"hello.txt": b"hello from ECR Public\n"})
    layer = gzip.compress(raw, mtime=0)
    diff_id = "sha256:" + hashlib.sha256(raw).hexdigest()
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Cmd": ["/hello"]},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        }
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST,
            "config": {
                "mediaType": DOCKER_CONFIG,
                "size": len(config),
                "digest": upload_layer(client, repository, config),
            },
            "layers": [
                {
                    "mediaType": DOCKER_LAYER,
                    "size": len(layer),
                    "digest": upload_layer(client, repository, layer),
                }
            ],
        }
    )
    client.put_image(repositoryName=repository, imageManifest=manifest, imageTag=tag)
    return sha256(manifest.encode()), diff_id, sha256(layer)


def test_docker_pulls_a_public_image_with_no_login(live: Live, dockerd: dict[str, str]) -> None:
    public = boto3.client("ecr-public", region_name="us-east-1", endpoint_url=live.url)
    uri = public.create_repository(repositoryName="hello")["repository"]["repositoryUri"]
    digest, diff_id, _ = push_runnable_image(public, "hello", "v1")
    pulled = docker(dockerd, "pull", f"{uri}:v1")
    assert pulled.returncode == 0, pulled.stderr + pulled.stdout
    assert digest in pulled.stdout
    inspected = docker(dockerd, "image", "inspect", f"{uri}:v1")
    assert inspected.returncode == 0, inspected.stderr
    image = json.loads(inspected.stdout)[0]
    assert image["RepoDigests"] == [f"{uri}@{digest}"]
    assert image["RootFS"]["Layers"] == [diff_id]


def test_docker_cannot_pull_a_private_image_without_login(
    live: Live, dockerd: dict[str, str]
) -> None:
    live.client.create_repository(repositoryName="secret")
    push_runnable_image(live.client, "secret", "v1")
    boto3.client("ecr-public", region_name="us-east-1", endpoint_url=live.url).create_repository(
        repositoryName="other"
    )
    pulled = docker(dockerd, "pull", f"{live.endpoint}/secret:v1")
    assert pulled.returncode != 0
    assert "unauthorized" in (pulled.stderr + pulled.stdout).lower() or "no basic auth" in (
        pulled.stderr + pulled.stdout
    )


def test_docker_login_with_the_public_token_pushes_to_a_public_repository(
    live: Live, dockerd: dict[str, str]
) -> None:
    public = boto3.client("ecr-public", region_name="us-east-1", endpoint_url=live.url)
    source = public.create_repository(repositoryName="base")["repository"]["repositoryUri"]
    target = public.create_repository(repositoryName="copy")["repository"]["repositoryUri"]
    _, diff_id, _ = push_runnable_image(public, "base", "v1")
    assert docker(dockerd, "pull", f"{source}:v1").returncode == 0
    assert docker(dockerd, "tag", f"{source}:v1", f"{target}:v2").returncode == 0
    refused = docker(dockerd, "push", f"{target}:v2")
    assert refused.returncode != 0
    host = target.split("/", 1)[0]
    data = public.get_authorization_token()["authorizationData"]
    password = base64.b64decode(data["authorizationToken"]).decode().split(":", 1)[1]
    login = subprocess.run(
        [shutil.which("docker") or "docker", "login", "-u", "AWS", "--password-stdin", host],
        input=password,
        env=dockerd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert login.returncode == 0, login.stderr
    pushed = docker(dockerd, "push", f"{target}:v2")
    assert pushed.returncode == 0, pushed.stderr + pushed.stdout
    reported = re.search(r"v2: digest: (sha256:[0-9a-f]{64})", pushed.stdout)
    assert reported is not None, pushed.stdout
    detail = public.describe_images(repositoryName="copy")["imageDetails"][0]
    assert detail["imageTags"] == ["v2"]
    assert detail["imageDigest"] == reported[1]  # docker writes the manifest anew
    # what docker pushed, read back anonymously: its layer unpacks to the layer pushed first
    path = target.split("/", 1)[1]
    token = requests.get(f"{live.url}/token", params={"scope": f"repository:{path}:pull"})
    bearer = {"Authorization": f"Bearer {token.json()['token']}"}
    manifest = requests.get(f"{live.url}/v2/{path}/manifests/v2", headers=bearer).json()
    (pushed_layer,) = manifest["layers"]
    blob = requests.get(f"{live.url}/v2/{path}/blobs/{pushed_layer['digest']}", headers=bearer)
    assert sha256(blob.content) == pushed_layer["digest"]
    assert sha256(gzip.decompress(blob.content)) == diff_id
    docker(dockerd, "logout", host)
