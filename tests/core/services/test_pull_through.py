"""The pull-through service: rule CRUD and checks, which rule covers a name, filling the cache."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ecr_mock import Backend, Clock
from ecr_mock.domain.errors import (
    InvalidParameter,
    PullThroughCacheRuleAlreadyExists,
    PullThroughCacheRuleNotFound,
    UnableToGetUpstreamImage,
    UnsupportedUpstreamRegistry,
)
from ecr_mock.domain.models import Registry
from ecr_mock.services import pull_through, repositories
from tests.support.services import Push

UPSTREAM = "210987654321.dkr.ecr.us-east-1.amazonaws.com"
WHEN = datetime(2026, 7, 1, tzinfo=timezone.utc)


def test_create_get_update_describe_delete(
    ecr_backend: Backend, ecr_clock: Clock, reg: Registry
) -> None:
    ecr_clock.freeze(WHEN)
    rule = pull_through.create_rule(ecr_backend, reg, "quay", "quay.io")
    assert (rule.upstream_registry, rule.created_at, rule.updated_at) == ("quay", WHEN, None)
    assert pull_through.get_rule(reg, "quay") is rule
    role = "arn:aws:iam::123456789012:role/puller"
    pull_through.update_rule(ecr_backend, reg, "quay", custom_role_arn=role)
    assert (rule.custom_role_arn, rule.updated_at) == (role, WHEN)
    pull_through.create_rule(ecr_backend, reg, "ecr", UPSTREAM)
    assert [r.prefix for r in pull_through.describe_rules(reg)] == ["ecr", "quay"]
    assert pull_through.delete_rule(ecr_backend, reg, "quay") is rule
    for call in (
        lambda: pull_through.get_rule(reg, "quay"),
        lambda: pull_through.describe_rules(reg, ["quay"]),
        lambda: pull_through.delete_rule(ecr_backend, reg, "quay"),
    ):
        with pytest.raises(PullThroughCacheRuleNotFound):
            call()


def test_a_prefix_is_taken_once_with_or_without_its_slash(
    ecr_backend: Backend, reg: Registry
) -> None:
    pull_through.create_rule(ecr_backend, reg, "quay", "quay.io")
    with pytest.raises(PullThroughCacheRuleAlreadyExists):
        pull_through.create_rule(ecr_backend, reg, "quay/", "quay.io")


@pytest.mark.parametrize(
    ("prefix", "url", "kwargs", "error"),
    [
        ("Q", "quay.io", {}, InvalidParameter),
        ("hub", "registry-1.docker.io", {}, InvalidParameter),
        (
            "ecr",
            UPSTREAM,
            {"credential_arn": "arn:aws:secretsmanager:us-east-1:1:secret:x"},
            InvalidParameter,
        ),
        ("quay", "quay.io", {"upstream_registry": "k8s"}, UnsupportedUpstreamRegistry),
        ("quay", "ftp://quay.io", {}, UnsupportedUpstreamRegistry),
        ("quay", "nodots", {}, UnsupportedUpstreamRegistry),
    ],
)
def test_invalid_rules_are_refused(
    ecr_backend: Backend,
    reg: Registry,
    prefix: str,
    url: str,
    kwargs: dict[str, str],
    error: type[Exception],
) -> None:
    with pytest.raises(error):
        pull_through.create_rule(ecr_backend, reg, prefix, url, **kwargs)
    assert pull_through.describe_rules(reg) == []


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        (UPSTREAM, "ecr"),
        ("public.ecr.aws", "ecr-public"),
        ("ghcr.io", "github-container-registry"),
        ("team.azurecr.io", "azure-container-registry"),
        ("example.com", None),
    ],
)
def test_the_upstream_type_follows_the_canonical_host(url: str, kind: str | None) -> None:
    assert pull_through.infer_upstream_registry(url) == kind


def test_the_longest_prefix_covers_a_name_and_maps_it_upstream(
    ecr_backend: Backend, reg: Registry
) -> None:
    pull_through.create_rule(ecr_backend, reg, "ROOT", "quay.io")
    pull_through.create_rule(ecr_backend, reg, "ecr", UPSTREAM)
    nested = pull_through.create_rule(
        ecr_backend, reg, "ecr/team", UPSTREAM, upstream_prefix="mirror"
    )
    assert pull_through.find_rule(reg, "ecr/team/app") is nested
    assert nested.upstream_name("ecr/team/app") == "mirror/app"
    found = pull_through.find_rule(reg, "ecr/other")
    assert found is not None and found.upstream_name("ecr/other") == "other"
    root = pull_through.find_rule(reg, "elsewhere/app")
    assert root is not None and root.prefix == "ROOT"


def test_fill_copies_an_image_from_an_ecr_upstream_once(
    ecr_backend: Backend, reg: Registry, push: Push
) -> None:
    upstream = ecr_backend.registry("210987654321")
    source = repositories.create_repository(ecr_backend, upstream, "library/app")
    original = push(tag="v1", into=source)
    pull_through.create_rule(ecr_backend, reg, "ecr", UPSTREAM)

    cached = pull_through.fill_from_upstream(ecr_backend, reg, "ecr/library/app", "v1")

    assert cached is not None and cached.digest == original.digest
    repo = reg.repositories["ecr/library/app"]
    assert repo.tags == {"v1": original.digest}
    assert set(original.parsed.stored_blob_digests()) <= repo.blobs
    again = pull_through.fill_from_upstream(ecr_backend, reg, "ecr/library/app", original.digest)
    assert again is cached


def test_fill_without_a_rule_is_none_and_a_missing_image_leaves_nothing(
    ecr_backend: Backend, reg: Registry
) -> None:
    assert pull_through.fill_from_upstream(ecr_backend, reg, "ecr/library/app", "v1") is None
    pull_through.create_rule(ecr_backend, reg, "ecr", UPSTREAM)
    with pytest.raises(UnableToGetUpstreamImage) as failed:
        pull_through.fill_from_upstream(ecr_backend, reg, "ecr/library/app", "v1")
    assert "library/app:v1" in failed.value.message
    assert "ecr/library/app" not in reg.repositories
