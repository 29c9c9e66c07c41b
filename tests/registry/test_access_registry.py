"""Access control on /v2/: each registry step is checked as its IAM action, at request time."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from moto import mock_aws
from werkzeug.test import TestResponse

from ecr_mock import mock_ecr
from ecr_mock.domain.iam_policy import MANAGED_POLICIES
from ecr_mock.domain.models import Principal
from ecr_mock.runtime.providers.moto_iam import add_ecr_managed_policies
from ecr_mock.services.access import StaticIdentities
from ecr_mock.services.backend import Backend
from tests.support.registry import ACCOUNT, REGION, Registry, sha256

B = "210987654321"
ARN = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/app"
READ_ONLY = MANAGED_POLICIES["AmazonEC2ContainerRegistryReadOnly"]
PULL_ONLY = MANAGED_POLICIES["AmazonEC2ContainerRegistryPullOnly"]


def allow(*actions: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}],
        }
    )


def repository_policy(principal: str, *actions: str, effect: str = "Allow") -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": effect, "Principal": {"AWS": principal}, "Action": list(actions)}
            ],
        }
    )


class Caller:
    """A principal's token used against the test registry app."""

    def __init__(self, registry: Registry, principal: Principal, account: str = ACCOUNT) -> None:
        token = registry.backend.tokens.issue(principal, account, REGION)
        self.registry = registry
        self.headers = {"Authorization": f"Basic {token.authorization_token}"}
        self.base_url = f"https://{account}.dkr.ecr.{REGION}.amazonaws.com"

    def request(self, method: str, path: str, **kwargs: Any) -> TestResponse:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.registry.client.open(
            path, method=method, headers=headers, base_url=self.base_url, **kwargs
        )


def denied(response: TestResponse) -> tuple[int, str, str]:
    error = json.loads(response.get_data())["errors"][0]
    return response.status_code, error["code"], error["message"]


@pytest.fixture
def identities(ecr_backend: Backend) -> StaticIdentities:
    provider = StaticIdentities()
    ecr_backend.identity_provider = provider
    return provider


@pytest.fixture
def pushed(registry: Registry) -> tuple[str, bytes]:
    registry.create_repo("app")
    return registry.push_image("app", "v1", [b"layer-one", b"layer-two"])


def test_read_only_token_pulls_manifest_and_blobs(
    registry: Registry, identities: StaticIdentities, pushed: tuple[str, bytes]
) -> None:
    reader = Caller(
        registry, identities.add("AKIAR", f"arn:aws:iam::{ACCOUNT}:user/r", [READ_ONLY])
    )
    manifest = reader.request("GET", "/v2/app/manifests/v1")
    assert manifest.status_code == 200
    assert manifest.get_data() == pushed[1]
    blob = reader.request("GET", f"/v2/app/blobs/{sha256(b'layer-one')}")
    assert (blob.status_code, blob.get_data()) == (200, b"layer-one")


def test_read_only_token_is_refused_a_blob_upload_with_ecrs_message(
    registry: Registry, identities: StaticIdentities, pushed: tuple[str, bytes]
) -> None:
    reader = Caller(
        registry, identities.add("AKIAR", f"arn:aws:iam::{ACCOUNT}:user/r", [READ_ONLY])
    )
    response = reader.request("POST", "/v2/app/blobs/uploads/")
    assert denied(response) == (
        403,
        "DENIED",
        f"User: arn:aws:iam::{ACCOUNT}:user/r is not authorized to perform: "
        f"ecr:InitiateLayerUpload on resource: {ARN} because no identity-based policy allows the "
        "ecr:InitiateLayerUpload action",
    )


def test_manifest_put_is_checked_as_put_image(
    registry: Registry, identities: StaticIdentities, pushed: tuple[str, bytes]
) -> None:
    layers_only = allow(
        "ecr:BatchCheckLayerAvailability",
        "ecr:InitiateLayerUpload",
        "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload",
    )
    uploader = Caller(
        registry, identities.add("AKIAU", f"arn:aws:iam::{ACCOUNT}:user/u", [layers_only])
    )
    upload = uploader.request(
        "POST", "/v2/app/blobs/uploads/", query_string={"digest": sha256(b"new")}, data=b"new"
    )
    assert upload.status_code == 201
    response = uploader.request(
        "PUT",
        "/v2/app/manifests/v2",
        data=pushed[1],
        headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
    )
    status, code, message = denied(response)
    assert (status, code) == (403, "DENIED")
    assert "is not authorized to perform: ecr:PutImage on resource" in message


def test_pull_of_blobs_needs_get_download_url_for_layer(
    registry: Registry, identities: StaticIdentities, pushed: tuple[str, bytes]
) -> None:
    manifests_only = allow("ecr:BatchGetImage")
    caller = Caller(
        registry, identities.add("AKIAM", f"arn:aws:iam::{ACCOUNT}:user/m", [manifests_only])
    )
    assert caller.request("GET", "/v2/app/manifests/v1").status_code == 200
    status, code, message = denied(caller.request("GET", f"/v2/app/blobs/{sha256(b'layer-one')}"))
    assert (status, code) == (403, "DENIED")
    assert "ecr:GetDownloadUrlForLayer" in message


def test_token_stops_working_for_what_its_principal_lost(
    registry: Registry, identities: StaticIdentities, pushed: tuple[str, bytes]
) -> None:
    arn = f"arn:aws:iam::{ACCOUNT}:user/leaver"
    caller = Caller(registry, identities.add("AKIAL", arn, [READ_ONLY]))
    assert caller.request("GET", "/v2/app/manifests/v1").status_code == 200
    identities.set_policies(arn, [])
    assert denied(caller.request("GET", "/v2/app/manifests/v1"))[:2] == (403, "DENIED")


def test_repository_policy_deny_refuses_a_pull(
    registry: Registry, identities: StaticIdentities, pushed: tuple[str, bytes]
) -> None:
    arn = f"arn:aws:iam::{ACCOUNT}:user/blocked"
    caller = Caller(registry, identities.add("AKIAX", arn, [READ_ONLY]))
    registry.backend.get_repository(registry.reg, "app").policy_text = repository_policy(
        arn, "ecr:BatchGetImage", effect="Deny"
    )
    status, code, message = denied(caller.request("GET", "/v2/app/manifests/v1"))
    assert (status, code) == (403, "DENIED")
    assert message.endswith("with an explicit deny in a resource-based policy")


def test_mount_from_an_unreadable_repository_falls_back_to_an_upload(
    registry: Registry, identities: StaticIdentities, pushed: tuple[str, bytes]
) -> None:
    registry.create_repo("target")
    target_only = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "ecr:*",
                    "Resource": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/target",
                }
            ],
        }
    )
    caller = Caller(
        registry, identities.add("AKIAT", f"arn:aws:iam::{ACCOUNT}:user/t", [target_only])
    )
    digest = sha256(b"layer-one")
    response = caller.request(
        "POST", "/v2/target/blobs/uploads/", query_string={"mount": digest, "from": "app"}
    )
    assert response.status_code == 202
    root = Caller(registry, Principal.root(ACCOUNT))
    mounted = root.request(
        "POST", "/v2/target/blobs/uploads/", query_string={"mount": digest, "from": "app"}
    )
    assert mounted.status_code == 201


# ----- across accounts -----------------------------------------------------------------------


def test_other_accounts_token_for_this_registry_is_refused_without_a_repository_policy(
    registry: Registry, identities: StaticIdentities, pushed: tuple[str, bytes]
) -> None:
    other = Caller(registry, identities.add("AKIAB", f"arn:aws:iam::{B}:user/puller", [PULL_ONLY]))
    assert denied(other.request("GET", "/v2/app/manifests/v1")) == (
        403,
        "DENIED",
        f"User: arn:aws:iam::{B}:user/puller is not authorized to perform: ecr:BatchGetImage on "
        f"resource: {ARN} because no resource-based policy allows the ecr:BatchGetImage action",
    )


def test_other_account_pulls_when_the_repository_policy_allows_it(
    registry: Registry, identities: StaticIdentities, pushed: tuple[str, bytes]
) -> None:
    registry.backend.get_repository(registry.reg, "app").policy_text = repository_policy(
        B, "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"
    )
    other = Caller(registry, identities.add("AKIAB", f"arn:aws:iam::{B}:user/puller", [PULL_ONLY]))
    assert other.request("GET", "/v2/app/manifests/v1").get_data() == pushed[1]
    blob = other.request("GET", f"/v2/app/blobs/{sha256(b'layer-two')}")
    assert (blob.status_code, blob.get_data()) == (200, b"layer-two")
    assert denied(other.request("POST", "/v2/app/blobs/uploads/"))[:2] == (403, "DENIED")
    assert denied(other.request("GET", "/v2/_catalog"))[:2] == (403, "DENIED")


def test_registry_policy_grants_another_account_a_pull(
    registry: Registry, identities: StaticIdentities, pushed: tuple[str, bytes]
) -> None:
    registry.reg.policy_text = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
                    "Action": ["ecr:BatchGetImage"],
                    "Resource": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/*",
                }
            ],
        }
    )
    other = Caller(registry, identities.add("AKIAB", f"arn:aws:iam::{B}:user/puller", [PULL_ONLY]))
    assert other.request("GET", "/v2/app/manifests/v1").status_code == 200


# ----- in process, with moto's IAM ---------------------------------------------------------


@pytest.fixture
def moto_ecr() -> Iterator[Any]:
    with mock_aws(), mock_ecr():
        admin = boto3.client("ecr", region_name=REGION)
        admin.create_repository(repositoryName="app")
        yield admin


def _moto_user(name: str, managed: str) -> Any:
    add_ecr_managed_policies(ACCOUNT)
    iam = boto3.client("iam", region_name=REGION)
    iam.create_user(UserName=name)
    iam.attach_user_policy(UserName=name, PolicyArn=f"arn:aws:iam::aws:policy/{managed}")
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return boto3.client(
        "ecr",
        region_name=REGION,
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
    )


def _basic(client: Any) -> tuple[str, tuple[str, str]]:
    data = client.get_authorization_token()["authorizationData"][0]
    user, password = base64.b64decode(data["authorizationToken"]).decode().split(":", 1)
    return data["proxyEndpoint"], (user, password)


def test_requests_push_with_a_moto_read_only_users_token_is_denied(moto_ecr: Any) -> None:
    endpoint, auth = _basic(_moto_user("reader", "AmazonEC2ContainerRegistryReadOnly"))
    response = requests.post(f"{endpoint}/v2/app/blobs/uploads/", auth=auth, timeout=10)
    assert response.status_code == 403
    error = response.json()["errors"][0]
    assert error["code"] == "DENIED"
    assert error["message"] == (
        f"User: arn:aws:iam::{ACCOUNT}:user/reader is not authorized to perform: "
        f"ecr:InitiateLayerUpload on resource: {ARN} because no identity-based policy allows the "
        "ecr:InitiateLayerUpload action"
    )


def test_requests_push_with_a_moto_power_users_token_is_accepted(moto_ecr: Any) -> None:
    endpoint, auth = _basic(_moto_user("pusher", "AmazonEC2ContainerRegistryPowerUser"))
    response = requests.post(
        f"{endpoint}/v2/app/blobs/uploads/",
        params={"digest": sha256(b"data")},
        data=b"data",
        auth=auth,
        timeout=10,
    )
    assert response.status_code == 201
