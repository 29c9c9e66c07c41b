"""GetAuthorizationToken via boto3: format, expiry, binding to principal and registry."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest

from ecr_mock import Backend
from ecr_mock.domain.errors import TokenExpired, Unauthenticated
from ecr_mock.protocols.ecr_api.dispatch import TARGET_PREFIX, handle

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
REGION = "us-east-1"
FROZEN = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)

pytestmark = pytest.mark.frozen_at(FROZEN)


def password_of(entry: dict[str, Any]) -> str:
    user, _, password = base64.b64decode(entry["authorizationToken"]).decode().partition(":")
    assert user == "AWS"
    return password


def test_token_is_base64_aws_password_valid_for_twelve_hours(
    ecr_backend: Backend, ecr_client: Any
) -> None:
    data = ecr_client.get_authorization_token()["authorizationData"]
    assert len(data) == 1
    entry = data[0]
    assert entry["expiresAt"] == FROZEN + timedelta(hours=12)
    assert entry["proxyEndpoint"] == f"https://{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
    token = ecr_backend.tokens.check(password_of(entry))
    assert token.principal.arn == f"arn:aws:iam::{ACCOUNT}:root"
    assert (token.account, token.region) == (ACCOUNT, REGION)


def test_two_tokens_differ(ecr_client: Any) -> None:
    first = ecr_client.get_authorization_token()["authorizationData"][0]
    second = ecr_client.get_authorization_token()["authorizationData"][0]
    assert first["authorizationToken"] != second["authorizationToken"]


def test_token_expires_after_twelve_hours(ecr_backend: Backend, ecr_client: Any) -> None:
    password = password_of(ecr_client.get_authorization_token()["authorizationData"][0])
    ecr_backend.clock.advance(hours=11, minutes=59)
    assert ecr_backend.tokens.check(password).account == ACCOUNT
    ecr_backend.clock.advance(minutes=1)
    with pytest.raises(TokenExpired):
        ecr_backend.tokens.check(password)


def test_unknown_password_is_not_a_token(ecr_backend: Backend) -> None:
    with pytest.raises(Unauthenticated):
        ecr_backend.tokens.check("guessed")


def test_one_entry_per_requested_registry(ecr_backend: Backend, ecr_client: Any) -> None:
    data = ecr_client.get_authorization_token(registryIds=[ACCOUNT, OTHER_ACCOUNT])[
        "authorizationData"
    ]
    assert [e["proxyEndpoint"] for e in data] == [
        f"https://{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com",
        f"https://{OTHER_ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com",
    ]
    assert [ecr_backend.tokens.check(password_of(e)).account for e in data] == [
        ACCOUNT,
        OTHER_ACCOUNT,
    ]


def test_token_is_bound_to_the_calling_principal_and_region(ecr_backend: Backend) -> None:
    user_arn = f"arn:aws:iam::{OTHER_ACCOUNT}:user/ci"
    ecr_backend.add_access_key("AKIAEXAMPLECI0000001", OTHER_ACCOUNT, arn=user_arn, kind="user")
    ecr = boto3.client(
        "ecr",
        region_name="eu-west-1",
        aws_access_key_id="AKIAEXAMPLECI0000001",
        aws_secret_access_key="secret",
    )
    entry = ecr.get_authorization_token()["authorizationData"][0]
    assert entry["proxyEndpoint"] == f"https://{OTHER_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com"
    token = ecr_backend.tokens.check(password_of(entry))
    assert token.principal.arn == user_arn
    assert (token.account, token.region) == (OTHER_ACCOUNT, "eu-west-1")


def test_proxy_endpoint_names_the_live_server_when_there_is_one(
    ecr_backend: Backend, ecr_client: Any
) -> None:
    ecr_backend.public_endpoint = "127.0.0.1:5000"
    entry = ecr_client.get_authorization_token()["authorizationData"][0]
    assert entry["proxyEndpoint"] == "http://127.0.0.1:5000"


def test_raw_malformed_registry_id_is_refused(ecr_backend: Backend) -> None:
    status, payload = handle(
        ecr_backend,
        TARGET_PREFIX + "GetAuthorizationToken",
        json.dumps({"registryIds": ["12345"]}).encode(),
        {},
    )
    assert status == 400
    assert json.loads(payload)["__type"] == "InvalidParameterException"
