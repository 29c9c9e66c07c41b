"""The templates service: creation template CRUD, the template that applies, creating from it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from ecr_mock import Backend, Clock
from ecr_mock.domain.errors import (
    InvalidParameter,
    TemplateAlreadyExists,
    TemplateNotFound,
)
from ecr_mock.domain.models import Registry
from ecr_mock.services import templates
from ecr_mock.services.templates import (
    CREATE_ON_PUSH,
    PULL_THROUGH_CACHE,
    REPLICATION,
    ROOT,
    CreationTemplate,
    TemplateSettings,
)

WHEN = datetime(2026, 6, 1, 8, 0, tzinfo=timezone.utc)
POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage", "Sid": "read"}
        ],
    }
)
KEEP_FIVE_UNTAGGED = {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 5}
LIFECYCLE = json.dumps(
    {"rules": [{"rulePriority": 1, "selection": KEEP_FIVE_UNTAGGED, "action": {"type": "expire"}}]}
)


def make(
    backend: Backend, reg: Registry, prefix: str, *applied: str, **settings: Any
) -> CreationTemplate:
    return templates.create_template(
        backend, reg, prefix, TemplateSettings(applied_for=list(applied), **settings)
    )


def test_create_get_update_describe_delete(
    ecr_backend: Backend, ecr_clock: Clock, reg: Registry
) -> None:
    ecr_clock.freeze(WHEN)
    made = make(ecr_backend, reg, "team", REPLICATION, REPLICATION, description="d")
    assert (made.applied_for, made.created_at, made.encryption) == (
        [REPLICATION],
        WHEN,
        {"encryptionType": "AES256"},
    )
    assert templates.get_template(reg, "team") is made
    ecr_clock.advance(timedelta(hours=1))
    templates.update_template(
        ecr_backend, reg, "team", TemplateSettings(tag_mutability="IMMUTABLE")
    )
    assert (made.tag_mutability, made.description, made.updated_at) == (
        "IMMUTABLE",
        "d",
        WHEN + timedelta(hours=1),
    )
    make(ecr_backend, reg, ROOT, CREATE_ON_PUSH)
    assert [t.prefix for t in templates.describe_templates(reg)] == [ROOT, "team"]
    assert [t.prefix for t in templates.describe_templates(reg, ["team", "nope"])] == ["team"]
    assert templates.delete_template(ecr_backend, reg, "team") is made
    with pytest.raises(TemplateNotFound):
        templates.get_template(reg, "team")


def test_a_prefix_is_taken_once(ecr_backend: Backend, reg: Registry) -> None:
    make(ecr_backend, reg, "team", REPLICATION)
    with pytest.raises(TemplateAlreadyExists) as taken:
        make(ecr_backend, reg, "team", CREATE_ON_PUSH)
    assert taken.value.code == "TemplateAlreadyExistsException"


@pytest.mark.parametrize(
    ("prefix", "applied", "settings", "where"),
    [
        ("Bad Prefix!", [REPLICATION], {}, "'prefix'"),
        ("team", [], {}, "'appliedFor'"),
        ("team", ["SOMETIMES"], {}, "'appliedFor'"),
        ("team", [REPLICATION], {"description": "x" * 257}, "'description'"),
        ("team", [REPLICATION], {"encryption": {"encryptionType": "ROT13"}}, "'encryptionType'"),
        ("team", [REPLICATION], {"resource_tags": {"aws:x": "1"}}, "'resourceTags'"),
        ("team", [REPLICATION], {"repository_policy": "{not json"}, "'PolicyText'"),
        ("team", [REPLICATION], {"custom_role_arn": "arn:aws:iam::1:user/x"}, "'customRoleArn'"),
    ],
)
def test_invalid_templates_are_refused_where_ecr_says(
    ecr_backend: Backend,
    reg: Registry,
    prefix: str,
    applied: list[str],
    settings: dict[str, Any],
    where: str,
) -> None:
    with pytest.raises(InvalidParameter) as bad:
        make(ecr_backend, reg, prefix, *applied, **settings)
    assert where in bad.value.message
    assert templates.describe_templates(reg) == []


def test_the_longest_covering_prefix_wins_and_root_is_the_fallback(
    ecr_backend: Backend, reg: Registry
) -> None:
    make(ecr_backend, reg, ROOT, REPLICATION)
    make(ecr_backend, reg, "team", REPLICATION)
    make(ecr_backend, reg, "team/web", REPLICATION)
    make(ecr_backend, reg, "team/web/api", PULL_THROUGH_CACHE)

    def prefix(name: str) -> str | None:
        found = templates.find_template(reg, name, REPLICATION)
        return found.prefix if found else None

    assert prefix("team/web/api") == "team/web"
    assert prefix("team/app") == "team"
    assert prefix("teams/app") == ROOT
    assert templates.find_template(reg, "other", CREATE_ON_PUSH) is None


def test_create_from_template_applies_its_settings(
    ecr_backend: Backend, ecr_clock: Clock, reg: Registry
) -> None:
    ecr_clock.freeze(WHEN)
    make(
        ecr_backend,
        reg,
        "team",
        CREATE_ON_PUSH,
        tag_mutability="IMMUTABLE",
        resource_tags={"owner": "team"},
        repository_policy=POLICY,
        lifecycle_policy=LIFECYCLE,
        encryption={"encryptionType": "KMS"},
    )
    repo = templates.create_on_push(ecr_backend, reg, "team/app")
    assert repo is not None and reg.repositories["team/app"] is repo
    assert (repo.tag_mutability, repo.resource_tags) == ("IMMUTABLE", {"owner": "team"})
    assert (repo.policy_text, repo.lifecycle_policy_text) == (POLICY, LIFECYCLE)
    assert repo.encryption["kmsKey"].startswith("arn:aws:kms:us-east-1:123456789012:key/")
    assert repo.lifecycle_updated_at == WHEN
    assert templates.create_on_push(ecr_backend, reg, "team/app") is repo
    assert templates.create_on_push(ecr_backend, reg, "elsewhere/app") is None


def test_without_a_template_the_repository_gets_the_defaults(
    ecr_backend: Backend, reg: Registry
) -> None:
    repo = templates.create_from_template(ecr_backend, reg, "plain", PULL_THROUGH_CACHE)
    assert (repo.tag_mutability, repo.encryption, repo.policy_text) == (
        "MUTABLE",
        {"encryptionType": "AES256"},
        None,
    )
