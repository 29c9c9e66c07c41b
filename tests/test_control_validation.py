"""Accounts and regions are checked the same way everywhere they are accepted, on a served
process: each control route, the seed, fault rules, findings paths and the command line
refuse a bad one with 400 (or exit 2) naming the field."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests

from tests.test_cli import clean_env, start_serve, stop_serve

BAD_REGIONS = ["us-east1", "x y", "us-east-1/evil", "../..", "us-east-1\n"]
BAD_ACCOUNTS = ["12345678901", "x y", "123456789012/evil", "../..", "1234567890123"]
IDS = ["missing-dash", "space", "slash", "dots", "newline"]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    process, url, _ = start_serve(tmp_path_factory.mktemp("served"), "--port", "0", "--quiet")
    try:
        yield url
    finally:
        stop_serve(process)


def body_routes(field: str, value: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, route, body) of every control route taking ``field`` in its body."""
    fault = {"operation": "DescribeRepositories", "error": "ServerException", field: value}
    routes = [
        ("POST", "tokens", {"principal_arn": "123456789012", field: value}),
        ("POST", "lifecycle/run", {field: value}),
        ("POST", "reclaim", {field: value}),
        ("POST", "faults", fault),
    ]
    if field == "account_id":
        routes.append(("POST", "reset", {field: value}))
    return routes


@pytest.mark.parametrize("value", BAD_REGIONS, ids=IDS)
def test_a_bad_region_is_refused_naming_the_field_on_every_control_route(
    served: str, value: str
) -> None:
    for method, route, body in body_routes("region", value):
        answer = requests.request(method, f"{served}/ecr-mock/{route}", json=body, timeout=30)
        assert answer.status_code == 400, (route, answer.text)
        assert answer.json()["field"] == "region", route
        assert "region" in answer.json()["message"]
    seed = {"registries": [{"account": "123456789012", "region": value}]}
    seeded = requests.post(f"{served}/ecr-mock/seed", json=seed, timeout=30)
    assert seeded.status_code == 400
    assert seeded.json()["field"] == "registries[0].region"
    assert requests.get(f"{served}/ecr-mock/faults", timeout=30).json()["faults"] == []


@pytest.mark.parametrize("value", BAD_ACCOUNTS, ids=IDS)
def test_a_bad_account_is_refused_naming_the_field_on_every_control_route(
    served: str, value: str
) -> None:
    for method, route, body in body_routes("account_id", value):
        answer = requests.request(method, f"{served}/ecr-mock/{route}", json=body, timeout=30)
        assert answer.status_code == 400, (route, answer.text)
        assert answer.json()["field"] == "account_id", route
    seed = {"registries": [{"account": value, "region": "us-east-1"}]}
    seeded = requests.post(f"{served}/ecr-mock/seed", json=seed, timeout=30)
    assert seeded.status_code == 400
    assert seeded.json()["field"] == "registries[0].account"


@pytest.mark.parametrize(
    ("account", "region", "field"),
    [
        ("123456789012", "us-east1", "region"),
        ("123456789012", "x y", "region"),
        ("123456789012", "US-EAST-1", "region"),
        ("12345", "us-east-1", "account"),
        ("12345678901x", "us-east-1", "account"),
    ],
)
def test_a_findings_path_with_a_bad_account_or_region_is_refused_naming_it(
    served: str, account: str, region: str, field: str
) -> None:
    url = f"{served}/ecr-mock/findings/{quote(account, safe='')}/{quote(region, safe='')}/app"
    for method in ("PUT", "GET", "DELETE"):
        answer = requests.request(method, url, json=[], timeout=30)
        assert answer.status_code == 400, (method, answer.text)
        assert answer.json()["field"] == field


@pytest.mark.parametrize(
    ("flag", "value", "words"),
    [
        ("--region", "us-east1", "the region must be a region name"),
        ("--region", "../..", "the region must be a region name"),
        ("--account-id", "x y", "the account id must be a 12-digit account id"),
        ("--access-key", "AKIA=../..", "ACCESS_KEY=ACCOUNT_ID"),
        ("--fault", '{"region": "us-east-1/evil", "error": "ServerException"}', "region must"),
    ],
)
def test_the_command_line_refuses_a_bad_account_or_region_naming_it(
    tmp_path: Path, flag: str, value: str, words: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ecr_mock", "serve", "--port", "0", flag, value],
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert words in result.stderr
    assert "Traceback" not in result.stderr
