"""The policies service: whether a repository policy would lock its own setter out."""

from __future__ import annotations

import json

import pytest

from ecr_mock.core.models import Principal
from ecr_mock.core.policy import parse_policy
from ecr_mock.core.services.policies import policy_locks_out

ARN = "arn:aws:ecr:us-east-1:123456789012:repository/app"
ROOT = Principal.root("123456789012")
ADMIN = Principal(
    arn="arn:aws:iam::123456789012:user/admin", account_id="123456789012", kind="user"
)


def policy(effect: str, principal: str, action: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": effect, "Principal": {"AWS": principal}, "Action": action}],
        }
    )


@pytest.mark.parametrize(
    ("text", "caller", "locked"),
    [
        (policy("Deny", "*", "ecr:SetRepositoryPolicy"), ROOT, True),
        (policy("Deny", "*", "ecr:*"), ADMIN, True),
        (policy("Deny", ADMIN.arn, "ecr:SetRepositoryPolicy"), ADMIN, True),
        (policy("Deny", ADMIN.arn, "ecr:SetRepositoryPolicy"), ROOT, False),
        (policy("Deny", "*", "ecr:BatchGetImage"), ADMIN, False),
        (policy("Allow", "*", "ecr:*"), ADMIN, False),
    ],
)
def test_only_an_explicit_deny_of_the_action_to_the_caller_locks_out(
    text: str, caller: Principal, locked: bool
) -> None:
    assert policy_locks_out(parse_policy(text), caller, ARN, "ecr:SetRepositoryPolicy") is locked
