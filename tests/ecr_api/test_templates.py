"""Repository creation templates through boto3, and their use by create-on-push over /v2/."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from werkzeug.test import Client

from ecr_mock.protocols.registry.app import RegistryApp, basic_auth_headers
from ecr_mock.services.backend import Backend
from ecr_mock.services.templates import create_on_push
from tests.ecr_api.helpers import error

ACCOUNT = "123456789012"
POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "pull",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
                "Action": ["ecr:BatchGetImage"],
            }
        ],
    }
)
LIFECYCLE = json.dumps(
    {
        "rules": [
            {
                "rulePriority": 1,
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": 14,
                },
                "action": {"type": "expire"},
            }
        ]
    }
)


def full_template(ecr: Any, prefix: str = "prod", **overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "prefix": prefix,
        "description": "production repositories",
        "appliedFor": ["CREATE_ON_PUSH", "REPLICATION"],
        "imageTagMutability": "IMMUTABLE_WITH_EXCLUSION",
        "imageTagMutabilityExclusionFilters": [{"filterType": "WILDCARD", "filter": "latest"}],
        "repositoryPolicy": POLICY,
        "lifecyclePolicy": LIFECYCLE,
        "encryptionConfiguration": {"encryptionType": "AES256"},
        "resourceTags": [{"Key": "team", "Value": "core"}],
        "customRoleArn": f"arn:aws:iam::{ACCOUNT}:role/ecr-templates",
    }
    params.update(overrides)
    answer: dict[str, Any] = ecr.create_repository_creation_template(**params)
    return answer


def test_create_echoes_every_setting_and_describe_lists_it(ecr_client: Any) -> None:
    created = full_template(ecr_client)
    template = created["repositoryCreationTemplate"]
    assert created["registryId"] == ACCOUNT
    assert template["prefix"] == "prod"
    assert template["appliedFor"] == ["CREATE_ON_PUSH", "REPLICATION"]
    assert template["imageTagMutability"] == "IMMUTABLE_WITH_EXCLUSION"
    assert template["repositoryPolicy"] == POLICY
    assert template["lifecyclePolicy"] == LIFECYCLE
    assert template["resourceTags"] == [{"Key": "team", "Value": "core"}]
    assert template["customRoleArn"].endswith(":role/ecr-templates")
    described = ecr_client.describe_repository_creation_templates()
    assert [t["prefix"] for t in described["repositoryCreationTemplates"]] == ["prod"]
    named = ecr_client.describe_repository_creation_templates(prefixes=["prod", "absent"])
    assert [t["prefix"] for t in named["repositoryCreationTemplates"]] == ["prod"]


def test_a_second_template_on_the_same_prefix_already_exists(ecr_client: Any) -> None:
    full_template(ecr_client)
    with pytest.raises(ClientError) as caught:
        full_template(ecr_client)
    assert error(caught)[0] == "TemplateAlreadyExistsException"


def test_update_replaces_given_settings_and_keeps_the_rest(ecr_client: Any) -> None:
    full_template(ecr_client)
    answer = ecr_client.update_repository_creation_template(
        prefix="prod", imageTagMutability="MUTABLE", appliedFor=["PULL_THROUGH_CACHE"]
    )
    template = answer["repositoryCreationTemplate"]
    assert template["imageTagMutability"] == "MUTABLE"
    assert "imageTagMutabilityExclusionFilters" not in template
    assert template["appliedFor"] == ["PULL_THROUGH_CACHE"]
    assert template["repositoryPolicy"] == POLICY
    assert template["updatedAt"] >= template["createdAt"]


def test_update_and_delete_of_a_missing_prefix_are_template_not_found(ecr_client: Any) -> None:
    with pytest.raises(ClientError) as caught:
        ecr_client.update_repository_creation_template(prefix="nope", description="x")
    assert error(caught)[0] == "TemplateNotFoundException"
    with pytest.raises(ClientError) as caught:
        ecr_client.delete_repository_creation_template(prefix="nope")
    assert error(caught)[0] == "TemplateNotFoundException"


def test_delete_returns_the_template_and_removes_it(ecr_client: Any) -> None:
    full_template(ecr_client, prefix="ROOT")
    deleted = ecr_client.delete_repository_creation_template(prefix="ROOT")
    assert deleted["repositoryCreationTemplate"]["prefix"] == "ROOT"
    assert ecr_client.describe_repository_creation_templates()["repositoryCreationTemplates"] == []


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"prefix": "Bad_Prefix"}, "ValidationException"),
        ({"appliedFor": ["SOMETIMES"]}, "ValidationException"),
        ({"appliedFor": []}, "InvalidParameterException"),
        ({"repositoryPolicy": '{"Statement": [{"Effect": "Allow"}]}'}, "InvalidParameterException"),
        ({"lifecyclePolicy": '{"rules": []}'}, "InvalidParameterException"),
        ({"customRoleArn": "not-a-role"}, "InvalidParameterException"),
        ({"imageTagMutabilityExclusionFilters": None}, "InvalidParameterException"),
        (
            {
                "encryptionConfiguration": {
                    "encryptionType": "AES256",
                    "kmsKey": "arn:aws:kms:us-east-1:123456789012:key/abc",
                }
            },
            "InvalidParameterException",
        ),
        ({"resourceTags": [{"Key": "aws:reserved", "Value": "x"}]}, "InvalidParameterException"),
    ],
)
def test_invalid_templates_are_refused(
    ecr_client: Any, overrides: dict[str, Any], expected: str
) -> None:
    params = dict(overrides)
    if params.get("imageTagMutabilityExclusionFilters", 1) is None:
        del params["imageTagMutabilityExclusionFilters"]
        full = {
            "prefix": "prod",
            "appliedFor": ["CREATE_ON_PUSH"],
            "imageTagMutability": "IMMUTABLE_WITH_EXCLUSION",
        }
        with pytest.raises(ClientError) as caught:
            ecr_client.create_repository_creation_template(**full)
    else:
        with pytest.raises(ClientError) as caught:
            full_template(ecr_client, **params)
    assert error(caught)[0] == expected
    assert ecr_client.describe_repository_creation_templates()["repositoryCreationTemplates"] == []


def test_create_on_push_applies_the_longest_matching_prefix(
    ecr_backend: Backend, ecr_client: Any
) -> None:
    full_template(ecr_client, prefix="prod")
    ecr_client.create_repository_creation_template(
        prefix="prod/team", appliedFor=["CREATE_ON_PUSH"], imageTagMutability="IMMUTABLE"
    )
    reg = ecr_backend.registry(ACCOUNT, "us-east-1")
    repo = create_on_push(ecr_backend, reg, "prod/team/api")
    assert repo is not None
    assert repo.tag_mutability == "IMMUTABLE"
    assert repo.policy_text is None
    other = create_on_push(ecr_backend, reg, "prod/web")
    assert other is not None
    assert other.tag_mutability == "IMMUTABLE_WITH_EXCLUSION"
    assert other.policy_text == POLICY
    assert other.lifecycle_policy_text == LIFECYCLE
    assert other.resource_tags == {"team": "core"}
    assert create_on_push(ecr_backend, reg, "dev/web") is None


def test_a_template_not_applied_for_create_on_push_creates_nothing(
    ecr_backend: Backend, ecr_client: Any
) -> None:
    full_template(ecr_client, prefix="ROOT", appliedFor=["REPLICATION"])
    assert (
        create_on_push(ecr_backend, ecr_backend.registry(ACCOUNT, "us-east-1"), "any/name") is None
    )


def test_a_v2_push_to_a_missing_repository_creates_it_when_a_template_allows(
    ecr_backend: Backend, ecr_client: Any
) -> None:
    ecr_client.create_repository_creation_template(
        prefix="auto", appliedFor=["CREATE_ON_PUSH"], resourceTags=[{"Key": "k", "Value": "v"}]
    )
    client = Client(RegistryApp(ecr_backend))
    headers = basic_auth_headers(ecr_backend, ACCOUNT, "us-east-1")
    base = f"https://{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
    refused = client.post("/v2/manual/app/blobs/uploads/", base_url=base, headers=headers)
    assert refused.status_code == 404
    assert json.loads(refused.get_data())["errors"][0]["code"] == "NAME_UNKNOWN"
    started = client.post("/v2/auto/app/blobs/uploads/", base_url=base, headers=headers)
    assert started.status_code == 202
    [repo] = ecr_client.describe_repositories(repositoryNames=["auto/app"])["repositories"]
    tags = ecr_client.list_tags_for_resource(resourceArn=repo["repositoryArn"])["tags"]
    assert tags == [{"Key": "k", "Value": "v"}]
