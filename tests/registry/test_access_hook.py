"""The access-control hook: each registry step asks ``authorize`` for ECR's IAM action."""

from __future__ import annotations

import json

import pytest

from ecr_mock.domain.errors import AccessDenied
from ecr_mock.services import Store
from ecr_mock.services import registry_auth as auth
from ecr_mock.services.registry_auth import Caller
from tests.support.registry import Registry, sha256

ARN = "arn:aws:ecr:us-east-1:123456789012:repository/"


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []

    def record(store: Store, caller: Caller, action: str, repo_arn: str) -> None:
        seen.append((action, repo_arn))

    monkeypatch.setattr(auth, "authorize", record)
    return seen


def test_push_steps_ask_for_the_push_actions(
    registry: Registry, calls: list[tuple[str, str]]
) -> None:
    registry.create_repo("app")
    data = b"layer"
    registry.request("HEAD", f"/v2/app/blobs/{sha256(data)}")
    location = registry.request("POST", "/v2/app/blobs/uploads/").headers["Location"]
    registry.request("PATCH", location, data=data)
    registry.request("PUT", location, query_string={"digest": sha256(data)})
    registry.put_manifest("app", "v1", registry.image_manifest("app", [data]))
    actions = [action for action, _ in calls]
    assert actions[:4] == [
        "ecr:BatchCheckLayerAvailability",
        "ecr:InitiateLayerUpload",
        "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload",
    ]
    assert actions[-1] == "ecr:PutImage"
    assert {arn for _, arn in calls} == {ARN + "app"}


def test_pull_list_delete_and_catalog_actions(
    registry: Registry, calls: list[tuple[str, str]]
) -> None:
    registry.create_repo("app")
    digest, _ = registry.push_image("app", "v1", [b"l"])
    calls.clear()
    registry.request("GET", "/v2/app/manifests/v1")
    registry.request("GET", f"/v2/app/blobs/{sha256(b'l')}")
    registry.request("GET", "/v2/app/tags/list")
    registry.request("GET", "/v2/_catalog")
    registry.request("DELETE", f"/v2/app/manifests/{digest}")
    assert [action for action, _ in calls] == [
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "ecr:ListImages",
        "ecr:DescribeRepositories",
        "ecr:BatchDeleteImage",
    ]


def test_mount_asks_for_read_actions_on_the_source(
    registry: Registry, calls: list[tuple[str, str]]
) -> None:
    registry.create_repo("src")
    registry.create_repo("dst")
    registry.push_image("src", "v1", [b"l"])
    calls.clear()
    registry.request(
        "POST", "/v2/dst/blobs/uploads/", query_string={"mount": sha256(b"l"), "from": "src"}
    )
    assert calls == [
        ("ecr:InitiateLayerUpload", ARN + "dst"),
        ("ecr:BatchGetImage", ARN + "src"),
        ("ecr:GetDownloadUrlForLayer", ARN + "src"),
    ]


def test_a_refusal_is_403_denied_with_ecrs_message(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    def deny(store: Store, caller: Caller, action: str, repo_arn: str) -> None:
        principal = caller.principal
        raise AccessDenied(principal.arn if principal else "anonymous", action, repo_arn)

    registry.create_repo("app")
    monkeypatch.setattr(auth, "authorize", deny)
    response = registry.request("GET", "/v2/app/manifests/v1")
    assert response.status_code == 403
    assert json.loads(response.get_data()) == {
        "errors": [
            {
                "code": "DENIED",
                "message": "User: arn:aws:iam::123456789012:root is not authorized to perform: "
                f"ecr:BatchGetImage on resource: {ARN}app",
            }
        ]
    }


def test_a_refused_mount_source_falls_back_to_an_upload(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    def deny_source(store: Store, caller: Caller, action: str, repo_arn: str) -> None:
        if repo_arn.endswith("/src"):
            raise AccessDenied("arn:aws:iam::123456789012:root", action, repo_arn)

    registry.create_repo("src")
    registry.create_repo("dst")
    registry.push_image("src", "v1", [b"l"])
    monkeypatch.setattr(auth, "authorize", deny_source)
    response = registry.request(
        "POST", "/v2/dst/blobs/uploads/", query_string={"mount": sha256(b"l"), "from": "src"}
    )
    assert response.status_code == 202
