"""Blobs whose bytes no longer match their digest are never served; ``ecr-mock check``."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from ecr_mock import Backend
from ecr_mock.store.persistence.verify import move_to_quarantine
from tests.integration.test_persistence_server import ROOT, Served, push_v2, serve

LAYER_A = b"layer A " * 1000
LAYER_B = b"layer B " * 1000
SHARED = b"shared layer " * 100


@pytest.fixture
def started() -> Iterator[list[Served]]:
    servers: list[Served] = []
    yield servers
    for server in servers:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(timeout=30)


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _session(server: Served) -> requests.Session:
    session = requests.Session()
    session.auth = ("AWS", server.password())
    return session


def two_images(state: Path, started: list[Served]) -> dict[str, str]:
    """``web:v1`` (SHARED, LAYER_A) and ``web:v2`` (SHARED, LAYER_B); their digests by tag."""
    server = serve(state)
    started.append(server)
    server.client().create_repository(repositoryName="web")
    session = _session(server)
    v1, _ = push_v2(session, server.url, "web", "v1", [SHARED, LAYER_A])
    v2, _ = push_v2(session, server.url, "web", "v2", [SHARED, LAYER_B])
    assert server.stop() == 0
    return {"v1": v1, "v2": v2}


def flip_a_byte(state: Path, data: bytes) -> Path:
    path = state / "blobs" / "sha256" / _digest(data).split(":")[1]
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    path.write_bytes(bytes(raw))
    assert path.stat().st_size == len(data)
    return path


def check(state: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ecr_mock", "check", "--state-dir", str(state), *extra],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )


def files(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_a_blob_with_a_flipped_byte_is_quarantined_and_answered_blob_unknown(
    tmp_path: Path, started: list[Served]
) -> None:
    state = tmp_path / "state"
    tags = two_images(state, started)
    flip_a_byte(state, LAYER_A)
    server = serve(state)
    started.append(server)
    session = _session(server)
    bad = session.get(f"{server.url}/v2/web/blobs/{_digest(LAYER_A)}", timeout=30)
    assert bad.status_code == 404
    assert bad.json()["errors"][0]["code"] == "BLOB_UNKNOWN"
    good = session.get(f"{server.url}/v2/web/blobs/{_digest(LAYER_B)}", timeout=30)
    assert good.status_code == 200
    assert good.content == LAYER_B
    quarantined = state / "quarantine" / _digest(LAYER_A).replace(":", "-")
    assert hashlib.sha256(quarantined.read_bytes()).hexdigest() != _digest(LAYER_A)[7:]
    summary = requests.get(f"{server.url}/ecr-mock/state", timeout=30).json()
    damaged = summary["damaged"]
    assert list(damaged["blobs"]) == [_digest(LAYER_A)]
    assert [(i["repository"], i["digest"], i["tags"]) for i in damaged["images"]] == [
        ("web", tags["v1"], ["v1"])
    ]
    server.stop()
    _, log = server.process.communicate()
    assert "verifying 5 blobs" in log  # two configs and three layers, in the background
    warned = [line for line in log.splitlines() if _digest(LAYER_A) + " is damaged" in line]
    assert warned and tags["v1"] in warned[0], log


def test_check_says_what_is_wrong_changes_nothing_and_repair_makes_it_sound(
    tmp_path: Path, started: list[Served]
) -> None:
    state = tmp_path / "state"
    tags = two_images(state, started)
    assert check(state).returncode == 0
    flip_a_byte(state, LAYER_A)
    before = files(state)
    found = check(state)
    assert found.returncode == 1, found.stdout + found.stderr
    assert f"problem: blob {_digest(LAYER_A)} of 123456789012/us-east-1: its bytes hash to" in (
        found.stdout
    )
    assert f"problem: image 123456789012/us-east-1/web@{tags['v1']} needs" in found.stdout
    assert "repair: remove the image" in found.stdout
    assert "repair: move its file to quarantine/" in found.stdout
    assert files(state) == before

    repaired = check(state, "--repair")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert check(state).returncode == 0
    assert (state / "quarantine" / _digest(LAYER_A).replace(":", "-")).is_file()
    server = serve(state)
    started.append(server)
    described = server.client().describe_images(repositoryName="web")["imageDetails"]
    assert [(d["imageDigest"], d["imageTags"]) for d in described] == [(tags["v2"], ["v2"])]
    shared = _session(server).get(f"{server.url}/v2/web/blobs/{_digest(SHARED)}", timeout=30)
    assert shared.content == SHARED


def test_check_finds_a_manifest_that_does_not_match_its_digest(
    tmp_path: Path, started: list[Served]
) -> None:
    state = tmp_path / "state"
    tags = two_images(state, started)
    db = sqlite3.connect(state / "state.db")
    with db:
        (data,) = db.execute(
            "SELECT data FROM rows WHERE key LIKE ?", (f"image/%@{tags['v2']}",)
        ).fetchone()
        altered = json.dumps({**json.loads(data), "annotations": {"x": "y"}}).encode()
        db.execute("UPDATE rows SET data = ? WHERE key LIKE ?", (altered, f"image/%@{tags['v2']}"))
    db.close()
    found = check(state)
    assert found.returncode == 1
    assert f"web@{tags['v2']}: its manifest's bytes do not hash to its digest" in found.stdout
    assert "tag 'v2' of 123456789012/us-east-1/web points at" in found.stdout


def test_a_repair_stopped_after_moving_blobs_leaves_a_directory_that_opens(
    tmp_path: Path, started: list[Served]
) -> None:
    state = tmp_path / "state"
    tags = two_images(state, started)
    bad = flip_a_byte(state, LAYER_A)
    move_to_quarantine(state, _digest(LAYER_A), bad)  # the repair's first step, then a kill
    backend = Backend.open(state)
    try:
        repo = backend.registry().repositories["web"]
        assert sorted(repo.images) == sorted(tags.values())
        assert _digest(LAYER_A) not in backend.registry().blobs
        assert _digest(LAYER_B) in backend.registry().blobs
    finally:
        backend.close()
    assert check(state, "--repair").returncode == 0
    assert check(state).returncode == 0


def test_a_blob_file_gone_between_runs_shows_its_images_as_damaged(
    tmp_path: Path, started: list[Served]
) -> None:
    state = tmp_path / "state"
    tags = two_images(state, started)
    (state / "blobs" / "sha256" / _digest(LAYER_B).split(":")[1]).unlink()
    server = serve(state)
    started.append(server)
    gone = _session(server).get(f"{server.url}/v2/web/blobs/{_digest(LAYER_B)}", timeout=30)
    assert gone.status_code == 404
    assert gone.json()["errors"][0]["code"] == "BLOB_UNKNOWN"
    damaged = requests.get(f"{server.url}/ecr-mock/state", timeout=30).json()["damaged"]
    assert damaged["blobs"] == {_digest(LAYER_B): "its file is missing"}
    assert [i["digest"] for i in damaged["images"]] == [tags["v2"]]
    server.stop()
    _, log = server.process.communicate()
    assert f"images needing a damaged blob: web@{tags['v2']}" in log
