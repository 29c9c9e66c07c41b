"""The repositories service: create, find, delete, ARNs, tag mutability, encryption, resource tags."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ecr_mock import Backend, Clock
from ecr_mock.domain.errors import (
    InvalidParameter,
    InvalidTagParameter,
    KmsError,
    RepositoryAlreadyExists,
    RepositoryNotEmpty,
    RepositoryNotFound,
    TooManyTags,
)
from ecr_mock.domain.models import Registry, Repository
from ecr_mock.services import repositories
from tests.support.services import Push

WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
ARN = "arn:aws:ecr:us-east-1:123456789012:repository/app"


def test_create_gives_ecr_defaults_at_the_clock_time(
    ecr_backend: Backend, ecr_clock: Clock, reg: Registry
) -> None:
    ecr_clock.freeze(WHEN)
    repo = repositories.create_repository(ecr_backend, reg, "team/app")
    assert (repo.account, repo.region) == ("123456789012", "us-east-1")
    assert repo.created_at == WHEN
    assert repo.tag_mutability == "MUTABLE"
    assert repo.encryption == {"encryptionType": "AES256"}
    assert repo.scan_on_push is False
    assert reg.repositories["team/app"] is repo


def test_create_refuses_a_taken_name_and_an_invalid_name(
    ecr_backend: Backend, reg: Registry, repo: Repository
) -> None:
    with pytest.raises(RepositoryAlreadyExists) as taken:
        repositories.create_repository(ecr_backend, reg, "app")
    assert taken.value.code == "RepositoryAlreadyExistsException"
    with pytest.raises(InvalidParameter):
        repositories.create_repository(ecr_backend, reg, "Not_Lower/Case!")


def test_get_and_delete_missing_repository_are_not_found(
    ecr_backend: Backend, reg: Registry
) -> None:
    for call in (repositories.get_repository, repositories.delete_repository):
        with pytest.raises(RepositoryNotFound) as missing:
            call(ecr_backend, reg, "nope")
        assert missing.value.code == "RepositoryNotFoundException"


def test_delete_refuses_a_repository_with_images_unless_forced(
    ecr_backend: Backend, reg: Registry, repo: Repository, push: Push
) -> None:
    push(tag="v1")
    with pytest.raises(RepositoryNotEmpty):
        repositories.delete_repository(ecr_backend, reg, "app")
    assert "app" in reg.repositories
    assert repositories.delete_repository(ecr_backend, reg, "app", force=True) is repo
    assert "app" not in reg.repositories


def test_repository_by_arn_finds_it_in_its_region_only(
    ecr_backend: Backend, repo: Repository
) -> None:
    assert repositories.repository_by_arn(ecr_backend, ARN, "us-east-1") is repo
    for arn, region in ((ARN, "eu-west-1"), ("arn:aws:s3:::bucket", "us-east-1")):
        with pytest.raises(InvalidParameter) as bad:
            repositories.repository_by_arn(ecr_backend, arn, region)
        assert "'Invalid ARN'" in bad.value.message
    with pytest.raises(RepositoryNotFound):
        repositories.repository_by_arn(ecr_backend, ARN.replace("/app", "/other"), "us-east-1")


@pytest.mark.parametrize(
    ("mutability", "filters", "kept"),
    [
        ("IMMUTABLE", None, []),
        ("MUTABLE", None, []),
        (
            "IMMUTABLE_WITH_EXCLUSION",
            [{"filterType": "WILDCARD", "filter": "latest*"}],
            [{"filterType": "WILDCARD", "filter": "latest*"}],
        ),
    ],
)
def test_set_tag_mutability_stores_valid_settings(
    ecr_backend: Backend,
    repo: Repository,
    mutability: str,
    filters: list[dict[str, str]] | None,
    kept: list[dict[str, str]],
) -> None:
    repositories.set_tag_mutability(ecr_backend, repo, mutability, filters)
    assert (repo.tag_mutability, repo.mutability_exclusions) == (mutability, kept)


@pytest.mark.parametrize(
    ("mutability", "filters", "words"),
    [
        ("FROZEN", None, "enum value set: [IMMUTABLE, MUTABLE,"),
        ("MUTABLE_WITH_EXCLUSION", None, "can't be null"),
        ("MUTABLE", [{"filterType": "WILDCARD", "filter": "x"}], "must be null"),
        ("MUTABLE_WITH_EXCLUSION", [{"filterType": "REGEX", "filter": "x"}], "filterType"),
        ("MUTABLE_WITH_EXCLUSION", [{"filterType": "WILDCARD", "filter": "a b"}], "pattern"),
        (
            "MUTABLE_WITH_EXCLUSION",
            [{"filterType": "WILDCARD", "filter": f"t{i}"} for i in range(6)],
            "less than or equal to 5",
        ),
    ],
)
def test_set_tag_mutability_refuses_bad_settings_and_keeps_the_old(
    ecr_backend: Backend,
    repo: Repository,
    mutability: str,
    filters: list[dict[str, str]] | None,
    words: str,
) -> None:
    with pytest.raises(InvalidParameter) as bad:
        repositories.set_tag_mutability(ecr_backend, repo, mutability, filters)
    assert words in bad.value.message
    assert (repo.tag_mutability, repo.mutability_exclusions) == ("MUTABLE", [])


def test_resolve_encryption_defaults_and_the_registry_managed_kms_key(
    ecr_backend: Backend, reg: Registry
) -> None:
    assert repositories.resolve_encryption(ecr_backend, reg, None) == {"encryptionType": "AES256"}
    first = repositories.resolve_encryption(ecr_backend, reg, {"encryptionType": "KMS"})
    again = repositories.resolve_encryption(ecr_backend, reg, {"encryptionType": "KMS_DSSE"})
    assert first["kmsKey"].startswith("arn:aws:kms:us-east-1:123456789012:key/")
    assert again["kmsKey"] == first["kmsKey"]
    key = "arn:aws:kms:us-east-1:123456789012:key/abc"
    given = {"encryptionType": "KMS", "kmsKey": key}
    assert repositories.resolve_encryption(ecr_backend, reg, given) == given


def test_resolve_encryption_refuses_bad_types_keys_and_regions(
    ecr_backend: Backend, reg: Registry
) -> None:
    with pytest.raises(InvalidParameter):
        repositories.resolve_encryption(ecr_backend, reg, {"encryptionType": "ROT13"})
    with pytest.raises(InvalidParameter):
        repositories.resolve_encryption(
            ecr_backend, reg, {"encryptionType": "AES256", "kmsKey": "k"}
        )
    elsewhere = "arn:aws:kms:eu-west-1:123456789012:key/abc"
    with pytest.raises(KmsError) as kms:
        repositories.resolve_encryption(
            ecr_backend, reg, {"encryptionType": "KMS", "kmsKey": elsewhere}
        )
    assert kms.value.code == "KmsException"


def test_tag_and_untag_repository(ecr_backend: Backend, repo: Repository) -> None:
    repositories.tag_repository(ecr_backend, repo, {"team": "a", "env": ""})
    repositories.tag_repository(ecr_backend, repo, {"team": "b"})
    assert repo.resource_tags == {"team": "b", "env": ""}
    repositories.untag_repository(ecr_backend, repo, ["env", "absent"])
    assert repo.resource_tags == {"team": "b"}


@pytest.mark.parametrize(
    ("tags", "error"),
    [
        ({"": "v"}, InvalidTagParameter),
        ({"k" * 129: "v"}, InvalidTagParameter),
        ({"k": "v" * 257}, InvalidTagParameter),
        ({"aws:owner": "me"}, InvalidTagParameter),
        ({f"k{i}": "v" for i in range(51)}, TooManyTags),
    ],
)
def test_tag_repository_refuses_bad_tags_all_or_nothing(
    ecr_backend: Backend, repo: Repository, tags: dict[str, str], error: type[Exception]
) -> None:
    with pytest.raises(error):
        repositories.tag_repository(ecr_backend, repo, {"ok": "1", **tags})
    assert repo.resource_tags == {}


def test_untag_refuses_reserved_keys(ecr_backend: Backend, repo: Repository) -> None:
    repositories.tag_repository(ecr_backend, repo, {"team": "a"})
    with pytest.raises(InvalidTagParameter):
        repositories.untag_repository(ecr_backend, repo, ["team", "aws:x"])
    assert repo.resource_tags == {"team": "a"}


def test_repository_arns_are_built_and_parsed_by_the_service() -> None:
    arn = repositories.repository_arn("123456789012", "eu-west-1", "team/app")
    assert arn == "arn:aws:ecr:eu-west-1:123456789012:repository/team/app"
    ref = repositories.parse_repository_arn(arn)
    assert ref is not None
    assert (ref.account, ref.region, ref.name) == ("123456789012", "eu-west-1", "team/app")
    assert repositories.parse_repository_arn("arn:aws:s3:::bucket") is None


def test_scan_on_push_is_set_through_the_service(ecr_backend: Backend, repo: Repository) -> None:
    repositories.set_scan_on_push(ecr_backend, repo, True)
    assert repo.scan_on_push
    repositories.set_scan_on_push(ecr_backend, repo, False)
    assert not repo.scan_on_push
