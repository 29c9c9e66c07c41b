"""The admin service: reset, the state summary, the clock, tokens for any principal."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ecr_mock import Backend, Clock
from ecr_mock.domain.errors import InvalidParameter
from ecr_mock.domain.models import Registry, Repository
from ecr_mock.services import admin, repositories, uploads
from tests.support.services import Push

OTHER = "210987654321"
WHEN = datetime(2026, 5, 6, 7, 8, 9, tzinfo=timezone.utc)


def test_reset_empties_every_registry_and_its_tokens(
    ecr_backend: Backend, ecr_clock: Clock, reg: Registry, repo: Repository
) -> None:
    session = uploads.start_upload(ecr_backend, reg, repo)
    ecr_clock.freeze(WHEN)
    token = admin.issue_token(ecr_backend)
    assert ecr_backend.tokens.find(token.password) is token
    admin.reset(ecr_backend)
    assert ecr_backend.registries == {}
    assert ecr_backend.tokens.find(token.password) is None
    assert session.closed
    assert ecr_clock.now() != WHEN


def test_reset_of_one_account_keeps_the_others(ecr_backend: Backend, repo: Repository) -> None:
    other = ecr_backend.registry(OTHER)
    repositories.create_repository(ecr_backend, other, "kept")
    admin.reset(ecr_backend, "123456789012")
    assert list(ecr_backend.registries) == [(OTHER, "us-east-1")]
    with pytest.raises(InvalidParameter):
        admin.reset(ecr_backend, "not-an-account")


def test_summary_lists_registries_repositories_and_images(
    ecr_backend: Backend, ecr_clock: Clock, push: Push
) -> None:
    ecr_clock.freeze(WHEN)
    image = push(tag="v1")
    found = admin.summary(ecr_backend)
    assert found["now"] == "2026-05-06T07:08:09Z"
    (registry,) = found["registries"]
    assert (registry["account"], registry["region"], registry["blobs"]) == (
        "123456789012",
        "us-east-1",
        2,
    )
    (repo,) = registry["repositories"]
    assert repo["name"] == "app"
    assert repo["uri"] == "123456789012.dkr.ecr.us-east-1.amazonaws.com/app"
    assert (repo["hasRepositoryPolicy"], repo["hasLifecyclePolicy"]) == (False, False)
    assert repo["images"] == [
        {
            "digest": image.digest,
            "tags": ["v1"],
            "size": image.size,
            "mediaType": image.media_type,
            "pushedAt": "2026-05-06T07:08:09Z",
            "status": "ACTIVE",
            "storageClass": "STANDARD",
        }
    ]


@pytest.mark.parametrize(
    "text", ["2026-05-06T07:08:09Z", "2026-05-06T09:08:09+02:00", "2026-05-06T07:08:09"]
)
def test_times_parse_as_utc_and_print_with_z(text: str) -> None:
    assert admin.parse_time(text) == WHEN
    assert admin.iso(admin.parse_time(text)) == "2026-05-06T07:08:09Z"


def test_the_clock_moves_forward_or_jumps_never_back(
    ecr_backend: Backend, ecr_clock: Clock
) -> None:
    ecr_clock.freeze(WHEN)
    assert admin.advance_clock(ecr_backend, 90) == WHEN + timedelta(seconds=90)
    with pytest.raises(InvalidParameter):
        admin.advance_clock(ecr_backend, -1)
    later = WHEN + timedelta(days=3)
    assert admin.set_clock(ecr_backend, later) >= later


@pytest.mark.parametrize(
    ("arn", "kind"),
    [
        ("arn:aws:iam::123456789012:root", "root"),
        ("arn:aws:iam::123456789012:user/ci", "user"),
        ("arn:aws:iam::123456789012:role/deploy", "role"),
    ],
)
def test_principal_from_arn(arn: str, kind: str) -> None:
    principal = admin.principal_from_arn(arn)
    assert (principal.arn, principal.account_id, principal.kind) == (arn, "123456789012", kind)


def test_principal_from_arn_refuses_other_arns() -> None:
    with pytest.raises(InvalidParameter):
        admin.principal_from_arn("arn:aws:s3:::bucket")


def test_issue_token_for_the_root_or_any_principal(ecr_backend: Backend) -> None:
    root = admin.issue_token(ecr_backend)
    assert root.principal.arn == "arn:aws:iam::123456789012:root"
    role = admin.issue_token(ecr_backend, "arn:aws:iam::210987654321:role/ci", region="eu-west-1")
    assert (role.principal.account_id, role.account, role.region) == (
        OTHER,
        OTHER,
        "eu-west-1",
    )
    with pytest.raises(InvalidParameter):
        admin.issue_token(ecr_backend, account_id="12")
