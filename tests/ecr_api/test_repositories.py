"""CreateRepository, DescribeRepositories, DeleteRepository, tag mutability and scanning via boto3."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timezone
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from ecr_mock import Backend
from ecr_mock.domain.blobs import Blob
from ecr_mock.domain.models import Repository
from ecr_mock.protocols.ecr_api.dispatch import TARGET_PREFIX, handle
from tests.ecr_api.helpers import error

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
REGION = "us-east-1"
FROZEN = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)

pytestmark = pytest.mark.frozen_at(FROZEN)


def raw(backend: Backend, name: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    status, payload = handle(backend, TARGET_PREFIX + name, json.dumps(body).encode(), {})
    return status, json.loads(payload)


def push(backend: Backend, repo_name: str, tag: str, seed: str) -> str:
    """Store a one-layer image through the core; returns its digest."""
    reg = backend.registry(ACCOUNT, REGION)
    repo = backend.get_repository(reg, repo_name)
    config = json.dumps({"seed": seed}).encode()
    layer = f"layer-{seed}".encode()
    descriptors = []
    for data, media in (
        (config, "application/vnd.oci.image.config.v1+json"),
        (layer, "application/vnd.oci.image.layer.v1.tar"),
    ):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        backend.store_blob(reg, repo, Blob.from_bytes(data, digest))
        descriptors.append({"mediaType": media, "digest": digest, "size": len(data)})
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": descriptors[0],
            "layers": descriptors[1:],
        }
    ).encode()
    return backend.put_image(reg, repo, manifest, tag=tag).digest


def stored(backend: Backend, name: str, account: str = ACCOUNT) -> Repository:
    return backend.get_repository(backend.registry(account, REGION), name)


# ----- CreateRepository ------------------------------------------------------------------------


def test_create_repository_returns_ecr_defaults(ecr_client: Any) -> None:
    repo = ecr_client.create_repository(repositoryName="team/app")["repository"]
    assert repo["repositoryName"] == "team/app"
    assert repo["registryId"] == ACCOUNT
    assert repo["repositoryArn"] == f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/team/app"
    assert repo["repositoryUri"] == f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/team/app"
    assert repo["createdAt"] == FROZEN
    assert repo["imageTagMutability"] == "MUTABLE"
    assert repo["imageScanningConfiguration"] == {"scanOnPush": False}
    assert repo["encryptionConfiguration"] == {"encryptionType": "AES256"}
    assert "imageTagMutabilityExclusionFilters" not in repo


def test_create_repository_stores_tags(ecr_client: Any) -> None:
    repo = ecr_client.create_repository(
        repositoryName="tagged", tags=[{"Key": "team", "Value": "a"}, {"Key": "env", "Value": ""}]
    )["repository"]
    tags = ecr_client.list_tags_for_resource(resourceArn=repo["repositoryArn"])["tags"]
    assert sorted(tags, key=lambda t: t["Key"]) == [
        {"Key": "env", "Value": ""},
        {"Key": "team", "Value": "a"},
    ]


def test_create_repository_with_scan_on_push(ecr_client: Any) -> None:
    repo = ecr_client.create_repository(
        repositoryName="scanned", imageScanningConfiguration={"scanOnPush": True}
    )["repository"]
    assert repo["imageScanningConfiguration"] == {"scanOnPush": True}


def test_create_repository_with_exclusion_filters_echoes_them(ecr_client: Any) -> None:
    filters = [
        {"filterType": "WILDCARD", "filter": "latest"},
        {"filterType": "WILDCARD", "filter": "dev-*"},
    ]
    repo = ecr_client.create_repository(
        repositoryName="immutable",
        imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters=filters,
    )["repository"]
    assert repo["imageTagMutability"] == "IMMUTABLE_WITH_EXCLUSION"
    assert repo["imageTagMutabilityExclusionFilters"] == filters
    described = ecr_client.describe_repositories(repositoryNames=["immutable"])["repositories"][0]
    assert described["imageTagMutabilityExclusionFilters"] == filters


@pytest.mark.parametrize("mutability", ["IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION"])
def test_create_repository_with_exclusion_mutability_needs_filters(
    ecr_client: Any, mutability: str
) -> None:
    with pytest.raises(ClientError) as exc:
        ecr_client.create_repository(repositoryName="repo", imageTagMutability=mutability)
    assert error(exc) == (
        "InvalidParameterException",
        "Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: "
        f"'ImageTagMutabilityExclusionFilters can't be null when imageTagMutability is set as "
        f"{mutability}'",
    )
    assert ecr_client.describe_repositories()["repositories"] == []


@pytest.mark.parametrize("mutability", ["MUTABLE", "IMMUTABLE", None])
def test_create_repository_refuses_filters_without_exclusion_mutability(
    ecr_client: Any, mutability: str | None
) -> None:
    extra = {"imageTagMutability": mutability} if mutability else {}
    with pytest.raises(ClientError) as exc:
        ecr_client.create_repository(
            repositoryName="repo",
            imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "x"}],
            **extra,
        )
    code, message = error(exc)
    assert code == "InvalidParameterException"
    assert "'imageTagMutabilityExclusionFilters'" in message


def test_create_repository_kms_with_key_echoes_the_key(ecr_client: Any) -> None:
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    repo = ecr_client.create_repository(
        repositoryName="kms", encryptionConfiguration={"encryptionType": "KMS", "kmsKey": key}
    )["repository"]
    assert repo["encryptionConfiguration"] == {"encryptionType": "KMS", "kmsKey": key}


def test_create_repository_kms_without_key_uses_one_aws_managed_key(ecr_client: Any) -> None:
    first = ecr_client.create_repository(
        repositoryName="kms-a", encryptionConfiguration={"encryptionType": "KMS"}
    )["repository"]["encryptionConfiguration"]
    second = ecr_client.create_repository(
        repositoryName="kms-b", encryptionConfiguration={"encryptionType": "KMS_DSSE"}
    )["repository"]["encryptionConfiguration"]
    assert first["encryptionType"] == "KMS"
    assert re.fullmatch(
        rf"arn:aws:kms:{REGION}:{ACCOUNT}:key/[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-"
        r"[0-9a-f]{4}-[0-9a-f]{12}",
        first["kmsKey"],
    )
    assert second == {"encryptionType": "KMS_DSSE", "kmsKey": first["kmsKey"]}


def test_create_repository_aes256_with_kms_key_is_refused(ecr_client: Any) -> None:
    with pytest.raises(ClientError) as exc:
        ecr_client.create_repository(
            repositoryName="repo",
            encryptionConfiguration={"encryptionType": "AES256", "kmsKey": "alias/mine"},
        )
    assert error(exc)[0] == "InvalidParameterException"


def test_create_repository_kms_key_of_another_region_is_a_kms_error(ecr_client: Any) -> None:
    key = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    with pytest.raises(ClientError) as exc:
        ecr_client.create_repository(
            repositoryName="repo", encryptionConfiguration={"encryptionType": "KMS", "kmsKey": key}
        )
    assert error(exc)[0] == "KmsException"
    assert exc.value.response["kmsError"] == "NotFoundException"


def test_create_repository_twice_raises_already_exists(ecr_client: Any) -> None:
    ecr_client.create_repository(repositoryName="dup")
    with pytest.raises(ClientError) as exc:
        ecr_client.create_repository(repositoryName="dup")
    assert error(exc) == (
        "RepositoryAlreadyExistsException",
        f"The repository with name 'dup' already exists in the registry with id '{ACCOUNT}'",
    )


@pytest.mark.parametrize("name", ["Upper", "trailing-", "a//b", "-lead"])
def test_create_repository_with_bad_name_is_invalid_parameter(ecr_client: Any, name: str) -> None:
    with pytest.raises(ClientError) as exc:
        ecr_client.create_repository(repositoryName=name)
    code, message = error(exc)
    assert code == "InvalidParameterException"
    assert message.startswith(
        "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy "
        "regular expression"
    )


def test_create_repository_raw_bad_name_and_enum_are_refused(ecr_backend: Backend) -> None:
    status, body = raw(ecr_backend, "CreateRepository", {"repositoryName": "Bad_Name"})
    assert (status, body["__type"]) == (400, "InvalidParameterException")
    status, body = raw(
        ecr_backend, "CreateRepository", {"repositoryName": "ok", "imageTagMutability": "SOMETIMES"}
    )
    assert (status, body["__type"]) == (400, "InvalidParameterException")
    status, body = raw(ecr_backend, "CreateRepository", {"repositoryName": 7})
    assert (status, body["__type"]) == (400, "SerializationException")
    assert ecr_backend.registry(ACCOUNT, REGION).repositories == {}


def test_create_repository_with_51_tags_raises_too_many_tags(ecr_client: Any) -> None:
    tags = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    with pytest.raises(ClientError) as exc:
        ecr_client.create_repository(repositoryName="repo", tags=tags)
    assert error(exc)[0] == "TooManyTagsException"
    assert ecr_client.describe_repositories()["repositories"] == []


@pytest.mark.parametrize(
    "tag",
    [
        {"Key": "k" * 129, "Value": "v"},
        {"Key": "k", "Value": "v" * 257},
        {"Key": "aws:x", "Value": ""},
    ],
)
def test_create_repository_with_bad_tag_raises_invalid_tag_parameter(
    ecr_client: Any, tag: dict[str, str]
) -> None:
    with pytest.raises(ClientError) as exc:
        ecr_client.create_repository(repositoryName="repo", tags=[tag])
    assert error(exc)[0] == "InvalidTagParameterException"


def test_create_repository_in_another_account_needs_that_accounts_credentials(
    ecr_backend: Backend, ecr_client: Any
) -> None:
    with pytest.raises(ClientError) as exc:
        ecr_client.create_repository(registryId=OTHER_ACCOUNT, repositoryName="shared")
    assert exc.value.response["Error"]["Code"] == "AccessDeniedException"
    ecr_backend.add_access_key("AKIAOTHERACCOUNT0001", OTHER_ACCOUNT)
    other = boto3.client(
        "ecr",
        region_name=REGION,
        aws_access_key_id="AKIAOTHERACCOUNT0001",
        aws_secret_access_key="secret",
    )
    repo = other.create_repository(repositoryName="shared")["repository"]
    assert repo["registryId"] == OTHER_ACCOUNT
    assert repo["repositoryArn"] == f"arn:aws:ecr:{REGION}:{OTHER_ACCOUNT}:repository/shared"
    assert ecr_client.describe_repositories()["repositories"] == []
    found = other.describe_repositories(registryId=OTHER_ACCOUNT)["repositories"]
    assert [r["repositoryName"] for r in found] == ["shared"]


# ----- DescribeRepositories --------------------------------------------------------------------


def test_describe_repositories_by_name_returns_those(ecr_client: Any) -> None:
    for name in ("one", "two", "three"):
        ecr_client.create_repository(repositoryName=name)
    found = ecr_client.describe_repositories(repositoryNames=["three", "one"])["repositories"]
    assert [r["repositoryName"] for r in found] == ["three", "one"]


def test_describe_repositories_with_a_missing_name_raises_not_found(ecr_client: Any) -> None:
    ecr_client.create_repository(repositoryName="one")
    with pytest.raises(ClientError) as exc:
        ecr_client.describe_repositories(repositoryNames=["one", "ghost"])
    assert error(exc) == (
        "RepositoryNotFoundException",
        f"The repository with name 'ghost' does not exist in the registry with id '{ACCOUNT}'",
    )


def test_describe_repositories_refuses_max_results_with_names(ecr_client: Any) -> None:
    ecr_client.create_repository(repositoryName="one")
    with pytest.raises(ClientError) as exc:
        ecr_client.describe_repositories(repositoryNames=["one"], maxResults=5)
    assert error(exc)[0] == "InvalidParameterException"


def test_describe_repositories_pages_by_100_by_default(
    ecr_backend: Backend, ecr_client: Any
) -> None:
    reg = ecr_backend.registry(ACCOUNT, REGION)
    for i in range(250):
        ecr_backend.create_repository(reg, f"repo-{i:03d}")
    first = ecr_client.describe_repositories()
    assert len(first["repositories"]) == 100
    second = ecr_client.describe_repositories(nextToken=first["nextToken"])
    third = ecr_client.describe_repositories(nextToken=second["nextToken"])
    assert len(second["repositories"]) == 100
    assert len(third["repositories"]) == 50
    assert "nextToken" not in third
    names = [r["repositoryName"] for page in (first, second, third) for r in page["repositories"]]
    assert names == [f"repo-{i:03d}" for i in range(250)]


def test_describe_repositories_paginator_honours_max_results(
    ecr_backend: Backend, ecr_client: Any
) -> None:
    reg = ecr_backend.registry(ACCOUNT, REGION)
    for i in range(7):
        ecr_backend.create_repository(reg, f"repo-{i}")
    pages = list(
        ecr_client.get_paginator("describe_repositories").paginate(PaginationConfig={"PageSize": 3})
    )
    assert [len(p["repositories"]) for p in pages] == [3, 3, 1]
    assert len(ecr_client.describe_repositories(maxResults=1000)["repositories"]) == 7


def test_describe_repositories_refuses_out_of_range_max_results_and_bad_token(
    ecr_backend: Backend,
) -> None:
    status, body = raw(ecr_backend, "DescribeRepositories", {"maxResults": 1001})
    assert (status, body["__type"]) == (400, "InvalidParameterException")
    status, body = raw(ecr_backend, "DescribeRepositories", {"maxResults": 0})
    assert (status, body["__type"]) == (400, "InvalidParameterException")
    status, body = raw(ecr_backend, "DescribeRepositories", {"nextToken": "garbage!"})
    assert (status, body["__type"]) == (400, "InvalidParameterException")


# ----- DeleteRepository ------------------------------------------------------------------------


def test_delete_empty_repository_returns_it(ecr_client: Any) -> None:
    ecr_client.create_repository(repositoryName="gone")
    deleted = ecr_client.delete_repository(repositoryName="gone")["repository"]
    assert deleted["repositoryName"] == "gone"
    assert ecr_client.describe_repositories()["repositories"] == []


def test_delete_repository_with_images_needs_force(ecr_backend: Backend, ecr_client: Any) -> None:
    ecr_client.create_repository(repositoryName="full")
    push(ecr_backend, "full", "v1", "a")
    with pytest.raises(ClientError) as exc:
        ecr_client.delete_repository(repositoryName="full")
    assert error(exc) == (
        "RepositoryNotEmptyException",
        f"The repository with name 'full' in registry with id '{ACCOUNT}' cannot be deleted "
        "because it still contains images",
    )
    ecr_client.delete_repository(repositoryName="full", force=True)
    assert ecr_client.describe_repositories()["repositories"] == []


def test_delete_missing_repository_raises_not_found(ecr_client: Any) -> None:
    with pytest.raises(ClientError) as exc:
        ecr_client.delete_repository(repositoryName="ghost")
    assert error(exc)[0] == "RepositoryNotFoundException"


def test_recreated_repository_has_no_old_policy_or_tags(ecr_client: Any) -> None:
    arn = ecr_client.create_repository(repositoryName="again", tags=[{"Key": "a", "Value": "b"}])[
        "repository"
    ]["repositoryArn"]
    ecr_client.set_repository_policy(
        repositoryName="again",
        policyText=json.dumps(
            {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}]}
        ),
    )
    ecr_client.delete_repository(repositoryName="again")
    ecr_client.create_repository(repositoryName="again")
    assert ecr_client.list_tags_for_resource(resourceArn=arn)["tags"] == []
    with pytest.raises(ClientError) as exc:
        ecr_client.get_repository_policy(repositoryName="again")
    assert error(exc)[0] == "RepositoryPolicyNotFoundException"


# ----- PutImageTagMutability -------------------------------------------------------------------


@pytest.mark.parametrize("mutability", ["MUTABLE", "IMMUTABLE"])
def test_put_image_tag_mutability_plain_values(ecr_client: Any, mutability: str) -> None:
    ecr_client.create_repository(repositoryName="repo")
    result = ecr_client.put_image_tag_mutability(
        repositoryName="repo", imageTagMutability=mutability
    )
    assert result["registryId"] == ACCOUNT
    assert result["repositoryName"] == "repo"
    assert result["imageTagMutability"] == mutability
    assert "imageTagMutabilityExclusionFilters" not in result
    described = ecr_client.describe_repositories(repositoryNames=["repo"])["repositories"][0]
    assert described["imageTagMutability"] == mutability


@pytest.mark.parametrize("mutability", ["IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION"])
def test_put_image_tag_mutability_with_exclusions(ecr_client: Any, mutability: str) -> None:
    ecr_client.create_repository(repositoryName="repo")
    filters = [{"filterType": "WILDCARD", "filter": "release-*"}]
    result = ecr_client.put_image_tag_mutability(
        repositoryName="repo",
        imageTagMutability=mutability,
        imageTagMutabilityExclusionFilters=filters,
    )
    assert result["imageTagMutability"] == mutability
    assert result["imageTagMutabilityExclusionFilters"] == filters
    described = ecr_client.describe_repositories(repositoryNames=["repo"])["repositories"][0]
    assert described["imageTagMutabilityExclusionFilters"] == filters


def test_put_image_tag_mutability_back_to_mutable_drops_filters(ecr_client: Any) -> None:
    ecr_client.create_repository(
        repositoryName="repo",
        imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "latest"}],
    )
    ecr_client.put_image_tag_mutability(repositoryName="repo", imageTagMutability="MUTABLE")
    described = ecr_client.describe_repositories(repositoryNames=["repo"])["repositories"][0]
    assert described["imageTagMutability"] == "MUTABLE"
    assert "imageTagMutabilityExclusionFilters" not in described


def test_put_image_tag_mutability_refused_call_keeps_the_setting(ecr_client: Any) -> None:
    ecr_client.create_repository(repositoryName="repo", imageTagMutability="IMMUTABLE")
    with pytest.raises(ClientError) as exc:
        ecr_client.put_image_tag_mutability(
            repositoryName="repo",
            imageTagMutability="MUTABLE",
            imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "x"}],
        )
    assert error(exc)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as exc:
        ecr_client.put_image_tag_mutability(
            repositoryName="repo", imageTagMutability="MUTABLE_WITH_EXCLUSION"
        )
    assert error(exc)[0] == "InvalidParameterException"
    described = ecr_client.describe_repositories(repositoryNames=["repo"])["repositories"][0]
    assert described["imageTagMutability"] == "IMMUTABLE"


def test_put_image_tag_mutability_raw_filter_shapes_are_checked(ecr_backend: Backend) -> None:
    ecr_backend.create_repository(ecr_backend.registry(ACCOUNT, REGION), "repo")
    base = {"repositoryName": "repo", "imageTagMutability": "IMMUTABLE_WITH_EXCLUSION"}
    cases = [
        [{"filterType": "REGEX", "filter": "x"}],
        [{"filterType": "WILDCARD", "filter": "bad/char"}],
        [{"filterType": "WILDCARD", "filter": f"t{i}"} for i in range(6)],
        [],
    ]
    for filters in cases:
        status, body = raw(
            ecr_backend,
            "PutImageTagMutability",
            {**base, "imageTagMutabilityExclusionFilters": filters},
        )
        assert (status, body["__type"]) == (400, "InvalidParameterException"), filters
    assert stored(ecr_backend, "repo").tag_mutability == "MUTABLE"


def test_put_image_tag_mutability_on_missing_repository_raises_not_found(ecr_client: Any) -> None:
    with pytest.raises(ClientError) as exc:
        ecr_client.put_image_tag_mutability(repositoryName="ghost", imageTagMutability="IMMUTABLE")
    assert error(exc)[0] == "RepositoryNotFoundException"


def test_exclusion_filters_decide_which_tags_may_move(
    ecr_backend: Backend, ecr_client: Any
) -> None:
    ecr_client.create_repository(
        repositoryName="repo",
        imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "dev-*"}],
    )
    push(ecr_backend, "repo", "dev-1", "a")
    moved = push(ecr_backend, "repo", "dev-1", "b")
    assert stored(ecr_backend, "repo").tags["dev-1"] == moved
    push(ecr_backend, "repo", "v1", "c")
    with pytest.raises(Exception) as exc:
        push(ecr_backend, "repo", "v1", "d")
    assert getattr(exc.value, "code", None) == "ImageTagAlreadyExistsException"


# ----- PutImageScanningConfiguration -----------------------------------------------------------


def test_put_image_scanning_configuration_toggles_scan_on_push(ecr_client: Any) -> None:
    ecr_client.create_repository(repositoryName="repo")
    result = ecr_client.put_image_scanning_configuration(
        repositoryName="repo", imageScanningConfiguration={"scanOnPush": True}
    )
    assert result == {
        "registryId": ACCOUNT,
        "repositoryName": "repo",
        "imageScanningConfiguration": {"scanOnPush": True},
        "ResponseMetadata": result["ResponseMetadata"],
    }
    described = ecr_client.describe_repositories(repositoryNames=["repo"])["repositories"][0]
    assert described["imageScanningConfiguration"] == {"scanOnPush": True}
    ecr_client.put_image_scanning_configuration(
        repositoryName="repo", imageScanningConfiguration={"scanOnPush": False}
    )
    described = ecr_client.describe_repositories(repositoryNames=["repo"])["repositories"][0]
    assert described["imageScanningConfiguration"] == {"scanOnPush": False}


def test_put_image_scanning_configuration_on_missing_repository_raises_not_found(
    ecr_client: Any,
) -> None:
    with pytest.raises(ClientError) as exc:
        ecr_client.put_image_scanning_configuration(
            repositoryName="ghost", imageScanningConfiguration={"scanOnPush": True}
        )
    assert error(exc)[0] == "RepositoryNotFoundException"
