"""The AWS CLI's ``ecr-public`` commands against the live server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests

from ecr_mock.services.public import default_alias
from tests.support.live import Live, require
from tests.support.serve import clean_env, run

ACCOUNT = "123456789012"


def aws_run(live: Live, tmp_path: Path, *args: str, region: str = "us-east-1") -> Any:
    """Run ``aws ecr-public <args>`` against the live server."""
    return run(
        [require("aws"), "--endpoint-url", live.url, "--region", region, "ecr-public", *args],
        clean_env(tmp_path),
    )


def aws(live: Live, tmp_path: Path, *args: str) -> dict[str, object]:
    result = aws_run(live, tmp_path, *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}


def test_aws_cli_creates_describes_and_deletes_public_repositories(
    live: Live, tmp_path: Path
) -> None:
    created = aws(
        live,
        tmp_path,
        "create-repository",
        "--repository-name",
        "cli/app",
        "--catalog-data",
        json.dumps({"description": "from the CLI", "operatingSystems": ["Linux"]}),
    )
    repo = created["repository"]
    assert isinstance(repo, dict)
    port = live.endpoint.rsplit(":", 1)[1]
    assert repo["repositoryUri"] == f"localhost:{port}/{default_alias(ACCOUNT)}/cli/app"
    registries = aws(live, tmp_path, "describe-registries")["registries"]
    assert isinstance(registries, list)
    assert registries[0]["aliases"][0]["name"] == default_alias(ACCOUNT)
    catalog = aws(live, tmp_path, "get-repository-catalog-data", "--repository-name", "cli/app")
    assert catalog["catalogData"] == {
        "description": "from the CLI",
        "operatingSystems": ["Linux"],
        "marketplaceCertified": False,
    }
    listed = aws(live, tmp_path, "describe-repositories")["repositories"]
    assert isinstance(listed, list)
    assert [r["repositoryName"] for r in listed] == ["cli/app"]
    aws(live, tmp_path, "delete-repository", "--repository-name", "cli/app")
    assert aws(live, tmp_path, "describe-repositories")["repositories"] == []


def test_aws_cli_get_login_password_opens_the_public_registry(live: Live, tmp_path: Path) -> None:
    result = aws_run(live, tmp_path, "get-login-password")
    assert result.returncode == 0, result.stderr
    password = result.stdout.strip()
    token = live.backend.tokens.check(password)
    assert token.account == ACCOUNT
    accepted = requests.get(f"{live.url}/v2/", auth=("AWS", password), timeout=10)
    assert accepted.status_code == 200


def test_aws_cli_reports_ecr_public_errors_and_regions(live: Live, tmp_path: Path) -> None:
    result = aws_run(live, tmp_path, "delete-repository", "--repository-name", "missing")
    assert result.returncode != 0
    assert "RepositoryNotFoundException" in result.stderr
    result = aws_run(live, tmp_path, "describe-registries", region="eu-west-1")
    assert result.returncode != 0
    assert "UnsupportedCommandException" in result.stderr


def test_aws_endpoint_url_ecr_public_reaches_the_server(live: Live, tmp_path: Path) -> None:
    result = run(
        [require("aws"), "--region", "us-east-1", "ecr-public", "describe-registries"],
        clean_env(tmp_path, AWS_ENDPOINT_URL_ECR_PUBLIC=live.url),
    )
    assert result.returncode == 0, result.stderr
    aliases = json.loads(result.stdout)["registries"][0]["aliases"]
    assert aliases[0]["name"] == default_alias(ACCOUNT)
