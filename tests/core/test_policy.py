"""Tests for ecr_mock.domain.iam_policy: parsing, validation and AWS-style evaluation."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from ecr_mock.domain import iam_policy as policy_module
from ecr_mock.domain.iam_policy import (
    MANAGED_POLICIES,
    AuthzRequest,
    Decision,
    IamPrincipal,
    Policy,
    PolicyParseError,
    evaluate,
    parse_policy,
    validate_registry_policy,
    validate_repository_policy,
)

ACCOUNT = "111122223333"
OTHER = "444455556666"
REPO = f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/app"


def document(*statements: dict[str, Any], version: str = "2012-10-17") -> str:
    return json.dumps({"Version": version, "Statement": list(statements)})


def allow(**elements: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}
    statement.update(elements)
    return statement


def deny(**elements: Any) -> dict[str, Any]:
    return allow(Effect="Deny", **elements)


def user(name: str = "alice", account: str = ACCOUNT, **kwargs: Any) -> IamPrincipal:
    return IamPrincipal.from_arn(f"arn:aws:iam::{account}:user/{name}", **kwargs)


def session(role: str = "builder", name: str = "s1", account: str = ACCOUNT) -> IamPrincipal:
    return IamPrincipal.from_arn(f"arn:aws:sts::{account}:assumed-role/{role}/{name}")


def request(
    action: str = "ecr:BatchGetImage",
    principal: IamPrincipal | None = None,
    resource: str = REPO,
    context: Mapping[str, str | list[str]] | None = None,
) -> AuthzRequest:
    return AuthzRequest(
        action=action,
        resource=resource,
        principal=principal or user(),
        resource_account=ACCOUNT,
        context=context or {},
    )


def identity_decision(statement: dict[str, Any], req: AuthzRequest | None = None) -> Decision:
    return evaluate(req or request(), [parse_policy(document(statement))], [])


def condition_holds(condition: dict[str, Any], context: Mapping[str, str | list[str]]) -> bool:
    """Whether an identity Allow guarded by ``condition`` allows a same-account user."""
    return identity_decision(allow(Condition=condition), request(context=context)).allowed


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("{not json", id="malformed-json"),
        pytest.param("[]", id="not-an-object"),
        pytest.param(json.dumps({"Version": "2012-10-17"}), id="no-statement"),
        pytest.param(json.dumps({"Statement": []}), id="empty-statement-list"),
        pytest.param(json.dumps({"Statement": ["x"]}), id="statement-not-object"),
        pytest.param(json.dumps({"Statement": allow(), "Extra": 1}), id="unknown-top-element"),
        pytest.param(document(allow(), version="2020-01-01"), id="unknown-version"),
        pytest.param(document(allow(Effect="Permit")), id="unknown-effect"),
        pytest.param(document(allow(Effect="allow")), id="effect-is-case-sensitive"),
        pytest.param(document({"Effect": "Allow", "Resource": "*"}), id="no-action"),
        pytest.param(document(allow(NotAction="ecr:PutImage")), id="action-and-notaction"),
        pytest.param(document(allow(Action=5)), id="action-wrong-type"),
        pytest.param(document(allow(Action=[])), id="action-empty-list"),
        pytest.param(document(allow(Action=["ecr:PutImage", 3])), id="action-list-mixed"),
        pytest.param(document(allow(Action="ecr")), id="action-without-service"),
        pytest.param(document(allow(NotResource="*")), id="resource-and-notresource"),
        pytest.param(document(allow(Resource={"a": 1})), id="resource-wrong-type"),
        pytest.param(document(allow(Sid=7)), id="sid-not-string"),
        pytest.param(document(allow(Principal="everyone")), id="principal-bad-string"),
        pytest.param(document(allow(Principal={"Users": "x"})), id="principal-unknown-type"),
        pytest.param(document(allow(Principal={"AWS": 12})), id="principal-value-not-string"),
        pytest.param(
            document(allow(Principal="*", NotPrincipal="*")), id="principal-and-notprincipal"
        ),
        pytest.param(document(allow(Bogus=1)), id="unknown-statement-element"),
        pytest.param(document(allow(Condition=[])), id="condition-not-object"),
        pytest.param(
            document(allow(Condition={"StringEqualz": {"aws:username": "a"}})),
            id="unknown-operator",
        ),
        pytest.param(
            document(allow(Condition={"ForSomeValues:StringEquals": {"aws:username": "a"}})),
            id="unknown-set-qualifier",
        ),
        pytest.param(
            document(allow(Condition={"StringEquals": "aws:username"})),
            id="operator-block-not-object",
        ),
        pytest.param(
            document(allow(Condition={"StringEquals": {"aws:username": {"x": 1}}})),
            id="condition-value-object",
        ),
        pytest.param(
            document(allow(Condition={"NumericLessThan": {"s3:max-keys": "ten"}})),
            id="numeric-value-not-number",
        ),
        pytest.param(
            document(allow(Condition={"DateGreaterThan": {"aws:CurrentTime": "yesterday"}})),
            id="date-value-not-date",
        ),
        pytest.param(
            document(allow(Condition={"IpAddress": {"aws:SourceIp": "300.1.2.3/8"}})),
            id="ip-value-not-cidr",
        ),
        pytest.param(
            document(allow(Condition={"Bool": {"aws:SecureTransport": "maybe"}})),
            id="bool-value-not-bool",
        ),
    ],
)
def test_parse_policy_rejects_malformed_documents(text: str) -> None:
    with pytest.raises(PolicyParseError) as raised:
        parse_policy(text)
    assert raised.value.message
    assert str(raised.value) == raised.value.message


def test_parse_policy_accepts_a_single_statement_object_and_string_elements() -> None:
    text = json.dumps(
        {
            "Version": "2012-10-17",
            "Id": "p1",
            "Statement": {
                "Sid": "One",
                "Effect": "Deny",
                "NotAction": "ecr:PutImage",
                "NotResource": REPO,
                "Condition": {"ForAnyValue:StringLikeIfExists": {"AWS:TagKeys": ["a*", "b"]}},
            },
        }
    )
    parsed = parse_policy(text)
    assert parsed.version == "2012-10-17"
    assert parsed.id == "p1"
    (statement,) = parsed.statements
    assert statement.sid == "One"
    assert statement.effect == "Deny"
    assert statement.actions == ("ecr:PutImage",)
    assert statement.actions_negated is True
    assert statement.resources == (REPO,)
    assert statement.resources_negated is True
    assert statement.principals is None
    (condition,) = statement.conditions
    assert condition.base == "StringLike"
    assert condition.qualifier == "ForAnyValue"
    assert condition.if_exists is True
    assert condition.key == "aws:tagkeys"
    assert condition.values == ("a*", "b")


def test_parse_policy_turns_json_bools_and_numbers_into_condition_strings() -> None:
    parsed = parse_policy(
        document(
            allow(Condition={"Bool": {"aws:SecureTransport": False}, "NumericEquals": {"n": 3}})
        )
    )
    values = {c.key: c.values for c in parsed.statements[0].conditions}
    assert values == {"aws:securetransport": ("false",), "n": ("3",)}


def test_parse_policy_lists_principals_by_type() -> None:
    parsed = parse_policy(
        document(allow(Principal={"AWS": [ACCOUNT, "*"], "Service": "ecr.amazonaws.com"}))
    )
    assert parsed.statements[0].principals == (
        ("AWS", ACCOUNT),
        ("AWS", "*"),
        ("Service", "ecr.amazonaws.com"),
    )
    star = parse_policy(document(allow(Principal="*")))
    assert star.statements[0].principals == (("*", "*"),)


# --------------------------------------------------------------------------- validation


def repo_statement(**elements: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Sid": "AllowPull",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
    }
    statement.update(elements)
    return statement


@pytest.mark.parametrize(
    "principal",
    [
        "*",
        {"AWS": "*"},
        {"AWS": OTHER},
        {"AWS": f"arn:aws:iam::{OTHER}:root"},
        {"AWS": f"arn:aws:iam::{OTHER}:user/alice"},
        {"AWS": f"arn:aws:iam::{OTHER}:user/team/alice"},
        {"AWS": f"arn:aws:iam::{OTHER}:role/ci-builder"},
        {"AWS": f"arn:aws:sts::{OTHER}:assumed-role/ci-builder/session-1"},
        {"Service": "codebuild.amazonaws.com"},
        {"AWS": [OTHER, f"arn:aws:iam::{ACCOUNT}:role/x"], "Service": "ecr.amazonaws.com"},
    ],
)
def test_validate_repository_policy_accepts_well_formed_principals(principal: Any) -> None:
    parsed = validate_repository_policy(document(repo_statement(Principal=principal)))
    assert isinstance(parsed, Policy)
    assert parsed.statements[0].principals


@pytest.mark.parametrize(
    "principal",
    [
        pytest.param({"AWS": "12345678901"}, id="eleven-digit-account"),
        pytest.param({"AWS": "arn:aws:iam::123:root"}, id="short-account-in-arn"),
        pytest.param({"AWS": f"arn:aws:iam::{OTHER}:group/devs"}, id="group-arn"),
        pytest.param({"AWS": f"arn:aws:iam::{OTHER}:user/*"}, id="wildcard-arn"),
        pytest.param({"AWS": "alice"}, id="bare-name"),
        pytest.param({"AWS": f"arn:aws:sts::{OTHER}:assumed-role/only-role"}, id="no-session"),
        pytest.param({"Service": "ecr"}, id="service-not-a-domain"),
        pytest.param({"Federated": "cognito-identity.amazonaws.com"}, id="federated"),
    ],
)
def test_validate_repository_policy_rejects_malformed_principals(principal: Any) -> None:
    with pytest.raises(PolicyParseError):
        validate_repository_policy(document(repo_statement(Principal=principal)))


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param(repo_statement(Resource=REPO), id="resource"),
        pytest.param(repo_statement(NotResource=REPO), id="notresource"),
        pytest.param({"Effect": "Allow", "Action": "ecr:BatchGetImage"}, id="no-principal"),
    ],
)
def test_validate_repository_policy_rejects_resource_and_missing_principal(
    statement: dict[str, Any],
) -> None:
    with pytest.raises(PolicyParseError):
        validate_repository_policy(document(repo_statement(), statement))


def test_validate_repository_policy_accepts_notprincipal() -> None:
    text = document({"Effect": "Deny", "NotPrincipal": {"AWS": ACCOUNT}, "Action": "ecr:*"})
    parsed = validate_repository_policy(text)
    assert parsed.statements[0].principals_negated is True


def test_validate_registry_policy_allows_repository_resources() -> None:
    text = document(
        repo_statement(
            Action=["ecr:ReplicateImage", "ecr:CreateRepository"],
            Resource=f"arn:aws:ecr:us-west-2:{ACCOUNT}:repository/*",
        )
    )
    parsed = validate_registry_policy(text)
    assert parsed.statements[0].resources == (f"arn:aws:ecr:us-west-2:{ACCOUNT}:repository/*",)


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param(repo_statement(Resource="arn:aws:s3:::bucket"), id="non-ecr-resource"),
        pytest.param(
            {"Effect": "Allow", "Action": "ecr:ReplicateImage", "Resource": "*"},
            id="no-principal",
        ),
        pytest.param(repo_statement(Principal={"AWS": "nobody"}), id="bad-principal"),
    ],
)
def test_validate_registry_policy_rejects_bad_statements(statement: dict[str, Any]) -> None:
    with pytest.raises(PolicyParseError):
        validate_registry_policy(document(statement))


# --------------------------------------------------------------------------- conditions


@pytest.mark.parametrize(
    ("operator", "policy_values", "context_value", "expected"),
    [
        ("StringEquals", "prod", "prod", True),
        ("StringEquals", "prod", "Prod", False),
        ("StringEquals", ["dev", "prod"], "prod", True),
        ("StringNotEquals", "prod", "dev", True),
        ("StringNotEquals", ["dev", "prod"], "prod", False),
        ("StringEqualsIgnoreCase", "PROD", "prod", True),
        ("StringEqualsIgnoreCase", "PROD", "dev", False),
        ("StringNotEqualsIgnoreCase", "PROD", "prod", False),
        ("StringNotEqualsIgnoreCase", "PROD", "dev", True),
        ("StringLike", "team-*", "team-blue", True),
        ("StringLike", "team-?", "team-ab", False),
        ("StringLike", "team-??", "team-ab", True),
        ("StringLike", "Team-*", "team-blue", False),
        ("StringNotLike", "team-*", "ops", True),
        ("StringNotLike", ["ops", "team-*"], "team-a", False),
    ],
)
def test_string_operators(
    operator: str, policy_values: Any, context_value: str, expected: bool
) -> None:
    assert (
        condition_holds(
            {operator: {"aws:ResourceTag/env": policy_values}},
            {"aws:ResourceTag/env": context_value},
        )
        is expected
    )


@pytest.mark.parametrize(
    ("operator", "policy_value", "context_value", "expected"),
    [
        ("ArnEquals", f"arn:aws:iam::{ACCOUNT}:role/ci", f"arn:aws:iam::{ACCOUNT}:role/ci", True),
        ("ArnEquals", f"arn:aws:iam::{ACCOUNT}:role/*", f"arn:aws:iam::{ACCOUNT}:role/ci", True),
        ("ArnLike", "arn:aws:iam::*:role/ci-*", f"arn:aws:iam::{OTHER}:role/ci-main", True),
        ("ArnLike", "arn:aws:iam::*:role/ci-*", f"arn:aws:iam::{OTHER}:user/ci-main", False),
        ("ArnLike", "arn:aws:iam::*:root", f"arn:aws:iam::{OTHER}:user/root", False),
        ("ArnLike", "arn:aws:*", f"arn:aws:iam::{OTHER}:root", False),
        ("ArnLike", "arn:aws:iam::*:*", "not-an-arn", False),
        ("ArnNotEquals", f"arn:aws:iam::{ACCOUNT}:role/ci", f"arn:aws:iam::{ACCOUNT}:role/x", True),
        ("ArnNotLike", "arn:aws:iam::*:role/ci-*", f"arn:aws:iam::{OTHER}:role/ci-a", False),
    ],
)
def test_arn_operators_match_each_colon_separated_part(
    operator: str, policy_value: str, context_value: str, expected: bool
) -> None:
    assert (
        condition_holds(
            {operator: {"aws:SourceArn": policy_value}}, {"aws:SourceArn": context_value}
        )
        is expected
    )


@pytest.mark.parametrize(
    ("operator", "policy_value", "context_value", "expected"),
    [
        ("NumericEquals", "10", "10", True),
        ("NumericEquals", 10, "10.0", True),
        ("NumericEquals", "10", "11", False),
        ("NumericNotEquals", "10", "11", True),
        ("NumericNotEquals", "10", "10", False),
        ("NumericLessThan", "10", "9.5", True),
        ("NumericLessThan", "10", "10", False),
        ("NumericLessThanEquals", "10", "10", True),
        ("NumericGreaterThan", "10", "10", False),
        ("NumericGreaterThan", "10", "11", True),
        ("NumericGreaterThanEquals", "10", "10", True),
        ("NumericGreaterThanEquals", "10", "9", False),
        ("NumericEquals", "10", "ten", False),
    ],
)
def test_numeric_operators(
    operator: str, policy_value: Any, context_value: str, expected: bool
) -> None:
    assert (
        condition_holds(
            {operator: {"ecr:maxresults": policy_value}}, {"ecr:maxresults": context_value}
        )
        is expected
    )


@pytest.mark.parametrize(
    ("operator", "policy_value", "context_value", "expected"),
    [
        ("DateEquals", "2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z", True),
        ("DateEquals", "2024-01-01T00:00:00Z", "1704067200", True),
        ("DateEquals", "1704067200", "2024-01-01T01:00:00+01:00", True),
        ("DateNotEquals", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", True),
        ("DateNotEquals", "2024-01-01", "2024-01-01T00:00:00Z", False),
        ("DateLessThan", "2024-06-01T00:00:00Z", "2024-05-31T23:59:59Z", True),
        ("DateLessThan", "2024-06-01T00:00:00Z", "2024-06-01T00:00:00Z", False),
        ("DateLessThanEquals", "2024-06-01T00:00:00Z", "2024-06-01T00:00:00Z", True),
        ("DateGreaterThan", "2024-06-01T00:00:00Z", "2024-06-01T00:00:01Z", True),
        ("DateGreaterThan", "2024-06-01T00:00:00Z", "1500000000", False),
        ("DateGreaterThanEquals", "2024-06-01T00:00:00.000Z", "2024-06-01T00:00:00Z", True),
        ("DateLessThan", "2024-06-01T00:00:00Z", "garbage", False),
    ],
)
def test_date_operators_accept_iso8601_and_epoch_seconds(
    operator: str, policy_value: str, context_value: str, expected: bool
) -> None:
    assert (
        condition_holds(
            {operator: {"aws:CurrentTime": policy_value}}, {"aws:CurrentTime": context_value}
        )
        is expected
    )


@pytest.mark.parametrize(
    ("policy_value", "context_value", "expected"),
    [
        ("true", "true", True),
        ("true", "false", False),
        (True, "true", True),
        (False, "false", True),
        ("false", "TRUE", False),
    ],
)
def test_bool_operator(policy_value: Any, context_value: str, expected: bool) -> None:
    assert (
        condition_holds(
            {"Bool": {"aws:SecureTransport": policy_value}}, {"aws:SecureTransport": context_value}
        )
        is expected
    )


@pytest.mark.parametrize(
    ("operator", "policy_value", "source_ip", "expected"),
    [
        ("IpAddress", "203.0.113.0/24", "203.0.113.7", True),
        ("IpAddress", "203.0.113.0/24", "203.0.114.7", False),
        ("IpAddress", "203.0.113.7", "203.0.113.7", True),
        ("IpAddress", ["10.0.0.0/8", "192.0.2.0/24"], "192.0.2.9", True),
        ("IpAddress", "2001:db8::/32", "2001:db8::1", True),
        ("IpAddress", "2001:db8::/32", "203.0.113.7", False),
        ("IpAddress", "203.0.113.0/24", "not-an-ip", False),
        ("NotIpAddress", "203.0.113.0/24", "198.51.100.1", True),
        ("NotIpAddress", ["10.0.0.0/8", "203.0.113.0/24"], "203.0.113.1", False),
    ],
)
def test_ip_address_operators_use_cidr_ranges(
    operator: str, policy_value: Any, source_ip: str, expected: bool
) -> None:
    assert (
        condition_holds({operator: {"aws:SourceIp": policy_value}}, {"aws:SourceIp": source_ip})
        is expected
    )


@pytest.mark.parametrize(
    ("policy_value", "context", "expected"),
    [
        ("true", {}, True),
        ("true", {"aws:ResourceTag/team": "blue"}, False),
        ("false", {"aws:ResourceTag/team": "blue"}, True),
        ("false", {}, False),
        (True, {}, True),
    ],
)
def test_null_operator_checks_key_presence(
    policy_value: Any, context: dict[str, str | list[str]], expected: bool
) -> None:
    assert condition_holds({"Null": {"aws:ResourceTag/team": policy_value}}, context) is expected


@pytest.mark.parametrize(
    ("operator", "expected"),
    [
        ("StringEquals", False),
        ("StringLike", False),
        ("NumericLessThan", False),
        ("DateGreaterThan", False),
        ("Bool", False),
        ("IpAddress", False),
        ("ArnLike", False),
        ("StringNotEquals", True),
        ("NotIpAddress", True),
        ("StringEqualsIfExists", True),
        ("NumericLessThanIfExists", True),
        ("IpAddressIfExists", True),
        ("ForAnyValue:StringEquals", False),
        ("ForAllValues:StringEquals", True),
    ],
)
def test_missing_key_fails_positive_operators_and_passes_ifexists_and_negated(
    operator: str, expected: bool
) -> None:
    values = {
        "Numeric": "1",
        "Date": "2024-01-01T00:00:00Z",
        "Bool": "true",
        "IpAddr": "10.0.0.0/8",
        "NotIpA": "10.0.0.0/8",
        "ArnLik": "arn:aws:iam::*:*",
    }
    base = operator.split(":")[-1]
    value = next((v for prefix, v in values.items() if base.startswith(prefix)), "x")
    assert condition_holds({operator: {"aws:SomeMissingKey": value}}, {}) is expected


@pytest.mark.parametrize(("source_ip", "expected"), [("10.1.2.3", True), ("192.0.2.1", False)])
def test_ifexists_still_checks_a_present_key(source_ip: str, expected: bool) -> None:
    condition = {"IpAddressIfExists": {"aws:SourceIp": "10.0.0.0/8"}}
    assert condition_holds(condition, {"aws:SourceIp": source_ip}) is expected


@pytest.mark.parametrize(
    ("operator", "tag_keys", "expected"),
    [
        ("ForAnyValue:StringEquals", ["team", "cost"], True),
        ("ForAnyValue:StringEquals", ["cost"], False),
        ("ForAnyValue:StringEquals", [], False),
        ("ForAllValues:StringEquals", ["team", "env"], True),
        ("ForAllValues:StringEquals", ["team", "cost"], False),
        ("ForAllValues:StringEquals", [], True),
        ("ForAnyValue:StringNotEquals", ["team", "cost"], True),
        ("ForAnyValue:StringNotEquals", ["team", "env"], False),
        ("ForAllValues:StringNotEquals", ["cost", "owner"], True),
        ("ForAllValues:StringNotEquals", ["cost", "team"], False),
        ("ForAllValues:StringLike", ["team-a", "env"], True),
        ("ForAnyValue:StringLikeIfExists", ["x"], False),
    ],
)
def test_set_qualifiers_over_multivalued_keys(
    operator: str, tag_keys: list[str], expected: bool
) -> None:
    policy_values = ["team*", "env"] if "Like" in operator else ["team", "env"]
    condition = {operator: {"aws:TagKeys": policy_values}}
    assert condition_holds(condition, {"aws:TagKeys": tag_keys}) is expected


def test_set_qualifier_on_missing_key() -> None:
    assert condition_holds({"ForAllValues:StringEquals": {"aws:TagKeys": "a"}}, {}) is True
    assert condition_holds({"ForAnyValue:StringEquals": {"aws:TagKeys": "a"}}, {}) is False


def test_unqualified_operators_on_a_multivalued_key() -> None:
    # Positive operators need one matching value; negated ones need none to match.
    assert condition_holds({"StringEquals": {"aws:TagKeys": "a"}}, {"aws:TagKeys": ["a", "b"]})
    assert not condition_holds(
        {"StringNotEquals": {"aws:TagKeys": "a"}}, {"aws:TagKeys": ["a", "b"]}
    )
    assert condition_holds({"StringNotEquals": {"aws:TagKeys": "c"}}, {"aws:TagKeys": ["a", "b"]})


def test_arn_operators_only_match_six_part_arns() -> None:
    assert not condition_holds({"ArnLike": {"aws:SourceArn": "x:y"}}, {"aws:SourceArn": "x:y"})


def test_multiple_keys_in_one_operator_are_anded() -> None:
    condition = {"StringEquals": {"aws:ResourceTag/team": "blue", "aws:ResourceTag/env": "prod"}}
    both = {"aws:ResourceTag/team": "blue", "aws:ResourceTag/env": "prod"}
    one = {"aws:ResourceTag/team": "blue", "aws:ResourceTag/env": "dev"}
    assert condition_holds(condition, both) is True
    assert condition_holds(condition, one) is False


def test_multiple_operators_are_anded() -> None:
    condition = {
        "Bool": {"aws:SecureTransport": "true"},
        "IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
    }
    assert condition_holds(condition, {"aws:SecureTransport": "true", "aws:SourceIp": "10.0.0.1"})
    assert not condition_holds(
        condition, {"aws:SecureTransport": "false", "aws:SourceIp": "10.0.0.1"}
    )


def test_condition_keys_are_case_insensitive() -> None:
    condition = {"IpAddress": {"AWS:SOURCEIP": "10.0.0.0/8"}}
    assert condition_holds(condition, {"aws:sourceip": "10.9.9.9"}) is True
    condition = {"StringEquals": {"ecr:resourcetag/Team": "blue"}}
    assert condition_holds(condition, {"ECR:ResourceTag/team": "blue"}) is True


def test_evaluator_fills_principal_keys_from_the_principal() -> None:
    caller = user("alice", tags={"Team": "blue"})
    condition = {
        "StringEquals": {
            "aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:user/alice",
            "aws:PrincipalAccount": ACCOUNT,
            "aws:PrincipalTag/team": "blue",
            "aws:username": "alice",
            "aws:PrincipalType": "User",
        }
    }
    assert identity_decision(allow(Condition=condition), request(principal=caller)).allowed
    other = user("bob", tags={"Team": "red"})
    assert not identity_decision(allow(Condition=condition), request(principal=other)).allowed


def test_principal_arn_of_an_assumed_role_session_is_the_role_arn() -> None:
    condition = {"ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/builder"}}
    assert identity_decision(allow(Condition=condition), request(principal=session())).allowed


def test_policy_variables_are_substituted_in_resources() -> None:
    statement = allow(Resource=f"arn:aws:ecr:*:{ACCOUNT}:repository/${{aws:username}}/*")
    mine = request(resource=f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/alice/app")
    theirs = request(resource=f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/bob/app")
    assert identity_decision(statement, mine).allowed is True
    assert identity_decision(statement, theirs).allowed is False


def test_unknown_policy_variables_do_not_crash_and_match_nothing() -> None:
    statement = allow(
        Resource="arn:aws:ecr:*:*:repository/${aws:nope}",
        Condition={"StringLike": {"aws:ResourceTag/owner": "${aws:alsonope}*"}},
    )
    decision = identity_decision(statement, request(context={"aws:ResourceTag/owner": "x"}))
    assert decision == Decision(False, "implicit_deny")


def test_policy_variables_default_value_and_literal_in_old_version() -> None:
    with_default = allow(Condition={"StringEquals": {"aws:ResourceTag/o": "${aws:nope, 'x'}"}})
    assert identity_decision(with_default, request(context={"aws:ResourceTag/o": "x"})).allowed
    old = parse_policy(
        document(
            allow(Condition={"StringEquals": {"aws:ResourceTag/o": "${aws:username}"}}),
            version="2008-10-17",
        )
    )
    literal = request(context={"aws:ResourceTag/o": "${aws:username}"})
    assert evaluate(literal, [old], []).allowed is True


# --------------------------------------------------------------------------- actions, resources


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        ("ecr:*", "ecr:PutImage", True),
        ("*", "ecr:PutImage", True),
        ("ecr:Batch*", "ecr:BatchGetImage", True),
        ("ecr:Batch*", "ecr:PutImage", False),
        ("ECR:putimage", "ecr:PutImage", True),
        ("ecr:?utImage", "ecr:PutImage", True),
        ("ecr:?utImage", "ecr:OutputImage", False),
        ("s3:*", "ecr:PutImage", False),
    ],
)
def test_action_matching_is_case_insensitive_with_wildcards(
    pattern: str, action: str, expected: bool
) -> None:
    assert identity_decision(allow(Action=pattern), request(action=action)).allowed is expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("*", True),
        (REPO, True),
        (f"arn:aws:ecr:*:{ACCOUNT}:repository/*", True),
        (f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/ap?", True),
        (f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/App", False),
        (f"arn:aws:ecr:us-east-1:{OTHER}:repository/*", False),
    ],
)
def test_resource_matching_is_case_sensitive_with_wildcards(pattern: str, expected: bool) -> None:
    assert identity_decision(allow(Resource=pattern)).allowed is expected


def test_notaction_matches_every_other_action() -> None:
    statement = {"Effect": "Allow", "NotAction": ["ecr:Delete*", "ecr:PutImage"], "Resource": "*"}
    assert identity_decision(statement, request(action="ecr:BatchGetImage")).allowed
    assert not identity_decision(statement, request(action="ecr:DeleteRepository")).allowed
    assert not identity_decision(statement, request(action="ecr:putimage")).allowed


def test_notresource_matches_every_other_resource() -> None:
    statement = {
        "Effect": "Allow",
        "Action": "ecr:*",
        "NotResource": f"arn:aws:ecr:*:{ACCOUNT}:repository/secret*",
    }
    assert identity_decision(statement).allowed
    secret = request(resource=f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/secret-app")
    assert not identity_decision(statement, secret).allowed


# --------------------------------------------------------------------------- principals


def repository_policy(principal: Any, **elements: Any) -> Policy:
    statement = repo_statement(Principal=principal, Action="ecr:*", **elements)
    return validate_repository_policy(document(statement))


@pytest.mark.parametrize(
    ("principal", "caller", "expected"),
    [
        pytest.param("*", user(account=OTHER), True, id="star"),
        pytest.param({"AWS": "*"}, session(account=OTHER), True, id="aws-star"),
        pytest.param({"AWS": OTHER}, user(account=OTHER), True, id="account-id-user"),
        pytest.param({"AWS": OTHER}, session(account=OTHER), True, id="account-id-session"),
        pytest.param({"AWS": OTHER}, user(account="999999999999"), False, id="account-other"),
        pytest.param(
            {"AWS": f"arn:aws:iam::{OTHER}:root"}, user(account=OTHER), True, id="root-arn-user"
        ),
        pytest.param(
            {"AWS": f"arn:aws:iam::{OTHER}:root"},
            IamPrincipal.for_root(OTHER),
            True,
            id="root-arn-root",
        ),
        pytest.param(
            {"AWS": f"arn:aws:iam::{OTHER}:user/alice"},
            user("alice", account=OTHER),
            True,
            id="user-exact",
        ),
        pytest.param(
            {"AWS": f"arn:aws:iam::{OTHER}:user/alice"},
            user("bob", account=OTHER),
            False,
            id="user-other",
        ),
        pytest.param(
            {"AWS": f"arn:aws:iam::{OTHER}:role/builder"},
            session("builder", account=OTHER),
            True,
            id="role-matches-its-sessions",
        ),
        pytest.param(
            {"AWS": f"arn:aws:iam::{OTHER}:role/builder"},
            session("deployer", account=OTHER),
            False,
            id="role-other-role-session",
        ),
        pytest.param(
            {"AWS": f"arn:aws:iam::{OTHER}:role/team/builder"},
            IamPrincipal.from_arn(
                f"arn:aws:sts::{OTHER}:assumed-role/builder/s1",
                role_arn=f"arn:aws:iam::{OTHER}:role/team/builder",
            ),
            True,
            id="role-with-path-given-role-arn",
        ),
        pytest.param(
            {"AWS": f"arn:aws:sts::{OTHER}:assumed-role/builder/s1"},
            session("builder", "s1", account=OTHER),
            True,
            id="session-exact",
        ),
        pytest.param(
            {"AWS": f"arn:aws:sts::{OTHER}:assumed-role/builder/s1"},
            session("builder", "s2", account=OTHER),
            False,
            id="session-other",
        ),
        pytest.param(
            {"Service": "replication.ecr.amazonaws.com"},
            IamPrincipal.for_service("replication.ecr.amazonaws.com"),
            True,
            id="service",
        ),
        pytest.param(
            {"Service": "replication.ecr.amazonaws.com"},
            IamPrincipal.for_service("codebuild.amazonaws.com"),
            False,
            id="service-other",
        ),
        pytest.param(
            {"AWS": OTHER},
            IamPrincipal.for_service("codebuild.amazonaws.com"),
            False,
            id="account-not-service",
        ),
        pytest.param(
            "*", IamPrincipal.for_service("codebuild.amazonaws.com"), True, id="star-service"
        ),
    ],
)
def test_resource_policy_principal_matching(
    principal: Any, caller: IamPrincipal, expected: bool
) -> None:
    # Cross-account callers with a full identity allow: the resource policy decides.
    identity = [parse_policy(MANAGED_POLICIES["AmazonEC2ContainerRegistryFullAccess"])]
    decision = evaluate(request(principal=caller), identity, [repository_policy(principal)])
    assert decision.allowed is expected


def test_notprincipal_deny_denies_everyone_but_the_listed_principals() -> None:
    text = document(
        {"Effect": "Allow", "Principal": "*", "Action": "ecr:*"},
        {
            "Sid": "OnlyAlice",
            "Effect": "Deny",
            "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/alice"},
            "Action": "ecr:PutImage",
        },
    )
    resource = [validate_repository_policy(text)]
    alice = evaluate(request("ecr:PutImage", user("alice")), [], resource)
    bob = evaluate(request("ecr:PutImage", user("bob")), [], resource)
    assert alice == Decision(True, "allowed")
    assert bob == Decision(False, "explicit_deny", "resource", "OnlyAlice")


def test_principal_element_is_ignored_in_identity_policies() -> None:
    statement = allow(Principal={"AWS": OTHER})
    assert identity_decision(statement).allowed is True


def test_resource_policy_statement_without_principal_matches_nobody() -> None:
    resource = [parse_policy(document({"Effect": "Allow", "Action": "ecr:*"}))]
    assert evaluate(request(), [], resource) == Decision(False, "implicit_deny")


# --------------------------------------------------------------------------- decisions

FULL = parse_policy(document(allow()))
ALLOW_ALL_RESOURCE = validate_repository_policy(document(repo_statement(Principal="*")))


def test_explicit_identity_deny_beats_allows_everywhere() -> None:
    denying = parse_policy(document(allow(), deny(Sid="NoPull", Action="ecr:BatchGetImage")))
    req = request()
    decision = evaluate(req, [denying], [ALLOW_ALL_RESOURCE])
    assert decision == Decision(False, "explicit_deny", "identity", "NoPull")
    assert decision.denial_message(req) == (
        f"User: arn:aws:iam::{ACCOUNT}:user/alice is not authorized to perform: "
        f"ecr:BatchGetImage on resource: {REPO} with an explicit deny in an identity-based policy"
    )


def test_explicit_resource_deny_beats_identity_allow() -> None:
    resource = validate_repository_policy(
        document(repo_statement(Effect="Deny", Principal={"AWS": ACCOUNT}, Action="ecr:*"))
    )
    req = request()
    decision = evaluate(req, [FULL], [resource])
    assert decision == Decision(False, "explicit_deny", "resource", "AllowPull")
    assert decision.denial_message(req).endswith("with an explicit deny in a resource-based policy")


def test_deny_statement_order_does_not_matter() -> None:
    denying = parse_policy(document(deny(), allow()))
    assert evaluate(request(), [denying], []).reason == "explicit_deny"


@pytest.mark.parametrize(
    ("identity", "resource", "expected"),
    [
        pytest.param([FULL], [], Decision(True, "allowed"), id="identity-allow"),
        pytest.param([], [ALLOW_ALL_RESOURCE], Decision(True, "allowed"), id="resource-allow"),
        pytest.param([], [], Decision(False, "implicit_deny"), id="nothing"),
    ],
)
def test_same_account_needs_an_allow_in_either_policy(
    identity: list[Policy], resource: list[Policy], expected: Decision
) -> None:
    assert evaluate(request(), identity, resource) == expected


@pytest.mark.parametrize(
    ("identity", "resource", "expected"),
    [
        pytest.param(
            [FULL], [], Decision(False, "no_resource_policy_cross_account"), id="identity-only"
        ),
        pytest.param(
            [], [ALLOW_ALL_RESOURCE], Decision(False, "implicit_deny"), id="resource-only"
        ),
        pytest.param([FULL], [ALLOW_ALL_RESOURCE], Decision(True, "allowed"), id="both"),
    ],
)
def test_cross_account_needs_both_identity_and_resource_allow(
    identity: list[Policy], resource: list[Policy], expected: Decision
) -> None:
    assert evaluate(request(principal=user(account=OTHER)), identity, resource) == expected


def test_cross_account_denial_message_names_the_missing_resource_policy() -> None:
    req = request("ecr:PutImage", user("bob", account=OTHER))
    decision = evaluate(req, [FULL], [])
    assert decision.denial_message(req) == (
        f"User: arn:aws:iam::{OTHER}:user/bob is not authorized to perform: ecr:PutImage "
        f"on resource: {REPO} because no resource-based policy allows the ecr:PutImage action"
    )
    assert decision.denial_message(req, with_reason=False) == (
        f"User: arn:aws:iam::{OTHER}:user/bob is not authorized to perform: ecr:PutImage "
        f"on resource: {REPO}"
    )


def test_allowed_decision_has_no_denial_message() -> None:
    req = request()
    assert evaluate(req, [FULL], []).denial_message(req) == ""


def test_same_account_root_is_allowed_without_policies_and_ignores_identity_denies() -> None:
    root = request(principal=IamPrincipal.for_root(ACCOUNT))
    assert evaluate(root, [], []) == Decision(True, "allowed")
    assert evaluate(root, [parse_policy(document(deny()))], []) == Decision(True, "allowed")


def test_same_account_root_is_denied_by_a_resource_policy_deny() -> None:
    resource = validate_repository_policy(
        document(repo_statement(Effect="Deny", Principal="*", Action="ecr:BatchGetImage"))
    )
    root = request(principal=IamPrincipal.for_root(ACCOUNT))
    assert evaluate(root, [], [resource]) == Decision(
        False, "explicit_deny", "resource", "AllowPull"
    )


def test_cross_account_root_needs_only_the_resource_policy() -> None:
    root = request(principal=IamPrincipal.for_root(OTHER))
    assert evaluate(root, [], [repository_policy({"AWS": OTHER})]) == Decision(True, "allowed")
    assert evaluate(root, [], []) == Decision(False, "no_resource_policy_cross_account")


def test_service_principal_needs_a_resource_policy_allow() -> None:
    service = request(principal=IamPrincipal.for_service("replication.ecr.amazonaws.com"))
    allowing = repository_policy({"Service": "replication.ecr.amazonaws.com"})
    assert evaluate(service, [FULL], []).allowed is False
    assert evaluate(service, [], [allowing]) == Decision(True, "allowed")


def test_resource_account_defaults_to_the_account_in_the_resource_arn() -> None:
    req = AuthzRequest("ecr:BatchGetImage", REPO, user(account=OTHER))
    assert req.effective_resource_account == ACCOUNT
    assert evaluate(req, [FULL], []).reason == "no_resource_policy_cross_account"
    same = AuthzRequest("ecr:BatchGetImage", REPO, user())
    assert evaluate(same, [FULL], []) == Decision(True, "allowed")


def test_conditions_apply_in_resource_policies() -> None:
    resource = repository_policy("*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})
    inside = request(principal=user(account=OTHER), context={"aws:SourceIp": "10.0.0.5"})
    outside = request(principal=user(account=OTHER), context={"aws:SourceIp": "192.0.2.5"})
    assert evaluate(inside, [FULL], [resource]).allowed is True
    assert evaluate(outside, [FULL], [resource]).allowed is False


@pytest.mark.parametrize(
    ("arn", "kind", "account", "role_arn"),
    [
        (f"arn:aws:iam::{ACCOUNT}:root", "root", ACCOUNT, None),
        (ACCOUNT, "root", ACCOUNT, None),
        (f"arn:aws:iam::{ACCOUNT}:user/a/b", "user", ACCOUNT, None),
        (f"arn:aws:iam::{ACCOUNT}:role/r", "role", ACCOUNT, None),
        (
            f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s",
            "assumed-role",
            ACCOUNT,
            f"arn:aws:iam::{ACCOUNT}:role/r",
        ),
        ("ecr.amazonaws.com", "service", "", None),
    ],
)
def test_principal_from_arn_derives_kind_account_and_role(
    arn: str, kind: str, account: str, role_arn: str | None
) -> None:
    principal = IamPrincipal.from_arn(arn)
    assert (principal.kind, principal.account_id, principal.role_arn) == (kind, account, role_arn)


def test_principal_from_arn_rejects_non_principal_arns() -> None:
    with pytest.raises(ValueError):
        IamPrincipal.from_arn(REPO)


# --------------------------------------------------------------------------- managed policies


def test_managed_policies_are_the_four_ecr_policies_and_parse() -> None:
    assert set(MANAGED_POLICIES) == {
        "AmazonEC2ContainerRegistryFullAccess",
        "AmazonEC2ContainerRegistryPowerUser",
        "AmazonEC2ContainerRegistryReadOnly",
        "AmazonEC2ContainerRegistryPullOnly",
    }
    for text in MANAGED_POLICIES.values():
        assert parse_policy(text).statements


@pytest.mark.parametrize(
    ("name", "action", "expected"),
    [
        ("AmazonEC2ContainerRegistryReadOnly", "ecr:BatchGetImage", True),
        ("AmazonEC2ContainerRegistryReadOnly", "ecr:GetAuthorizationToken", True),
        ("AmazonEC2ContainerRegistryReadOnly", "ecr:DescribeImageScanFindings", True),
        ("AmazonEC2ContainerRegistryReadOnly", "ecr:PutImage", False),
        ("AmazonEC2ContainerRegistryReadOnly", "ecr:InitiateLayerUpload", False),
        ("AmazonEC2ContainerRegistryPowerUser", "ecr:PutImage", True),
        ("AmazonEC2ContainerRegistryPowerUser", "ecr:CompleteLayerUpload", True),
        ("AmazonEC2ContainerRegistryPowerUser", "ecr:DeleteRepository", False),
        ("AmazonEC2ContainerRegistryPowerUser", "ecr:CreateRepository", False),
        ("AmazonEC2ContainerRegistryPowerUser", "ecr:BatchDeleteImage", False),
        ("AmazonEC2ContainerRegistryFullAccess", "ecr:DeleteRepository", True),
        ("AmazonEC2ContainerRegistryFullAccess", "ecr:SetRepositoryPolicy", True),
        ("AmazonEC2ContainerRegistryPullOnly", "ecr:BatchGetImage", True),
        ("AmazonEC2ContainerRegistryPullOnly", "ecr:GetDownloadUrlForLayer", True),
        ("AmazonEC2ContainerRegistryPullOnly", "ecr:BatchImportUpstreamImage", True),
        ("AmazonEC2ContainerRegistryPullOnly", "ecr:DescribeImages", False),
        ("AmazonEC2ContainerRegistryPullOnly", "ecr:PutImage", False),
    ],
)
def test_managed_policy_grants(name: str, action: str, expected: bool) -> None:
    managed = parse_policy(MANAGED_POLICIES[name])
    assert evaluate(request(action), [managed], []).allowed is expected


def test_public_names_are_exactly_the_documented_api() -> None:
    assert set(policy_module.__all__) == {
        "MANAGED_POLICIES",
        "AuthzRequest",
        "Condition",
        "Decision",
        "DecisionReason",
        "Policy",
        "PolicyParseError",
        "IamPrincipal",
        "PrincipalKind",
        "Statement",
        "evaluate",
        "parse_policy",
        "validate_registry_policy",
        "validate_repository_policy",
    }
    assert all(hasattr(policy_module, name) for name in policy_module.__all__)
