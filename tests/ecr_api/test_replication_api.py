"""Replication through boto3: PutReplicationConfiguration, DescribeRegistry, replication status."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from ecr_mock.services.backend import Backend
from tests.ecr_api.helpers import config_blob, error, image_manifest, upload_layer
from tests.ecr_api.model_check import service_model

ACCOUNT = "123456789012"


def client(region: str = "us-east-1") -> Any:
    return boto3.client("ecr", region_name=region)


def push(ecr: Any, name: str, tag: str, seed: str = "a") -> str:
    config = upload_layer(ecr, name, config_blob(seed))
    del config
    layer = f"layer-{seed}".encode()
    upload_layer(ecr, name, layer)
    manifest = image_manifest(config_blob(seed), [layer])
    answer = ecr.put_image(repositoryName=name, imageManifest=manifest, imageTag=tag)
    digest: str = answer["image"]["imageId"]["imageDigest"]
    return digest


def test_put_replication_configuration_echoes_and_describe_registry_shows_it(
    ecr_backend: Backend,
) -> None:
    ecr = client()
    config = {
        "rules": [
            {
                "destinations": [{"region": "us-west-2", "registryId": ACCOUNT}],
                "repositoryFilters": [{"filter": "prod", "filterType": "PREFIX_MATCH"}],
            }
        ]
    }
    answer = ecr.put_replication_configuration(replicationConfiguration=config)
    assert answer["replicationConfiguration"] == config
    described = ecr.describe_registry()
    assert described["registryId"] == ACCOUNT
    assert described["replicationConfiguration"] == config


def test_an_empty_rule_list_turns_replication_off(ecr_backend: Backend) -> None:
    ecr = client()
    ecr.put_replication_configuration(
        replicationConfiguration={
            "rules": [{"destinations": [{"region": "us-west-2", "registryId": ACCOUNT}]}]
        }
    )
    ecr.put_replication_configuration(replicationConfiguration={"rules": []})
    ecr.create_repository(repositoryName="app")
    push(ecr, "app", "v1")
    assert client("us-west-2").describe_repositories()["repositories"] == []


def test_more_rules_than_the_model_allows_fail_model_validation(ecr_backend: Backend) -> None:
    most = service_model().shape_for("ReplicationRuleList").metadata["max"]
    rule = {"destinations": [{"region": "us-west-2", "registryId": ACCOUNT}]}
    with pytest.raises(ClientError) as caught:
        client().put_replication_configuration(
            replicationConfiguration={"rules": [rule] * (most + 1)}
        )
    assert error(caught)[0] == "ValidationException"


def test_replicating_to_the_source_registry_is_an_invalid_parameter(ecr_backend: Backend) -> None:
    rule = {"destinations": [{"region": "us-east-1", "registryId": ACCOUNT}]}
    with pytest.raises(ClientError) as caught:
        client().put_replication_configuration(replicationConfiguration={"rules": [rule]})
    assert error(caught)[0] == "InvalidParameterException"


def test_a_pushed_image_appears_in_the_destination_region_with_complete_status(
    ecr_backend: Backend,
) -> None:
    ecr = client()
    ecr.put_replication_configuration(
        replicationConfiguration={
            "rules": [{"destinations": [{"region": "eu-west-1", "registryId": ACCOUNT}]}]
        }
    )
    ecr.create_repository(repositoryName="web")
    digest = push(ecr, "web", "v1")
    eu = client("eu-west-1")
    [detail] = eu.describe_images(repositoryName="web")["imageDetails"]
    assert detail["imageDigest"] == digest
    assert detail["imageTags"] == ["v1"]
    got = eu.batch_get_image(repositoryName="web", imageIds=[{"imageTag": "v1"}])
    assert json.loads(got["images"][0]["imageManifest"])["schemaVersion"] == 2
    status = ecr.describe_image_replication_status(repositoryName="web", imageId={"imageTag": "v1"})
    assert status["imageId"] == {"imageDigest": digest, "imageTag": "v1"}
    assert status["replicationStatuses"] == [
        {"region": "eu-west-1", "registryId": ACCOUNT, "status": "COMPLETE"}
    ]


def test_cross_account_failure_is_reported_with_a_failure_code(ecr_backend: Backend) -> None:
    ecr = client()
    other = "210987654321"
    ecr.put_replication_configuration(
        replicationConfiguration={
            "rules": [{"destinations": [{"region": "us-east-1", "registryId": other}]}]
        }
    )
    ecr.create_repository(repositoryName="web")
    push(ecr, "web", "v1")
    [status] = ecr.describe_image_replication_status(
        repositoryName="web", imageId={"imageTag": "v1"}
    )["replicationStatuses"]
    assert status["status"] == "FAILED"
    assert status["registryId"] == other
    assert "ecr:ReplicateImage" in status["failureCode"]
    assert ecr_backend.registry(other, "us-east-1").repositories == {}


def test_cross_account_with_a_registry_policy_replicates(ecr_backend: Backend) -> None:
    other = "210987654321"
    ecr_backend.add_access_key("AKIAOTHERACCOUNT0001", other)
    other_ecr = boto3.client(
        "ecr",
        region_name="us-east-1",
        aws_access_key_id="AKIAOTHERACCOUNT0001",
        aws_secret_access_key="x",
    )
    other_ecr.put_registry_policy(
        policyText=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                        "Action": ["ecr:ReplicateImage", "ecr:CreateRepository"],
                        "Resource": f"arn:aws:ecr:us-east-1:{other}:repository/*",
                    }
                ],
            }
        )
    )
    ecr = client()
    ecr.put_replication_configuration(
        replicationConfiguration={
            "rules": [{"destinations": [{"region": "us-east-1", "registryId": other}]}]
        }
    )
    ecr.create_repository(repositoryName="web")
    digest = push(ecr, "web", "v1")
    images = other_ecr.list_images(repositoryName="web")["imageIds"]
    assert images == [{"imageDigest": digest, "imageTag": "v1"}]


def test_status_of_an_unknown_image_is_image_not_found(ecr_backend: Backend) -> None:
    ecr = client()
    ecr.create_repository(repositoryName="web")
    with pytest.raises(ClientError) as caught:
        ecr.describe_image_replication_status(repositoryName="web", imageId={"imageTag": "nope"})
    assert error(caught)[0] == "ImageNotFoundException"


def test_status_in_an_unknown_repository_is_repository_not_found(ecr_backend: Backend) -> None:
    with pytest.raises(ClientError) as caught:
        client().describe_image_replication_status(
            repositoryName="missing", imageId={"imageTag": "v1"}
        )
    assert error(caught)[0] == "RepositoryNotFoundException"


def test_an_image_not_under_any_rule_has_no_statuses(ecr_backend: Backend) -> None:
    ecr = client()
    ecr.create_repository(repositoryName="web")
    push(ecr, "web", "v1")
    answer = ecr.describe_image_replication_status(repositoryName="web", imageId={"imageTag": "v1"})
    assert answer["replicationStatuses"] == []
