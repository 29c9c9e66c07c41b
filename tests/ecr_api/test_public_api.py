"""The ECR Public API in-process: registries, repositories, catalog data, images, tokens, IAM."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from ecr_mock import Backend
from ecr_mock.services.access import StaticIdentities
from ecr_mock.services.public import default_alias
from tests.ecr_api.helpers import OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, error, sha256, upload_layer

ACCOUNT = "123456789012"
ALIAS = default_alias(ACCOUNT)


def push(client: Any, repository: str, tag: str, layer: bytes = b"layer") -> str:
    """Push a one-layer OCI image through the layer API and PutImage; returns its digest."""
    config = json.dumps({"architecture": "amd64", "os": "linux", "tag": tag}).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": OCI_CONFIG,
                "digest": upload_layer(client, repository, config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": OCI_LAYER,
                    "digest": upload_layer(client, repository, layer),
                    "size": len(layer),
                }
            ],
        }
    )
    image = client.put_image(repositoryName=repository, imageManifest=manifest, imageTag=tag)
    digest = str(image["image"]["imageId"]["imageDigest"])
    assert digest == sha256(manifest.encode())
    return digest


def test_registry_has_one_alias_and_public_uri(ecr_public_client: Any) -> None:
    registries = ecr_public_client.describe_registries()["registries"]
    assert registries == [
        {
            "registryId": ACCOUNT,
            "registryArn": f"arn:aws:ecr-public::{ACCOUNT}:registry/{ACCOUNT}",
            "registryUri": f"public.ecr.aws/{ALIAS}",
            "verified": False,
            "aliases": [
                {
                    "name": ALIAS,
                    "status": "ACTIVE",
                    "primaryRegistryAlias": True,
                    "defaultRegistryAlias": True,
                }
            ],
        }
    ]


def test_create_repository_answers_public_arn_uri_and_catalog(ecr_public_client: Any) -> None:
    created = ecr_public_client.create_repository(
        repositoryName="tools/app",
        catalogData={"description": "A tool", "architectures": ["ARM 64", "x86-64"]},
        tags=[{"Key": "team", "Value": "infra"}],
    )
    repo = created["repository"]
    assert repo["repositoryArn"] == f"arn:aws:ecr-public::{ACCOUNT}:repository/tools/app"
    assert repo["repositoryUri"] == f"public.ecr.aws/{ALIAS}/tools/app"
    assert repo["registryId"] == ACCOUNT
    assert created["catalogData"]["description"] == "A tool"
    assert created["catalogData"]["architectures"] == ["ARM 64", "x86-64"]
    tags = ecr_public_client.list_tags_for_resource(resourceArn=repo["repositoryArn"])["tags"]
    assert tags == [{"Key": "team", "Value": "infra"}]
    with pytest.raises(ClientError) as exc:
        ecr_public_client.create_repository(repositoryName="tools/app")
    assert error(exc)[0] == "RepositoryAlreadyExistsException"


def test_create_repository_checks_its_tags(ecr_public_client: Any) -> None:
    with pytest.raises(ClientError) as exc:
        ecr_public_client.create_repository(
            repositoryName="app", tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)]
        )
    assert error(exc)[0] == "TooManyTagsException"
    with pytest.raises(ClientError) as exc:
        ecr_public_client.create_repository(
            repositoryName="app", tags=[{"Key": "aws:x", "Value": "v"}]
        )
    assert error(exc)[0] == "InvalidTagParameterException"
    assert ecr_public_client.describe_repositories()["repositories"] == []


def test_public_and_private_repositories_are_apart(ecr_public_client: Any) -> None:
    ecr_public_client.create_repository(repositoryName="shared-name")
    private = boto3.client("ecr", region_name="us-east-1")
    assert private.describe_repositories()["repositories"] == []
    private.create_repository(repositoryName="shared-name")
    names = [r["repositoryName"] for r in ecr_public_client.describe_repositories()["repositories"]]
    assert names == ["shared-name"]
    ecr_public_client.delete_repository(repositoryName="shared-name")
    assert private.describe_repositories()["repositories"][0]["repositoryName"] == "shared-name"


def test_catalog_data_round_trip_and_replacement(ecr_public_client: Any) -> None:
    logo = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    ecr_public_client.create_repository(repositoryName="app")
    assert ecr_public_client.get_repository_catalog_data(repositoryName="app")["catalogData"] == {
        "marketplaceCertified": False
    }
    put = ecr_public_client.put_repository_catalog_data(
        repositoryName="app",
        catalogData={
            "description": "short",
            "operatingSystems": ["Linux"],
            "aboutText": "# About",
            "usageText": "docker pull ...",
            "logoImageBlob": logo,
        },
    )["catalogData"]
    got = ecr_public_client.get_repository_catalog_data(repositoryName="app")["catalogData"]
    assert got == put
    assert got["operatingSystems"] == ["Linux"]
    assert got["aboutText"] == "# About"
    assert got["logoUrl"].endswith(f"/{ACCOUNT}/app")
    ecr_public_client.put_repository_catalog_data(
        repositoryName="app", catalogData={"description": "new"}
    )
    got = ecr_public_client.get_repository_catalog_data(repositoryName="app")["catalogData"]
    assert got == {"description": "new", "marketplaceCertified": False}


def test_logo_larger_than_the_model_allows_is_refused(ecr_public_client: Any) -> None:
    ecr_public_client.create_repository(repositoryName="app")
    with pytest.raises(ClientError) as exc:
        ecr_public_client.put_repository_catalog_data(
            repositoryName="app", catalogData={"logoImageBlob": b"x" * 512_001}
        )
    assert error(exc)[0] == "InvalidParameterException"
    assert "logoImageBlob" in str(exc.value)


def test_registry_display_name(ecr_public_client: Any) -> None:
    assert ecr_public_client.get_registry_catalog_data()["registryCatalogData"] == {}
    answer = ecr_public_client.put_registry_catalog_data(displayName="Example Corp")
    assert answer["registryCatalogData"] == {"displayName": "Example Corp"}
    assert ecr_public_client.get_registry_catalog_data()["registryCatalogData"] == {
        "displayName": "Example Corp"
    }


def test_push_describe_and_delete_images(ecr_public_client: Any) -> None:
    ecr_public_client.create_repository(repositoryName="app")
    digest = push(ecr_public_client, "app", "v1")
    push(ecr_public_client, "app", "v2", layer=b"other layer")
    details = ecr_public_client.describe_images(repositoryName="app")["imageDetails"]
    assert [d["imageTags"] for d in details] == [["v1"], ["v2"]]
    assert details[0]["imageDigest"] == digest
    assert "imageStatus" not in details[0]  # not a member of ECR Public's ImageDetail
    tags = ecr_public_client.describe_image_tags(repositoryName="app")["imageTagDetails"]
    assert [t["imageTag"] for t in tags] == ["v1", "v2"]
    assert tags[0]["imageDetail"]["imageDigest"] == digest
    page = ecr_public_client.describe_image_tags(repositoryName="app", maxResults=1)
    assert len(page["imageTagDetails"]) == 1 and page["nextToken"]
    layer = sha256(b"layer")
    checked = ecr_public_client.batch_check_layer_availability(
        repositoryName="app", layerDigests=[layer, sha256(b"absent")]
    )
    assert [x["layerDigest"] for x in checked["layers"]] == [layer]
    assert checked["failures"][0]["failureCode"] == "MissingLayerDigest"
    with pytest.raises(ClientError) as exc:
        ecr_public_client.delete_repository(repositoryName="app")
    assert error(exc)[0] == "RepositoryNotEmptyException"
    deleted = ecr_public_client.batch_delete_image(
        repositoryName="app", imageIds=[{"imageTag": "v1"}]
    )
    assert deleted["imageIds"] == [{"imageDigest": digest, "imageTag": "v1"}]
    ecr_public_client.delete_repository(repositoryName="app", force=True)
    with pytest.raises(ClientError) as exc:
        ecr_public_client.describe_images(repositoryName="app")
    assert error(exc)[0] == "RepositoryNotFoundException"


def test_layer_api_accepts_the_registry_alias(ecr_public_client: Any) -> None:
    ecr_public_client.create_repository(repositoryName="app")
    upload = ecr_public_client.initiate_layer_upload(registryId=ALIAS, repositoryName="app")
    assert upload["partSize"] > 0
    with pytest.raises(ClientError) as exc:
        ecr_public_client.initiate_layer_upload(registryId="no-such-alias", repositoryName="app")
    assert error(exc)[0] == "RegistryNotFoundException"


def test_repository_policy_round_trip(ecr_public_client: Any) -> None:
    ecr_public_client.create_repository(repositoryName="app")
    with pytest.raises(ClientError) as exc:
        ecr_public_client.get_repository_policy(repositoryName="app")
    assert error(exc)[0] == "RepositoryPolicyNotFoundException"
    text = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "push",
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
                    "Action": ["ecr-public:PutImage"],
                }
            ],
        }
    )
    assert (
        ecr_public_client.set_repository_policy(repositoryName="app", policyText=text)["policyText"]
        == text
    )
    assert ecr_public_client.get_repository_policy(repositoryName="app")["policyText"] == text
    assert ecr_public_client.delete_repository_policy(repositoryName="app")["policyText"] == text
    with pytest.raises(ClientError) as exc:
        ecr_public_client.set_repository_policy(repositoryName="app", policyText='{"Statement": 1}')
    assert error(exc)[0] == "InvalidParameterException"


def test_tags_take_public_arns_only(ecr_public_client: Any) -> None:
    arn = ecr_public_client.create_repository(repositoryName="app")["repository"]["repositoryArn"]
    ecr_public_client.tag_resource(resourceArn=arn, tags=[{"Key": "a", "Value": "1"}])
    ecr_public_client.untag_resource(resourceArn=arn, tagKeys=["team", "a"])
    assert ecr_public_client.list_tags_for_resource(resourceArn=arn)["tags"] == []
    with pytest.raises(ClientError) as exc:
        ecr_public_client.list_tags_for_resource(
            resourceArn=f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/app"
        )
    assert error(exc)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as exc:
        ecr_public_client.tag_resource(
            resourceArn=arn, tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)]
        )
    assert error(exc)[0] == "TooManyTagsException"


def test_authorization_token_lasts_12_hours_on_the_backend_clock(
    ecr_backend: Backend, ecr_public_client: Any
) -> None:
    data = ecr_public_client.get_authorization_token()["authorizationData"]
    user, password = base64.b64decode(data["authorizationToken"]).decode().split(":", 1)
    assert user == "AWS"
    token = ecr_backend.tokens.check(password)
    assert token.principal.account_id == ACCOUNT
    assert token.expires_at - token.issued_at == timedelta(hours=12)
    assert abs(data["expiresAt"].timestamp() - token.expires_at.timestamp()) < 0.001
    ecr_backend.clock.advance(timedelta(hours=12))
    with pytest.raises(Exception, match="expired"):
        ecr_backend.tokens.check(password)


def test_bad_names_fail_validation_like_the_model(ecr_public_client: Any) -> None:
    with pytest.raises(ClientError) as exc:
        ecr_public_client.create_repository(repositoryName="Upper/Case")
    assert error(exc)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as exc:
        ecr_public_client.describe_repositories(maxResults=1001)
    assert error(exc)[0] == "InvalidParameterException"


def test_only_us_east_1_serves_the_api(ecr_backend: Backend) -> None:
    with pytest.raises(EndpointConnectionError):
        boto3.client("ecr-public", region_name="eu-west-1").describe_registries()
    with pytest.raises(ClientError) as exc:
        boto3.client("ecr-public", region_name="us-west-2").describe_registries()
    assert error(exc)[0] == "UnsupportedCommandException"


def _identities(backend: Backend, *statements: dict[str, Any]) -> Any:
    identities = StaticIdentities()
    backend.identity_provider = identities
    policy = json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
    identities.add("AKIAPUBLISHER0000000", f"arn:aws:iam::{ACCOUNT}:user/publisher", [policy])
    return boto3.client(
        "ecr-public",
        region_name="us-east-1",
        aws_access_key_id="AKIAPUBLISHER0000000",
        aws_secret_access_key="secret",
    )


def test_token_needs_sts_get_service_bearer_token_too(ecr_backend: Backend) -> None:
    allow_ecr = {"Effect": "Allow", "Action": "ecr-public:*", "Resource": "*"}
    client = _identities(ecr_backend, allow_ecr)
    with pytest.raises(ClientError) as exc:
        client.get_authorization_token()
    assert error(exc)[0] == "AccessDeniedException"
    assert "sts:GetServiceBearerToken" in str(exc.value)
    client = _identities(
        ecr_backend,
        allow_ecr,
        {"Effect": "Allow", "Action": "sts:GetServiceBearerToken", "Resource": "*"},
    )
    assert client.get_authorization_token()["authorizationData"]["authorizationToken"]


def test_identity_policy_decides_ecr_public_actions(ecr_backend: Backend) -> None:
    client = _identities(
        ecr_backend,
        {"Effect": "Allow", "Action": "ecr-public:Describe*", "Resource": "*"},
    )
    assert client.describe_repositories()["repositories"] == []
    with pytest.raises(ClientError) as exc:
        client.create_repository(repositoryName="app")
    assert error(exc)[0] == "AccessDeniedException"
    assert f"arn:aws:ecr-public::{ACCOUNT}:repository/app" in str(exc.value)


def test_public_pushes_send_no_eventbridge_events(
    ecr_backend: Backend, ecr_public_client: Any
) -> None:
    ecr_public_client.create_repository(repositoryName="app")
    push(ecr_public_client, "app", "v1")
    assert ecr_backend.events.all() == []
    private = boto3.client("ecr", region_name="us-east-1")
    private.create_repository(repositoryName="app")
    push(private, "app", "v1")
    assert [e["detail-type"] for e in ecr_backend.events.all()] == ["ECR Image Action"]
