"""``ecr-mock serve --state-dir`` as a real process: restarts, SIGTERM, kill -9, a second server."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from ecr_mock import Backend
from tests.integration.oci_layout import OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, Layout
from tests.support.live import require

ROOT = Path(__file__).resolve().parents[2]
URL_RE = re.compile(r"at (http://[0-9.]+:[0-9]+) ")


@dataclass
class Served:
    """One ``ecr-mock serve`` process and how to talk to it."""

    process: subprocess.Popen[str]
    url: str

    @property
    def endpoint(self) -> str:
        return self.url.removeprefix("http://")

    def client(self) -> Any:
        return boto3.client(
            "ecr",
            region_name="us-east-1",
            endpoint_url=self.url,
            aws_access_key_id="AKIAEXAMPLE",
            aws_secret_access_key="secret",
        )

    def password(self) -> str:
        data = self.client().get_authorization_token()["authorizationData"][0]
        return base64.b64decode(data["authorizationToken"]).decode().split(":", 1)[1]

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout=60)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return code


def serve(state_dir: Path, *extra: str) -> Served:
    """Start ``ecr-mock serve --state-dir`` on a free port; wait for its banner."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ecr_mock",
            "serve",
            "--port",
            "0",
            "--state-dir",
            str(state_dir),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    match = URL_RE.search(line)
    if match is None:
        process.kill()
        _, err = process.communicate(timeout=30)
        raise AssertionError(f"the server did not start: {line!r} {err!r}")
    return Served(process, match.group(1))


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def running(state_dir: Path) -> Iterator[Served]:
    served = serve(state_dir)
    try:
        yield served
    finally:
        if served.process.poll() is None:
            served.process.kill()
            served.process.wait(timeout=30)


def push_v2(
    session: requests.Session, url: str, repo: str, tag: str, layers: list[bytes]
) -> tuple[str, bytes]:
    """Push an image over /v2/ (monolithic blob uploads, then the manifest); its digest."""
    descriptors = []
    config = json.dumps({"architecture": "amd64", "os": "linux", "tag": tag}).encode()
    for data in [config, *layers]:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        started = session.post(f"{url}/v2/{repo}/blobs/uploads/", timeout=60)
        assert started.status_code == 202, started.text
        location = started.headers["Location"]
        if location.startswith("/"):
            location = url + location
        sep = "&" if "?" in location else "?"
        done = session.put(
            f"{location}{sep}digest={digest}",
            data=data,
            headers={"Content-Type": "application/octet-stream"},
            timeout=60,
        )
        assert done.status_code == 201, done.text
        descriptors.append({"digest": digest, "size": len(data)})
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, **descriptors[0]},
            "layers": [{"mediaType": OCI_LAYER, **d} for d in descriptors[1:]],
        }
    ).encode()
    put = session.put(
        f"{url}/v2/{repo}/manifests/{tag}",
        data=manifest,
        headers={"Content-Type": OCI_MANIFEST},
        timeout=60,
    )
    assert put.status_code == 201, put.text
    return put.headers["Docker-Content-Digest"], manifest


def registry_session(served: Served) -> requests.Session:
    session = requests.Session()
    session.auth = ("AWS", served.password())
    return session


def check_invariants(state_dir: Path, acknowledged: dict[str, str]) -> int:
    """What a crash may never leave; returns how many images the directory holds."""
    for file in (state_dir / "blobs").glob("*/*"):
        algorithm = file.parent.name
        assert hashlib.new(algorithm, file.read_bytes()).hexdigest() == file.name, (
            f"partial blob {file}"
        )
    backend = Backend.open(state_dir, read_only=True)
    try:
        images = 0
        for reg in backend.registries.values():
            for repo in reg.repositories.values():
                for tag, digest in repo.tags.items():
                    assert digest in repo.images, f"tag {tag} points at a missing manifest"
                    assert tag in repo.images[digest].tags
                for digest, image in repo.images.items():
                    images += 1
                    assert hashlib.sha256(image.manifest).hexdigest() == digest.split(":")[1]
                    for blob_digest in image.parsed.blob_digests():
                        assert blob_digest in repo.blobs, f"{digest} lacks {blob_digest}"
                        blob = reg.blobs[blob_digest]
                        assert blob.path is not None
                        data = Path(blob.path).read_bytes()
                        assert len(data) == blob.size
                        assert "sha256:" + hashlib.sha256(data).hexdigest() == blob_digest
        repo_tags = backend.registry().repositories["crash"].tags
        for tag, digest in acknowledged.items():
            assert repo_tags.get(tag) == digest, f"acknowledged push {tag} was lost"
        return images
    finally:
        backend.close()


def test_kill_9_at_random_points_during_pushes_leaves_a_consistent_directory(
    state_dir: Path,
) -> None:
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    acknowledged: dict[str, str] = {}
    lock = threading.Lock()
    for round_number in range(6):
        served = serve(state_dir)
        try:
            if round_number == 0:
                served.client().create_repository(repositoryName="crash")
            session = registry_session(served)
            stop = threading.Event()

            def pushes(
                session: requests.Session = session,
                url: str = served.url,
                round_number: int = round_number,
                stop: threading.Event = stop,
            ) -> None:
                count = 0
                while not stop.is_set() and count < 40:
                    tag = f"r{round_number}-{count}"
                    big = rng.random() < 0.2
                    layers = [os.urandom(5 * 1024 * 1024 + 17 if big else 3000), os.urandom(40)]
                    try:
                        digest, _ = push_v2(session, url, "crash", tag, layers)
                    except (requests.RequestException, AssertionError):
                        return
                    with lock:
                        acknowledged[tag] = digest
                    count += 1

            worker = threading.Thread(target=pushes)
            worker.start()
            # The kill lands at a random point of the push loop (not a timing assertion).
            stop.wait(rng.uniform(0.05, 1.5))
            served.process.kill()
            served.process.wait(timeout=30)
            stop.set()
            worker.join(timeout=120)
        finally:
            served.stop(signal.SIGKILL)
        with lock:
            check_invariants(state_dir, dict(acknowledged))
    assert acknowledged, f"no push completed (seed {seed})"
    served = serve(state_dir)
    try:
        session = registry_session(served)
        tag, digest = sorted(acknowledged.items())[-1]
        got = session.get(
            f"{served.url}/v2/crash/manifests/{tag}", headers={"Accept": OCI_MANIFEST}, timeout=60
        )
        assert got.status_code == 200
        assert "sha256:" + hashlib.sha256(got.content).hexdigest() == digest
        for layer in json.loads(got.content)["layers"]:
            blob = session.get(f"{served.url}/v2/crash/blobs/{layer['digest']}", timeout=60)
            assert "sha256:" + hashlib.sha256(blob.content).hexdigest() == layer["digest"]
        assert list((state_dir / "tmp").iterdir()) == []
    finally:
        assert served.stop() == 0


def test_sigterm_keeps_everything_acknowledged(running: Served, state_dir: Path) -> None:
    ecr = running.client()
    ecr.create_repository(repositoryName="app", imageScanningConfiguration={"scanOnPush": True})
    session = registry_session(running)
    digest, manifest = push_v2(session, running.url, "app", "v1", [os.urandom(2048)])
    pulled = session.get(
        f"{running.url}/v2/app/manifests/v1", headers={"Accept": OCI_MANIFEST}, timeout=60
    )
    assert pulled.content == manifest
    ecr.put_lifecycle_policy(
        repositoryName="app",
        lifecyclePolicyText=json.dumps(
            {
                "rules": [
                    {
                        "rulePriority": 1,
                        "selection": {
                            "tagStatus": "any",
                            "countType": "imageCountMoreThan",
                            "countNumber": 10,
                        },
                        "action": {"type": "expire"},
                    }
                ]
            }
        ),
    )
    assert running.stop(signal.SIGTERM) == 0
    backend = Backend.open(state_dir, read_only=True)
    try:
        repo = backend.registry().repositories["app"]
        assert repo.tags == {"v1": digest}
        assert repo.images[digest].manifest == manifest
        assert repo.images[digest].last_pulled_at is not None
        assert repo.scan_on_push
        assert repo.lifecycle_policy_text is not None
    finally:
        backend.close()


def serve_once(state_dir: Path) -> subprocess.CompletedProcess[str]:
    """``ecr-mock serve --state-dir`` in a new process, expected to stop at once."""
    return subprocess.run(
        [sys.executable, "-m", "ecr_mock", "serve", "--port", "0", "--state-dir", str(state_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )


def test_a_second_server_on_the_same_directory_refuses_to_start(
    running: Served, state_dir: Path
) -> None:
    second = serve_once(state_dir)
    assert second.returncode == 1
    assert "is in use by another ecr-mock" in second.stderr
    assert f"pid {running.process.pid}" in second.stderr
    assert running.client().describe_repositories()["repositories"] == []


def test_an_unknown_schema_version_stops_the_server_with_a_clear_message(state_dir: Path) -> None:
    import sqlite3

    Backend.open(state_dir).close()
    with sqlite3.connect(state_dir / "state.db") as db:
        db.execute("UPDATE meta SET value = '7' WHERE key = 'schema_version'")
    db.close()
    result = serve_once(state_dir)
    assert result.returncode == 1
    assert "schema version 7" in result.stderr
    assert "Traceback" not in result.stderr


def skopeo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require("skopeo"), *args], capture_output=True, text=True, check=False, timeout=300
    )


def test_skopeo_push_then_restart_then_pull_gives_the_same_image(
    state_dir: Path, tmp_path: Path
) -> None:
    require("skopeo")
    layout = Layout(tmp_path / "layout")
    built = layout.image("v1", layers=3, layer_bytes=300_000)
    first = serve(state_dir)
    try:
        first.client().create_repository(repositoryName="team/app")
        password = first.password()
        pushed = skopeo(
            "copy",
            "--preserve-digests",
            "--dest-tls-verify=false",
            "--dest-creds",
            f"AWS:{password}",
            f"oci:{layout.path}:v1",
            f"docker://{first.endpoint}/team/app:v1",
        )
        assert pushed.returncode == 0, pushed.stderr
        before = first.client().describe_images(repositoryName="team/app")["imageDetails"]
    finally:
        assert first.stop(signal.SIGTERM) == 0
    second = serve(state_dir)
    try:
        after = second.client().describe_images(repositoryName="team/app")["imageDetails"]
        assert after == before
        out = tmp_path / "pulled"
        # The password issued before the restart still works: tokens are kept too.
        pulled = skopeo(
            "copy",
            "--preserve-digests",
            "--src-tls-verify=false",
            "--src-creds",
            f"AWS:{password}",
            f"docker://{second.endpoint}/team/app:v1",
            f"oci:{out}:v1",
        )
        assert pulled.returncode == 0, pulled.stderr
        manifest = out / "blobs" / "sha256" / built.digest.split(":")[1]
        assert manifest.read_bytes() == built.manifest
        for digest, data in built.blobs.items():
            assert (out / "blobs" / "sha256" / digest.split(":")[1]).read_bytes() == data
    finally:
        assert second.stop(signal.SIGTERM) == 0


@pytest.mark.parametrize(
    ("method", "path", "target", "expected"),
    [
        ("PUT", "/v2/team/app/manifests/v1", "", "team/app"),
        ("DELETE", "/v2/team/app/manifests/sha256:ab", "", "team/app"),
        ("POST", "/v2/team/app/blobs/uploads/", "", False),
        ("PATCH", "/v2/team/app/blobs/uploads/123", "", False),
        ("PUT", "/v2/team/app/blobs/uploads/123", "", False),
        ("DELETE", "/v2/team/app/blobs/sha256:ab", "", True),
        ("GET", "/v2/team/app/manifests/v1", "", False),
        ("POST", "/", "AmazonEC2ContainerRegistry_V20150921.CreateRepository", True),
        ("POST", "/", "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken", True),
        ("POST", "/", "AmazonEC2ContainerRegistry_V20150921.DescribeImages", False),
        ("POST", "/", "AmazonEC2ContainerRegistry_V20150921.CompleteLayerUpload", False),
        ("POST", "/ecr-mock/clock", "", True),
    ],
)
def test_which_requests_wait_for_a_save(
    method: str, path: str, target: str, expected: bool | str
) -> None:
    from ecr_mock.runtime.http.persistence import saves_at_once

    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "HTTP_X_AMZ_TARGET": target}
    assert saves_at_once(environ) == expected  # type: ignore[arg-type]


def test_an_uploaded_blob_becomes_a_durable_file_without_a_manifest(
    running: Served, state_dir: Path
) -> None:
    running.client().create_repository(repositoryName="blobs")
    session = registry_session(running)
    data = os.urandom(70_000)
    digest = hashlib.sha256(data).hexdigest()
    started = session.post(f"{running.url}/v2/blobs/blobs/uploads/", timeout=60)
    location = started.headers["Location"]
    location = running.url + location if location.startswith("/") else location
    sep = "&" if "?" in location else "?"
    done = session.put(f"{location}{sep}digest=sha256:{digest}", data=data, timeout=60)
    assert done.status_code == 201
    stored = state_dir / "blobs" / "sha256" / digest
    waited = threading.Event()
    for _ in range(300):
        if stored.is_file():
            break
        waited.wait(0.1)
    assert stored.read_bytes() == data
    assert running.stop(signal.SIGTERM) == 0
    backend = Backend.open(state_dir, read_only=True)
    try:
        assert f"sha256:{digest}" in backend.registry().repositories["blobs"].blobs
    finally:
        backend.close()


def test_control_clock_and_tokens_are_kept_and_reset_empties_the_directory(
    running: Served, state_dir: Path
) -> None:
    session = registry_session(running)
    running.client().create_repository(repositoryName="kept")
    push_v2(session, running.url, "kept", "v1", [os.urandom(2048)])
    later = requests.post(
        f"{running.url}/ecr-mock/clock", json={"advance_seconds": 400 * 86400}, timeout=60
    )
    assert later.status_code == 200
    issued = requests.post(
        f"{running.url}/ecr-mock/tokens",
        json={"principal_arn": "arn:aws:iam::123456789012:user/ci"},
        timeout=60,
    )
    assert issued.status_code == 200
    password = issued.json()["password"]
    running.stop(signal.SIGKILL)  # what was acknowledged is on disk already
    backend = Backend.open(state_dir, read_only=True)
    try:
        assert backend.clock.now() >= datetime.now(timezone.utc) + timedelta(days=399)
        token = backend.tokens.find(password)
        assert token is not None
        assert token.principal.arn == "arn:aws:iam::123456789012:user/ci"
        assert "kept" in backend.registry().repositories
    finally:
        backend.close()
    assert list((state_dir / "blobs").glob("*/*"))

    again = serve(state_dir)
    try:
        assert requests.post(f"{again.url}/ecr-mock/reset", json={}, timeout=60).ok
        again.stop(signal.SIGKILL)
    finally:
        if again.process.poll() is None:
            again.process.kill()
            again.process.wait(timeout=30)
    backend = Backend.open(state_dir, read_only=True)
    try:
        assert not any(reg.repositories for reg in backend.registries.values())
        assert backend.tokens.find(password) is None
        assert backend.clock.now() < datetime.now(timezone.utc) + timedelta(days=1)
    finally:
        backend.close()
    assert list((state_dir / "blobs").glob("*/*")) == []
