"""Every operation of botocore's ECR model answers one successful call through boto3 whose
answer fits the operation's output shape and matches the state the test set up."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.ecr_api.helpers import (
    OCI_MANIFEST,
    Pushed,
    config_blob,
    descriptor,
    push_image,
    sha256,
    upload_layer,
)
from tests.ecr_api.model_check import service_model
from tests.support.checked_calls import CheckedCalls
from tests.support.policies import POLICY, REGISTRY_POLICY

ACCOUNT = "123456789012"
REGION = "us-east-1"
REPO_ARN = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/app"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/scanner"
LIFECYCLE = json.dumps(
    {
        "rules": [
            {
                "rulePriority": 1,
                "selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan",
                              "countNumber": 5},
                "action": {"type": "expire"},
            }
        ]
    }
)  # fmt: skip
SIGNING = {
    "rules": [{"signingProfileArn": f"arn:aws:signer:{REGION}:{ACCOUNT}:/signing-profiles/release"}]
}
UPSTREAM = f"{ACCOUNT}.dkr.ecr.us-west-2.amazonaws.com"

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


def pushed(ecr: Any, tag: str | None = "v1", seed: str = "a", repo: str = "app") -> Pushed:
    return push_image(ecr, repo, seed, tag=tag)


def code_of(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    return str(raised.value.response["Error"]["Code"])


# ----- repositories ----------------------------------------------------------------------------


@scenario("CreateRepository", "DescribeRepositories")
def _repositories(call: CheckedCalls, ecr: Any) -> None:
    made = call("CreateRepository", repositoryName="team/web", imageTagMutability="IMMUTABLE")
    assert (
        made["repository"]["repositoryUri"] == f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/team/web"
    )
    listed = call("DescribeRepositories", repositoryNames=["team/web"])["repositories"]
    assert [(r["repositoryName"], r["imageTagMutability"]) for r in listed] == [
        ("team/web", "IMMUTABLE")
    ]


@scenario("DeleteRepository")
def _delete_repository(call: CheckedCalls, ecr: Any) -> None:
    deleted = call("DeleteRepository", repositoryName="app")
    assert deleted["repository"]["repositoryArn"] == REPO_ARN
    assert code_of(lambda: ecr.describe_repositories(repositoryNames=["app"])) == (
        "RepositoryNotFoundException"
    )


@scenario("PutImageTagMutability")
def _tag_mutability(call: CheckedCalls, ecr: Any) -> None:
    set_ = call("PutImageTagMutability", repositoryName="app", imageTagMutability="IMMUTABLE")
    assert set_["imageTagMutability"] == "IMMUTABLE"
    [repo] = ecr.describe_repositories(repositoryNames=["app"])["repositories"]
    assert repo["imageTagMutability"] == "IMMUTABLE"


@scenario("PutImageScanningConfiguration", "BatchGetRepositoryScanningConfiguration")
def _repo_scanning(call: CheckedCalls, ecr: Any) -> None:
    put = call(
        "PutImageScanningConfiguration",
        repositoryName="app",
        imageScanningConfiguration={"scanOnPush": True},
    )
    assert put["imageScanningConfiguration"] == {"scanOnPush": True}
    got = call("BatchGetRepositoryScanningConfiguration", repositoryNames=["app"])
    [config] = got["scanningConfigurations"]
    assert (config["repositoryName"], config["scanOnPush"]) == ("app", True)
    assert got["failures"] == []


@scenario("SetRepositoryPolicy", "GetRepositoryPolicy")
def _repo_policy(call: CheckedCalls, ecr: Any) -> None:
    set_ = call("SetRepositoryPolicy", repositoryName="app", policyText=POLICY)
    assert json.loads(set_["policyText"]) == json.loads(POLICY)
    got = call("GetRepositoryPolicy", repositoryName="app")
    assert (got["repositoryName"], json.loads(got["policyText"])) == ("app", json.loads(POLICY))


@scenario("DeleteRepositoryPolicy")
def _delete_repo_policy(call: CheckedCalls, ecr: Any) -> None:
    ecr.set_repository_policy(repositoryName="app", policyText=POLICY)
    deleted = call("DeleteRepositoryPolicy", repositoryName="app")
    assert json.loads(deleted["policyText"]) == json.loads(POLICY)
    assert code_of(lambda: ecr.get_repository_policy(repositoryName="app")) == (
        "RepositoryPolicyNotFoundException"
    )


@scenario("TagResource", "ListTagsForResource", "UntagResource")
def _tags(call: CheckedCalls, ecr: Any) -> None:
    call("TagResource", resourceArn=REPO_ARN, tags=[{"Key": "team", "Value": "web"},
                                                    {"Key": "env", "Value": "prod"}])  # fmt: skip
    call("UntagResource", resourceArn=REPO_ARN, tagKeys=["env"])
    listed = call("ListTagsForResource", resourceArn=REPO_ARN)
    assert listed["tags"] == [{"Key": "team", "Value": "web"}]


# ----- layers and images -----------------------------------------------------------------------


@scenario("InitiateLayerUpload", "UploadLayerPart", "CompleteLayerUpload")
def _layer_upload(call: CheckedCalls, ecr: Any) -> None:
    data = b"layer bytes " * 100
    started = call("InitiateLayerUpload", repositoryName="app")
    part = call(
        "UploadLayerPart",
        repositoryName="app",
        uploadId=started["uploadId"],
        partFirstByte=0,
        partLastByte=len(data) - 1,
        layerPartBlob=data,
    )
    assert (part["uploadId"], part["lastByteReceived"]) == (started["uploadId"], len(data) - 1)
    done = call(
        "CompleteLayerUpload",
        repositoryName="app",
        uploadId=started["uploadId"],
        layerDigests=[sha256(data)],
    )
    assert done["layerDigest"] == sha256(data)
    [layer] = ecr.batch_check_layer_availability(repositoryName="app", layerDigests=[sha256(data)])[
        "layers"
    ]
    assert (layer["layerAvailability"], layer["layerSize"]) == ("AVAILABLE", len(data))


@scenario("BatchCheckLayerAvailability")
def _check_layers(call: CheckedCalls, ecr: Any) -> None:
    image = pushed(ecr)
    missing = "sha256:" + "0" * 64
    answer = call(
        "BatchCheckLayerAvailability", repositoryName="app", layerDigests=[image.layers[0], missing]
    )
    assert [(x["layerDigest"], x["layerAvailability"]) for x in answer["layers"]] == [
        (image.layers[0], "AVAILABLE")
    ]
    assert [(f["layerDigest"], f["failureCode"]) for f in answer["failures"]] == [
        (missing, "MissingLayerDigest")
    ]


@scenario("GetDownloadUrlForLayer")
def _download_url(call: CheckedCalls, ecr: Any) -> None:
    image = pushed(ecr)
    answer = call("GetDownloadUrlForLayer", repositoryName="app", layerDigest=image.layers[0])
    assert answer["layerDigest"] == image.layers[0]
    assert answer["downloadUrl"].startswith("https://")


@scenario("PutImage", "DescribeImages", "ListImages")
def _put_and_list(call: CheckedCalls, ecr: Any) -> None:
    layer = upload_layer(ecr, "app", b"one layer")
    config = upload_layer(ecr, "app", config_blob("put"))
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": descriptor("application/vnd.oci.image.config.v1+json", config_blob("put")),
            "layers": [descriptor("application/vnd.oci.image.layer.v1.tar+gzip", b"one layer")],
        }
    )
    assert config.startswith("sha256:") and layer.startswith("sha256:")
    put = call("PutImage", repositoryName="app", imageManifest=manifest, imageTag="v1")
    assert put["image"]["imageId"] == {"imageDigest": sha256(manifest.encode()), "imageTag": "v1"}
    assert put["image"]["imageManifest"] == manifest
    [detail] = call("DescribeImages", repositoryName="app")["imageDetails"]
    assert (detail["imageDigest"], detail["imageTags"]) == (sha256(manifest.encode()), ["v1"])
    assert detail["imageSizeInBytes"] == len(b"one layer")
    listed = call("ListImages", repositoryName="app")["imageIds"]
    assert listed == [{"imageDigest": sha256(manifest.encode()), "imageTag": "v1"}]


@scenario("BatchGetImage")
def _batch_get(call: CheckedCalls, ecr: Any) -> None:
    image = pushed(ecr)
    answer = call("BatchGetImage", repositoryName="app", imageIds=[{"imageTag": "v1"}])
    [got] = answer["images"]
    assert (got["imageId"]["imageDigest"], got["imageManifest"]) == (image.digest, image.manifest)
    assert answer["failures"] == []


@scenario("BatchDeleteImage")
def _batch_delete(call: CheckedCalls, ecr: Any) -> None:
    image = pushed(ecr)
    answer = call("BatchDeleteImage", repositoryName="app", imageIds=[{"imageTag": "v1"}])
    assert answer["imageIds"] == [{"imageDigest": image.digest, "imageTag": "v1"}]
    assert answer["failures"] == []
    assert ecr.list_images(repositoryName="app")["imageIds"] == []


@scenario("ListImageReferrers")
def _referrers(call: CheckedCalls, ecr: Any) -> None:
    subject = pushed(ecr)
    empty = b"{}"
    signature = b"a signature"
    upload_layer(ecr, "app", empty)
    upload_layer(ecr, "app", signature)
    referrer = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": "application/vnd.example.signature",
            "config": descriptor("application/vnd.oci.empty.v1+json", empty),
            "layers": [descriptor("application/octet-stream", signature)],
            "subject": {
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "digest": subject.digest,
                "size": len(subject.manifest),
            },
        }
    )
    ecr.put_image(repositoryName="app", imageManifest=referrer)
    answer = call(
        "ListImageReferrers", repositoryName="app", subjectId={"imageDigest": subject.digest}
    )
    [found] = answer["referrers"]
    assert found["digest"] == sha256(referrer.encode())
    assert found["artifactType"] == "application/vnd.example.signature"


@scenario("UpdateImageStorageClass")
def _storage_class(call: CheckedCalls, ecr: Any) -> None:
    image = pushed(ecr)
    answer = call(
        "UpdateImageStorageClass",
        repositoryName="app",
        imageId={"imageTag": "v1"},
        targetStorageClass="ARCHIVE",
    )
    assert answer["imageId"] == {"imageDigest": image.digest, "imageTag": "v1"}
    assert answer["imageStatus"] == "ARCHIVED"
    [detail] = ecr.describe_images(repositoryName="app", imageIds=[{"imageDigest": image.digest}])[
        "imageDetails"
    ]
    assert detail["imageStatus"] == "ARCHIVED"


@scenario("DescribeImageReplicationStatus")
def _replication_status(call: CheckedCalls, ecr: Any) -> None:
    image = pushed(ecr)
    answer = call(
        "DescribeImageReplicationStatus", repositoryName="app", imageId={"imageTag": "v1"}
    )
    assert answer["repositoryName"] == "app"
    assert answer["imageId"]["imageDigest"] == image.digest
    assert answer["replicationStatuses"] == []


# ----- scanning and signing --------------------------------------------------------------------


@scenario("StartImageScan", "DescribeImageScanFindings")
def _scan(call: CheckedCalls, ecr: Any) -> None:
    image = pushed(ecr)
    started = call("StartImageScan", repositoryName="app", imageId={"imageTag": "v1"})
    assert started["imageId"]["imageDigest"] == image.digest
    assert started["imageScanStatus"]["status"] in ("IN_PROGRESS", "COMPLETE")
    found = call("DescribeImageScanFindings", repositoryName="app", imageId={"imageTag": "v1"})
    assert found["imageId"]["imageDigest"] == image.digest
    assert found["imageScanStatus"]["status"] in ("IN_PROGRESS", "COMPLETE")


@scenario("PutRegistryScanningConfiguration", "GetRegistryScanningConfiguration")
def _registry_scanning(call: CheckedCalls, ecr: Any) -> None:
    rules = [
        {"scanFrequency": "SCAN_ON_PUSH",
         "repositoryFilters": [{"filter": "prod/*", "filterType": "WILDCARD"}]}
    ]  # fmt: skip
    put = call("PutRegistryScanningConfiguration", scanType="ENHANCED", rules=rules)
    assert put["registryScanningConfiguration"] == {"scanType": "ENHANCED", "rules": rules}
    got = call("GetRegistryScanningConfiguration")
    assert got["registryId"] == ACCOUNT
    assert got["scanningConfiguration"] == {"scanType": "ENHANCED", "rules": rules}


@scenario("PutSigningConfiguration", "GetSigningConfiguration")
def _signing(call: CheckedCalls, ecr: Any) -> None:
    put = call("PutSigningConfiguration", signingConfiguration=SIGNING)
    assert put["signingConfiguration"] == SIGNING
    got = call("GetSigningConfiguration")
    assert (got["registryId"], got["signingConfiguration"]) == (ACCOUNT, SIGNING)


@scenario("DeleteSigningConfiguration")
def _delete_signing(call: CheckedCalls, ecr: Any) -> None:
    ecr.put_signing_configuration(signingConfiguration=SIGNING)
    deleted = call("DeleteSigningConfiguration")
    assert (deleted["registryId"], deleted["signingConfiguration"]) == (ACCOUNT, SIGNING)
    assert code_of(ecr.get_signing_configuration) == "SigningConfigurationNotFoundException"


@scenario("DescribeImageSigningStatus")
def _signing_status(call: CheckedCalls, ecr: Any) -> None:
    image = pushed(ecr)
    ecr.put_signing_configuration(signingConfiguration=SIGNING)
    answer = call("DescribeImageSigningStatus", repositoryName="app", imageId={"imageTag": "v1"})
    assert (answer["repositoryName"], answer["imageId"]["imageDigest"]) == ("app", image.digest)
    assert answer["registryId"] == ACCOUNT


# ----- lifecycle -------------------------------------------------------------------------------


@scenario("PutLifecyclePolicy", "GetLifecyclePolicy")
def _lifecycle(call: CheckedCalls, ecr: Any) -> None:
    put = call("PutLifecyclePolicy", repositoryName="app", lifecyclePolicyText=LIFECYCLE)
    assert (put["repositoryName"], json.loads(put["lifecyclePolicyText"])) == (
        "app",
        json.loads(LIFECYCLE),
    )
    got = call("GetLifecyclePolicy", repositoryName="app")
    assert json.loads(got["lifecyclePolicyText"]) == json.loads(LIFECYCLE)


@scenario("DeleteLifecyclePolicy")
def _delete_lifecycle(call: CheckedCalls, ecr: Any) -> None:
    ecr.put_lifecycle_policy(repositoryName="app", lifecyclePolicyText=LIFECYCLE)
    deleted = call("DeleteLifecyclePolicy", repositoryName="app")
    assert json.loads(deleted["lifecyclePolicyText"]) == json.loads(LIFECYCLE)
    assert code_of(lambda: ecr.get_lifecycle_policy(repositoryName="app")) == (
        "LifecyclePolicyNotFoundException"
    )


@scenario("StartLifecyclePolicyPreview", "GetLifecyclePolicyPreview")
def _preview(call: CheckedCalls, ecr: Any) -> None:
    started = call(
        "StartLifecyclePolicyPreview", repositoryName="app", lifecyclePolicyText=LIFECYCLE
    )
    assert (started["repositoryName"], started["status"]) == ("app", "IN_PROGRESS")
    got = call("GetLifecyclePolicyPreview", repositoryName="app")
    assert json.loads(got["lifecyclePolicyText"]) == json.loads(LIFECYCLE)
    assert got["status"] in ("IN_PROGRESS", "COMPLETE")


# ----- registry --------------------------------------------------------------------------------


@scenario("GetAuthorizationToken")
def _token(call: CheckedCalls, ecr: Any) -> None:
    [data] = call("GetAuthorizationToken")["authorizationData"]
    user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    assert user == "AWS" and password
    assert data["proxyEndpoint"] == f"https://{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"


@scenario("PutRegistryPolicy", "GetRegistryPolicy")
def _registry_policy(call: CheckedCalls, ecr: Any) -> None:
    put = call("PutRegistryPolicy", policyText=REGISTRY_POLICY)
    assert (put["registryId"], json.loads(put["policyText"])) == (
        ACCOUNT,
        json.loads(REGISTRY_POLICY),
    )
    got = call("GetRegistryPolicy")
    assert json.loads(got["policyText"]) == json.loads(REGISTRY_POLICY)


@scenario("DeleteRegistryPolicy")
def _delete_registry_policy(call: CheckedCalls, ecr: Any) -> None:
    ecr.put_registry_policy(policyText=REGISTRY_POLICY)
    deleted = call("DeleteRegistryPolicy")
    assert json.loads(deleted["policyText"]) == json.loads(REGISTRY_POLICY)
    assert code_of(ecr.get_registry_policy) == "RegistryPolicyNotFoundException"


@scenario("PutReplicationConfiguration", "DescribeRegistry")
def _replication(call: CheckedCalls, ecr: Any) -> None:
    config = {"rules": [{"destinations": [{"region": "us-west-2", "registryId": ACCOUNT}]}]}
    put = call("PutReplicationConfiguration", replicationConfiguration=config)
    assert put["replicationConfiguration"] == config
    described = call("DescribeRegistry")
    assert (described["registryId"], described["replicationConfiguration"]) == (ACCOUNT, config)


@scenario(
    "StartReplicationBackfill", "ListReplicationBackfills", "DescribeReplicationBackfillResults"
)
def _backfill(call: CheckedCalls, ecr: Any) -> None:
    image = pushed(ecr)
    destination = {"region": "eu-west-1", "registryId": ACCOUNT}
    ecr.put_replication_configuration(
        replicationConfiguration={"rules": [{"destinations": [destination]}]}
    )
    started = call("StartReplicationBackfill", destination=destination)
    assert (started["destination"], started["status"]) == (destination, "PREPARING")
    [listed] = call("ListReplicationBackfills")["backfills"]
    assert listed["replicationBackfillId"] == started["replicationBackfillId"]
    results: dict[str, Any] = {}
    for _ in range(5):  # each look moves the backfill one step on
        results = call(
            "DescribeReplicationBackfillResults",
            replicationBackfillId=started["replicationBackfillId"],
        )
        if results["status"] == "COMPLETE":
            break
    assert results["status"] == "COMPLETE"
    assert [r["imageId"]["imageDigest"] for r in results["results"]] == [image.digest]


@scenario("StopReplicationBackfill")
def _stop_backfill(call: CheckedCalls, ecr: Any) -> None:
    pushed(ecr)
    destination = {"region": "eu-west-1", "registryId": ACCOUNT}
    ecr.put_replication_configuration(
        replicationConfiguration={"rules": [{"destinations": [destination]}]}
    )
    started = ecr.start_replication_backfill(destination=destination)
    stopped = call(
        "StopReplicationBackfill", replicationBackfillId=started["replicationBackfillId"]
    )
    assert stopped["replicationBackfillId"] == started["replicationBackfillId"]
    assert stopped["status"] in ("STOPPING", "STOPPED")
    [listed] = ecr.list_replication_backfills()["backfills"]
    assert listed["status"] in ("STOPPING", "STOPPED")


@scenario("PutAccountSetting", "GetAccountSetting")
def _account_setting(call: CheckedCalls, ecr: Any) -> None:
    put = call("PutAccountSetting", name="BLOB_MOUNTING", value="DISABLED")
    assert (put["name"], put["value"]) == ("BLOB_MOUNTING", "DISABLED")
    got = call("GetAccountSetting", name="BLOB_MOUNTING")
    assert (got["name"], got["value"]) == ("BLOB_MOUNTING", "DISABLED")


@scenario("RegisterPullTimeUpdateExclusion", "ListPullTimeUpdateExclusions")
def _exclusions(call: CheckedCalls, ecr: Any) -> None:
    added = call("RegisterPullTimeUpdateExclusion", principalArn=ROLE)
    assert added["principalArn"] == ROLE
    assert call("ListPullTimeUpdateExclusions")["pullTimeUpdateExclusions"] == [ROLE]


@scenario("DeregisterPullTimeUpdateExclusion")
def _deregister(call: CheckedCalls, ecr: Any) -> None:
    ecr.register_pull_time_update_exclusion(principalArn=ROLE)
    removed = call("DeregisterPullTimeUpdateExclusion", principalArn=ROLE)
    assert removed["principalArn"] == ROLE
    assert ecr.list_pull_time_update_exclusions()["pullTimeUpdateExclusions"] == []


# ----- repository creation templates -----------------------------------------------------------


@scenario("CreateRepositoryCreationTemplate", "DescribeRepositoryCreationTemplates")
def _templates(call: CheckedCalls, ecr: Any) -> None:
    made = call(
        "CreateRepositoryCreationTemplate",
        prefix="team",
        appliedFor=["CREATE_ON_PUSH"],
        imageTagMutability="IMMUTABLE",
    )
    assert made["repositoryCreationTemplate"]["prefix"] == "team"
    [template] = call("DescribeRepositoryCreationTemplates", prefixes=["team"])[
        "repositoryCreationTemplates"
    ]
    assert (template["appliedFor"], template["imageTagMutability"]) == (
        ["CREATE_ON_PUSH"],
        "IMMUTABLE",
    )


@scenario("UpdateRepositoryCreationTemplate")
def _update_template(call: CheckedCalls, ecr: Any) -> None:
    ecr.create_repository_creation_template(prefix="team", appliedFor=["CREATE_ON_PUSH"])
    updated = call("UpdateRepositoryCreationTemplate", prefix="team", description="the team's")
    assert updated["repositoryCreationTemplate"]["description"] == "the team's"
    [template] = ecr.describe_repository_creation_templates(prefixes=["team"])[
        "repositoryCreationTemplates"
    ]
    assert template["description"] == "the team's"


@scenario("DeleteRepositoryCreationTemplate")
def _delete_template(call: CheckedCalls, ecr: Any) -> None:
    ecr.create_repository_creation_template(prefix="team", appliedFor=["CREATE_ON_PUSH"])
    deleted = call("DeleteRepositoryCreationTemplate", prefix="team")
    assert deleted["repositoryCreationTemplate"]["prefix"] == "team"
    assert ecr.describe_repository_creation_templates()["repositoryCreationTemplates"] == []


# ----- pull-through cache ----------------------------------------------------------------------


@scenario("CreatePullThroughCacheRule", "DescribePullThroughCacheRules")
def _pull_through(call: CheckedCalls, ecr: Any) -> None:
    made = call(
        "CreatePullThroughCacheRule", ecrRepositoryPrefix="mirror", upstreamRegistryUrl=UPSTREAM
    )
    assert (made["ecrRepositoryPrefix"], made["upstreamRegistryUrl"]) == ("mirror", UPSTREAM)
    [rule] = call("DescribePullThroughCacheRules")["pullThroughCacheRules"]
    assert (rule["ecrRepositoryPrefix"], rule["upstreamRegistryUrl"]) == ("mirror", UPSTREAM)


@scenario("UpdatePullThroughCacheRule")
def _update_pull_through(call: CheckedCalls, ecr: Any) -> None:
    ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="mirror", upstreamRegistryUrl=UPSTREAM)
    updated = call("UpdatePullThroughCacheRule", ecrRepositoryPrefix="mirror", customRoleArn=ROLE)
    assert (updated["ecrRepositoryPrefix"], updated["customRoleArn"]) == ("mirror", ROLE)
    [rule] = ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"]
    assert rule["customRoleArn"] == ROLE


@scenario("ValidatePullThroughCacheRule")
def _validate_pull_through(call: CheckedCalls, ecr: Any) -> None:
    ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="mirror", upstreamRegistryUrl=UPSTREAM)
    answer = call("ValidatePullThroughCacheRule", ecrRepositoryPrefix="mirror")
    assert (answer["ecrRepositoryPrefix"], answer["upstreamRegistryUrl"]) == ("mirror", UPSTREAM)
    assert isinstance(answer["isValid"], bool)


@scenario("DeletePullThroughCacheRule")
def _delete_pull_through(call: CheckedCalls, ecr: Any) -> None:
    ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="mirror", upstreamRegistryUrl=UPSTREAM)
    deleted = call("DeletePullThroughCacheRule", ecrRepositoryPrefix="mirror")
    assert deleted["ecrRepositoryPrefix"] == "mirror"
    assert ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"] == []


OPERATIONS = sorted(service_model("ecr").operation_names)


@pytest.mark.parametrize("name", OPERATIONS)
def test_operation_answers_a_successful_call_that_fits_the_model(
    ecr_client: Any, name: str
) -> None:
    assert name in SCENARIOS, f"{name} has no successful call here"
    ecr_client.create_repository(repositoryName="app")
    call = CheckedCalls(ecr_client, "ecr")
    SCENARIOS[name](call, ecr_client)
    assert name in call.succeeded


def test_every_scenario_names_an_operation_of_the_model() -> None:
    assert set(SCENARIOS) <= set(OPERATIONS)
