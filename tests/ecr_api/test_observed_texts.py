"""Answers whose exact text or value was observed on the real ECR (or in moto's ECR tests)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.ecr_api.helpers import error

ACCOUNT = "123456789012"
REGION = "us-east-1"

pytestmark = pytest.mark.ecr_seed({"repositories": [{"name": "app"}]})
MUTABILITY_MESSAGE = (
    "Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member must "
    "satisfy enum value set: [IMMUTABLE, MUTABLE, MUTABLE_WITH_EXCLUSION, "
    "IMMUTABLE_WITH_EXCLUSION]'"
)
REGISTRY_ID_MESSAGE = (
    "Invalid parameter at 'registryId' failed to satisfy constraint: 'must satisfy regular "
    "expression [0-9]{12}'"
)
INVALID_REGISTRY_POLICY = (
    "Invalid parameter at 'PolicyText' failed to satisfy constraint: "
    "'Invalid registry policy provided'"
)


# ----- enum order -----------------------------------------------------------------------------


def test_invalid_tag_mutability_lists_values_in_the_order_ecr_prints(ecr_client: Any) -> None:
    with pytest.raises(ClientError) as put:
        ecr_client.put_image_tag_mutability(repositoryName="app", imageTagMutability="FROZEN")
    with pytest.raises(ClientError) as create:
        ecr_client.create_repository(repositoryName="other", imageTagMutability="FROZEN")
    assert error(put) == ("InvalidParameterException", MUTABILITY_MESSAGE)
    assert error(create) == ("InvalidParameterException", MUTABILITY_MESSAGE)
    assert ecr_client.describe_repositories()["repositories"][0]["imageTagMutability"] == "MUTABLE"


# ----- resource ARNs --------------------------------------------------------------------------


@pytest.mark.parametrize("arn", ["invalid", "arn:aws:ecr:us-east-1:123456789012:cluster/app"])
def test_tag_operations_refuse_a_malformed_arn_with_ecrs_text(ecr_client: Any, arn: str) -> None:
    calls: list[tuple[str, dict[str, Any]]] = [
        ("list_tags_for_resource", {}),
        ("tag_resource", {"tags": [{"Key": "a", "Value": "b"}]}),
        ("untag_resource", {"tagKeys": ["a"]}),
    ]
    for method, extra in calls:
        with pytest.raises(ClientError) as caught:
            getattr(ecr_client, method)(resourceArn=arn, **extra)
        assert error(caught) == (
            "InvalidParameterException",
            "Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN'",
        )


# ----- PutImage media type --------------------------------------------------------------------


def _manifest_without_media_type(client: Any) -> dict[str, Any]:
    from tests.ecr_api.helpers import config_blob, upload_layer

    config = config_blob("no-media-type")
    layer = b"layer bytes for a manifest without mediaType"
    return {
        "schemaVersion": 2,
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": len(config),
            "digest": upload_layer(client, "app", config),
        },
        "layers": [
            {
                "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "size": len(layer),
                "digest": upload_layer(client, "app", layer),
            }
        ],
    }


def test_put_image_without_any_media_type_is_refused(ecr_client: Any) -> None:
    manifest = _manifest_without_media_type(ecr_client)
    with pytest.raises(ClientError) as caught:
        ecr_client.put_image(
            repositoryName="app", imageManifest=json.dumps(manifest), imageTag="v1"
        )
    assert error(caught) == (
        "InvalidParameterException",
        "image manifest mediatype not provided in manifest or parameter",
    )
    assert ecr_client.list_images(repositoryName="app")["imageIds"] == []


def test_put_image_takes_the_media_type_from_the_parameter(ecr_client: Any) -> None:
    manifest = _manifest_without_media_type(ecr_client)
    media_type = "application/vnd.docker.distribution.manifest.v2+json"
    image = ecr_client.put_image(
        repositoryName="app",
        imageManifest=json.dumps(manifest),
        imageManifestMediaType=media_type,
        imageTag="v1",
    )["image"]
    assert image["imageManifestMediaType"] == media_type
    assert image["imageId"]["imageTag"] == "v1"


# ----- replication ----------------------------------------------------------------------------


def test_replication_to_its_own_registry_is_refused_with_ecrs_text(ecr_client: Any) -> None:
    with pytest.raises(ClientError) as caught:
        ecr_client.put_replication_configuration(
            replicationConfiguration={
                "rules": [{"destinations": [{"region": REGION, "registryId": ACCOUNT}]}]
            }
        )
    assert error(caught) == (
        "InvalidParameterException",
        "Invalid parameter at 'replicationConfiguration' failed to satisfy constraint: "
        "'Replication destination cannot be the same as the source registry'",
    )
    assert ecr_client.describe_registry()["replicationConfiguration"] == {"rules": []}


# ----- repository scanning configuration ------------------------------------------------------


def test_scanning_configuration_of_a_missing_repository_is_a_failure(ecr_client: Any) -> None:
    answer = ecr_client.batch_get_repository_scanning_configuration(
        repositoryNames=["app", "ghost"]
    )
    assert [item["repositoryName"] for item in answer["scanningConfigurations"]] == ["app"]
    assert answer["failures"] == [
        {
            "repositoryName": "ghost",
            "failureCode": "REPOSITORY_NOT_FOUND",
            "failureReason": "REPOSITORY_NOT_FOUND",
        }
    ]


@pytest.mark.parametrize("frequency", ["CONTINUOUS_SCAN", "SCAN_ON_PUSH"])
def test_scan_on_push_reports_the_repository_setting_under_enhanced_rules(
    ecr_client: Any, frequency: str
) -> None:
    ecr_client.create_repository(
        repositoryName="pushed", imageScanningConfiguration={"scanOnPush": True}
    )
    ecr_client.put_registry_scanning_configuration(
        scanType="ENHANCED",
        rules=[
            {
                "scanFrequency": frequency,
                "repositoryFilters": [{"filter": "*", "filterType": "WILDCARD"}],
            }
        ],
    )
    answer = ecr_client.batch_get_repository_scanning_configuration(
        repositoryNames=["app", "pushed"]
    )
    found = {item["repositoryName"]: item for item in answer["scanningConfigurations"]}
    assert found["app"]["scanFrequency"] == frequency
    assert found["app"]["scanOnPush"] is False
    assert found["pushed"]["scanFrequency"] == frequency
    assert found["pushed"]["scanOnPush"] is True


def test_basic_scan_on_push_repository_reports_scan_on_push(ecr_client: Any) -> None:
    ecr_client.create_repository(
        repositoryName="pushed", imageScanningConfiguration={"scanOnPush": True}
    )
    answer = ecr_client.batch_get_repository_scanning_configuration(
        repositoryNames=["app", "pushed"]
    )
    found = {item["repositoryName"]: item for item in answer["scanningConfigurations"]}
    assert (found["app"]["scanFrequency"], found["app"]["scanOnPush"]) == ("MANUAL", False)
    assert (found["pushed"]["scanFrequency"], found["pushed"]["scanOnPush"]) == (
        "SCAN_ON_PUSH",
        True,
    )


# ----- registry policy scope ------------------------------------------------------------------


def _registry_policy(actions: list[str]) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "cross",
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
                    "Action": actions,
                    "Resource": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/*",
                }
            ],
        }
    )


@pytest.mark.parametrize(
    "actions",
    [["ecr:CreateRepository", "ecr:ReplicateImage"], ["ecr:BatchGetImage"], ["ecr:*"]],
)
def test_v2_scope_accepts_every_ecr_action(ecr_client: Any, actions: list[str]) -> None:
    text = _registry_policy(actions)
    assert ecr_client.put_registry_policy(policyText=text)["policyText"] == text


@pytest.mark.parametrize("actions", [["s3:GetObject"], ["ecr:BatchGetImage", "iam:PassRole"]])
def test_registry_policy_refuses_actions_of_other_services(
    ecr_client: Any, actions: list[str]
) -> None:
    with pytest.raises(ClientError) as caught:
        ecr_client.put_registry_policy(policyText=_registry_policy(actions))
    assert error(caught) == ("InvalidParameterException", INVALID_REGISTRY_POLICY)
    with pytest.raises(ClientError) as missing:
        ecr_client.get_registry_policy()
    assert error(missing)[0] == "RegistryPolicyNotFoundException"


def test_v1_scope_accepts_only_replication_and_pull_through_actions(ecr_client: Any) -> None:
    ecr_client.put_account_setting(name="REGISTRY_POLICY_SCOPE", value="V1")
    allowed = _registry_policy(
        ["ecr:CreateRepository", "ecr:ReplicateImage", "ecr:BatchImportUpstreamImage"]
    )
    assert ecr_client.put_registry_policy(policyText=allowed)["policyText"] == allowed
    assert ecr_client.put_registry_policy(policyText=_registry_policy(["ecr:*"]))
    with pytest.raises(ClientError) as caught:
        ecr_client.put_registry_policy(policyText=_registry_policy(["ecr:BatchGetImage"]))
    assert error(caught) == ("InvalidParameterException", INVALID_REGISTRY_POLICY)
    assert json.loads(ecr_client.get_registry_policy()["policyText"])["Statement"][0]["Action"] == [
        "ecr:*"
    ]


# ----- malformed registry ids -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("describe_repositories", {}),
        ("list_images", {"repositoryName": "app"}),
        ("describe_images", {"repositoryName": "app"}),
        ("batch_get_image", {"repositoryName": "app", "imageIds": [{"imageTag": "v1"}]}),
    ],
)
def test_malformed_registry_id_is_refused_with_ecrs_text(
    ecr_client: Any, method: str, params: dict[str, Any]
) -> None:
    with pytest.raises(ClientError) as caught:
        getattr(ecr_client, method)(registryId="123", **params)
    assert error(caught) == ("InvalidParameterException", REGISTRY_ID_MESSAGE)


# ----- scan findings before a scan ----------------------------------------------------------


def test_scan_not_found_echoes_the_image_id_as_asked(ecr_client: Any) -> None:
    from tests.ecr_api.helpers import config_blob, upload_layer

    config = config_blob("never-scanned")
    layer = b"layer of an image never scanned"
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": len(config),
                "digest": upload_layer(ecr_client, "app", config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": len(layer),
                    "digest": upload_layer(ecr_client, "app", layer),
                }
            ],
        }
    )
    digest = ecr_client.put_image(repositoryName="app", imageManifest=manifest, imageTag="v1")[
        "image"
    ]["imageId"]["imageDigest"]
    tail = "in the repository with name 'app' in the registry with id '123456789012'"
    with pytest.raises(ClientError) as by_tag:
        ecr_client.describe_image_scan_findings(repositoryName="app", imageId={"imageTag": "v1"})
    with pytest.raises(ClientError) as by_digest:
        ecr_client.describe_image_scan_findings(
            repositoryName="app", imageId={"imageDigest": digest}
        )
    assert error(by_tag) == (
        "ScanNotFoundException",
        "Image scan does not exist for the image with '{imageDigest:'null', imageTag:'v1'}' "
        + tail,
    )
    assert error(by_digest) == (
        "ScanNotFoundException",
        f"Image scan does not exist for the image with '{{imageDigest:'{digest}', "
        f"imageTag:'null'}}' " + tail,
    )
