"""The official image (``Dockerfile``) as CI builds it offline: a base made with mmdebstrap from
the machine's apt sources, wheels made on the host, then run by a real dockerd with only
``ECR_MOCK_*`` variables: healthy, docker login/build/push/pull, state kept across a restart
on its volume, exit code 0 on stop."""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.integration.test_public_docker import docker, dockerd

__all__ = ["dockerd"]  # the module-scoped private dockerd fixture

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "ecr-mock:ci"
ACCOUNT = "210987654321"
REGION = "eu-central-1"
_CONTEXT_LEFT_OUT = shutil.ignore_patterns(
    ".git", "tests", "bench", "wheels", "build", "dist", "*.egg-info", "__pycache__", ".*_cache"
)


def _run(*argv: str, timeout: float = 900, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(argv), capture_output=True, text=True, timeout=timeout, check=False, **kwargs
    )


@pytest.fixture(scope="session")
def base_tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Debian bookworm root with python3 and venv, made once per test run with mmdebstrap
    from this machine's own apt sources (no registry is reachable here)."""
    if shutil.which("mmdebstrap") is None:
        pytest.skip("mmdebstrap is not installed (.ci/run installs it)")
    if os.geteuid() != 0:
        pytest.skip("mmdebstrap needs root here")
    out = tmp_path_factory.mktemp("base") / "bookworm.tar"
    sources = [str(p) for p in Path("/etc/apt/sources.list.d").glob("*.sources")]
    mirrors = sources or ([p] if Path(p := "/etc/apt/sources.list").is_file() else [])
    made = _run(
        "mmdebstrap",
        "--variant=minbase",
        "--include=python3,python3-venv,ca-certificates",
        "bookworm",
        str(out),
        *mirrors,
    )
    if made.returncode != 0:
        pytest.skip(f"mmdebstrap could not make the base: {made.stderr[-1500:]}")
    return out


@pytest.fixture(scope="module")
def built(
    dockerd: dict[str, str], base_tarball: Path, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """The image, built offline (``PIP_NO_INDEX=1``) from a context holding ``wheels/``."""
    base = "ecr-mock-base:bookworm"
    imported = docker(dockerd, "import", str(base_tarball), base)
    assert imported.returncode == 0, imported.stderr
    context = tmp_path_factory.mktemp("context") / "src"
    shutil.copytree(ROOT, context, ignore=_CONTEXT_LEFT_OUT)
    wheels = context / "wheels"
    pip = [sys.executable, "-m", "pip"]
    made = _run(*pip, "wheel", "-q", "-w", str(wheels), str(context))
    assert made.returncode == 0, made.stderr[-2000:]
    made = _run(*pip, "download", "-q", "-d", str(wheels), "setuptools", "wheel")
    assert made.returncode == 0, made.stderr[-2000:]
    build = subprocess.run(
        [
            shutil.which("docker") or "docker",
            "build",
            "--network",
            "host",
            "--build-arg",
            f"BASE={base}",
            "--build-arg",
            "PIP_NO_INDEX=1",
            "-t",
            IMAGE,
            str(context),
        ],
        env={**dockerd, "DOCKER_BUILDKIT": "0"},
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-2000:]
    return IMAGE


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _inspect(env: dict[str, str], container: str) -> dict[str, Any]:
    shown = docker(env, "inspect", container)
    assert shown.returncode == 0, shown.stderr
    state: dict[str, Any] = json.loads(shown.stdout)[0]
    return state


def wait_healthy(env: dict[str, str], container: str) -> None:
    """Readiness wait on the image's HEALTHCHECK (not a timing assertion)."""
    deadline = time.monotonic() + 180
    while True:
        state = _inspect(env, container)["State"]
        if state.get("Health", {}).get("Status") == "healthy":
            return
        if not state["Running"] or time.monotonic() > deadline:
            logs = docker(env, "logs", container)
            raise AssertionError(f"not healthy: {state}\n{logs.stdout}\n{logs.stderr}")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def container(built: str, dockerd: dict[str, str]) -> Iterator[tuple[str, int]]:
    """The image run with only ECR_MOCK_* variables, on the host's network (no bridge here)."""
    port = _free_port()
    started = docker(
        dockerd,
        "run",
        "-d",
        "--network",
        "host",
        "-e",
        f"ECR_MOCK_PORT={port}",
        "-e",
        f"ECR_MOCK_ACCOUNT_ID={ACCOUNT}",
        "-e",
        f"ECR_MOCK_REGION={REGION}",
        built,
    )
    assert started.returncode == 0, started.stderr
    name = started.stdout.strip()
    try:
        wait_healthy(dockerd, name)
        yield name, port
    finally:
        docker(dockerd, "rm", "-f", "-v", name)


def _ecr(port: int) -> Any:
    return boto3.client(
        "ecr",
        region_name=REGION,
        endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="secret",
    )


def _login(env: dict[str, str], port: int) -> None:
    data = _ecr(port).get_authorization_token()["authorizationData"][0]
    password = base64.b64decode(data["authorizationToken"]).decode().split(":", 1)[1]
    done = subprocess.run(
        [
            shutil.which("docker") or "docker",
            "login",
            "-u",
            "AWS",
            "--password-stdin",
            f"127.0.0.1:{port}",
        ],
        env=env,
        input=password,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_the_image_runs_as_a_non_root_user_with_its_settings(
    container: tuple[str, int], dockerd: dict[str, str]
) -> None:
    name, _ = container
    config = _inspect(dockerd, name)["Config"]
    assert config["User"] not in ("", "0", "root", "0:0")
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["ECR_MOCK_HOST"] == "0.0.0.0"
    assert env["ECR_MOCK_STATE_DIR"] in config["Volumes"]
    whoami = docker(dockerd, "exec", name, "id", "-u")
    assert whoami.stdout.strip() != "0"


def test_docker_login_build_push_pull_and_state_across_a_restart(
    container: tuple[str, int], dockerd: dict[str, str], tmp_path: Path
) -> None:
    name, port = container
    registry = f"127.0.0.1:{port}"
    ecr = _ecr(port)
    uri = ecr.create_repository(repositoryName="web")["repository"]["repositoryUri"]
    assert uri == f"{registry}/web"
    assert ecr.describe_registry()["registryId"] == ACCOUNT
    _login(dockerd, port)
    (tmp_path / "hello.txt").write_text("hello from the image test\n")
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY hello.txt /hello.txt\n")
    built = subprocess.run(
        [
            shutil.which("docker") or "docker",
            "build",
            "--network",
            "host",
            "-t",
            f"{uri}:v1",
            str(tmp_path),
        ],
        env={**dockerd, "DOCKER_BUILDKIT": "0"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    pushed = docker(dockerd, "push", f"{uri}:v1")
    assert pushed.returncode == 0, pushed.stderr + pushed.stdout
    (detail,) = ecr.describe_images(repositoryName="web")["imageDetails"]
    assert detail["imageTags"] == ["v1"]
    assert detail["imageDigest"] in pushed.stdout
    assert docker(dockerd, "rmi", f"{uri}:v1").returncode == 0
    pulled = docker(dockerd, "pull", f"{uri}:v1")
    assert pulled.returncode == 0, pulled.stderr
    assert detail["imageDigest"] in pulled.stdout

    stopped = docker(dockerd, "stop", "-t", "30", name)
    assert stopped.returncode == 0, stopped.stderr
    state = _inspect(dockerd, name)["State"]
    assert (state["Running"], state["ExitCode"]) == (False, 0)
    assert docker(dockerd, "start", name).returncode == 0
    wait_healthy(dockerd, name)
    (again,) = _ecr(port).describe_images(repositoryName="web")["imageDetails"]
    assert (again["imageDigest"], again["imageTags"]) == (detail["imageDigest"], ["v1"])
    # the control API is closed when bound to 0.0.0.0 without a token: read the volume
    listed = docker(
        dockerd, "exec", name, "ecr-mock", "ls", "web", "--state-dir", "/var/lib/ecr-mock", "--json"
    )
    assert listed.returncode == 0, listed.stderr
    (registry_doc,) = json.loads(listed.stdout)["registries"]
    assert registry_doc["repositories"][0]["images"][0]["digest"] == detail["imageDigest"]
    assert docker(dockerd, "rmi", f"{uri}:v1").returncode == 0
    _login(dockerd, port)  # the token issued before the restart is kept too; a new one works
    pulled = docker(dockerd, "pull", f"{uri}:v1")
    assert pulled.returncode == 0, pulled.stderr
    assert detail["imageDigest"] in pulled.stdout


def test_the_image_bench_measures_the_built_image(built: str, dockerd: dict[str, str]) -> None:
    result = _run(
        sys.executable, str(ROOT / "bench" / "bench_image.py"), "--smoke", built, env=dockerd
    )
    assert result.returncode == 0, result.stderr
    assert f"image {built}: " in result.stdout
    assert "docker run to healthy: median" in result.stdout
