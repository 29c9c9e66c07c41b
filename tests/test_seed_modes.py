"""``ecr-mock serve --state-dir D --seed S`` restarted: a seed applies once, a changed seed as
``--seed-mode`` says (once refuses, replace starts over, merge adds)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3

from tests.test_cli import clean_env, start_serve

KEY = {"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key": "secret"}


def seed_file(tmp_path: Path, *names: str, tags: tuple[str, ...] = ("v1",)) -> Path:
    path = tmp_path / "seed.json"
    doc = {
        "repositories": [
            {"name": name, "images": [{"synthetic": {"layers": 1}, "tags": list(tags)}]}
            for name in names
        ]
    }
    path.write_text(json.dumps(doc))
    return path


def serve_once(tmp_path: Path, state: Path, seed: Path, *extra: str) -> dict[str, Any]:
    """Start, list the repositories and their tags, stop; returns what was seen and logged."""
    process, url, _ = start_serve(
        tmp_path, "--port", "0", "--state-dir", str(state), "--seed", str(seed), *extra
    )
    try:
        ecr = boto3.client("ecr", endpoint_url=url, region_name="us-east-1", **KEY)
        seen = {
            repo["repositoryName"]: sorted(
                tag
                for image in ecr.describe_images(repositoryName=repo["repositoryName"])[
                    "imageDetails"
                ]
                for tag in image.get("imageTags", [])
            )
            for repo in ecr.describe_repositories()["repositories"]
        }
        if "extra" not in seen:  # something made after the seed, kept by restarts
            ecr.create_repository(repositoryName="extra")
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    return {"code": process.returncode, "seen": seen, "log": err}


def refused(
    tmp_path: Path, state: Path, seed: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "ecr_mock", "serve", "--port", "0"]
    argv += ["--state-dir", str(state), "--seed", str(seed), *extra]
    return subprocess.run(
        argv, env=clean_env(tmp_path), capture_output=True, text=True, timeout=120, check=False
    )


def test_a_restart_with_the_same_seed_starts_on_the_kept_state(tmp_path: Path) -> None:
    state = tmp_path / "state"
    seed = seed_file(tmp_path, "team/app")
    first = serve_once(tmp_path, state, seed)
    second = serve_once(tmp_path, state, seed)
    third = serve_once(tmp_path, state, seed)
    assert first["code"] == second["code"] == third["code"] == 0
    assert first["seen"] == {"team/app": ["v1"]}
    assert "seed " in first["log"] and ": applied" in first["log"]
    assert second["seen"] == third["seen"] == {"team/app": ["v1"], "extra": []}
    assert ": kept" in second["log"]


def test_a_changed_seed_is_refused_under_once_and_nothing_changes(tmp_path: Path) -> None:
    state = tmp_path / "state"
    serve_once(tmp_path, state, seed_file(tmp_path, "team/app"))
    before = (state / "state.db").read_bytes()
    result = refused(tmp_path, state, seed_file(tmp_path, "team/other"))
    after = serve_once(tmp_path, state, seed_file(tmp_path, "team/app"))
    assert result.returncode == 2
    assert "--seed-mode replace" in result.stderr and "--seed-mode merge" in result.stderr
    assert "Traceback" not in result.stderr
    assert before  # the directory held state before the refusal
    assert after["seen"] == {"team/app": ["v1"], "extra": []}


def test_replace_empties_the_kept_state_and_applies_the_changed_seed(tmp_path: Path) -> None:
    state = tmp_path / "state"
    serve_once(tmp_path, state, seed_file(tmp_path, "team/app"))
    serve_once(tmp_path, state, seed_file(tmp_path, "team/app"))  # makes "extra"
    changed = seed_file(tmp_path, "team/other", tags=("v2",))
    replaced = serve_once(tmp_path, state, changed, "--seed-mode", "replace")
    again = serve_once(tmp_path, state, changed, "--seed-mode", "replace")
    assert replaced["code"] == 0 and ": replaced" in replaced["log"]
    assert replaced["seen"] == {"team/other": ["v2"]}
    assert again["seen"] == {"team/other": ["v2"], "extra": []}
    assert ": kept" in again["log"]


def test_merge_adds_what_the_changed_seed_adds_and_keeps_the_rest(tmp_path: Path) -> None:
    state = tmp_path / "state"
    serve_once(tmp_path, state, seed_file(tmp_path, "team/app"))
    changed = seed_file(tmp_path, "team/app", "team/new", tags=("v9",))
    merged = serve_once(tmp_path, state, changed, "--seed-mode", "merge")
    again = serve_once(tmp_path, state, changed)  # the merged seed is now the recorded one
    assert merged["code"] == 0 and ": merged" in merged["log"]
    assert merged["seen"] == {"team/app": ["v1"], "extra": [], "team/new": ["v9"]}
    assert again["seen"] == merged["seen"]
    assert ": kept" in again["log"]


def test_a_kill_while_seeding_leaves_a_directory_that_opens_and_seeds_on_restart(
    tmp_path: Path,
) -> None:
    import time

    from ecr_mock import Backend

    state = tmp_path / "state"
    seed = tmp_path / "seed.json"
    image = {"synthetic": {"layers": 6, "layerSize": 3 * 1024 * 1024}, "tags": ["v1"]}
    seed.write_text(json.dumps({"repositories": [{"name": "big", "images": [image]}]}))
    argv = [sys.executable, "-m", "ecr_mock", "serve", "--port", "0", "--quiet"]
    argv += ["--state-dir", str(state), "--seed", str(seed)]
    for delay in (0.3, 0.8, 1.5, 2.5):
        process = subprocess.Popen(
            argv, env=clean_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(delay)  # a different moment of the start each time, not a measurement
        process.kill()
        process.wait(timeout=60)
        if not (state / "state.db").exists():
            continue
        opened = Backend.open(state)  # opens cleanly, whatever moment the kill came at
        try:
            repos = opened.registry().repositories
            if "big" in repos:  # a seed is either all there, with its record, or not at all
                assert opened.applied_seed is not None
                assert list(repos["big"].tags) == ["v1"]
                for digest in repos["big"].blob_refs:
                    assert opened.registry().blobs[digest].size > 0
            else:
                assert opened.applied_seed is None
        finally:
            opened.close()
    after = serve_once(tmp_path, state, seed)
    assert after["code"] == 0
    assert after["seen"]["big"] == ["v1"]
