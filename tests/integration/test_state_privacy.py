"""A state directory keeps its secrets: 0700/0600 under any umask, no password in any file."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from ecr_mock import Backend
from ecr_mock.domain.models import Principal
from ecr_mock.store.persistence.codec import encode
from ecr_mock.store.tokens import Token
from tests.integration.test_persistence_server import Served, push_v2, serve


@pytest.fixture
def umask_022() -> Iterator[None]:
    """Server processes started here inherit umask 022 (every file readable by others)."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.fixture
def started() -> Iterator[list[Served]]:
    servers: list[Served] = []
    yield servers
    for server in servers:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(timeout=30)


def _modes(root: Path) -> dict[str, int]:
    return {
        str(path.relative_to(root)): stat.S_IMODE(path.stat().st_mode)
        for path in [root, *root.rglob("*")]
    }


def _everything(root: Path) -> bytes:
    return b"".join(path.read_bytes() for path in root.rglob("*") if path.is_file())


def test_a_state_directory_is_private_under_umask_022(
    tmp_path: Path, umask_022: None, started: list[Served]
) -> None:
    state = tmp_path / "state"
    server = serve(state)
    started.append(server)
    server.client().create_repository(repositoryName="web")
    session = requests.Session()
    session.auth = ("AWS", server.password())
    push_v2(session, server.url, "web", "v1", [b"x" * 1000, os.urandom(300_000)])
    running = _modes(state)  # state.db-wal and -shm exist while it runs
    assert server.stop() == 0
    stopped = _modes(state)
    for modes in (running, stopped):
        directories = {name for name in modes if (state / name).is_dir() or name == "."}
        assert {modes[name] for name in directories} == {0o700}, modes
        assert {modes[name] for name in modes if name not in directories} == {0o600}, modes
    assert any(name.startswith("blobs/sha256/") for name in stopped)
    assert "state.db-wal" in running


def test_a_copy_of_the_directory_holds_no_password(tmp_path: Path, started: list[Served]) -> None:
    state = tmp_path / "state"
    server = serve(state)
    started.append(server)
    passwords = [server.password() for _ in range(3)]
    server.stop()
    everything = _everything(state)
    assert not [p for p in passwords if p.encode() in everything]
    again = serve(state)  # the key stayed: the logins made before still work
    started.append(again)
    for password in passwords:
        assert requests.get(f"{again.url}/v2/", auth=("AWS", password), timeout=30).ok


def _old_directory(state: Path) -> str:
    """A directory as an older version wrote it: the tokens row holds a random password."""
    backend = Backend.open(state)
    token = backend.tokens.issue(Principal.root("123456789012"), "123456789012", "us-east-1")
    backend.close()
    old_password = "legacy-" + base64.b64encode(os.urandom(48)).decode()
    old = Token(
        old_password, token.principal, token.account, token.region, token.issued_at,
        token.expires_at,
    )  # fmt: skip
    doc = encode([old])
    for item in doc:
        del item["f"]["minted_ns"]  # the field older versions did not have
    db = sqlite3.connect(state / "state.db")
    with db:
        db.execute("UPDATE rows SET doc = ? WHERE key = 'backend/tokens'", (json.dumps(doc),))
    db.close()
    assert old_password.encode() in (state / "state.db").read_bytes()
    return old_password


def test_an_older_directory_with_passwords_opens_and_keeps_them_only_hashed(
    tmp_path: Path, started: list[Served]
) -> None:
    state = tmp_path / "state"
    old_password = _old_directory(state)
    server = serve(state)
    started.append(server)
    answer = requests.get(f"{server.url}/v2/", auth=("AWS", old_password), timeout=30)
    assert answer.status_code == 200
    server.stop()
    assert old_password.encode() not in _everything(state)
    again = serve(state)
    started.append(again)
    answer = requests.get(f"{again.url}/v2/", auth=("AWS", old_password), timeout=30)
    assert answer.status_code == 200
