"""Every operation of botocore's ECR Public model answers one successful call through boto3 whose
answer fits the operation's output shape and matches the state the test set up."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ecr_mock.protocols.ecr_api.ecr_public.operations import HANDLERS as SERVED
from tests.ecr_api.helpers import Pushed, push_image, sha256
from tests.ecr_api.model_check import service_model
from tests.support.checked_calls import CheckedCalls

ACCOUNT = "123456789012"
REPO_ARN = f"arn:aws:ecr-public::{ACCOUNT}:repository/app"
POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "push",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": ["ecr-public:PutImage"],
            }
        ],
    }
)

Scenario = Callable[[CheckedCalls, Any], None]
SCENARIOS: dict[str, Scenario] = {}


def scenario(*operations: str) -> Callable[[Scenario], Scenario]:
    """Register ``fn`` as the successful call of each of ``operations``."""

    def register(fn: Scenario) -> Scenario:
        for operation in operations:
            assert operation not in SCENARIOS, operation
            SCENARIOS[operation] = fn
        return fn

    return register


def pushed(public: Any, tag: str = "v1") -> Pushed:
    return push_image(public, "app", "a", tag=tag)


@scenario("CreateRepository", "DescribeRepositories")
def _repositories(call: CheckedCalls, public: Any) -> None:
    made = call("CreateRepository", repositoryName="tools/cli", catalogData={"description": "CLI"})
    assert made["repository"]["repositoryArn"] == (
        f"arn:aws:ecr-public::{ACCOUNT}:repository/tools/cli"
    )
    assert made["catalogData"]["description"] == "CLI"
    listed = call("DescribeRepositories", repositoryNames=["tools/cli"])["repositories"]
    assert [r["repositoryName"] for r in listed] == ["tools/cli"]


@scenario("DeleteRepository")
def _delete_repository(call: CheckedCalls, public: Any) -> None:
    deleted = call("DeleteRepository", repositoryName="app")
    assert deleted["repository"]["repositoryArn"] == REPO_ARN
    with pytest.raises(ClientError) as gone:
        public.describe_repositories(repositoryNames=["app"])
    assert gone.value.response["Error"]["Code"] == "RepositoryNotFoundException"


@scenario("InitiateLayerUpload", "UploadLayerPart", "CompleteLayerUpload")
def _layer_upload(call: CheckedCalls, public: Any) -> None:
    data = b"public layer " * 50
    started = call("InitiateLayerUpload", repositoryName="app")
    part = call(
        "UploadLayerPart",
        repositoryName="app",
        uploadId=started["uploadId"],
        partFirstByte=0,
        partLastByte=len(data) - 1,
        layerPartBlob=data,
    )
    assert part["lastByteReceived"] == len(data) - 1
    done = call(
        "CompleteLayerUpload",
        repositoryName="app",
        uploadId=started["uploadId"],
        layerDigests=[sha256(data)],
    )
    assert done["layerDigest"] == sha256(data)
    [layer] = public.batch_check_layer_availability(
        repositoryName="app", layerDigests=[sha256(data)]
    )["layers"]
    assert (layer["layerAvailability"], layer["layerSize"]) == ("AVAILABLE", len(data))


@scenario("BatchCheckLayerAvailability")
def _check_layers(call: CheckedCalls, public: Any) -> None:
    image = pushed(public)
    missing = "sha256:" + "0" * 64
    answer = call(
        "BatchCheckLayerAvailability", repositoryName="app", layerDigests=[image.layers[0], missing]
    )
    assert [x["layerDigest"] for x in answer["layers"]] == [image.layers[0]]
    assert [f["layerDigest"] for f in answer["failures"]] == [missing]


@scenario("PutImage", "DescribeImages", "DescribeImageTags")
def _images(call: CheckedCalls, public: Any) -> None:
    image = pushed(public, tag="v0")
    put = call("PutImage", repositoryName="app", imageManifest=image.manifest, imageTag="v1")
    assert put["image"]["imageId"] == {"imageDigest": image.digest, "imageTag": "v1"}
    [detail] = call("DescribeImages", repositoryName="app")["imageDetails"]
    assert (detail["imageDigest"], sorted(detail["imageTags"])) == (image.digest, ["v0", "v1"])
    tags = call("DescribeImageTags", repositoryName="app")["imageTagDetails"]
    assert sorted((t["imageTag"], t["imageDetail"]["imageDigest"]) for t in tags) == [
        ("v0", image.digest),
        ("v1", image.digest),
    ]


@scenario("BatchDeleteImage")
def _batch_delete(call: CheckedCalls, public: Any) -> None:
    image = pushed(public)
    answer = call("BatchDeleteImage", repositoryName="app", imageIds=[{"imageTag": "v1"}])
    assert answer["imageIds"] == [{"imageDigest": image.digest, "imageTag": "v1"}]
    assert public.describe_images(repositoryName="app")["imageDetails"] == []


@scenario("SetRepositoryPolicy", "GetRepositoryPolicy", "DeleteRepositoryPolicy")
def _policy(call: CheckedCalls, public: Any) -> None:
    set_ = call("SetRepositoryPolicy", repositoryName="app", policyText=POLICY)
    assert json.loads(set_["policyText"]) == json.loads(POLICY)
    got = call("GetRepositoryPolicy", repositoryName="app")
    assert json.loads(got["policyText"]) == json.loads(POLICY)
    deleted = call("DeleteRepositoryPolicy", repositoryName="app")
    assert json.loads(deleted["policyText"]) == json.loads(POLICY)
    with pytest.raises(ClientError) as gone:
        public.get_repository_policy(repositoryName="app")
    assert gone.value.response["Error"]["Code"] == "RepositoryPolicyNotFoundException"


@scenario("TagResource", "ListTagsForResource", "UntagResource")
def _tags(call: CheckedCalls, public: Any) -> None:
    call("TagResource", resourceArn=REPO_ARN, tags=[{"Key": "a", "Value": "1"},
                                                    {"Key": "b", "Value": "2"}])  # fmt: skip
    call("UntagResource", resourceArn=REPO_ARN, tagKeys=["b"])
    assert call("ListTagsForResource", resourceArn=REPO_ARN)["tags"] == [{"Key": "a", "Value": "1"}]


@scenario("PutRepositoryCatalogData", "GetRepositoryCatalogData")
def _catalog(call: CheckedCalls, public: Any) -> None:
    data = {"description": "The app", "architectures": ["ARM 64"], "operatingSystems": ["Linux"]}
    put = call("PutRepositoryCatalogData", repositoryName="app", catalogData=data)
    assert put["catalogData"]["description"] == "The app"
    got = call("GetRepositoryCatalogData", repositoryName="app")["catalogData"]
    assert (got["architectures"], got["operatingSystems"]) == (["ARM 64"], ["Linux"])


@scenario("PutRegistryCatalogData", "GetRegistryCatalogData")
def _registry_catalog(call: CheckedCalls, public: Any) -> None:
    put = call("PutRegistryCatalogData", displayName="Example Corp")
    assert put["registryCatalogData"] == {"displayName": "Example Corp"}
    got = call("GetRegistryCatalogData")
    assert got["registryCatalogData"] == {"displayName": "Example Corp"}


@scenario("DescribeRegistries")
def _registries(call: CheckedCalls, public: Any) -> None:
    [registry] = call("DescribeRegistries")["registries"]
    assert registry["registryId"] == ACCOUNT
    assert registry["registryArn"] == f"arn:aws:ecr-public::{ACCOUNT}:registry/{ACCOUNT}"
    [alias] = registry["aliases"]
    assert registry["registryUri"] == f"public.ecr.aws/{alias['name']}"


@scenario("GetAuthorizationToken")
def _token(call: CheckedCalls, public: Any) -> None:
    data = call("GetAuthorizationToken")["authorizationData"]
    user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    assert user == "AWS" and password
    assert data["expiresAt"]


OPERATIONS = sorted(service_model("ecr-public").operation_names)


def test_each_operation_of_the_model_has_a_handler() -> None:
    assert sorted(SERVED) == OPERATIONS


@pytest.mark.parametrize("name", OPERATIONS)
def test_operation_answers_a_successful_call_that_fits_the_model(
    ecr_public_client: Any, name: str
) -> None:
    assert name in SCENARIOS, f"{name} has no successful call here"
    ecr_public_client.create_repository(repositoryName="app")
    call = CheckedCalls(ecr_public_client, "ecr-public")
    SCENARIOS[name](call, ecr_public_client)
    assert name in call.succeeded


def test_every_scenario_names_an_operation_of_the_model() -> None:
    assert set(SCENARIOS) <= set(OPERATIONS)
