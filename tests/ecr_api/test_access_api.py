"""Access control on the ECR API, in-process: moto's IAM users, roles and policies decide."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from ecr_mock import Backend, mock_ecr
from ecr_mock.protocols.ecr_api.access_table import ACCESS_TABLE
from ecr_mock.runtime.providers.moto_iam import add_ecr_managed_policies
from tests.ecr_api.helpers import push_image, sha256

A = "123456789012"  # the default account: owns the repositories
B = "210987654321"  # another account
REGION = "us-east-1"
READ_ONLY = "AmazonEC2ContainerRegistryReadOnly"
POWER_USER = "AmazonEC2ContainerRegistryPowerUser"
PULL_ONLY = "AmazonEC2ContainerRegistryPullOnly"
FULL_ACCESS = "AmazonEC2ContainerRegistryFullAccess"


def policy_arn(name: str) -> str:
    return f"arn:aws:iam::aws:policy/{name}"


def code_and_message(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = exc.value.response["Error"]
    return str(error["Code"]), str(error["Message"])


@dataclass
class Aws:
    """moto's IAM/STS beside ecr_mock: makes users and roles and gives their ECR clients."""

    backend: Backend
    admin: Any  # the ECR client of account A's root

    def iam(self, account: str = A) -> Any:
        if account == A:
            return boto3.client("iam", region_name=REGION)
        creds = boto3.client("sts", region_name=REGION).assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/bootstrap", RoleSessionName="setup"
        )["Credentials"]
        return boto3.client(
            "iam",
            region_name=REGION,
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )

    def user(
        self,
        name: str,
        managed: tuple[str, ...] = (),
        inline: str | None = None,
        account: str = A,
    ) -> Any:
        """A new IAM user with the given policies; returns an ECR client using its key."""
        add_ecr_managed_policies(account)
        iam = self.iam(account)
        iam.create_user(UserName=name)
        for policy in managed:
            iam.attach_user_policy(UserName=name, PolicyArn=policy_arn(policy))
        if inline is not None:
            iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=inline)
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return self.client(key["AccessKeyId"], key["SecretAccessKey"])

    @staticmethod
    def client(key: str, secret: str, token: str | None = None) -> Any:
        return boto3.client(
            "ecr",
            region_name=REGION,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            aws_session_token=token,
        )


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mock_aws(), mock_ecr() as backend:
        admin = boto3.client("ecr", region_name=REGION)
        admin.create_repository(repositoryName="app")
        push_image(admin, "app", "base", tag="v1")
        yield Aws(backend, admin)


def statement(principal: Any, actions: list[str], effect: str = "Allow") -> dict[str, Any]:
    return {"Sid": "s", "Effect": effect, "Principal": principal, "Action": actions}


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


# ----- the table --------------------------------------------------------------------------------


def test_access_table_names_every_operation_of_the_ecr_model_as_its_iam_action() -> None:
    model = botocore.session.get_session().get_service_model("ecr")
    assert set(ACCESS_TABLE) == set(model.operation_names)
    assert len(ACCESS_TABLE) == len(model.operation_names)
    assert all(rule.action == f"ecr:{name}" for name, rule in ACCESS_TABLE.items())
    assert ACCESS_TABLE["GetAuthorizationToken"].scope == "identity"
    assert ACCESS_TABLE["DescribeRepositories"].scope == "describe"


# ----- the four managed policies against every operation --------------------------------------

LAYER = sha256(b"base-layer-0-" * 3)
ARN = f"arn:aws:ecr:{REGION}:{A}:repository/app"
REPO = {"repositoryName": "app"}
IMAGE = {"imageTag": "v1"}
HARMLESS_REPOSITORY_POLICY = policy(statement({"AWS": "111122223333"}, ["ecr:BatchGetImage"]))
HARMLESS_REGISTRY_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": ["ecr:ReplicateImage"],
                "Resource": f"arn:aws:ecr:{REGION}:{A}:repository/*",
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
                    "countType": "imageCountMoreThan",
                    "countNumber": 5,
                },
                "action": {"type": "expire"},
            }
        ]
    }
)
BACKFILL_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
PARAMS: dict[str, dict[str, Any]] = {
    "BatchCheckLayerAvailability": {**REPO, "layerDigests": [LAYER]},
    "BatchDeleteImage": {**REPO, "imageIds": [{"imageTag": "absent"}]},
    "BatchGetImage": {**REPO, "imageIds": [IMAGE]},
    "BatchGetRepositoryScanningConfiguration": {"repositoryNames": ["app"]},
    "CompleteLayerUpload": {
        **REPO,
        "uploadId": "00000000-0000-0000-0000-000000000000",
        "layerDigests": [LAYER],
    },
    "CreatePullThroughCacheRule": {
        "ecrRepositoryPrefix": "hub",
        "upstreamRegistryUrl": "public.ecr.aws",
    },
    "CreateRepository": {"repositoryName": "made-by-matrix"},
    "CreateRepositoryCreationTemplate": {"prefix": "tmpl", "appliedFor": ["REPLICATION"]},
    "DeleteLifecyclePolicy": REPO,
    "DeletePullThroughCacheRule": {"ecrRepositoryPrefix": "hub"},
    "DeleteRegistryPolicy": {},
    "DeleteRepository": {"repositoryName": "absent-repository"},
    "DeleteRepositoryCreationTemplate": {"prefix": "tmpl"},
    "DeleteRepositoryPolicy": REPO,
    "DeleteSigningConfiguration": {},
    "DeregisterPullTimeUpdateExclusion": {"principalArn": f"arn:aws:iam::{A}:role/puller"},
    "DescribeImageReplicationStatus": {**REPO, "imageId": IMAGE},
    "DescribeImageScanFindings": {**REPO, "imageId": IMAGE},
    "DescribeImageSigningStatus": {**REPO, "imageId": IMAGE},
    "DescribeImages": REPO,
    "DescribePullThroughCacheRules": {},
    "DescribeRegistry": {},
    "DescribeReplicationBackfillResults": {"replicationBackfillId": BACKFILL_ID},
    "DescribeRepositories": {},
    "DescribeRepositoryCreationTemplates": {},
    "GetAccountSetting": {"name": "REGISTRY_POLICY_SCOPE"},
    "GetAuthorizationToken": {},
    "GetDownloadUrlForLayer": {**REPO, "layerDigest": LAYER},
    "GetLifecyclePolicy": REPO,
    "GetLifecyclePolicyPreview": REPO,
    "GetRegistryPolicy": {},
    "GetRegistryScanningConfiguration": {},
    "GetRepositoryPolicy": REPO,
    "GetSigningConfiguration": {},
    "InitiateLayerUpload": REPO,
    "ListImageReferrers": {**REPO, "subjectId": {"imageDigest": LAYER}},
    "ListImages": REPO,
    "ListPullTimeUpdateExclusions": {},
    "ListReplicationBackfills": {},
    "ListTagsForResource": {"resourceArn": ARN},
    "PutAccountSetting": {"name": "REGISTRY_POLICY_SCOPE", "value": "V2"},
    "PutImage": {**REPO, "imageManifest": "{}", "imageTag": "v2"},
    "PutImageScanningConfiguration": {**REPO, "imageScanningConfiguration": {"scanOnPush": False}},
    "PutImageTagMutability": {**REPO, "imageTagMutability": "MUTABLE"},
    "PutLifecyclePolicy": {**REPO, "lifecyclePolicyText": LIFECYCLE},
    "PutRegistryPolicy": {"policyText": HARMLESS_REGISTRY_POLICY},
    "PutRegistryScanningConfiguration": {"scanType": "BASIC", "rules": []},
    "PutReplicationConfiguration": {"replicationConfiguration": {"rules": []}},
    "PutSigningConfiguration": {"signingConfiguration": {"rules": []}},
    "RegisterPullTimeUpdateExclusion": {"principalArn": f"arn:aws:iam::{A}:role/puller"},
    "SetRepositoryPolicy": {**REPO, "policyText": HARMLESS_REPOSITORY_POLICY},
    "StartImageScan": {**REPO, "imageId": IMAGE},
    "StartLifecyclePolicyPreview": REPO,
    "StartReplicationBackfill": {"destination": {"region": "eu-west-1", "registryId": A}},
    "StopReplicationBackfill": {"replicationBackfillId": BACKFILL_ID},
    "TagResource": {"resourceArn": ARN, "tags": [{"Key": "team", "Value": "x"}]},
    "UntagResource": {"resourceArn": ARN, "tagKeys": ["team"]},
    "UpdateImageStorageClass": {**REPO, "imageId": IMAGE, "targetStorageClass": "STANDARD"},
    "UpdatePullThroughCacheRule": {
        "ecrRepositoryPrefix": "hub",
        "credentialArn": f"arn:aws:secretsmanager:{REGION}:{A}:secret:ecr-pullthroughcache/hub",
    },
    "UpdateRepositoryCreationTemplate": {"prefix": "tmpl"},
    "UploadLayerPart": {
        **REPO,
        "uploadId": "00000000-0000-0000-0000-000000000000",
        "partFirstByte": 0,
        "partLastByte": 0,
        "layerPartBlob": b"x",
    },
    "ValidatePullThroughCacheRule": {"ecrRepositoryPrefix": "hub"},
}
READ_ONLY_OPERATIONS = {
    "GetAuthorizationToken",
    "BatchCheckLayerAvailability",
    "GetDownloadUrlForLayer",
    "GetRepositoryPolicy",
    "DescribeRepositories",
    "ListImages",
    "DescribeImages",
    "BatchGetImage",
    "GetLifecyclePolicy",
    "GetLifecyclePolicyPreview",
    "ListTagsForResource",
    "DescribeImageScanFindings",
}
ALLOWED_BY = {
    FULL_ACCESS: set(ACCESS_TABLE),
    POWER_USER: READ_ONLY_OPERATIONS
    | {"InitiateLayerUpload", "UploadLayerPart", "CompleteLayerUpload", "PutImage"},
    READ_ONLY: READ_ONLY_OPERATIONS,
    PULL_ONLY: {"GetAuthorizationToken", "BatchGetImage", "GetDownloadUrlForLayer"},
}


def test_matrix_parameters_cover_every_operation() -> None:
    assert set(PARAMS) == set(ACCESS_TABLE)


@pytest.mark.parametrize("managed", [FULL_ACCESS, POWER_USER, READ_ONLY, PULL_ONLY])
def test_managed_policy_allows_exactly_its_operations(aws: Aws, managed: str) -> None:
    client = aws.user("matrix", (managed,))
    refused: set[str] = set()
    for operation in sorted(ACCESS_TABLE):
        method = getattr(client, botocore.xform_name(operation))
        try:
            method(**PARAMS[operation])
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "AccessDeniedException":
                refused.add(operation)
    assert refused == set(ACCESS_TABLE) - ALLOWED_BY[managed]


def test_refusal_names_the_user_the_action_and_the_repository(aws: Aws) -> None:
    reader = aws.user("reader", (READ_ONLY,))
    with pytest.raises(ClientError) as exc:
        reader.initiate_layer_upload(repositoryName="app")
    assert code_and_message(exc) == (
        "AccessDeniedException",
        f"User: arn:aws:iam::{A}:user/reader is not authorized to perform: "
        f"ecr:InitiateLayerUpload on resource: {ARN} because no identity-based policy allows "
        "the ecr:InitiateLayerUpload action",
    )


def test_listing_without_a_wildcard_resource_is_refused_on_repository_star(aws: Aws) -> None:
    scoped = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "ecr:DescribeRepositories", "Resource": ARN}
            ],
        }
    )
    client = aws.user("scoped", inline=scoped)
    assert (
        client.describe_repositories(repositoryNames=["app"])["repositories"][0]["repositoryArn"]
        == ARN
    )
    with pytest.raises(ClientError) as exc:
        client.describe_repositories()
    assert code_and_message(exc)[1].endswith(
        f"on resource: arn:aws:ecr:{REGION}:{A}:repository/* because no identity-based policy "
        "allows the ecr:DescribeRepositories action"
    )


# ----- identities: groups, roles, sessions, keys ----------------------------------------------


def test_group_policies_apply_to_their_members(aws: Aws) -> None:
    add_ecr_managed_policies(A)
    iam = aws.iam()
    iam.create_group(GroupName="builders")
    iam.attach_group_policy(GroupName="builders", PolicyArn=policy_arn(POWER_USER))
    iam.create_user(UserName="builder")
    iam.add_user_to_group(GroupName="builders", UserName="builder")
    key = iam.create_access_key(UserName="builder")["AccessKey"]
    client = aws.client(key["AccessKeyId"], key["SecretAccessKey"])
    assert client.initiate_layer_upload(repositoryName="app")["uploadId"]
    with pytest.raises(ClientError) as exc:
        client.delete_repository(repositoryName="app")
    assert code_and_message(exc)[0] == "AccessDeniedException"


def test_assumed_role_session_has_its_roles_policies_and_is_named_by_its_session_arn(
    aws: Aws,
) -> None:
    add_ecr_managed_policies(A)
    iam = aws.iam()
    trust = policy(statement({"AWS": f"arn:aws:iam::{A}:root"}, ["sts:AssumeRole"]))
    iam.create_role(RoleName="reader-role", AssumeRolePolicyDocument=trust)
    iam.attach_role_policy(RoleName="reader-role", PolicyArn=policy_arn(READ_ONLY))
    creds = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{A}:role/reader-role", RoleSessionName="ci-run"
    )["Credentials"]
    client = aws.client(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    assert client.list_images(repositoryName="app")["imageIds"][0]["imageTag"] == "v1"
    with pytest.raises(ClientError) as exc:
        client.put_image(repositoryName="app", imageManifest="{}", imageTag="v2")
    assert code_and_message(exc)[1].startswith(
        f"User: arn:aws:sts::{A}:assumed-role/reader-role/ci-run is not authorized to perform: "
        "ecr:PutImage"
    )


def test_detaching_a_policy_takes_effect_on_the_next_call(aws: Aws) -> None:
    client = aws.user("temp", (READ_ONLY,))
    assert client.describe_images(repositoryName="app")["imageDetails"]
    aws.iam().detach_user_policy(UserName="temp", PolicyArn=policy_arn(READ_ONLY))
    with pytest.raises(ClientError) as exc:
        client.describe_images(repositoryName="app")
    assert code_and_message(exc)[0] == "AccessDeniedException"


def test_inactive_access_key_is_an_unrecognized_client(aws: Aws) -> None:
    add_ecr_managed_policies(A)
    iam = aws.iam()
    iam.create_user(UserName="old")
    iam.attach_user_policy(UserName="old", PolicyArn=policy_arn(FULL_ACCESS))
    key = iam.create_access_key(UserName="old")["AccessKey"]
    iam.update_access_key(UserName="old", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    client = aws.client(key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(ClientError) as exc:
        client.describe_repositories()
    assert code_and_message(exc)[0] == "UnrecognizedClientException"


def test_strict_mode_refuses_unknown_keys_but_serves_moto_users(aws: Aws) -> None:
    aws.backend.strict_credentials = True
    stranger = aws.client("AKIANOBODYCREATEDTHIS", "secret")
    with pytest.raises(ClientError) as exc:
        stranger.describe_repositories()
    assert code_and_message(exc) == (
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    )
    reader = aws.user("reader", (READ_ONLY,))
    assert reader.describe_repositories()["repositories"][0]["repositoryName"] == "app"


def test_unknown_key_outside_strict_mode_is_the_default_account_root(aws: Aws) -> None:
    stranger = aws.client("AKIANOBODYCREATEDTHIS", "secret")
    assert (
        stranger.delete_repository(repositoryName="app", force=True)["repository"]["registryId"]
        == A
    )


# ----- repository policies --------------------------------------------------------------------


def test_repository_policy_grants_a_user_without_identity_policies(aws: Aws) -> None:
    client = aws.user("guest")
    aws.admin.set_repository_policy(
        repositoryName="app",
        policyText=policy(
            statement({"AWS": f"arn:aws:iam::{A}:user/guest"}, ["ecr:BatchGetImage"])
        ),
    )
    images = client.batch_get_image(repositoryName="app", imageIds=[IMAGE])["images"]
    assert images[0]["imageId"]["imageTag"] == "v1"
    with pytest.raises(ClientError) as exc:
        client.list_images(repositoryName="app")
    assert code_and_message(exc)[0] == "AccessDeniedException"


def test_repository_policy_deny_overrides_full_access(aws: Aws) -> None:
    client = aws.user("admin-ish", (FULL_ACCESS,))
    aws.admin.set_repository_policy(
        repositoryName="app",
        policyText=policy(
            statement({"AWS": f"arn:aws:iam::{A}:user/admin-ish"}, ["ecr:BatchDeleteImage"], "Deny")
        ),
    )
    with pytest.raises(ClientError) as exc:
        client.batch_delete_image(repositoryName="app", imageIds=[IMAGE])
    assert code_and_message(exc)[1].endswith("with an explicit deny in a resource-based policy")
    assert aws.admin.list_images(repositoryName="app")["imageIds"][0]["imageTag"] == "v1"


def test_repository_policy_cannot_grant_get_authorization_token(aws: Aws) -> None:
    client = aws.user("guest")
    aws.admin.set_repository_policy(
        repositoryName="app",
        policyText=policy(statement({"AWS": f"arn:aws:iam::{A}:user/guest"}, ["ecr:*"])),
    )
    with pytest.raises(ClientError) as exc:
        client.get_authorization_token()
    assert code_and_message(exc) == (
        "AccessDeniedException",
        f"User: arn:aws:iam::{A}:user/guest is not authorized to perform: "
        "ecr:GetAuthorizationToken on resource: * because no identity-based policy allows the "
        "ecr:GetAuthorizationToken action",
    )


def test_invalid_repository_policy_is_refused_and_the_previous_one_kept(aws: Aws) -> None:
    good = policy(statement({"AWS": B}, ["ecr:BatchGetImage"]))
    aws.admin.set_repository_policy(repositoryName="app", policyText=good)
    with_resource = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{**statement({"AWS": B}, ["ecr:BatchGetImage"]), "Resource": ARN}],
        }
    )
    with pytest.raises(ClientError) as exc:
        aws.admin.set_repository_policy(repositoryName="app", policyText=with_resource)
    assert code_and_message(exc) == (
        "InvalidParameterException",
        "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository "
        "policy provided'",
    )
    assert aws.admin.get_repository_policy(repositoryName="app")["policyText"] == good


# ----- conditions ----------------------------------------------------------------------------


def test_resource_tag_condition_limits_a_user_to_tagged_repositories(aws: Aws) -> None:
    aws.admin.create_repository(repositoryName="dev-app", tags=[{"Key": "env", "Value": "dev"}])
    aws.admin.create_repository(repositoryName="prod-app", tags=[{"Key": "env", "Value": "prod"}])
    inline = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "ecr:*",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"ecr:ResourceTag/env": "dev"}},
                }
            ],
        }
    )
    client = aws.user("dev", inline=inline)
    assert client.initiate_layer_upload(repositoryName="dev-app")["uploadId"]
    with pytest.raises(ClientError) as exc:
        client.initiate_layer_upload(repositoryName="prod-app")
    assert code_and_message(exc)[0] == "AccessDeniedException"


def test_source_ip_condition_on_a_repository_policy(aws: Aws) -> None:
    client = aws.user("office", (FULL_ACCESS,))
    deny_outside_office = {
        **statement("*", ["ecr:*"], "Deny"),
        "Condition": {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
    }
    aws.admin.set_repository_policy(
        repositoryName="app", policyText=policy(deny_outside_office), force=True
    )
    with pytest.raises(ClientError) as exc:
        client.list_images(repositoryName="app")
    assert code_and_message(exc)[1].endswith("with an explicit deny in a resource-based policy")


# ----- across accounts -----------------------------------------------------------------------


def test_cross_account_pull_needs_the_owners_repository_policy(aws: Aws) -> None:
    other = aws.user("puller", (FULL_ACCESS,), account=B)
    with pytest.raises(ClientError) as exc:
        other.batch_get_image(registryId=A, repositoryName="app", imageIds=[IMAGE])
    assert code_and_message(exc) == (
        "AccessDeniedException",
        f"User: arn:aws:iam::{B}:user/puller is not authorized to perform: ecr:BatchGetImage on "
        f"resource: {ARN} because no resource-based policy allows the ecr:BatchGetImage action",
    )
    aws.admin.set_repository_policy(
        repositoryName="app",
        policyText=policy(
            statement(
                {"AWS": f"arn:aws:iam::{B}:root"},
                ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            )
        ),
    )
    images = other.batch_get_image(registryId=A, repositoryName="app", imageIds=[IMAGE])["images"]
    assert images[0]["imageId"]["imageTag"] == "v1"
    with pytest.raises(ClientError) as push:
        other.initiate_layer_upload(registryId=A, repositoryName="app")
    assert code_and_message(push)[0] == "AccessDeniedException"


def test_cross_account_caller_also_needs_its_own_identity_policy(aws: Aws) -> None:
    aws.admin.set_repository_policy(
        repositoryName="app", policyText=policy(statement({"AWS": B}, ["ecr:BatchGetImage"]))
    )
    bare = aws.user("bare", account=B)
    with pytest.raises(ClientError) as exc:
        bare.batch_get_image(registryId=A, repositoryName="app", imageIds=[IMAGE])
    assert code_and_message(exc)[1].endswith(
        "because no identity-based policy allows the ecr:BatchGetImage action"
    )


def test_other_account_never_lists_the_owners_repositories(aws: Aws) -> None:
    aws.admin.set_repository_policy(
        repositoryName="app", policyText=policy(statement({"AWS": B}, ["ecr:*"]))
    )
    other = aws.user("lister", (FULL_ACCESS,), account=B)
    with pytest.raises(ClientError) as exc:
        other.describe_repositories(registryId=A)
    assert code_and_message(exc)[1] == (
        f"User: arn:aws:iam::{B}:user/lister is not authorized to perform: "
        f"ecr:DescribeRepositories on resource: arn:aws:ecr:{REGION}:{A}:repository/* because no "
        "resource-based policy allows the ecr:DescribeRepositories action"
    )
    named = other.describe_repositories(registryId=A, repositoryNames=["app"])["repositories"]
    assert [r["repositoryArn"] for r in named] == [ARN]
    assert other.describe_repositories()["repositories"] == []


def test_token_for_another_registry_is_bound_to_it_and_to_the_caller(aws: Aws) -> None:
    other = aws.user("puller", (PULL_ONLY,), account=B)
    entry = other.get_authorization_token(registryIds=[A])["authorizationData"][0]
    assert entry["proxyEndpoint"] == f"https://{A}.dkr.ecr.{REGION}.amazonaws.com"
    password = base64.b64decode(entry["authorizationToken"]).decode().removeprefix("AWS:")
    token = aws.backend.tokens.check(password)
    assert (token.account, token.principal.arn) == (A, f"arn:aws:iam::{B}:user/puller")
