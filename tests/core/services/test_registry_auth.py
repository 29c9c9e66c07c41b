"""The registry_auth service: which registry and principal a registry request speaks for."""

from __future__ import annotations

import base64

import pytest

from ecr_mock import Backend
from ecr_mock.domain.errors import AccessDenied, TokenExpired, Unauthenticated
from ecr_mock.domain.models import Principal
from ecr_mock.services import public, registry_auth

ACCOUNT = "123456789012"


def basic(backend: Backend, region: str = "us-east-1") -> tuple[str, tuple[str, str]]:
    token = backend.tokens.issue(Principal.root(ACCOUNT), ACCOUNT, region)
    header = "Basic " + base64.b64encode(f"AWS:{token.password}".encode()).decode()
    return header, ("AWS", token.password)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        (f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com", (ACCOUNT, "eu-west-1")),
        (f"{ACCOUNT}.dkr.ecr-fips.us-east-2.amazonaws.com:443", (ACCOUNT, "us-east-2")),
        (f"{ACCOUNT}.dkr-ecr.ap-south-1.on.aws", (ACCOUNT, "ap-south-1")),
        ("localhost:5000", None),
    ],
)
def test_addressed_registry_reads_ecr_host_names(
    host: str, expected: tuple[str, str] | None
) -> None:
    assert registry_auth.addressed_registry(host) == expected


def test_repository_arn_of_private_and_public_registries(ecr_backend: Backend) -> None:
    reg = ecr_backend.registry(ACCOUNT, "eu-west-1")
    assert registry_auth.repository_arn(reg, "team/app") == (
        f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/team/app"
    )
    pub = public.public_registry(ecr_backend, ACCOUNT)
    path_name = f"{public.alias_of(pub)}/tools"
    assert registry_auth.repository_arn(pub, path_name) == (
        f"arn:aws:ecr-public::{ACCOUNT}:repository/tools"
    )


def test_speaking_for_a_basic_token_picks_its_registry(ecr_backend: Backend) -> None:
    header, creds = basic(ecr_backend, "eu-west-1")
    caller = registry_auth.speaking_for(ecr_backend, header, creds, host="localhost:5000")
    assert (caller.registry.account, caller.registry.region) == (ACCOUNT, "eu-west-1")
    assert caller.principal_arn == f"arn:aws:iam::{ACCOUNT}:root"
    assert not caller.anonymous


def test_speaking_for_refuses_a_token_for_another_registry_host(ecr_backend: Backend) -> None:
    header, creds = basic(ecr_backend, "eu-west-1")
    with pytest.raises(Unauthenticated):
        registry_auth.speaking_for(
            ecr_backend, header, creds, host=f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
        )


def test_speaking_for_without_or_with_bad_credentials_is_unauthenticated(
    ecr_backend: Backend,
) -> None:
    with pytest.raises(Unauthenticated):
        registry_auth.speaking_for(ecr_backend, None, None, host="localhost")
    with pytest.raises(Unauthenticated):
        registry_auth.speaking_for(ecr_backend, "Basic !!", None, host="localhost")


def test_an_expired_token_is_token_expired(ecr_backend: Backend) -> None:
    header, creds = basic(ecr_backend)
    ecr_backend.clock.advance(hours=13)
    with pytest.raises(TokenExpired):
        registry_auth.speaking_for(ecr_backend, header, creds, host="localhost")


def test_anonymous_callers_pull_public_repositories_only(ecr_backend: Backend) -> None:
    pub = public.public_registry(ecr_backend, ACCOUNT)
    name = f"{public.alias_of(pub)}/tools"
    caller = registry_auth.speaking_for(
        ecr_backend, "Basic " + registry_auth.EMPTY_BASIC, None, host="localhost", name=name
    )
    assert caller.anonymous and caller.registry is pub
    arn = registry_auth.repository_arn(pub, name)
    registry_auth.authorize(ecr_backend, caller, registry_auth.PULL_MANIFEST, arn)
    with pytest.raises(Unauthenticated):
        registry_auth.authorize(ecr_backend, caller, registry_auth.PUT_IMAGE, arn)


def test_authorize_refuses_another_account(ecr_backend: Backend) -> None:
    reg = ecr_backend.registry()
    stranger = ecr_backend.tokens.issue(Principal.root("210987654321"), ACCOUNT, "us-east-1")
    caller = registry_auth.Caller(reg, stranger)
    arn = registry_auth.repository_arn(reg, "app")
    with pytest.raises(AccessDenied):
        registry_auth.authorize(ecr_backend, caller, registry_auth.PULL_MANIFEST, arn)


def test_the_token_endpoint_grants_and_hands_out_tokens(ecr_backend: Backend) -> None:
    _, (user, password) = basic(ecr_backend)
    granted = registry_auth.granted_token(ecr_backend, "password", user, password, "")
    assert granted is not None
    assert registry_auth.bearer_token(ecr_backend, granted) == (password, granted.expires_at)
    assert registry_auth.granted_token(ecr_backend, "other", user, password, "") is None
    value, _ = registry_auth.bearer_token(ecr_backend, None)
    assert registry_auth.is_anonymous_bearer(ecr_backend, f"Bearer {value}")
    assert registry_auth.presented_token(ecr_backend, f"Bearer {value}", None) is None
