"""ECR's Basic-token authentication on /v2/ and the choice of the addressed registry."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

from ecr_mock.domain.models import Principal
from ecr_mock.protocols.registry.app import basic_auth_headers
from ecr_mock.services.backend import Backend
from tests.support.registry import HOST, Registry, error_code


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_base_without_credentials_is_401_with_ecr_challenge(registry: Registry) -> None:
    response = registry.request("GET", "/v2/", auth=False)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        f'Basic realm="https://{HOST}/",service="ecr.amazonaws.com"'
    )
    assert error_code(response) == "UNAUTHORIZED"
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.headers["Docker-Distribution-Api-Version"] == "registry/2.0"


def test_base_with_token_is_200_empty_object(registry: Registry) -> None:
    response = registry.request("GET", "/v2/")
    assert response.status_code == 200
    assert json.loads(response.get_data()) == {}
    assert response.headers["Docker-Distribution-Api-Version"] == "registry/2.0"


def test_wrong_password_and_wrong_user_are_401(registry: Registry) -> None:
    token = registry.backend.tokens.issue(
        Principal.root("123456789012"), "123456789012", "us-east-1"
    )
    for headers in (_basic("AWS", "not-a-token"), _basic("admin", token.password)):
        response = registry.request("GET", "/v2/", auth=False, headers=headers)
        assert response.status_code == 401
        assert error_code(response) == "UNAUTHORIZED"
        assert "WWW-Authenticate" in response.headers


def test_bearer_scheme_is_401(registry: Registry) -> None:
    response = registry.request("GET", "/v2/", auth=False, headers={"Authorization": "Bearer x"})
    assert response.status_code == 401


def test_expired_token_is_403_denied_with_ecr_message(registry: Registry) -> None:
    registry.backend.clock.advance(timedelta(hours=12, seconds=1))
    response = registry.request("GET", "/v2/")
    assert response.status_code == 403
    body = json.loads(response.get_data())
    assert body["errors"][0]["code"] == "DENIED"
    assert body["errors"][0]["message"] == (
        "Your authorization token has expired. Reauthenticate and try again."
    )


def test_token_for_another_registry_host_is_401(registry: Registry) -> None:
    other = "210987654321.dkr.ecr.us-east-1.amazonaws.com"
    response = registry.request("GET", "/v2/", base_url=f"https://{other}")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith(f'Basic realm="https://{other}/"')


def test_token_for_another_region_on_an_ecr_host_is_401(registry: Registry) -> None:
    response = registry.request(
        "GET", "/v2/", base_url="https://123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    )
    assert response.status_code == 401


def test_plain_host_addresses_the_tokens_registry(ecr_backend: Backend) -> None:
    registry = Registry(ecr_backend)
    other = ecr_backend.registry("210987654321", "eu-west-1")
    ecr_backend.create_repository(other, "theirs")
    registry.create_repo("mine")
    headers = basic_auth_headers(ecr_backend, "210987654321", "eu-west-1")
    response = registry.client.get(
        "/v2/_catalog", headers=headers, base_url="http://127.0.0.1:5000"
    )
    assert response.status_code == 200
    assert json.loads(response.get_data())["repositories"] == ["theirs"]


def test_unknown_path_needs_auth_then_404(registry: Registry) -> None:
    assert registry.request("GET", "/v2/x/nothing/here", auth=False).status_code == 401
    response = registry.request("GET", "/v2/x/nothing/here")
    assert response.status_code == 404
    assert response.headers["Docker-Distribution-Api-Version"] == "registry/2.0"


def test_wrong_method_is_405_unsupported_with_allow(registry: Registry) -> None:
    response = registry.request("POST", "/v2/repo/tags/list")
    assert response.status_code == 405
    assert error_code(response) == "UNSUPPORTED"
    assert "GET" in response.headers["Allow"]
