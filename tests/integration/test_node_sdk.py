"""The AWS SDK for JavaScript v3, which ``aws-actions/amazon-ecr-login`` uses, finds the server
through ``AWS_ENDPOINT_URL_ECR``, ``AWS_ENDPOINT_URL_ECR_PUBLIC`` or ``AWS_ENDPOINT_URL`` alone:
private and public, a repository is made and the registry token it gets opens ``/v2/``."""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests

from ecr_mock import Backend
from ecr_mock.server import EcrMockServer

NODE_DIR = Path(__file__).resolve().parent / "node"


def _dead_url() -> str:
    """A loopback URL nothing listens on: a client sent there fails to connect."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def run_login(which: str, repository: str, endpoints: dict[str, str], tmp: Path) -> Any:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (.ci/run installs nodejs and npm)")
    if not (NODE_DIR / "node_modules" / "@aws-sdk" / "client-ecr-public").is_dir():
        pytest.skip(f"npm install has not been run in {NODE_DIR} (.ci/run runs it)")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_") and not key.startswith("ECR_MOCK_")
    }
    env.update(
        AWS_ACCESS_KEY_ID="AKIAIOSFODNN7EXAMPLE",
        AWS_SECRET_ACCESS_KEY="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        AWS_REGION="eu-west-1",
        AWS_CONFIG_FILE=str(tmp / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp / "credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        **endpoints,
    )
    return subprocess.run(
        [node, str(NODE_DIR / "ecr_login.mjs"), which, repository],
        env=env,
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


CASES = [
    ("private", "AWS_ENDPOINT_URL_ECR"),
    ("private", "AWS_ENDPOINT_URL"),
    ("public", "AWS_ENDPOINT_URL_ECR_PUBLIC"),
    ("public", "AWS_ENDPOINT_URL"),
]


@pytest.mark.parametrize(("which", "variable"), CASES, ids=[f"{w}-{v}" for w, v in CASES])
def test_the_sdk_finds_the_server_from_the_environment(
    which: str, variable: str, tmp_path: Path
) -> None:
    backend = Backend()
    with EcrMockServer(backend) as server:
        endpoints = {variable: server.url}
        if variable != "AWS_ENDPOINT_URL":  # the service's own variable wins over the global one
            endpoints["AWS_ENDPOINT_URL"] = _dead_url()
        done = run_login(which, "ci/app", endpoints, tmp_path)
        assert done.returncode == 0, done.stderr
        answer = json.loads(done.stdout)
        user, _, password = base64.b64decode(answer["authorizationToken"]).decode().partition(":")
        assert user == "AWS"
        opened = requests.get(f"{server.url}/v2/", auth=(user, password), timeout=30)
        refused = requests.get(f"{server.url}/v2/", auth=(user, "not-it"), timeout=30)
        calls = [(c.operation, c.status) for c in backend.calls if c.surface == "api"]
        url, endpoint = server.url, server.endpoint
    assert opened.status_code == 200
    assert refused.status_code == 401
    assert calls == [("CreateRepository", 200), ("GetAuthorizationToken", 200)]
    if which == "private":
        assert answer["proxyEndpoint"] == url
        assert answer["repositoryUri"] == f"{endpoint}/ci/app"
        assert list(backend.registry("123456789012", "eu-west-1").repositories) == ["ci/app"]
    else:
        assert answer["repositoryUri"].endswith("/ci/app")
