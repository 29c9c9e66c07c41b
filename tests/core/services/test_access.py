"""The access decision: identities, identity and resource policies, conditions, wording."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from ecr_mock.domain.errors import AccessDenied, Unauthenticated
from ecr_mock.domain.iam_policy import MANAGED_POLICIES
from ecr_mock.domain.models import Principal, Registry, Repository
from ecr_mock.services.access import (
    AccessRequest,
    MissingAuthenticationToken,
    StaticIdentities,
    check_access,
    is_allowed,
    registry_policy_scope,
)
from ecr_mock.services.backend import Backend

A = "111111111111"
B = "222222222222"
REGION = "us-east-1"


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str | list[str], resource: str = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def grant(
    principal: Any, action: str | list[str], effect: str = "Allow", **extra: Any
) -> dict[str, Any]:
    return {"Effect": effect, "Principal": principal, "Action": action, **extra}


pytestmark = pytest.mark.ecr_mock(account_id=A, region=REGION)


@pytest.fixture(autouse=True)
def _static_identities(ecr_backend: Backend) -> None:
    """Identities come from a StaticIdentities provider the tests fill."""
    ecr_backend.identity_provider = StaticIdentities()


def identities(backend: Backend) -> StaticIdentities:
    provider = backend.identity_provider
    if not isinstance(provider, StaticIdentities):
        raise TypeError("the fixture installs StaticIdentities")
    return provider


def ci_user(backend: Backend, *policies: str) -> Principal:
    """The IAM user ``ci`` of account A (key ``AKIAU``) with these identity policies."""
    return identities(backend).add("AKIAU", f"arn:aws:iam::{A}:user/ci", list(policies))


def repo(backend: Backend, account: str = A, name: str = "app", **tags: str) -> Repository:
    reg = backend.registry(account, REGION)
    made = backend.create_repository(reg, name, tags=dict(tags))
    return made


def request(
    repository: Repository, backend: Backend, action: str = "ecr:BatchGetImage", **kw: Any
) -> AccessRequest:
    reg = backend.registry(repository.account, repository.region)
    return AccessRequest(action, repository.arn, reg, repository, **kw)


def denial(backend: Backend, principal: Principal, req: AccessRequest) -> str:
    with pytest.raises(AccessDenied) as caught:
        check_access(backend, principal, req)
    return caught.value.message


# ----- who is calling ------------------------------------------------------------------------


def test_unknown_access_key_is_the_default_account_root(ecr_backend: Backend) -> None:
    principal = ecr_backend.principal_for_key("AKIANOBODYCREATED000")
    assert principal == Principal.root(A)


def test_strict_mode_refuses_an_unknown_access_key_as_unrecognized_client(
    ecr_backend: Backend,
) -> None:
    ecr_backend.strict_credentials = True
    with pytest.raises(Unauthenticated) as caught:
        ecr_backend.principal_for_key("AKIANOBODYCREATED000")
    assert caught.value.code == "UnrecognizedClientException"
    assert caught.value.message == "The security token included in the request is invalid."


def test_strict_mode_refuses_a_request_without_credentials(ecr_backend: Backend) -> None:
    ecr_backend.strict_credentials = True
    with pytest.raises(MissingAuthenticationToken) as caught:
        ecr_backend.principal_for_key(None)
    assert caught.value.code == "MissingAuthenticationTokenException"


def test_strict_mode_still_accepts_keys_registered_on_the_backend(ecr_backend: Backend) -> None:
    ecr_backend.strict_credentials = True
    ecr_backend.add_access_key("AKIAROOTOFB000000000", B)
    assert ecr_backend.principal_for_key("AKIAROOTOFB000000000") == Principal.root(B)


def test_a_key_known_to_the_identity_provider_is_its_user(ecr_backend: Backend) -> None:
    identities(ecr_backend).add("AKIAREADER0000000000", f"arn:aws:iam::{A}:user/reader")
    principal = ecr_backend.principal_for_key("AKIAREADER0000000000")
    assert (principal.arn, principal.account_id, principal.kind) == (
        f"arn:aws:iam::{A}:user/reader",
        A,
        "user",
    )


# ----- same account ----------------------------------------------------------------------------


def test_root_of_the_owning_account_may_do_anything_without_policies(ecr_backend: Backend) -> None:
    target = repo(ecr_backend)
    assert is_allowed(
        ecr_backend, Principal.root(A), request(target, ecr_backend, "ecr:DeleteRepository")
    )


def test_user_without_policies_is_refused_with_the_identity_policy_reason(
    ecr_backend: Backend,
) -> None:
    target = repo(ecr_backend)
    user = identities(ecr_backend).add("AKIAU", f"arn:aws:iam::{A}:user/nobody")
    assert denial(ecr_backend, user, request(target, ecr_backend)) == (
        f"User: arn:aws:iam::{A}:user/nobody is not authorized to perform: ecr:BatchGetImage on "
        f"resource: {target.arn} because no identity-based policy allows the ecr:BatchGetImage "
        "action"
    )


def test_read_only_managed_policy_allows_pull_and_refuses_push(ecr_backend: Backend) -> None:
    target = repo(ecr_backend)
    reader = identities(ecr_backend).add(
        "AKIAR",
        f"arn:aws:iam::{A}:user/reader",
        [MANAGED_POLICIES["AmazonEC2ContainerRegistryReadOnly"]],
    )
    assert is_allowed(ecr_backend, reader, request(target, ecr_backend, "ecr:BatchGetImage"))
    assert not is_allowed(ecr_backend, reader, request(target, ecr_backend, "ecr:PutImage"))


def test_repository_policy_alone_grants_within_the_account(ecr_backend: Backend) -> None:
    target = repo(ecr_backend)
    user = ci_user(ecr_backend)
    target.policy_text = doc(grant({"AWS": f"arn:aws:iam::{A}:user/ci"}, "ecr:BatchGetImage"))
    assert is_allowed(ecr_backend, user, request(target, ecr_backend))
    assert not is_allowed(ecr_backend, user, request(target, ecr_backend, "ecr:PutImage"))


def test_explicit_deny_in_repository_policy_beats_an_identity_allow(ecr_backend: Backend) -> None:
    target = repo(ecr_backend)
    user = ci_user(ecr_backend, doc(allow("ecr:*")))
    target.policy_text = doc(grant("*", "ecr:PutImage", "Deny"))
    assert denial(ecr_backend, user, request(target, ecr_backend, "ecr:PutImage")).endswith(
        "with an explicit deny in a resource-based policy"
    )
    assert is_allowed(ecr_backend, user, request(target, ecr_backend, "ecr:BatchGetImage"))


def test_explicit_deny_in_identity_policy_is_worded_as_identity_based(ecr_backend: Backend) -> None:
    target = repo(ecr_backend)
    user = ci_user(
        ecr_backend,
        doc(allow("ecr:*"), {"Effect": "Deny", "Action": "ecr:Delete*", "Resource": "*"}),
    )
    assert denial(ecr_backend, user, request(target, ecr_backend, "ecr:DeleteRepository")).endswith(
        "with an explicit deny in an identity-based policy"
    )


def test_identity_policy_resource_limits_to_named_repositories(ecr_backend: Backend) -> None:
    team = repo(ecr_backend, name="team/api")
    other = repo(ecr_backend, name="other")
    user = identities(ecr_backend).add(
        "AKIAU",
        f"arn:aws:iam::{A}:user/dev",
        [doc(allow("ecr:*", f"arn:aws:ecr:{REGION}:{A}:repository/team/*"))],
    )
    assert is_allowed(ecr_backend, user, request(team, ecr_backend, "ecr:PutImage"))
    assert not is_allowed(ecr_backend, user, request(other, ecr_backend, "ecr:PutImage"))


def test_policies_are_read_at_request_time(ecr_backend: Backend) -> None:
    target = repo(ecr_backend)
    arn = f"arn:aws:iam::{A}:user/ci"
    user = identities(ecr_backend).add("AKIAU", arn, [doc(allow("ecr:*"))])
    assert is_allowed(ecr_backend, user, request(target, ecr_backend, "ecr:PutImage"))
    identities(ecr_backend).set_policies(arn, [])
    assert not is_allowed(ecr_backend, user, request(target, ecr_backend, "ecr:PutImage"))


def test_identity_only_request_ignores_resource_policies(ecr_backend: Backend) -> None:
    target = repo(ecr_backend)
    user = ci_user(ecr_backend)
    target.policy_text = doc(grant("*", "ecr:*"))
    token_request = AccessRequest("ecr:GetAuthorizationToken", "*", identity_only=True)
    assert denial(ecr_backend, user, token_request) == (
        f"User: arn:aws:iam::{A}:user/ci is not authorized to perform: ecr:GetAuthorizationToken "
        "on resource: * because no identity-based policy allows the ecr:GetAuthorizationToken "
        "action"
    )


def test_assumed_role_session_is_matched_by_its_role_arn_in_a_repository_policy(
    ecr_backend: Backend,
) -> None:
    target = repo(ecr_backend)
    session = identities(ecr_backend).add(
        "ASIAS", f"arn:aws:sts::{A}:assumed-role/deployer/session-1"
    )
    target.policy_text = doc(grant({"AWS": f"arn:aws:iam::{A}:role/deployer"}, "ecr:BatchGetImage"))
    assert session.kind == "assumed-role"
    assert is_allowed(ecr_backend, session, request(target, ecr_backend))


# ----- across accounts -----------------------------------------------------------------------


def test_cross_account_identity_allow_without_resource_policy_is_refused(
    ecr_backend: Backend,
) -> None:
    target = repo(ecr_backend, account=A)
    puller = identities(ecr_backend).add(
        "AKIAB", f"arn:aws:iam::{B}:user/puller", [doc(allow("ecr:*"))]
    )
    assert denial(ecr_backend, puller, request(target, ecr_backend)) == (
        f"User: arn:aws:iam::{B}:user/puller is not authorized to perform: ecr:BatchGetImage on "
        f"resource: {target.arn} because no resource-based policy allows the ecr:BatchGetImage "
        "action"
    )


def test_cross_account_needs_both_the_repository_policy_and_the_identity_policy(
    ecr_backend: Backend,
) -> None:
    target = repo(ecr_backend, account=A)
    target.policy_text = doc(grant({"AWS": f"arn:aws:iam::{B}:root"}, ["ecr:BatchGetImage"]))
    allowed = identities(ecr_backend).add(
        "AKIAB1", f"arn:aws:iam::{B}:user/a", [doc(allow("ecr:*"))]
    )
    no_identity = identities(ecr_backend).add("AKIAB2", f"arn:aws:iam::{B}:user/b")
    assert is_allowed(ecr_backend, allowed, request(target, ecr_backend))
    assert is_allowed(ecr_backend, Principal.root(B), request(target, ecr_backend))
    assert not is_allowed(ecr_backend, no_identity, request(target, ecr_backend))
    assert not is_allowed(ecr_backend, allowed, request(target, ecr_backend, "ecr:PutImage"))


def test_registry_policy_grants_across_accounts_with_the_default_v2_scope(
    ecr_backend: Backend,
) -> None:
    target = repo(ecr_backend, account=A)
    reg = ecr_backend.registry(A, REGION)
    assert registry_policy_scope(reg) == "V2"
    reg.policy_text = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": B},
                    "Action": "ecr:BatchGetImage",
                    "Resource": f"arn:aws:ecr:{REGION}:{A}:repository/*",
                }
            ],
        }
    )
    assert is_allowed(ecr_backend, Principal.root(B), request(target, ecr_backend))


def test_v1_registry_policy_only_governs_replication_actions(ecr_backend: Backend) -> None:
    target = repo(ecr_backend, account=A)
    reg = ecr_backend.registry(A, REGION)
    reg.settings["REGISTRY_POLICY_SCOPE"] = "V1"
    reg.policy_text = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": B},
                    "Action": ["ecr:BatchGetImage", "ecr:CreateRepository"],
                    "Resource": f"arn:aws:ecr:{REGION}:{A}:repository/*",
                }
            ],
        }
    )
    assert not is_allowed(ecr_backend, Principal.root(B), request(target, ecr_backend))
    assert is_allowed(
        ecr_backend, Principal.root(B), request(target, ecr_backend, "ecr:CreateRepository")
    )


def test_listing_another_accounts_registry_is_refused_without_a_registry_policy(
    ecr_backend: Backend,
) -> None:
    target = repo(ecr_backend, account=A)
    target.policy_text = doc(grant({"AWS": B}, "ecr:DescribeRepositories"))
    reg = ecr_backend.registry(A, REGION)
    listing = AccessRequest(
        "ecr:DescribeRepositories", f"arn:aws:ecr:{REGION}:{A}:repository/*", reg
    )
    assert not is_allowed(ecr_backend, Principal.root(B), listing)
    assert is_allowed(
        ecr_backend, Principal.root(B), request(target, ecr_backend, "ecr:DescribeRepositories")
    )


def test_a_check_on_a_registry_that_does_not_exist_creates_nothing(ecr_backend: Backend) -> None:
    ghost = Registry(account=B, region=REGION)
    check_access(ecr_backend, Principal.root(B), AccessRequest("ecr:DescribeRegistry", "*", ghost))
    assert (B, REGION) not in ecr_backend.registries


# ----- conditions ------------------------------------------------------------------------------


def test_source_ip_condition_in_a_repository_policy(ecr_backend: Backend) -> None:
    target = repo(ecr_backend)
    user = ci_user(ecr_backend)
    target.policy_text = doc(
        grant("*", "ecr:BatchGetImage", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})
    )
    assert is_allowed(ecr_backend, user, request(target, ecr_backend, source_ip="10.1.2.3"))
    assert not is_allowed(ecr_backend, user, request(target, ecr_backend, source_ip="192.168.1.1"))


@pytest.mark.parametrize("prefix", ["ecr", "aws"])
def test_resource_tag_condition_in_an_identity_policy(ecr_backend: Backend, prefix: str) -> None:
    prod = repo(ecr_backend, name="prod-app", env="prod")
    dev = repo(ecr_backend, name="dev-app", env="dev")
    user = ci_user(
        ecr_backend,
        doc(allow("ecr:*", Condition={"StringEquals": {f"{prefix}:ResourceTag/env": "dev"}})),
    )
    assert is_allowed(ecr_backend, user, request(dev, ecr_backend, "ecr:PutImage"))
    assert not is_allowed(ecr_backend, user, request(prod, ecr_backend, "ecr:PutImage"))


def test_secure_transport_condition(ecr_backend: Backend) -> None:
    target = repo(ecr_backend)
    user = ci_user(
        ecr_backend, doc(allow("ecr:*", Condition={"Bool": {"aws:SecureTransport": "true"}}))
    )
    assert is_allowed(ecr_backend, user, request(target, ecr_backend, secure_transport=True))
    assert not is_allowed(ecr_backend, user, request(target, ecr_backend, secure_transport=False))


def test_current_time_comes_from_the_backend_clock(ecr_backend: Backend) -> None:
    target = repo(ecr_backend)
    user = ci_user(
        ecr_backend,
        doc(
            allow("ecr:*", Condition={"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}})
        ),
    )
    ecr_backend.clock.set(datetime(2029, 12, 31, 23, 0, tzinfo=timezone.utc))
    assert is_allowed(ecr_backend, user, request(target, ecr_backend))
    ecr_backend.clock.advance(timedelta(hours=2))
    assert not is_allowed(ecr_backend, user, request(target, ecr_backend))


def test_principal_tag_condition(ecr_backend: Backend) -> None:
    target = repo(ecr_backend)
    policy = doc(allow("ecr:*", Condition={"StringEquals": {"aws:PrincipalTag/team": "platform"}}))
    member = identities(ecr_backend).add(
        "AKIA1", f"arn:aws:iam::{A}:user/m", [policy], {"team": "platform"}
    )
    outsider = identities(ecr_backend).add(
        "AKIA2", f"arn:aws:iam::{A}:user/o", [policy], {"team": "web"}
    )
    assert is_allowed(ecr_backend, member, request(target, ecr_backend))
    assert not is_allowed(ecr_backend, outsider, request(target, ecr_backend))


def test_request_tag_and_tag_keys_conditions(ecr_backend: Backend) -> None:
    target = repo(ecr_backend)
    user = ci_user(
        ecr_backend,
        doc(
            allow(
                "ecr:TagResource",
                Condition={
                    "StringEquals": {"aws:RequestTag/env": "dev"},
                    "ForAllValues:StringEquals": {"aws:TagKeys": ["env"]},
                },
            )
        ),
    )
    assert is_allowed(
        ecr_backend,
        user,
        request(target, ecr_backend, "ecr:TagResource", request_tags={"env": "dev"}),
    )
    assert not is_allowed(
        ecr_backend,
        user,
        request(target, ecr_backend, "ecr:TagResource", request_tags={"env": "dev", "owner": "x"}),
    )
