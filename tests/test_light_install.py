"""``pip install ecr-mock`` is light: a fresh virtualenv gets no moto (nor flask, cfn-lint, sympy,
networkx), and ECR still works in it, in-process and through ``ecr-mock serve`` (ECR API and
``/v2/``), while other AWS services answer 400 naming the ``ecr-mock[aws]`` extra.

Slow (a real ``pip install .`` into a new virtualenv): the environment is made once for the
module."""

from __future__ import annotations

import re
import shutil
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
from botocore.parsers import ResponseParserError

from examples.push_and_pull_requests import push_image, read_back
from tests.test_cli import clean_env

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("moto", "flask", "cfn-lint", "sympy", "networkx", "docker", "joserfc")
URL_RE = re.compile(r"at (http://[0-9.]+:[0-9]+) ")


@pytest.fixture(scope="module")
def light_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtualenv after a plain ``pip install <the project>``."""
    tmp = tmp_path_factory.mktemp("light")
    source = tmp / "src"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", "tests", "bench", "build", "dist", "wheels", "*.egg-info", "__pycache__"
        ),
    )
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    installed = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(source)],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    return venv


def test_the_install_holds_no_moto_and_nothing_it_brings(light_venv: Path) -> None:
    listed = subprocess.run(
        [str(light_venv / "bin" / "python"), "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    names = {line.split("==")[0].lower() for line in listed.stdout.splitlines()}
    assert {"ecr-mock", "boto3", "botocore", "werkzeug", "requests", "responses"} <= names
    assert names.isdisjoint(HEAVY), names & set(HEAVY)


def test_in_process_ecr_and_requests_work_without_moto(light_venv: Path, tmp_path: Path) -> None:
    ran = subprocess.run(
        [
            str(light_venv / "bin" / "python"),
            "-c",
            "import sys, runpy; runpy.run_path(sys.argv[1], run_name='__main__'); "
            "print('moto' in sys.modules)",
            str(ROOT / "examples" / "push_and_pull_requests.py"),
        ],
        env={**clean_env(tmp_path), "PYTHONPATH": ""},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[0].startswith("pushed sha256:")
    assert lines[1].endswith("same bytes")
    assert lines[2] == "False"


@pytest.fixture(scope="module")
def light_server(
    light_venv: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, list[str]]]:
    tmp = tmp_path_factory.mktemp("light-serve")
    process = subprocess.Popen(
        [str(light_venv / "bin" / "ecr-mock"), "serve", "--port", "0", "--quiet"],
        env={**clean_env(tmp), "PYTHONPATH": ""},
        cwd=tmp,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    banner = [process.stdout.readline() for _ in range(5)]
    match = URL_RE.search(banner[0])
    try:
        assert match is not None, banner
        deadline = time.monotonic() + 60
        while True:  # readiness wait
            try:
                requests.get(f"{match[1]}/ecr-mock/health", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "the server did not answer"
                time.sleep(0.05)
        yield match[1], banner
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0
        process.communicate()


def _client(service: str, url: str) -> Any:
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="secret",
    )


def test_serve_says_what_it_serves(light_server: tuple[str, list[str]]) -> None:
    _, banner = light_server
    assert banner[-1].strip() == (
        "ecr-mock: serving ECR, ECR Public and /v2/ only; other AWS services (IAM, STS, ...) "
        "answer 400 until moto is installed: pip install 'ecr-mock[aws]'"
    )


def test_serve_pushes_over_v2_and_the_ecr_api_sees_it(light_server: tuple[str, list[str]]) -> None:
    url, _ = light_server
    ecr = _client("ecr", url)
    ecr.create_repository(repositoryName="light/app")
    pushed, manifest = push_image(ecr, "light/app", "v1", b"a layer pushed without moto")
    assert read_back(ecr, "light/app", "v1") == (pushed, manifest)
    (detail,) = ecr.describe_images(repositoryName="light/app")["imageDetails"]
    assert detail["imageDigest"] == pushed


@pytest.mark.parametrize(
    ("service", "call"), [("iam", "list_users"), ("sts", "get_caller_identity")]
)
def test_other_services_answer_400_naming_the_extra(
    light_server: tuple[str, list[str]], service: str, call: str
) -> None:
    url, _ = light_server
    client = _client(service, url)
    with pytest.raises((ClientError, ResponseParserError)) as caught:  # query protocol: XML
        getattr(client, call)()
    assert "ecr-mock[aws]" in str(caught.value)  # the answer, shown as it came
    raw = requests.post(
        url,
        data="Action=ListUsers&Version=2010-05-08",
        headers={
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/"
            f"us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=00",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        timeout=30,
    )
    assert raw.status_code == 400
    assert raw.headers["Content-Type"].startswith("application/")
    assert "pip install 'ecr-mock[aws]'" in raw.json()["message"]
