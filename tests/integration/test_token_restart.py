"""Registry logins across ``ecr-mock serve`` restarts: the kept token key, and clear refusals."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from tests.integration.test_persistence_server import push_v2

ROOT = Path(__file__).resolve().parents[2]
URL_RE = re.compile(r"at (http://[0-9.]+:[0-9]+) ")


@dataclass
class Server:
    """One ``ecr-mock serve`` process."""

    process: subprocess.Popen[str]
    url: str

    def client(self, region: str = "us-east-1") -> Any:
        return boto3.client(
            "ecr",
            region_name=region,
            endpoint_url=self.url,
            aws_access_key_id="AKIAEXAMPLE",
            aws_secret_access_key="secret",
        )

    def password(self, region: str = "us-east-1") -> str:
        data = self.client(region).get_authorization_token()["authorizationData"][0]
        return base64.b64decode(data["authorizationToken"]).decode().split(":", 1)[1]

    def stop(self) -> str:
        """SIGTERM, wait; what the server wrote to stderr (its log)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        _, err = self.process.communicate(timeout=60)
        return err


def start(cache: Path, *extra: str) -> Server:
    """``ecr-mock serve`` on a free port with ``$XDG_CACHE_HOME`` set to ``cache``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(cache)}
    process = subprocess.Popen(
        [sys.executable, "-m", "ecr_mock", "serve", "--port", "0", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    found = URL_RE.search(line)
    if found is None:
        process.kill()
        _, err = process.communicate(timeout=30)
        raise AssertionError(f"the server did not start: {line!r} {err!r}")
    return Server(process, found.group(1))


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    """Servers a test starts; each is stopped at the end."""
    started: list[Server] = []
    yield started
    for server in started:
        if server.process.poll() is None:
            server.process.kill()
            server.process.communicate(timeout=30)


def session(password: str) -> requests.Session:
    s = requests.Session()
    s.auth = ("AWS", password)
    return s


def test_a_login_outlives_a_restart_without_a_state_directory(
    tmp_path: Path, servers: list[Server]
) -> None:
    cache = tmp_path / "cache"
    first = start(cache)
    servers.append(first)
    password = first.password()
    first.stop()
    key = cache / "ecr-mock" / "token.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700

    again = start(cache)
    servers.append(again)
    again.client().create_repository(repositoryName="web")
    digest, _ = push_v2(session(password), again.url, "web", "v1", [b"layer after restart"])
    images = again.client().describe_images(repositoryName="web")["imageDetails"]
    assert [(i["imageDigest"], i["imageTags"]) for i in images] == [(digest, ["v1"])]


def test_a_token_keeps_its_registry_after_a_restart(tmp_path: Path, servers: list[Server]) -> None:
    cache = tmp_path / "cache"
    first = start(cache)
    servers.append(first)
    password = first.password(region="eu-west-1")
    first.stop()
    again = start(cache)
    servers.append(again)
    again.client("eu-west-1").create_repository(repositoryName="app")
    push_v2(session(password), again.url, "app", "v1", [b"eu layer"])
    listed = again.client("eu-west-1").list_images(repositoryName="app")["imageIds"]
    assert [i.get("imageTag") for i in listed] == ["v1"]
    with pytest.raises(again.client().exceptions.RepositoryNotFoundException):
        again.client("us-east-1").list_images(repositoryName="app")


def test_a_state_directory_keeps_the_key_and_no_password(
    tmp_path: Path, servers: list[Server]
) -> None:
    state = tmp_path / "state"
    first = start(tmp_path / "cache", "--state-dir", str(state))
    servers.append(first)
    password = first.password()
    first.stop()
    assert (state / "token.key").is_file()
    assert not (tmp_path / "cache").exists(), "the cache directory is not used with a state dir"
    raw = b"".join(p.read_bytes() for p in state.rglob("*") if p.is_file())
    assert password.encode() not in raw
    again = start(tmp_path / "other-cache", "--state-dir", str(state))
    servers.append(again)
    assert session(password).get(f"{again.url}/v2/", timeout=30).status_code == 200


def test_a_token_from_another_key_is_refused_naming_the_helper_cache(
    tmp_path: Path, servers: list[Server]
) -> None:
    issuer = start(tmp_path / "one")
    servers.append(issuer)
    password = issuer.password()
    issuer.stop()
    other = start(tmp_path / "two")
    servers.append(other)
    refused = [session(password).get(f"{other.url}/v2/", timeout=30) for _ in range(3)]
    assert {r.status_code for r in refused} == {401}
    error = refused[0].json()["errors"][0]
    assert error["code"] == "UNAUTHORIZED"
    assert "issued under token key" in error["message"]
    assert "~/.ecr/cache.json" in error["message"]
    log = other.stop()
    told = [line for line in log.splitlines() if "~/.ecr/cache.json" in line]
    assert len(told) == 1, log


def test_ephemeral_tokens_end_with_the_process_and_write_no_key(
    tmp_path: Path, servers: list[Server]
) -> None:
    cache = tmp_path / "cache"
    first = start(cache, "--ephemeral-tokens")
    servers.append(first)
    password = first.password()
    assert session(password).get(f"{first.url}/v2/", timeout=30).status_code == 200
    first.stop()
    again = start(cache, "--ephemeral-tokens")
    servers.append(again)
    refused = session(password).get(f"{again.url}/v2/", timeout=30)
    assert refused.status_code == 401
    assert "~/.ecr/cache.json" in refused.json()["errors"][0]["message"]
    assert not cache.exists()


def test_a_password_that_is_no_token_is_refused_saying_so(
    tmp_path: Path, servers: list[Server]
) -> None:
    server = start(tmp_path / "cache")
    servers.append(server)
    refused = session("not-a-token").get(f"{server.url}/v2/", timeout=30)
    assert refused.status_code == 401
    assert "not an authorization token ecr-mock issued" in refused.json()["errors"][0]["message"]


def test_in_process_backends_write_no_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ecr_mock import mock_ecr

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with mock_ecr():
        client = boto3.client("ecr", region_name="us-east-1")
        token = client.get_authorization_token()["authorizationData"][0]["authorizationToken"]
        assert base64.b64decode(token).startswith(b"AWS:")
    assert list(tmp_path.iterdir()) == []


def test_a_token_keeps_its_principal_after_a_restart(tmp_path: Path, servers: list[Server]) -> None:
    cache = tmp_path / "cache"
    first = start(cache)
    servers.append(first)
    role = "arn:aws:iam::123456789012:role/ci"
    issued = requests.post(
        f"{first.url}/ecr-mock/tokens", json={"principal_arn": role}, timeout=30
    ).json()
    first.stop()
    again = start(cache)
    servers.append(again)
    client = again.client()
    client.create_repository(repositoryName="guarded")
    deny_ci = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": {"AWS": role},
                "Action": "ecr:InitiateLayerUpload",
            }
        ],
    }
    client.set_repository_policy(repositoryName="guarded", policyText=json.dumps(deny_ci))
    refused = session(issued["password"]).post(f"{again.url}/v2/guarded/blobs/uploads/", timeout=30)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "DENIED"
    assert role in refused.json()["errors"][0]["message"]
    exchanged = requests.get(
        f"{again.url}/token",
        params={"service": again.url.split("//")[1], "scope": "repository:guarded:pull"},
        auth=("AWS", issued["password"]),
        timeout=30,
    )
    assert exchanged.status_code == 200, exchanged.text
    assert exchanged.json()["expires_in"] > 0


def test_a_server_with_nowhere_to_keep_its_key_starts_and_says_so(
    tmp_path: Path, servers: list[Server]
) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the cache directory would be\n")
    server = start(blocked)
    servers.append(server)
    password = server.password()
    assert session(password).get(f"{server.url}/v2/", timeout=30).status_code == 200
    log = server.stop()
    assert "registry logins end with this process" in log


def test_a_damaged_key_file_stops_the_server_naming_it(tmp_path: Path) -> None:
    key = tmp_path / "cache" / "ecr-mock" / "token.key"
    key.parent.mkdir(parents=True)
    key.write_text("not a key\n")
    result = subprocess.run(
        [sys.executable, "-m", "ecr_mock", "serve", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(tmp_path / "cache")},
        check=False,
    )
    assert result.returncode == 1
    assert f"the token key {key} is damaged" in result.stderr
