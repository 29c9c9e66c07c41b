"""ECR Public on /v2/ through a live server with ``requests``: the anonymous token flow, the
token endpoint, challenges per host, pushes needing credentials, private repositories staying
private, logos."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests

from ecr_mock.runtime.http import EcrMockServer
from ecr_mock.services.backend import Backend
from ecr_mock.services.public import default_alias
from tests.support.live import Live

ACCOUNT = "123456789012"
ALIAS = default_alias(ACCOUNT)


@pytest.fixture
def live(ecr_server: EcrMockServer, ecr_backend: Backend) -> Iterator[Live]:
    """The session's live server on this test's backend, with a private client and password."""
    client = boto3.client("ecr", region_name="us-east-1", endpoint_url=ecr_server.url)
    data = client.get_authorization_token()["authorizationData"][0]
    password = base64.b64decode(data["authorizationToken"]).decode().split(":", 1)[1]
    yield Live(ecr_backend, ecr_server.endpoint, ecr_server.url, client, password)


def public_client(live: Live) -> Any:
    return boto3.client("ecr-public", region_name="us-east-1", endpoint_url=live.url)


def public_password(live: Live) -> str:
    data = public_client(live).get_authorization_token()["authorizationData"]
    return base64.b64decode(data["authorizationToken"]).decode().split(":", 1)[1]


def anonymous_token(live: Live, path: str) -> str:
    answer = requests.get(
        f"{live.url}/token",
        params={"service": live.endpoint, "scope": f"repository:{path}:pull"},
        timeout=10,
    )
    assert answer.status_code == 200
    doc = answer.json()
    assert doc["token"] == doc["access_token"]
    assert doc["expires_in"] > 0
    return str(doc["token"])


def test_anonymous_token_flow_pulls_public_and_never_private(live: Live) -> None:
    public_client(live).create_repository(repositoryName="app")
    live.client.create_repository(repositoryName="secret")
    path = f"{ALIAS}/app"
    challenge = requests.get(f"{live.url}/v2/{path}/tags/list", timeout=10)
    assert challenge.status_code == 401
    assert challenge.headers["WWW-Authenticate"] == (
        f'Bearer realm="http://{live.endpoint}/token",service="{live.endpoint}",'
        f'scope="repository:{path}:pull"'
    )
    bearer = {"Authorization": f"Bearer {anonymous_token(live, path)}"}
    tags = requests.get(f"{live.url}/v2/{path}/tags/list", headers=bearer, timeout=10)
    assert tags.status_code == 200
    assert tags.json() == {"name": path, "tags": []}
    for url in (f"{live.url}/v2/secret/tags/list", f"{live.url}/v2/_catalog"):
        refused = requests.get(url, headers=bearer, timeout=10)
        assert refused.status_code == 401
        assert refused.json()["errors"][0]["code"] == "UNAUTHORIZED"
    for method in ("POST", "DELETE"):
        target = "blobs/uploads/" if method == "POST" else "manifests/sha256:" + "0" * 64
        pushed = requests.request(method, f"{live.url}/v2/{path}/{target}", headers=bearer)
        assert pushed.status_code == 401
    # a private repository whose name looks like a public path stays private
    live.client.create_repository(repositoryName=f"{ALIAS}x/app")
    refused = requests.get(f"{live.url}/v2/{ALIAS}x/app/tags/list", headers=bearer, timeout=10)
    assert refused.status_code == 401


def test_token_endpoint_trades_credentials_for_a_bearer_token(live: Live) -> None:
    password = public_password(live)
    public_client(live).create_repository(repositoryName="app")
    answer = requests.get(f"{live.url}/token", auth=("AWS", password), timeout=10)
    assert answer.status_code == 200
    bearer = {"Authorization": f"Bearer {answer.json()['token']}"}
    started = requests.post(f"{live.url}/v2/{ALIAS}/app/blobs/uploads/", headers=bearer)
    assert started.status_code == 202
    assert started.headers["Location"].startswith(f"/v2/{ALIAS}/app/blobs/uploads/")
    wrong = requests.get(f"{live.url}/token", auth=("AWS", password + "x"), timeout=10)
    assert wrong.status_code == 401


def test_public_host_challenges_with_bearer_and_the_server_address_with_basic(
    live: Live,
) -> None:
    port = live.endpoint.rsplit(":", 1)[1]
    uri = public_client(live).create_repository(repositoryName="app")["repository"]["repositoryUri"]
    assert uri == f"localhost:{port}/{ALIAS}/app"
    private = requests.get(f"{live.url}/v2/", timeout=10)
    assert private.headers["WWW-Authenticate"] == (
        f'Basic realm="http://{live.endpoint}/",service="ecr.amazonaws.com"'
    )
    public = requests.get(f"http://localhost:{port}/v2/", timeout=10)
    assert public.status_code == 401
    assert public.headers["WWW-Authenticate"] == (
        f'Bearer realm="http://localhost:{port}/token",service="localhost:{port}",scope="aws"'
    )


def test_another_accounts_public_token_cannot_push(live: Live) -> None:
    public_client(live).create_repository(repositoryName="app")
    live.backend.add_access_key("AKIAOTHERACCOUNT0000", "210987654321")
    other = boto3.client(
        "ecr-public",
        region_name="us-east-1",
        endpoint_url=live.url,
        aws_access_key_id="AKIAOTHERACCOUNT0000",
        aws_secret_access_key="x",
    )
    data = other.get_authorization_token()["authorizationData"]
    password = base64.b64decode(data["authorizationToken"]).decode().split(":", 1)[1]
    path = f"{ALIAS}/app"
    pulled = requests.get(f"{live.url}/v2/{path}/tags/list", auth=("AWS", password), timeout=10)
    assert pulled.status_code == 200
    pushed = requests.post(f"{live.url}/v2/{path}/blobs/uploads/", auth=("AWS", password))
    assert pushed.status_code == 403
    assert pushed.json()["errors"][0]["code"] == "DENIED"
    assert "ecr-public:InitiateLayerUpload" in pushed.json()["errors"][0]["message"]


def test_logo_is_served_at_its_logo_url(live: Live) -> None:
    logo = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    created = public_client(live).create_repository(
        repositoryName="app", catalogData={"logoImageBlob": logo}
    )
    url = created["catalogData"]["logoUrl"]
    assert url.startswith(f"http://localhost:{live.endpoint.rsplit(':', 1)[1]}/")
    answer = requests.get(url, timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "image/png"
    assert answer.content == logo


@pytest.mark.parametrize("path", ["/v2/", "/token"])
def test_public_host_in_process_serves_the_token_flow(path: str) -> None:
    from ecr_mock import mock_ecr

    with mock_ecr():
        client = boto3.client("ecr-public", region_name="us-east-1")
        client.create_repository(repositoryName="app")
        answer = requests.get(f"https://public.ecr.aws{path}", timeout=10)
        if path == "/v2/":
            assert answer.status_code == 401
            assert answer.headers["WWW-Authenticate"] == (
                'Bearer realm="https://public.ecr.aws/token",service="public.ecr.aws",scope="aws"'
            )
        else:
            token = answer.json()["token"]
            tags = requests.get(
                f"https://public.ecr.aws/v2/{ALIAS}/app/tags/list",
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
            assert tags.json() == {"name": f"{ALIAS}/app", "tags": []}


def test_private_credentials_through_the_token_endpoint_reach_private_repositories(
    live: Live,
) -> None:
    live.client.create_repository(repositoryName="secret")
    answer = requests.get(f"{live.url}/token", auth=("AWS", live.password), timeout=10)
    assert answer.status_code == 200
    bearer = {"Authorization": f"Bearer {answer.json()['token']}"}
    tags = requests.get(f"{live.url}/v2/secret/tags/list", headers=bearer, timeout=10)
    assert tags.status_code == 200
    assert tags.json() == {"name": "secret", "tags": []}


@pytest.mark.parametrize("header", ["Basic ", "Basic !!!", "Basic " + "QUJD", "Negotiate x"])
def test_malformed_credentials_are_refused_even_on_public_paths(live: Live, header: str) -> None:
    public_client(live).create_repository(repositoryName="app")
    for url in (f"{live.url}/v2/{ALIAS}/app/tags/list", f"{live.url}/token"):
        refused = requests.get(url, headers={"Authorization": header}, timeout=10)
        assert refused.status_code == 401, url
        assert refused.json()["errors"][0]["code"] == "UNAUTHORIZED"


def test_empty_basic_credentials_pull_public_repositories(live: Live) -> None:
    public_client(live).create_repository(repositoryName="app")
    answer = requests.get(f"{live.url}/v2/{ALIAS}/app/tags/list", auth=("", ""), timeout=10)
    assert answer.status_code == 200
    assert requests.get(f"{live.url}/v2/_catalog", auth=("", ""), timeout=10).status_code == 401


def test_base_answers_an_anonymous_token(live: Live) -> None:
    bearer = {"Authorization": f"Bearer {anonymous_token(live, 'any/thing')}"}
    assert requests.get(f"{live.url}/v2/", headers=bearer, timeout=10).json() == {}
    assert requests.get(f"{live.url}/v2/_catalog", headers=bearer, timeout=10).status_code == 401


def test_token_endpoint_takes_docker_oauth_password_grants(live: Live) -> None:
    password = public_password(live)
    form = {"grant_type": "password", "username": "AWS", "service": live.endpoint}
    good = requests.post(f"{live.url}/token", data={**form, "password": password}, timeout=10)
    assert good.status_code == 200
    assert live.backend.tokens.check(good.json()["token"]).password == password
    bad = requests.post(f"{live.url}/token", data={**form, "password": "nope"}, timeout=10)
    assert bad.status_code == 401


def test_public_token_stops_working_after_12_hours_on_the_backend_clock(live: Live) -> None:
    password = public_password(live)
    public_client(live).create_repository(repositoryName="app")
    url = f"{live.url}/v2/{ALIAS}/app/blobs/uploads/"
    live.backend.clock.advance(hours=11, minutes=59)
    assert requests.post(url, auth=("AWS", password), timeout=10).status_code == 202
    live.backend.clock.advance(minutes=1)
    expired = requests.post(url, auth=("AWS", password), timeout=10)
    assert expired.status_code == 403
    assert expired.json()["errors"][0]["message"] == (
        "Your authorization token has expired. Reauthenticate and try again."
    )
