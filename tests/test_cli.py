"""``ecr-mock serve`` and the AWS CLI (v1) against the live server, as subprocesses."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from ecr_mock.cli import banner, build_parser, main
from ecr_mock.server import EcrMockServer

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "123456789012"
URL_RE = re.compile(r"at (http://[0-9.]+:[0-9]+) ")
AWS = shutil.which("aws")
DOCKER = shutil.which("docker")
needs_aws = pytest.mark.skipif(AWS is None, reason="the AWS CLI (aws) is not installed")
needs_docker = pytest.mark.skipif(DOCKER is None, reason="the docker CLI is not installed")


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """An environment with fake credentials and no user AWS configuration."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_") and key != "PYTHONPATH"
    }
    env.update(
        AWS_ACCESS_KEY_ID="AKIAIOSFODNN7EXAMPLE",
        AWS_SECRET_ACCESS_KEY="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(tmp_path / "aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def run(args: list[str], env: dict[str, str], stdin: str | None = None) -> Any:
    return subprocess.run(
        args, env=env, input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


@needs_aws
def test_aws_cli_with_endpoint_url_creates_a_repository(
    own_server: EcrMockServer, tmp_path: Path
) -> None:
    result = run(
        [
            AWS or "aws",
            "--endpoint-url",
            own_server.url,
            "ecr",
            "create-repository",
            "--repository-name",
            "cli/app",
            "--output",
            "json",
        ],
        clean_env(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    repo = json.loads(result.stdout)["repository"]
    assert repo["repositoryUri"] == f"{own_server.endpoint}/cli/app"
    assert repo["repositoryArn"] == f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/cli/app"
    assert list(own_server.backend.registry().repositories) == ["cli/app"]


@needs_aws
def test_aws_cli_follows_aws_endpoint_url_ecr(own_server: EcrMockServer, tmp_path: Path) -> None:
    own_server.backend.create_repository(own_server.backend.registry(), "from-env")
    result = run(
        [AWS or "aws", "ecr", "describe-repositories", "--output", "json"],
        clean_env(tmp_path, AWS_ENDPOINT_URL_ECR=own_server.url),
    )
    assert result.returncode == 0, result.stderr
    names = [r["repositoryName"] for r in json.loads(result.stdout)["repositories"]]
    assert names == ["from-env"]


@needs_aws
def test_aws_cli_reports_ecr_errors(own_server: EcrMockServer, tmp_path: Path) -> None:
    result = run(
        [
            AWS or "aws",
            "--endpoint-url",
            own_server.url,
            "ecr",
            "delete-repository",
            "--repository-name",
            "missing",
        ],
        clean_env(tmp_path),
    )
    assert result.returncode != 0
    assert "RepositoryNotFoundException" in result.stderr


@needs_aws
def test_aws_cli_get_login_password_opens_the_registry(
    own_server: EcrMockServer, tmp_path: Path
) -> None:
    result = run(
        [AWS or "aws", "--endpoint-url", own_server.url, "ecr", "get-login-password"],
        clean_env(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    password = result.stdout.strip()
    accepted = requests.get(f"{own_server.url}/v2/", auth=("AWS", password), timeout=10)
    refused = requests.get(f"{own_server.url}/v2/", auth=("AWS", password + "x"), timeout=10)
    assert accepted.status_code == 200
    assert refused.status_code == 401


@needs_aws
def test_aws_cli_get_login_prints_a_docker_login_for_the_server(
    own_server: EcrMockServer, tmp_path: Path
) -> None:
    result = run(
        [AWS or "aws", "--endpoint-url", own_server.url, "ecr", "get-login", "--no-include-email"],
        clean_env(tmp_path),
    )
    if result.returncode != 0 and "Invalid choice" in result.stderr:
        pytest.skip("this AWS CLI has no get-login (it is AWS CLI v1 only)")
    assert result.returncode == 0, result.stderr
    match = re.fullmatch(r"docker login -u AWS -p (\S+) (\S+)", result.stdout.strip())
    assert match is not None, result.stdout
    assert match[2] == own_server.url
    status = requests.get(f"{own_server.url}/v2/", auth=("AWS", match[1]), timeout=10).status_code
    assert status == 200


@needs_aws
@needs_docker
def test_login_command_of_the_banner_logs_docker_in(
    own_server: EcrMockServer, tmp_path: Path
) -> None:
    env = clean_env(tmp_path, DOCKER_CONFIG=str(tmp_path / "docker"))
    password = run(
        [AWS or "aws", "ecr", "get-login-password", "--endpoint-url", own_server.url], env
    ).stdout
    result = run(
        [DOCKER or "docker", "login", "--username", "AWS", "--password-stdin", own_server.endpoint],
        env,
        stdin=password,
    )
    assert result.returncode == 0, result.stderr
    assert "Login Succeeded" in result.stdout
    config = json.loads((tmp_path / "docker" / "config.json").read_text())
    stored = base64.b64decode(config["auths"][own_server.endpoint]["auth"]).decode()
    assert stored == f"AWS:{password.strip()}"


# ----- ecr-mock serve as a process ---------------------------------------------------------


def start_serve(
    tmp_path: Path,
    *args: str,
    command: list[str] | None = None,
    extra_env: dict[str, str] | None = None,
) -> Any:
    """Start ``ecr-mock serve`` and wait until it answers; returns (process, url, banner)."""
    argv = (command or [sys.executable, "-m", "ecr_mock"]) + ["serve", *args]
    process = subprocess.Popen(
        argv,
        env=clean_env(tmp_path, **(extra_env or {})),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    lines = [process.stdout.readline() for _ in range(3)]
    match = URL_RE.search(lines[0])
    if match is None:
        process.kill()
        raise AssertionError(f"no endpoint in {lines!r}: {process.stderr.read()}")  # type: ignore[union-attr]
    url = match[1]
    deadline = time.monotonic() + 30
    while True:  # readiness wait, not a timing assertion
        try:
            requests.get(url, timeout=2)
            break
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.05)
    return process, url, lines


def stop_serve(process: Any, sig: int = signal.SIGINT) -> tuple[int, str]:
    process.send_signal(sig)
    out, _ = process.communicate(timeout=30)
    return process.returncode, out


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_prints_endpoint_env_line_and_login_command(tmp_path: Path) -> None:
    port = free_port()
    process, url, lines = start_serve(tmp_path, "--port", str(port))
    code, rest = stop_serve(process)
    assert url == f"http://127.0.0.1:{port}"
    assert lines[1].strip() == f"export AWS_ENDPOINT_URL_ECR={url}"
    assert lines[2].strip() == (
        f"aws ecr get-login-password --endpoint-url {url} --region us-east-1 "
        f"| docker login --username AWS --password-stdin 127.0.0.1:{port}"
    )
    assert code == 0
    assert "stopped" in rest


def test_serve_answers_boto3_and_stops_cleanly_on_sigint(tmp_path: Path) -> None:
    process, url, _ = start_serve(tmp_path, "--port", "0")
    try:
        ecr = boto3.client(
            "ecr",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
            aws_secret_access_key="secret",
        )
        repo = ecr.create_repository(repositoryName="served")["repository"]
    finally:
        code, _ = stop_serve(process, signal.SIGINT)
    assert repo["repositoryUri"] == f"{url.removeprefix('http://')}/served"
    assert code == 0


def test_serve_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    process, url, _ = start_serve(tmp_path, "--port", "0")
    code, _ = stop_serve(process, signal.SIGTERM)
    assert code == 0
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=5)


def test_serve_account_region_and_access_keys_options(tmp_path: Path) -> None:
    process, url, lines = start_serve(
        tmp_path,
        "--port",
        "0",
        "--account-id",
        "111122223333",
        "--region",
        "eu-west-1",
        "--access-key",
        "AKIASECONDACCOUNT001=444455556666",
    )
    try:

        def arn(key: str) -> str:
            ecr = boto3.client(
                "ecr",
                endpoint_url=url,
                region_name="eu-west-1",
                aws_access_key_id=key,
                aws_secret_access_key="secret",
            )
            return str(ecr.create_repository(repositoryName="opt")["repository"]["repositoryArn"])

        default_arn = arn("AKIAANYUNKNOWNKEY001")
        mapped_arn = arn("AKIASECONDACCOUNT001")
    finally:
        code, _ = stop_serve(process)
    assert "--region eu-west-1" in lines[2]
    assert default_arn == "arn:aws:ecr:eu-west-1:111122223333:repository/opt"
    assert mapped_arn == "arn:aws:ecr:eu-west-1:444455556666:repository/opt"
    assert code == 0


def test_serve_on_a_busy_port_fails_with_a_message(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run(
            [sys.executable, "-m", "ecr_mock", "serve", "--port", str(port)], clean_env(tmp_path)
        )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


@pytest.mark.skipif(shutil.which("ecr-mock") is None, reason="ecr-mock is not installed")
def test_console_script_serves_and_stops(tmp_path: Path) -> None:
    process, url, _ = start_serve(tmp_path, "--port", "0", command=[shutil.which("ecr-mock") or ""])
    code, _ = stop_serve(process)
    assert url.startswith("http://127.0.0.1:")
    assert code == 0


# ----- argument handling, in-process ------------------------------------------------------


def test_version_option_prints_the_version(capsys: pytest.CaptureFixture[str]) -> None:
    from ecr_mock import __version__

    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"ecr-mock {__version__}"


def test_python_dash_m_prints_the_version(tmp_path: Path) -> None:
    result = run([sys.executable, "-m", "ecr_mock", "--version"], clean_env(tmp_path))
    assert result.returncode == 0
    assert result.stdout.startswith("ecr-mock ")


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "serve" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args",
    [
        ["serve", "--account-id", "12345"],
        ["serve", "--access-key", "AKIA-no-account"],
        ["serve", "--port", "http"],
        ["launch"],
    ],
)
def test_bad_arguments_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(args)
    assert exited.value.code == 2
    assert "usage: ecr-mock" in capsys.readouterr().err


def test_serve_defaults() -> None:
    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port, args.account_id, args.region) == (
        "127.0.0.1",
        5000,
        ACCOUNT,
        "us-east-1",
    )


def test_banner_lines() -> None:
    text = banner("http://127.0.0.1:5000", "127.0.0.1:5000", ACCOUNT, "us-east-1")
    assert text.splitlines()[1:] == [
        "export AWS_ENDPOINT_URL_ECR=http://127.0.0.1:5000",
        "aws ecr get-login-password --endpoint-url http://127.0.0.1:5000 --region us-east-1 "
        "| docker login --username AWS --password-stdin 127.0.0.1:5000",
        "web console: http://127.0.0.1:5000/ecr-mock/ui/",
        # the test extra installs moto (ecr-mock[aws]); tests/test_light_install.py has the other
        "ecr-mock: IAM, STS, EventBridge and moto's other AWS services are served too (moto)",
    ]


def test_serve_prints_the_console_address_and_serves_it(tmp_path: Path) -> None:
    process, url, _ = start_serve(tmp_path, "--port", "0")
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == f"web console: {url}/ecr-mock/ui/"
        ecr = boto3.client(
            "ecr",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
            aws_secret_access_key="secret",
        )
        ecr.create_repository(repositoryName="web")
        page = requests.get(f"{url}/ecr-mock/ui/", timeout=30)
        assert page.status_code == 200
        assert page.headers["Content-Type"] == "text/html; charset=utf-8"
        assert 'href="/ecr-mock/ui/repositories/123456789012/us-east-1/web"' in page.text
    finally:
        code, _ = stop_serve(process)
    assert code == 0


def test_serve_upload_idle_timeout_option_expires_abandoned_uploads(tmp_path: Path) -> None:
    process, url, _ = start_serve(tmp_path, "--port", "0", "--upload-idle-timeout", "3")
    try:
        ecr = boto3.client(
            "ecr",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="AKIAANYUNKNOWNKEY001",
            aws_secret_access_key="secret",
        )
        ecr.create_repository(repositoryName="web")
        password = base64.b64decode(
            ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
        ).decode()
        auth = ("AWS", password.split(":", 1)[1])
        started = requests.post(f"{url}/v2/web/blobs/uploads/", auth=auth, timeout=10)
        assert started.status_code == 202
        location = url + started.headers["Location"]
        assert requests.patch(location, data=b"abc", auth=auth, timeout=10).status_code == 202
        deadline = time.monotonic() + 60
        while True:  # wait for the real clock to pass the idle time (not a timing assertion)
            answer = requests.get(location, auth=auth, timeout=10)
            if answer.status_code != 204 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert answer.status_code == 404
        assert answer.json()["errors"][0]["code"] == "BLOB_UPLOAD_UNKNOWN"
    finally:
        code, _ = stop_serve(process)
    assert code == 0


def test_serve_refuses_a_non_positive_upload_idle_timeout(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ecr_mock", "serve", "--upload-idle-timeout", "0"],
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--upload-idle-timeout" in result.stderr
