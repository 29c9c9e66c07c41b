"""Repository, registry and lifecycle policies and DescribeRegistry via boto3."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from ecr_mock import Backend
from ecr_mock.protocols.ecr_api.dispatch import TARGET_PREFIX, handle
from tests.ecr_api.helpers import error

ACCOUNT = "123456789012"
REGION = "us-east-1"
FROZEN = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)

pytestmark = [
    pytest.mark.ecr_seed({"repositories": [{"name": "app"}]}),
    pytest.mark.frozen_at(FROZEN),
]
INVALID_REPOSITORY_POLICY = (
    "Invalid parameter at 'PolicyText' failed to satisfy constraint: "
    "'Invalid repository policy provided'"
)
PULL_POLICY = (
    '{\n  "Version": "2012-10-17",\n  "Statement": [ {"Sid": "pull", "Effect": "Allow",'
    ' "Principal": {"AWS": "arn:aws:iam::210987654321:root"},'
    ' "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]} ]\n}'
)
LIFECYCLE = json.dumps(
    {
        "rules": [
            {
                "rulePriority": 1,
                "description": "keep ten",
                "selection": {
                    "tagStatus": "any",
                    "countType": "imageCountMoreThan",
                    "countNumber": 10,
                },
                "action": {"type": "expire"},
            }
        ]
    }
)


def raw(backend: Backend, name: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    status, payload = handle(backend, TARGET_PREFIX + name, json.dumps(body).encode(), {})
    return status, json.loads(payload)


# ----- repository policy -----------------------------------------------------------------------


def test_set_repository_policy_returns_and_keeps_text_verbatim(ecr_client: Any) -> None:
    result = ecr_client.set_repository_policy(repositoryName="app", policyText=PULL_POLICY)
    assert (result["registryId"], result["repositoryName"], result["policyText"]) == (
        ACCOUNT,
        "app",
        PULL_POLICY,
    )
    got = ecr_client.get_repository_policy(repositoryName="app")
    assert (got["registryId"], got["repositoryName"], got["policyText"]) == (
        ACCOUNT,
        "app",
        PULL_POLICY,
    )


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "{}",
        json.dumps({"Statement": [{"Effect": "Allow", "Action": "ecr:*"}]}),
        json.dumps(
            {
                "Statement": [
                    {"Effect": "Allow", "Principal": "*", "Action": "ecr:*", "Resource": "*"}
                ]
            }
        ),
        json.dumps(
            {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "nobody"}, "Action": "ecr:*"}]}
        ),
    ],
)
def test_set_repository_policy_refuses_invalid_policy_and_keeps_the_old_one(
    ecr_client: Any, text: str
) -> None:
    ecr_client.set_repository_policy(repositoryName="app", policyText=PULL_POLICY)
    with pytest.raises(ClientError) as exc:
        ecr_client.set_repository_policy(repositoryName="app", policyText=text)
    assert error(exc) == ("InvalidParameterException", INVALID_REPOSITORY_POLICY)
    assert ecr_client.get_repository_policy(repositoryName="app")["policyText"] == PULL_POLICY


def test_set_repository_policy_accepts_10240_characters_and_refuses_more(ecr_client: Any) -> None:
    exact = PULL_POLICY + " " * (10_240 - len(PULL_POLICY))
    ecr_client.set_repository_policy(repositoryName="app", policyText=exact)
    assert ecr_client.get_repository_policy(repositoryName="app")["policyText"] == exact
    with pytest.raises(ClientError) as exc:
        ecr_client.set_repository_policy(repositoryName="app", policyText=exact + " ")
    assert error(exc)[0] == "InvalidParameterException"
    assert ecr_client.get_repository_policy(repositoryName="app")["policyText"] == exact


def test_set_repository_policy_that_locks_the_caller_out_needs_force(ecr_client: Any) -> None:
    lockout = json.dumps({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "ecr:*"}]})
    ecr_client.set_repository_policy(repositoryName="app", policyText=PULL_POLICY)
    with pytest.raises(ClientError) as exc:
        ecr_client.set_repository_policy(repositoryName="app", policyText=lockout)
    assert error(exc)[0] == "InvalidParameterException"
    assert ecr_client.get_repository_policy(repositoryName="app")["policyText"] == PULL_POLICY
    ecr_client.set_repository_policy(repositoryName="app", policyText=lockout, force=True)
    assert ecr_client.get_repository_policy(repositoryName="app")["policyText"] == lockout


def test_deny_of_other_actions_does_not_need_force(ecr_client: Any) -> None:
    text = json.dumps(
        {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "ecr:DeleteRepository"}]}
    )
    ecr_client.set_repository_policy(repositoryName="app", policyText=text)
    assert ecr_client.get_repository_policy(repositoryName="app")["policyText"] == text


def test_get_repository_policy_without_one_raises_not_found(ecr_client: Any) -> None:
    with pytest.raises(ClientError) as exc:
        ecr_client.get_repository_policy(repositoryName="app")
    assert error(exc) == (
        "RepositoryPolicyNotFoundException",
        "Repository policy does not exist for the repository with name 'app' in the registry "
        f"with id '{ACCOUNT}'",
    )


def test_delete_repository_policy_returns_the_deleted_text(ecr_client: Any) -> None:
    ecr_client.set_repository_policy(repositoryName="app", policyText=PULL_POLICY)
    deleted = ecr_client.delete_repository_policy(repositoryName="app")
    assert deleted["policyText"] == PULL_POLICY
    with pytest.raises(ClientError) as exc:
        ecr_client.get_repository_policy(repositoryName="app")
    assert error(exc)[0] == "RepositoryPolicyNotFoundException"
    with pytest.raises(ClientError) as exc:
        ecr_client.delete_repository_policy(repositoryName="app")
    assert error(exc)[0] == "RepositoryPolicyNotFoundException"


@pytest.mark.parametrize(
    ("method", "extra"),
    [
        ("set_repository_policy", {"policyText": PULL_POLICY}),
        ("get_repository_policy", {}),
        ("delete_repository_policy", {}),
        ("put_lifecycle_policy", {"lifecyclePolicyText": LIFECYCLE}),
        ("get_lifecycle_policy", {}),
        ("delete_lifecycle_policy", {}),
    ],
)
def test_policy_operations_on_missing_repository_raise_not_found(
    ecr_client: Any, method: str, extra: dict[str, str]
) -> None:
    with pytest.raises(ClientError) as exc:
        getattr(ecr_client, method)(repositoryName="ghost", **extra)
    assert error(exc)[0] == "RepositoryNotFoundException"


def test_set_repository_policy_raw_without_policy_text_is_refused(ecr_backend: Backend) -> None:
    status, body = raw(ecr_backend, "SetRepositoryPolicy", {"repositoryName": "app"})
    assert (status, body["__type"]) == (400, "InvalidParameterException")
    status, body = raw(
        ecr_backend, "SetRepositoryPolicy", {"repositoryName": "app", "policyText": "x" * 10_241}
    )
    assert (status, body["__type"]) == (400, "InvalidParameterException")


# ----- registry policy and DescribeRegistry ----------------------------------------------------


REGISTRY_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "replicate",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
                "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
                "Resource": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/*",
            }
        ],
    }
)


def test_registry_policy_put_get_delete(ecr_client: Any) -> None:
    put = ecr_client.put_registry_policy(policyText=REGISTRY_POLICY)
    assert (put["registryId"], put["policyText"]) == (ACCOUNT, REGISTRY_POLICY)
    got = ecr_client.get_registry_policy()
    assert (got["registryId"], got["policyText"]) == (ACCOUNT, REGISTRY_POLICY)
    deleted = ecr_client.delete_registry_policy()
    assert deleted["policyText"] == REGISTRY_POLICY
    with pytest.raises(ClientError) as exc:
        ecr_client.get_registry_policy()
    assert error(exc) == (
        "RegistryPolicyNotFoundException",
        f"Registry policy does not exist in the registry with id '{ACCOUNT}'",
    )
    with pytest.raises(ClientError) as exc:
        ecr_client.delete_registry_policy()
    assert error(exc)[0] == "RegistryPolicyNotFoundException"


def test_put_registry_policy_refuses_invalid_policy_and_keeps_the_old_one(ecr_client: Any) -> None:
    ecr_client.put_registry_policy(policyText=REGISTRY_POLICY)
    bad = json.dumps({"Statement": [{"Effect": "Allow", "Action": "ecr:*"}]})
    with pytest.raises(ClientError) as exc:
        ecr_client.put_registry_policy(policyText=bad)
    assert error(exc) == (
        "InvalidParameterException",
        "Invalid parameter at 'PolicyText' failed to satisfy constraint: "
        "'Invalid registry policy provided'",
    )
    assert ecr_client.get_registry_policy()["policyText"] == REGISTRY_POLICY


def test_registry_policy_scope_v1_allows_only_replication_actions(
    ecr_backend: Backend, ecr_client: Any
) -> None:
    ecr_backend.registry(ACCOUNT, REGION).settings["REGISTRY_POLICY_SCOPE"] = "V1"
    ecr_client.put_registry_policy(policyText=REGISTRY_POLICY)
    wide = json.dumps(
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "ecr:BatchGetImage",
                    "Resource": "*",
                }
            ]
        }
    )
    with pytest.raises(ClientError) as exc:
        ecr_client.put_registry_policy(policyText=wide)
    assert error(exc)[0] == "InvalidParameterException"


def test_registry_policy_is_per_region(ecr_client: Any) -> None:
    ecr_client.put_registry_policy(policyText=REGISTRY_POLICY)
    other = boto3.client("ecr", region_name="eu-west-1")
    with pytest.raises(ClientError) as exc:
        other.get_registry_policy()
    assert error(exc)[0] == "RegistryPolicyNotFoundException"


def test_describe_registry_reports_id_and_replication_rules(
    ecr_backend: Backend, ecr_client: Any
) -> None:
    described = ecr_client.describe_registry()
    assert described["registryId"] == ACCOUNT
    assert described["replicationConfiguration"] == {"rules": []}
    rule = {"destinations": [{"region": "eu-west-1", "registryId": ACCOUNT}]}
    ecr_backend.registry(ACCOUNT, REGION).replication_rules.append(rule)
    assert ecr_client.describe_registry()["replicationConfiguration"] == {"rules": [rule]}


# ----- lifecycle policy ------------------------------------------------------------------------


def test_lifecycle_policy_put_get_delete(ecr_backend: Backend, ecr_client: Any) -> None:
    put = ecr_client.put_lifecycle_policy(repositoryName="app", lifecyclePolicyText=LIFECYCLE)
    assert (put["registryId"], put["repositoryName"], put["lifecyclePolicyText"]) == (
        ACCOUNT,
        "app",
        LIFECYCLE,
    )
    ecr_backend.clock.advance(timedelta(hours=1))
    got = ecr_client.get_lifecycle_policy(repositoryName="app")
    assert got["lifecyclePolicyText"] == LIFECYCLE
    assert got["lastEvaluatedAt"] == FROZEN
    deleted = ecr_client.delete_lifecycle_policy(repositoryName="app")
    assert deleted["lifecyclePolicyText"] == LIFECYCLE
    assert deleted["lastEvaluatedAt"] == FROZEN
    with pytest.raises(ClientError) as exc:
        ecr_client.get_lifecycle_policy(repositoryName="app")
    assert error(exc) == (
        "LifecyclePolicyNotFoundException",
        "Lifecycle policy does not exist for the repository with name 'app' in the registry "
        f"with id '{ACCOUNT}'",
    )
    with pytest.raises(ClientError) as exc:
        ecr_client.delete_lifecycle_policy(repositoryName="app")
    assert error(exc)[0] == "LifecyclePolicyNotFoundException"


def test_put_lifecycle_policy_refuses_invalid_policy_and_keeps_the_old_one(ecr_client: Any) -> None:
    ecr_client.put_lifecycle_policy(repositoryName="app", lifecyclePolicyText=LIFECYCLE)
    bad = json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "selection": {
                        "tagStatus": "tagged",
                        "countType": "imageCountMoreThan",
                        "countNumber": 1,
                    },
                    "action": {"type": "expire"},
                }
            ]
        }
    )
    with pytest.raises(ClientError) as exc:
        ecr_client.put_lifecycle_policy(repositoryName="app", lifecyclePolicyText=bad)
    assert error(exc) == (
        "InvalidParameterException",
        "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle "
        "policy validation failure: Must specify tagPrefixList or tagPatternList when "
        "tagStatus=TAGGED.'",
    )
    assert ecr_client.get_lifecycle_policy(repositoryName="app")["lifecyclePolicyText"] == LIFECYCLE


def test_put_lifecycle_policy_raw_too_short_text_is_refused(ecr_backend: Backend) -> None:
    status, body = raw(
        ecr_backend, "PutLifecyclePolicy", {"repositoryName": "app", "lifecyclePolicyText": "{}"}
    )
    assert status == 400
    assert body["__type"] in ("InvalidParameterException", "ValidationException")
