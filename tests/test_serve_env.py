"""``ecr-mock serve`` options from ``ECR_MOCK_*`` variables: each option has one, a flag wins
over it, ``--help`` names both, and a bad value is refused naming the variable."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import pytest

from ecr_mock.cli import build_parser
from tests.test_cli import clean_env, start_serve

RULE = {"operation": "ListImages", "error": "ThrottlingException"}
OTHER_RULE = {"operation": "PutImage", "error": "ServerException"}

# (variable, its value, the option's value then, command-line args, the option's value then)
CASES: list[tuple[str, str, Any, list[str], Any]] = [
    ("ECR_MOCK_HOST", "0.0.0.0", "0.0.0.0", ["--host", "::1"], "::1"),
    ("ECR_MOCK_PORT", "5111", 5111, ["--port", "5222"], 5222),
    (
        "ECR_MOCK_ACCOUNT_ID",
        "111122223333",
        "111122223333",
        ["--account-id", "444455556666"],
        "444455556666",
    ),
    ("ECR_MOCK_REGION", "eu-west-1", "eu-west-1", ["--region", "ap-south-1"], "ap-south-1"),
    (
        "ECR_MOCK_ACCESS_KEY",
        "AKIAONE=111122223333,AKIATWO=444455556666",
        [("AKIAONE", "111122223333"), ("AKIATWO", "444455556666")],
        ["--access-key", "AKIATHREE=777788889999"],
        [("AKIATHREE", "777788889999")],
    ),
    ("ECR_MOCK_PUBLIC_ENDPOINT", "ecr:5000", "ecr:5000", ["--public-endpoint", "x:1"], "x:1"),
    ("ECR_MOCK_STATE_DIR", "/state", "/state", ["--state-dir", "/elsewhere"], "/elsewhere"),
    ("ECR_MOCK_AWS_HOSTNAMES", "1", True, ["--aws-hostnames"], True),
    ("ECR_MOCK_SEED", "seed.yaml", "seed.yaml", ["--seed", "other.json"], "other.json"),
    ("ECR_MOCK_CONTROL_TOKEN", "from-env", "from-env", ["--control-token", "flag"], "flag"),
    ("ECR_MOCK_LOG_FORMAT", "json", "json", ["--log-format", "text"], "text"),
    ("ECR_MOCK_QUIET", "true", True, ["--quiet"], True),
    ("ECR_MOCK_STRICT_CREDENTIALS", "yes", True, ["--strict-credentials"], True),
    ("ECR_MOCK_ALLOW_MISSING_LAYERS", "on", True, ["--allow-missing-layers"], True),
    ("ECR_MOCK_UPLOAD_IDLE_TIMEOUT", "90", 90.0, ["--upload-idle-timeout", "5"], 5.0),
    (
        "ECR_MOCK_FAULT",
        json.dumps([RULE, OTHER_RULE]),
        [RULE, OTHER_RULE],
        ["--fault", json.dumps(OTHER_RULE)],
        [OTHER_RULE],
    ),
    ("ECR_MOCK_ENFORCE_QUOTAS", "1", True, ["--enforce-quotas"], True),
    ("ECR_MOCK_MAX_CALLS", "50", 50, ["--max-calls", "7"], 7),
    (
        "ECR_MOCK_CORS_ORIGIN",
        "http://ui.test:8080 https://b.test",
        ["http://ui.test:8080", "https://b.test"],
        ["--cors-origin", "*"],
        ["*"],
    ),
]


def client(url: str, region: str) -> Any:
    return boto3.client(
        "ecr",
        region_name=region,
        endpoint_url=url,
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="secret",
    )


def _serve_options() -> list[argparse.Action]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    serve = sub.choices["serve"]
    return [
        a
        for a in serve._actions
        if a.option_strings and a.help != argparse.SUPPRESS and a.dest not in ("help", "ca_dir")
    ]


def parse(argv: list[str], environ: dict[str, str]) -> argparse.Namespace:
    """``ecr-mock serve ARGV`` parsed with only ``environ`` as ECR_MOCK_* variables."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ECR_MOCK_")}
    with mock.patch.dict(os.environ, {**clean, **environ}, clear=True):
        return build_parser().parse_args(["serve", *argv])


def _dest(variable: str) -> str:
    return variable.removeprefix("ECR_MOCK_").lower()


def test_every_serve_option_is_covered_here() -> None:
    assert sorted(_dest(case[0]) for case in CASES) == sorted(a.dest for a in _serve_options())


@pytest.mark.parametrize(
    ("variable", "text", "from_env", "argv", "from_flag"), CASES, ids=[c[0] for c in CASES]
)
def test_variable_sets_the_option_and_the_flag_wins(
    variable: str, text: str, from_env: Any, argv: list[str], from_flag: Any
) -> None:
    dest = _dest(variable)
    unset = getattr(parse([], {}), dest)
    assert unset != from_env
    assert getattr(parse([], {variable: text}), dest) == from_env
    assert getattr(parse(argv, {variable: text}), dest) == from_flag


@pytest.mark.parametrize(
    ("variable", "text"),
    [
        ("ECR_MOCK_PORT", "http"),
        ("ECR_MOCK_ACCOUNT_ID", "12"),
        ("ECR_MOCK_QUIET", "perhaps"),
        ("ECR_MOCK_LOG_FORMAT", "xml"),
        ("ECR_MOCK_FAULT", "{not json"),
        ("ECR_MOCK_ACCESS_KEY", "AKIA-no-account"),
        ("ECR_MOCK_UPLOAD_IDLE_TIMEOUT", "-1"),
    ],
)
def test_a_bad_value_is_refused_naming_the_variable(
    variable: str, text: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in clean_env(tmp_path).items() if not k.startswith("ECR_MOCK_")}
    port = [] if variable == "ECR_MOCK_PORT" else ["--port", "0"]
    result = subprocess.run(
        [sys.executable, "-m", "ecr_mock", "serve", *port],
        env={**env, variable: text},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert f"{variable}={text!r}" in result.stderr


def test_help_names_the_flag_and_the_variable_of_every_option(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ecr_mock", "serve", "--help"],
        env=clean_env(tmp_path, COLUMNS="200"),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    text = " ".join(result.stdout.split())
    for action in _serve_options():
        flag = action.option_strings[-1]
        variable = "ECR_MOCK_" + flag[2:].upper().replace("-", "_")
        # the option's entry: its flag, its help (no other option's tag between), its variable
        assert re.search(rf"{flag} (?:(?!\[env ).)*\[env {variable}\]", text), variable


def test_a_server_configured_only_by_variables(tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = {
        "ECR_MOCK_PORT": "0",
        "ECR_MOCK_ACCOUNT_ID": "111122223333",
        "ECR_MOCK_REGION": "eu-west-1",
        "ECR_MOCK_STATE_DIR": str(state),
        "ECR_MOCK_QUIET": "1",
    }
    process, url, banner = start_serve(tmp_path, extra_env=env)
    try:
        assert "(account 111122223333, region eu-west-1)" in banner[0]
        ecr = client(url, "eu-west-1")
        repo = ecr.create_repository(repositoryName="from-env")["repository"]
        assert repo["registryId"] == "111122223333"
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0
        _, stderr = process.communicate()
    assert (state / "state.db").is_file()
    assert "surface=api" not in stderr  # ECR_MOCK_QUIET


def test_a_flag_wins_over_its_variable_in_a_running_server(tmp_path: Path) -> None:
    process, url, _ = start_serve(
        tmp_path,
        "--port",
        "0",
        "--account-id",
        "444455556666",
        extra_env={"ECR_MOCK_ACCOUNT_ID": "111122223333", "ECR_MOCK_PORT": "1"},
    )
    try:
        ecr = client(url, "us-east-1")
        assert ecr.describe_registry()["registryId"] == "444455556666"
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0
        process.communicate()
