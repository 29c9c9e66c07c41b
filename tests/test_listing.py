"""``ecr-mock ls`` from a running server and from a state directory, and ``serve --cors-origin``
as a web registry browser sees it."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from ecr_mock import Backend
from ecr_mock.server import EcrMockServer
from tests.ecr_api.helpers import push_image
from tests.test_cli import clean_env, start_serve

ORIGIN = "http://browser.test:8080"


def _client(url: str) -> Any:
    return boto3.client(
        "ecr",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="secret",
    )


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``ecr-mock serve --state-dir --cors-origin`` with two repositories and three images."""
    tmp = tmp_path_factory.mktemp("ls")
    state = tmp / "state"
    process, url, _ = start_serve(
        tmp, "--port", "0", "--state-dir", str(state), "--cors-origin", ORIGIN, "--quiet"
    )
    try:
        ecr = _client(url)
        ecr.create_repository(repositoryName="team/api")
        ecr.create_repository(repositoryName="empty")
        first = push_image(ecr, "team/api", "one", tag="v1")
        second = push_image(ecr, "team/api", "two", tag="v2")
        ecr.put_image(repositoryName="team/api", imageManifest=second.manifest, imageTag="latest")
        untagged = push_image(ecr, "team/api", "three")
        described = {
            d["imageDigest"]: d
            for d in ecr.describe_images(repositoryName="team/api")["imageDetails"]
        }
        yield {
            "url": url,
            "state": state,
            "tmp": tmp,
            "ecr": ecr,
            "images": {"v1": first, "v2": second, "untagged": untagged},
            "described": described,
        }
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.communicate()


def ls(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ecr_mock", "ls", *args],
        env=clean_env(tmp),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("source", ["endpoint", "state-dir"])
def test_ls_json_lists_registries_repositories_and_images(
    served: dict[str, Any], source: str
) -> None:
    where = served["url"] if source == "endpoint" else str(served["state"])
    result = ls(served["tmp"], f"--{source}", where, "--json")
    assert result.returncode == 0, result.stderr
    (registry,) = json.loads(result.stdout)["registries"]
    assert (registry["account"], registry["region"]) == ("123456789012", "us-east-1")
    repos = {repo["name"]: repo for repo in registry["repositories"]}
    assert sorted(repos) == ["empty", "team/api"]
    assert repos["empty"]["images"] == []
    images = {image["digest"]: image for image in repos["team/api"]["images"]}
    pushed = served["images"]
    assert sorted(images[pushed["v2"].digest]["tags"]) == ["latest", "v2"]
    assert images[pushed["v1"].digest]["tags"] == ["v1"]
    assert images[pushed["untagged"].digest]["tags"] == []
    for digest, image in images.items():
        detail = served["described"][digest]
        assert image["size"] == detail["imageSizeInBytes"]
        assert image["pushedAt"][:19] == detail["imagePushedAt"].isoformat()[:19].replace(" ", "T")


def test_ls_table_shows_tags_digest_size_and_push_time(served: dict[str, Any]) -> None:
    result = ls(served["tmp"], "--endpoint", served["url"])
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "registry 123456789012 us-east-1"
    assert lines[1].split() == ["REPOSITORY", "TAGS", "DIGEST", "SIZE", "PUSHED", "AT"]
    rows = [line.split() for line in lines[2:] if line]
    assert ["empty", "-", "-", "-", "-"] in rows
    v2 = served["images"]["v2"].digest
    detail = served["described"][v2]
    (row,) = [r for r in rows if r[2] == v2]
    assert row[:4] == ["team/api", "latest,v2", v2, str(detail["imageSizeInBytes"])]
    untagged = [r for r in rows if r[1] == "<untagged>"]
    assert [r[2] for r in untagged] == [served["images"]["untagged"].digest]


def test_ls_one_repository_and_an_unknown_one(served: dict[str, Any]) -> None:
    result = ls(served["tmp"], "empty", "--state-dir", str(served["state"]), "--json")
    assert result.returncode == 0, result.stderr
    (registry,) = json.loads(result.stdout)["registries"]
    assert [r["name"] for r in registry["repositories"]] == ["empty"]
    missing = ls(served["tmp"], "nope", "--endpoint", served["url"])
    assert missing.returncode == 1
    assert "no repository named 'nope'" in missing.stderr


def test_ls_without_a_server_or_state_says_so(tmp_path: Path) -> None:
    result = ls(tmp_path, "--state-dir", str(tmp_path / "none"))
    assert result.returncode == 1
    assert "holds no ecr-mock state" in result.stderr
    with EcrMockServer(Backend()) as server:
        url = server.url
    result = ls(tmp_path, "--endpoint", url)  # stopped: nothing listens there now
    assert result.returncode == 1
    assert f"no ecr-mock server answers at {url}" in result.stderr


def _auth(ecr: Any) -> dict[str, str]:
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    return {"Authorization": "Basic " + token}


def test_cors_preflight_is_answered_for_the_allowed_origin(served: dict[str, Any]) -> None:
    answer = requests.options(
        f"{served['url']}/v2/team/api/manifests/v1",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization, accept",
        },
        timeout=30,
    )
    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "GET" in answer.headers["Access-Control-Allow-Methods"]
    allowed = answer.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "accept" in allowed


def test_cors_answers_expose_the_registry_headers(served: dict[str, Any]) -> None:
    pushed = served["images"]["v1"]
    answer = requests.get(
        f"{served['url']}/v2/team/api/manifests/v1",
        headers={
            "Origin": ORIGIN,
            "Accept": "application/vnd.docker.distribution.manifest.v2+json",
            **_auth(served["ecr"]),
        },
        timeout=30,
    )
    assert answer.status_code == 200
    assert answer.content == pushed.manifest.encode()
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN
    exposed = [
        h.strip().lower() for h in answer.headers["Access-Control-Expose-Headers"].split(",")
    ]
    assert "docker-content-digest" in exposed
    assert answer.headers["Docker-Content-Digest"] == pushed.digest
    refused = requests.get(f"{served['url']}/v2/", headers={"Origin": ORIGIN}, timeout=30)
    assert refused.status_code == 401  # credentials are still needed, and the browser sees why
    assert refused.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "www-authenticate" in refused.headers["Access-Control-Expose-Headers"].lower()


def test_cors_headers_go_only_to_the_allowed_origin_and_only_on_v2(
    served: dict[str, Any],
) -> None:
    other = requests.get(
        f"{served['url']}/v2/",
        headers={"Origin": "http://evil.test", **_auth(served["ecr"])},
        timeout=30,
    )
    assert other.status_code == 200
    assert "Access-Control-Allow-Origin" not in other.headers
    health = requests.get(
        f"{served['url']}/ecr-mock/health", headers={"Origin": ORIGIN}, timeout=30
    )
    assert "Access-Control-Allow-Origin" not in health.headers
    preflight = requests.options(
        f"{served['url']}/v2/",
        headers={"Origin": "http://evil.test", "Access-Control-Request-Method": "GET"},
        timeout=30,
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_without_cors_origin_no_cors_headers(own_server: EcrMockServer) -> None:
    token = own_server.backend.issue_token()
    auth = base64.b64encode(f"AWS:{token.password}".encode()).decode()
    answer = requests.get(
        f"{own_server.url}/v2/",
        headers={"Origin": ORIGIN, "Authorization": f"Basic {auth}"},
        timeout=30,
    )
    assert answer.status_code == 200
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_any_origin_with_a_star() -> None:
    backend = Backend()
    with EcrMockServer(backend, cors_origins=["*"]) as server:
        answer = requests.get(
            f"{server.url}/v2/", headers={"Origin": "http://anything.test"}, timeout=30
        )
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in answer.headers
