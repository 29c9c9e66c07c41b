"""The policies service: whether a repository policy would lock its own setter out."""

from __future__ import annotations

import json

import pytest

from ecr_mock.core.errors import (
    InvalidParameter,
    LifecyclePolicyNotFound,
    RegistryPolicyNotFound,
    RepositoryPolicyNotFound,
    ValidationFailed,
)
from ecr_mock.core.models import Principal
from ecr_mock.core.policy import parse_policy
from ecr_mock.core.services import Store, policies, repositories, settings
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


ACCOUNT = "123456789012"


def _policy(effect: str, action: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": effect, "Principal": {"AWS": ROOT.arn}, "Action": action}],
        }
    )


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


def test_repository_policy_is_set_read_and_deleted_once() -> None:
    store = Store(ACCOUNT)
    repo = repositories.create_repository(store, store.registry(), "app")
    with pytest.raises(RepositoryPolicyNotFound):
        policies.get_repository_policy(store, repo)
    text = _policy("Allow", "ecr:*")
    assert policies.set_repository_policy(store, repo, text, ROOT) == text
    assert policies.get_repository_policy(store, repo) == text
    assert policies.delete_repository_policy(store, repo) == text
    with pytest.raises(RepositoryPolicyNotFound):
        policies.delete_repository_policy(store, repo)


def test_repository_policy_refuses_bad_text_size_and_lockout_unless_forced() -> None:
    store = Store(ACCOUNT)
    repo = repositories.create_repository(store, store.registry(), "app")
    with pytest.raises(InvalidParameter, match="Invalid repository policy provided"):
        policies.set_repository_policy(store, repo, "{}", ROOT)
    with pytest.raises(InvalidParameter, match="less than or equal to 10240"):
        policies.set_repository_policy(store, repo, " " * 10_241, ROOT)
    lockout = _policy("Deny", "ecr:SetRepositoryPolicy")
    with pytest.raises(InvalidParameter, match="set force to apply it anyway"):
        policies.set_repository_policy(store, repo, lockout, ROOT)
    assert repo.policy_text is None
    assert policies.set_repository_policy(store, repo, lockout, ROOT, force=True) == lockout
    public_arn = "arn:aws:ecr-public::123456789012:repository/app"
    denied = _policy("Deny", "ecr-public:SetRepositoryPolicy")
    with pytest.raises(InvalidParameter, match="set force"):
        policies.set_repository_policy(
            store,
            repo,
            denied,
            ROOT,
            resource_arn=public_arn,
            action="ecr-public:SetRepositoryPolicy",
        )


def test_registry_policy_follows_the_registry_policy_scope() -> None:
    store = Store(ACCOUNT)
    reg = store.registry()
    with pytest.raises(RegistryPolicyNotFound):
        policies.get_registry_policy(store, reg)
    v2_only = _policy("Allow", "ecr:DescribeImages")
    assert policies.put_registry_policy(store, reg, v2_only) == v2_only
    with pytest.raises(InvalidParameter, match="Invalid registry policy provided"):
        policies.put_registry_policy(store, reg, _policy("Allow", "s3:GetObject"))
    settings.put_account_setting(store, reg, settings.REGISTRY_POLICY_SCOPE, "V1")
    with pytest.raises(InvalidParameter, match="Invalid registry policy provided"):
        policies.put_registry_policy(store, reg, v2_only)
    v1 = _policy("Allow", "ecr:ReplicateImage")
    assert policies.put_registry_policy(store, reg, v1) == v1
    with pytest.raises(ValidationFailed):
        policies.put_registry_policy(store, reg, " " * 10_241)
    assert policies.delete_registry_policy(store, reg) == v1
    assert reg.policy_text is None


def test_lifecycle_policy_is_validated_and_stamped_with_the_store_clock() -> None:
    store = Store(ACCOUNT)
    store.clock.freeze()
    repo = repositories.create_repository(store, store.registry(), "app")
    with pytest.raises(LifecyclePolicyNotFound):
        policies.get_lifecycle_policy(store, repo)
    with pytest.raises(InvalidParameter, match="Lifecycle policy validation failure"):
        policies.put_lifecycle_policy(store, repo, "{}")
    assert policies.put_lifecycle_policy(store, repo, LIFECYCLE) == LIFECYCLE
    assert policies.get_lifecycle_policy(store, repo) == (LIFECYCLE, store.now())
    assert policies.delete_lifecycle_policy(store, repo) == (LIFECYCLE, store.now())
    assert repo.lifecycle_policy_text is None and repo.lifecycle_updated_at is None
