"""TagResource, UntagResource and ListTagsForResource on repositories via boto3."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ecr_mock import Backend
from ecr_mock.protocols.ecr_api.dispatch import TARGET_PREFIX, handle
from tests.ecr_api.helpers import error

ACCOUNT = "123456789012"
REGION = "us-east-1"
ARN = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/team/app"

pytestmark = pytest.mark.ecr_seed({"repositories": [{"name": "team/app"}]})


def tags_of(client: Any, arn: str = ARN) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in client.list_tags_for_resource(resourceArn=arn)["tags"]}


def test_tag_resource_adds_and_overwrites(ecr_client: Any) -> None:
    ecr_client.tag_resource(resourceArn=ARN, tags=[{"Key": "a", "Value": "1"}])
    ecr_client.tag_resource(
        resourceArn=ARN, tags=[{"Key": "a", "Value": "2"}, {"Key": "b", "Value": ""}]
    )
    assert tags_of(ecr_client) == {"a": "2", "b": ""}


def test_untag_resource_removes_keys_and_ignores_absent_ones(ecr_client: Any) -> None:
    ecr_client.tag_resource(
        resourceArn=ARN, tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
    )
    ecr_client.untag_resource(resourceArn=ARN, tagKeys=["a", "never-there"])
    assert tags_of(ecr_client) == {"b": "2"}


def test_new_repository_lists_no_tags(ecr_client: Any) -> None:
    assert ecr_client.list_tags_for_resource(resourceArn=ARN)["tags"] == []


def test_fifty_tags_fit_and_the_fifty_first_is_refused(ecr_client: Any) -> None:
    ecr_client.tag_resource(
        resourceArn=ARN, tags=[{"Key": f"k{i}", "Value": "v"} for i in range(49)]
    )
    ecr_client.tag_resource(resourceArn=ARN, tags=[{"Key": "k49", "Value": "v"}])
    ecr_client.tag_resource(resourceArn=ARN, tags=[{"Key": "k0", "Value": "overwrite"}])
    with pytest.raises(ClientError) as exc:
        ecr_client.tag_resource(resourceArn=ARN, tags=[{"Key": "one-more", "Value": "v"}])
    assert error(exc)[0] == "TooManyTagsException"
    tags = tags_of(ecr_client)
    assert len(tags) == 50
    assert "one-more" not in tags


@pytest.mark.parametrize(
    "tag",
    [
        {"Key": "k" * 129, "Value": "v"},
        {"Key": "k", "Value": "v" * 257},
        {"Key": "aws:owner", "Value": "v"},
        {"Key": "AWS:owner", "Value": "v"},
    ],
)
def test_tag_resource_refuses_bad_tags_and_changes_nothing(
    ecr_client: Any, tag: dict[str, str]
) -> None:
    ecr_client.tag_resource(resourceArn=ARN, tags=[{"Key": "keep", "Value": "1"}])
    with pytest.raises(ClientError) as exc:
        ecr_client.tag_resource(resourceArn=ARN, tags=[{"Key": "new", "Value": "1"}, tag])
    assert error(exc)[0] == "InvalidTagParameterException"
    assert tags_of(ecr_client) == {"keep": "1"}


def test_longest_key_and_value_are_accepted(ecr_client: Any) -> None:
    ecr_client.tag_resource(resourceArn=ARN, tags=[{"Key": "k" * 128, "Value": "v" * 256}])
    assert tags_of(ecr_client) == {"k" * 128: "v" * 256}


def test_untag_resource_refuses_aws_prefixed_keys(ecr_client: Any) -> None:
    with pytest.raises(ClientError) as exc:
        ecr_client.untag_resource(resourceArn=ARN, tagKeys=["aws:cloudformation:stack-name"])
    assert error(exc)[0] == "InvalidTagParameterException"


@pytest.mark.parametrize(
    "arn",
    [
        "not-an-arn",
        "arn:aws:s3:::bucket",
        f"arn:aws:ecr:{REGION}:{ACCOUNT}:cluster/team/app",
        f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/team/app",
        f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/Bad_Name",
    ],
)
def test_malformed_or_foreign_arn_is_invalid_parameter(ecr_client: Any, arn: str) -> None:
    calls: list[tuple[str, dict[str, Any]]] = [
        ("tag_resource", {"tags": [{"Key": "a", "Value": "b"}]}),
        ("untag_resource", {"tagKeys": ["a"]}),
        ("list_tags_for_resource", {}),
    ]
    for method, extra in calls:
        with pytest.raises(ClientError) as exc:
            getattr(ecr_client, method)(resourceArn=arn, **extra)
        assert error(exc) == (
            "InvalidParameterException",
            "Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN'",
        )


def test_arn_of_missing_repository_raises_not_found(ecr_client: Any) -> None:
    arn = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/ghost"
    with pytest.raises(ClientError) as exc:
        ecr_client.list_tags_for_resource(resourceArn=arn)
    assert error(exc) == (
        "RepositoryNotFoundException",
        f"The repository with name 'ghost' does not exist in the registry with id '{ACCOUNT}'",
    )
    with pytest.raises(ClientError) as exc:
        ecr_client.tag_resource(resourceArn=arn, tags=[{"Key": "a", "Value": "b"}])
    assert error(exc)[0] == "RepositoryNotFoundException"


def test_tags_of_another_accounts_repository_need_its_policy(
    ecr_backend: Backend, ecr_client: Any
) -> None:
    other = "210987654321"
    reg = ecr_backend.registry(other, REGION)
    repo = ecr_backend.create_repository(reg, "shared", tags={"x": "y"})
    arn = f"arn:aws:ecr:{REGION}:{other}:repository/shared"
    with pytest.raises(ClientError) as exc:
        tags_of(ecr_client, arn)
    assert exc.value.response["Error"]["Code"] == "AccessDeniedException"
    repo.policy_text = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                    "Action": "ecr:ListTagsForResource",
                }
            ],
        }
    )
    assert tags_of(ecr_client, arn) == {"x": "y"}


def test_raw_tag_resource_with_long_key_is_refused(ecr_backend: Backend, ecr_client: Any) -> None:
    status, payload = handle(
        ecr_backend,
        TARGET_PREFIX + "TagResource",
        json.dumps({"resourceArn": ARN, "tags": [{"Key": "k" * 129, "Value": "v"}]}).encode(),
        {},
    )
    assert status == 400
    assert json.loads(payload)["__type"] == "InvalidTagParameterException"
    status, payload = handle(
        ecr_backend,
        TARGET_PREFIX + "ListTagsForResource",
        json.dumps({}).encode(),
        {},
    )
    assert status == 400
    assert json.loads(payload)["__type"] == "InvalidParameterException"
