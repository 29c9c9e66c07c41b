"""A damaged ``state.db`` is refused in one line, untouched; a read-only open writes nothing."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from ecr_mock import Backend
from tests.integration.test_persistence_server import ROOT, Served, push_v2, serve


@pytest.fixture
def started() -> Iterator[list[Served]]:
    servers: list[Served] = []
    yield servers
    for server in servers:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(timeout=30)


def files(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``root``: its bytes and modification time (nanoseconds)."""
    return {
        str(path.relative_to(root)): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def pushed_directory(state: Path, started: list[Served], *, kill: bool = False) -> str:
    """A directory holding repository ``web`` with one image; returns the image's digest."""
    server = serve(state)
    started.append(server)
    server.client().create_repository(repositoryName="web")
    session = requests.Session()
    session.auth = ("AWS", server.password())
    digest, _ = push_v2(session, server.url, "web", "v1", [b"layer one", os.urandom(2000)])
    server.stop(signal.SIGKILL if kill else signal.SIGTERM)
    return digest


def _garbage(db: Path) -> None:
    db.write_bytes(os.urandom(db.stat().st_size))


def _truncated(db: Path) -> None:
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2])


def _broken_row(db: Path) -> None:
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE rows SET doc = '{\"broken' WHERE key LIKE 'repository/%'")
    conn.close()


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (_garbage, "file is not a database"),
        (_truncated, "malformed"),
        (_broken_row, "is not JSON"),
    ],
    ids=["garbage", "truncated", "broken-json-row"],
)
def test_a_damaged_state_db_is_refused_in_one_line_with_exit_2_and_nothing_changed(
    tmp_path: Path, started: list[Served], damage: object, problem: str
) -> None:
    state = tmp_path / "state"
    pushed_directory(state, started)
    damage(state / "state.db")  # type: ignore[operator]
    before = files(state)
    result = subprocess.run(
        [sys.executable, "-m", "ecr_mock", "serve", "--port", "0", "--state-dir", str(state)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"ecr-mock: the state database {state / 'state.db'} is damaged")
    assert problem in lines[0]
    assert files(state) == before


def test_read_only_open_of_a_stopped_servers_directory_changes_nothing(
    tmp_path: Path, started: list[Served]
) -> None:
    state = tmp_path / "state"
    digest = pushed_directory(state, started)
    before = files(state)
    backend = Backend.open(state, read_only=True)
    try:
        assert list(backend.registry().repositories["web"].images) == [digest]
    finally:
        backend.close()
    assert files(state) == before


def test_read_only_open_after_kill_9_sees_the_log_and_changes_nothing(
    tmp_path: Path, started: list[Served]
) -> None:
    state = tmp_path / "state"
    digest = pushed_directory(state, started, kill=True)
    assert (state / "state.db-wal").stat().st_size > 0, "the log holds the last changes"
    before = files(state)
    backend = Backend.open(state, read_only=True)
    try:
        assert list(backend.registry().repositories["web"].images) == [digest]
    finally:
        backend.close()
    assert files(state) == before


def test_read_only_open_while_a_server_runs_changes_nothing(
    tmp_path: Path, started: list[Served]
) -> None:
    state = tmp_path / "state"
    server = serve(state)
    started.append(server)
    server.client().create_repository(repositoryName="web")
    session = requests.Session()
    session.auth = ("AWS", server.password())
    digest, _ = push_v2(session, server.url, "web", "v1", [b"while running"])
    server.client().describe_repositories()  # answered after the push's save
    before = files(state)
    backend = Backend.open(state, read_only=True)
    try:
        assert list(backend.registry().repositories["web"].images) == [digest]
    finally:
        backend.close()
    assert files(state) == before
    assert server.stop() == 0
