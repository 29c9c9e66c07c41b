"""The policies service: whether a repository policy would lock its own setter out."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from ecr_mock import Backend, Clock
from ecr_mock.domain.errors import (
    InvalidParameter,
    LifecyclePolicyNotFound,
    RegistryPolicyNotFound,
    RepositoryPolicyNotFound,
    ValidationFailed,
)
from ecr_mock.domain.iam_policy import parse_policy
from ecr_mock.domain.models import Principal, Registry, Repository
from ecr_mock.services import policies, settings
from ecr_mock.services.policies import policy_locks_out

ARN = "arn:aws:ecr:us-east-1:123456789012:repository/app"
WHEN = datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
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


def _root_policy(effect: str, action: str) -> str:
    return policy(effect, ROOT.arn, action)


LIFECYCLE = json.dumps(
    {
        "rules": [
            {
                "rulePriority": 1,
                "selection": {
                    "tagStatus": "tagged",
                    "tagPrefixList": ["old"],
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": 30,
                },
                "action": {"type": "expire"},
            }
        ]
    }
)


def test_repository_policy_is_set_read_and_deleted_once(
    ecr_backend: Backend, repo: Repository
) -> None:
    with pytest.raises(RepositoryPolicyNotFound):
        policies.get_repository_policy(ecr_backend, repo)
    text = _root_policy("Allow", "ecr:*")
    assert policies.set_repository_policy(ecr_backend, repo, text, ROOT) == text
    assert policies.get_repository_policy(ecr_backend, repo) == text
    assert policies.delete_repository_policy(ecr_backend, repo) == text
    with pytest.raises(RepositoryPolicyNotFound):
        policies.delete_repository_policy(ecr_backend, repo)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{}", "Invalid repository policy provided"),
        (" " * 10_241, "less than or equal to 10240"),
        (_root_policy("Deny", "ecr:SetRepositoryPolicy"), "set force to apply it anyway"),
    ],
    ids=["invalid", "too-long", "lockout"],
)
def test_repository_policy_refusals_change_nothing(
    ecr_backend: Backend, repo: Repository, text: str, message: str
) -> None:
    with pytest.raises(InvalidParameter, match=message):
        policies.set_repository_policy(ecr_backend, repo, text, ROOT)
    assert repo.policy_text is None


def test_a_forced_lockout_is_stored_and_the_lockout_check_names_the_public_action(
    ecr_backend: Backend, repo: Repository
) -> None:
    lockout = _root_policy("Deny", "ecr:SetRepositoryPolicy")
    assert policies.set_repository_policy(ecr_backend, repo, lockout, ROOT, force=True) == lockout
    with pytest.raises(InvalidParameter, match="set force"):
        policies.set_repository_policy(
            ecr_backend,
            repo,
            _root_policy("Deny", "ecr-public:SetRepositoryPolicy"),
            ROOT,
            resource_arn="arn:aws:ecr-public::123456789012:repository/app",
            action="ecr-public:SetRepositoryPolicy",
        )


def test_registry_policy_follows_the_registry_policy_scope(
    ecr_backend: Backend, reg: Registry
) -> None:
    with pytest.raises(RegistryPolicyNotFound):
        policies.get_registry_policy(ecr_backend, reg)
    any_ecr_action = _root_policy("Allow", "ecr:DescribeImages")
    assert policies.put_registry_policy(ecr_backend, reg, any_ecr_action) == any_ecr_action
    with pytest.raises(InvalidParameter, match="Invalid registry policy provided"):
        policies.put_registry_policy(ecr_backend, reg, _root_policy("Allow", "s3:GetObject"))
    settings.put_account_setting(ecr_backend, reg, settings.REGISTRY_POLICY_SCOPE, "V1")
    with pytest.raises(InvalidParameter, match="Invalid registry policy provided"):
        policies.put_registry_policy(ecr_backend, reg, any_ecr_action)
    v1 = _root_policy("Allow", "ecr:ReplicateImage")
    assert policies.put_registry_policy(ecr_backend, reg, v1) == v1
    with pytest.raises(ValidationFailed):
        policies.put_registry_policy(ecr_backend, reg, " " * 10_241)
    assert policies.delete_registry_policy(ecr_backend, reg) == v1
    assert reg.policy_text is None


def test_lifecycle_policy_is_validated_and_stamped_with_the_clock(
    ecr_backend: Backend, ecr_clock: Clock, repo: Repository
) -> None:
    ecr_clock.freeze(WHEN)
    with pytest.raises(LifecyclePolicyNotFound):
        policies.get_lifecycle_policy(ecr_backend, repo)
    with pytest.raises(InvalidParameter, match="Lifecycle policy validation failure"):
        policies.put_lifecycle_policy(ecr_backend, repo, "{}")
    assert policies.put_lifecycle_policy(ecr_backend, repo, LIFECYCLE) == LIFECYCLE
    assert policies.get_lifecycle_policy(ecr_backend, repo) == (LIFECYCLE, WHEN)
    assert policies.delete_lifecycle_policy(ecr_backend, repo) == (LIFECYCLE, WHEN)
    assert repo.lifecycle_policy_text is None and repo.lifecycle_updated_at is None
