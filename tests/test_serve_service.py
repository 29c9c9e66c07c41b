"""``ecr-mock serve`` as a service: seeding at start, request logs, unknown services, shutdown."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from ecr_mock import Backend
from ecr_mock.protocols.control import ControlRequest, ControlResponse, ControlRoute
from ecr_mock.runtime.http import EcrMockServer
from ecr_mock.testing.remote import RemoteEcrMock
from tests.support.serve import clean_env, start_serve

ACCOUNT = "123456789012"
KEY = {"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key": "secret"}
SEED_JSON = {
    "repositories": [
        {
            "name": "team/app",
            "imageTagMutability": "IMMUTABLE",
            "images": [{"synthetic": {"layers": 1}, "tags": ["v1"], "pushedDaysAgo": 40}],
        }
    ]
}


def ecr(url: str, service: str = "ecr") -> Any:
    return boto3.client(service, endpoint_url=url, region_name="us-east-1", **KEY)


def stop_serve(process: Any, sig: int = signal.SIGINT) -> tuple[int, str, str]:
    process.send_signal(sig)
    out, err = process.communicate(timeout=30)
    return process.returncode, out, err


def logged(caplog: pytest.LogCaptureFixture, words: str) -> list[logging.LogRecord]:
    """The records holding ``words``, once at least one is there (the server logs a request
    after answering it, in its own thread)."""
    deadline = time.monotonic() + 30
    while True:
        found = [r for r in caplog.records if words in r.getMessage()]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.01)


def request_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if " surface=" in line]


def test_serve_starts_from_a_seed_file(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps(SEED_JSON))
    process, url, _ = start_serve(tmp_path, "--port", "0", "--seed", str(seed))
    try:
        [image] = ecr(url).describe_images(repositoryName="team/app")["imageDetails"]
        [repo] = ecr(url).describe_repositories()["repositories"]
    finally:
        code, _, _ = stop_serve(process, signal.SIGTERM)
    assert image["imageTags"] == ["v1"]
    assert repo["imageTagMutability"] == "IMMUTABLE"
    assert code == 0


def test_serve_starts_from_a_yaml_seed_file(tmp_path: Path) -> None:
    pytest.importorskip("yaml", reason="PyYAML is an optional extra (ecr-mock[yaml])")
    seed = tmp_path / "seed.yaml"
    seed.write_text("repositories:\n  - name: from-yaml\n    scanOnPush: true\n")
    process, url, _ = start_serve(tmp_path, "--port", "0", "--seed", str(seed))
    try:
        [repo] = ecr(url).describe_repositories()["repositories"]
    finally:
        stop_serve(process)
    assert repo["repositoryName"] == "from-yaml"
    assert repo["imageScanningConfiguration"] == {"scanOnPush": True}


def test_serve_refuses_a_bad_seed_file_naming_the_field(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"repositories": [{"name": "ok"}, {"name": "x", "scanOnPush": 3}]}))
    result = subprocess.run(
        [sys.executable, "-m", "ecr_mock", "serve", "--port", "0", "--seed", str(seed)],
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert f"the seed file {seed} is refused: repositories[1]" in result.stderr


def test_every_request_is_one_log_line_with_what_it_did(tmp_path: Path) -> None:
    process, url, _ = start_serve(tmp_path, "--port", "0")
    try:
        client = ecr(url)
        client.create_repository(repositoryName="web")
        with pytest.raises(ClientError):
            client.describe_images(repositoryName="missing")
        token = RemoteEcrMock(url).issue_token(f"arn:aws:iam::{ACCOUNT}:user/ci")
        requests.get(f"{url}/v2/web/tags/list", auth=("AWS", token.password), timeout=30)
        root = RemoteEcrMock(url).issue_token(f"arn:aws:iam::{ACCOUNT}:root")
        requests.get(f"{url}/v2/absent/tags/list", auth=("AWS", root.password), timeout=30)
    finally:
        code, _, stderr = stop_serve(process)
    lines = request_lines(stderr)
    create = next(line for line in lines if "operation=CreateRepository" in line)
    for part in (
        "surface=api",
        "repository=web",
        f"account={ACCOUNT}",
        "region=us-east-1",
        f"principal=arn:aws:iam::{ACCOUNT}:root",
        "status=200",
        "error=-",
    ):
        assert part in create
    missing = next(line for line in lines if "repository=missing" in line)
    assert "status=400 error=RepositoryNotFoundException" in missing
    tags = next(line for line in lines if "operation=tags_list repository=web" in line)
    assert f"principal=arn:aws:iam::{ACCOUNT}:user/ci status=403 error=DENIED" in tags
    absent = next(line for line in lines if "repository=absent" in line)
    assert "surface=registry" in absent and "status=404 error=NAME_UNKNOWN" in absent
    assert any("surface=control operation=tokens" in line for line in lines)
    assert all(" ms=" in line and " bytes=" in line for line in lines)
    assert '"POST / HTTP/1.1"' not in stderr
    assert code == 0


def test_json_log_lines_carry_the_same_fields(tmp_path: Path) -> None:
    process, url, _ = start_serve(tmp_path, "--port", "0", "--log-format", "json")
    try:
        ecr(url).create_repository(repositoryName="web")
    finally:
        _, _, stderr = stop_serve(process)
    records = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    [create] = [r for r in records if r.get("operation") == "CreateRepository"]
    assert create["surface"] == "api"
    assert create["repository"] == "web"
    assert create["status"] == 200
    assert create["error"] is None
    assert create["bytes"] > 0
    assert set(create) >= {"time", "level", "account", "region", "principal", "ms"}


def test_quiet_logs_no_requests(tmp_path: Path) -> None:
    process, url, _ = start_serve(tmp_path, "--port", "0", "--quiet")
    try:
        ecr(url).create_repository(repositoryName="web")
    finally:
        _, _, stderr = stop_serve(process)
    assert request_lines(stderr) == []


@pytest.fixture
def logged_server() -> Iterator[EcrMockServer]:
    with EcrMockServer(Backend(), log_requests=True) as running:
        yield running


def test_a_failing_request_answers_500_and_logs_its_traceback(
    logged_server: EcrMockServer, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(request: ControlRequest) -> ControlResponse:
        raise RuntimeError("the handler broke")

    logged_server.control.add(ControlRoute("broken", r"/ecr-mock/broken", {"GET": broken}))
    caplog.set_level(logging.INFO, logger="ecr_mock")
    answer = requests.get(f"{logged_server.url}/ecr-mock/broken", timeout=30)
    assert answer.status_code == 500
    [line] = logged(caplog, "operation=broken")
    assert "status=500" in line.getMessage()
    failures = [r for r in caplog.records if r.exc_info]
    assert failures and "the handler broke" in str(failures[0].exc_info[1])


def test_an_unknown_aws_service_is_refused_once_naming_it(
    logged_server: EcrMockServer, caplog: pytest.LogCaptureFixture
) -> None:
    client = ecr(logged_server.url, "codeartifact")
    caplog.set_level(logging.INFO, logger="ecr_mock")
    with pytest.raises(ClientError) as refused:
        client.list_domains()
    error = refused.value.response["Error"]
    assert error["Code"] == "UnknownServiceException"
    assert "'codeartifact'" in error["Message"]
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    requests.get(f"{logged_server.url}/ecr-mock/health", timeout=30)
    assert logged(caplog, "operation=health")
    assert len(logged(caplog, "operation=codeartifact")) == 1


def test_services_moto_serves_still_reach_moto(logged_server: EcrMockServer) -> None:
    iam = ecr(logged_server.url, "iam")
    iam.create_user(UserName="ci")
    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["ci"]


def test_sigterm_after_moto_was_used_exits_cleanly(tmp_path: Path) -> None:
    process, url, _ = start_serve(tmp_path, "--port", "0")
    ecr(url, "iam").list_users()
    code, out, _ = stop_serve(process, signal.SIGTERM)
    assert code == 0
    assert "ecr-mock: stopped" in out
