"""The resolution service: the repository a registry step acts on, create-on-push, pulls
(with pull-through fills) and cross-repository mounts, called directly."""

from __future__ import annotations

import json

import pytest

from ecr_mock import Backend
from ecr_mock.domain.errors import (
    AccessDenied,
    ImageArchived,
    ImageNotFound,
    RepositoryNameInvalid,
    RepositoryNotFound,
)
from ecr_mock.domain.models import Principal, Registry, Repository
from ecr_mock.services import (
    images,
    pull_through,
    repositories,
    resolution,
    settings,
    templates,
)
from ecr_mock.services.registry_auth import PULL_MANIFEST, PUT_IMAGE, Caller
from tests.support.services import OCI_MANIFEST, Push

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


def caller_of(backend: Backend, reg: Registry, account: str = ACCOUNT) -> Caller:
    token = backend.tokens.issue(Principal.root(account), account, reg.region)
    return Caller(reg, token)


def create_on_push_template(backend: Backend, reg: Registry, prefix: str = "team") -> None:
    settings_ = templates.TemplateSettings(
        applied_for=[templates.CREATE_ON_PUSH], tag_mutability="IMMUTABLE"
    )
    templates.create_template(backend, reg, prefix, settings_)


def test_repository_checks_the_name_before_anything_else(ecr_backend: Backend) -> None:
    reg = ecr_backend.registry()
    with pytest.raises(RepositoryNameInvalid) as raised:
        resolution.repository(ecr_backend, caller_of(ecr_backend, reg), "Bad_Name", PULL_MANIFEST)
    assert raised.value.name == "Bad_Name"


def test_repository_of_another_account_is_refused_before_it_is_looked_up(
    ecr_backend: Backend,
) -> None:
    reg = ecr_backend.registry()
    stranger = caller_of(ecr_backend, reg, OTHER_ACCOUNT)
    with pytest.raises(AccessDenied):
        resolution.repository(ecr_backend, stranger, "missing", PULL_MANIFEST)


def test_push_repository_creates_a_missing_repository_from_a_create_on_push_template(
    ecr_backend: Backend,
) -> None:
    reg = ecr_backend.registry()
    create_on_push_template(ecr_backend, reg)
    repo = resolution.push_repository(
        ecr_backend, caller_of(ecr_backend, reg), "team/api", PUT_IMAGE
    )
    assert repo is repositories.get_repository(ecr_backend, reg, "team/api")
    assert repo.tag_mutability == "IMMUTABLE"


def test_push_repository_without_a_template_is_name_unknown(ecr_backend: Backend) -> None:
    reg = ecr_backend.registry()
    create_on_push_template(ecr_backend, reg)
    with pytest.raises(RepositoryNotFound):
        resolution.push_repository(ecr_backend, caller_of(ecr_backend, reg), "other/api")
    assert "other/api" not in reg.repositories


def test_push_repository_needs_create_repository_for_the_caller(ecr_backend: Backend) -> None:
    reg = ecr_backend.registry()
    create_on_push_template(ecr_backend, reg)
    stranger = caller_of(ecr_backend, reg, OTHER_ACCOUNT)
    with pytest.raises(AccessDenied) as raised:
        resolution.push_repository(ecr_backend, stranger, "team/api")
    assert "ecr:CreateRepository" in raised.value.message
    assert "team/api" not in reg.repositories


def test_pull_manifest_finds_by_tag_and_by_digest(
    ecr_backend: Backend, reg: Registry, repo: Repository, push: Push
) -> None:
    digest = push("v1").digest
    caller = caller_of(ecr_backend, reg)
    for reference in ("v1", digest):
        found_repo, image = resolution.pull_manifest(ecr_backend, caller, "app", reference)
        assert (found_repo, image.digest) == (repo, digest)


@pytest.mark.parametrize("reference", ["v2", "bad tag!", "sha256:short"])
def test_pull_manifest_of_an_unknown_or_malformed_reference_is_image_not_found(
    ecr_backend: Backend, reg: Registry, push: Push, reference: str
) -> None:
    push("v1")
    with pytest.raises(ImageNotFound) as raised:
        resolution.pull_manifest(ecr_backend, caller_of(ecr_backend, reg), "app", reference)
    assert raised.value.message == "Requested image not found"


def test_pull_manifest_refuses_an_index_to_a_client_taking_only_single_images(
    ecr_backend: Backend, reg: Registry, repo: Repository, push: Push
) -> None:
    child = push("v1").digest
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": child, "size": 10}],
    }
    images.put_image(ecr_backend, reg, repo, json.dumps(index).encode(), tag="multi")
    caller = caller_of(ecr_backend, reg)
    with pytest.raises(ImageNotFound):
        resolution.pull_manifest(ecr_backend, caller, "app", "multi", {DOCKER_MANIFEST})
    _, image = resolution.pull_manifest(ecr_backend, caller, "app", "multi", {OCI_INDEX})
    assert image.media_type == OCI_INDEX


def test_pull_manifest_of_an_archived_image_is_image_archived(
    ecr_backend: Backend, reg: Registry, repo: Repository, push: Push
) -> None:
    ecr_backend.update_image_storage_class(repo, push("v1"), "ARCHIVE")
    with pytest.raises(ImageArchived):
        resolution.pull_manifest(ecr_backend, caller_of(ecr_backend, reg), "app", "v1")


def test_pull_manifest_fills_a_pull_through_cache_from_an_ecr_upstream(
    ecr_backend: Backend, push: Push
) -> None:
    upstream_reg = ecr_backend.registry(ACCOUNT, "eu-west-1")
    upstream = repositories.create_repository(ecr_backend, upstream_reg, "base")
    digest = push("1.0", into=upstream).digest
    reg = ecr_backend.registry()
    pull_through.create_rule(
        ecr_backend,
        reg,
        "cache",
        f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com",
        upstream_registry="ecr",
    )
    caller = caller_of(ecr_backend, reg)
    repo, image = resolution.pull_manifest(ecr_backend, caller, "cache/base", "1.0")
    assert (repo.name, image.digest) == ("cache/base", digest)
    with pytest.raises(ImageNotFound) as raised:
        resolution.pull_manifest(ecr_backend, caller, "cache/base", "2.0")
    assert raised.value.message.startswith("Requested image not found: Unable to get the image")


def test_mount_needs_an_image_referencing_the_blob_and_mounting_enabled(
    ecr_backend: Backend, reg: Registry, push: Push
) -> None:
    source = repositories.create_repository(ecr_backend, reg, "src")
    target = repositories.create_repository(ecr_backend, reg, "dst")
    image = push("v1", into=source)
    layer = image.parsed.layers[0].digest
    caller = caller_of(ecr_backend, reg)
    assert not resolution.mount(ecr_backend, caller, target, layer, "missing")
    assert not resolution.mount(ecr_backend, caller, target, "sha256:bad", "src")
    settings.put_account_setting(ecr_backend, reg, "BLOB_MOUNTING", "DISABLED")
    assert not resolution.mount(ecr_backend, caller, target, layer, "src")
    assert layer not in target.blobs
    settings.put_account_setting(ecr_backend, reg, "BLOB_MOUNTING", "ENABLED")
    assert resolution.mount(ecr_backend, caller, target, layer, "src")
    assert layer in target.blobs
    stranger = caller_of(ecr_backend, reg, OTHER_ACCOUNT)
    other = repositories.create_repository(ecr_backend, reg, "other")
    assert not resolution.mount(ecr_backend, stranger, other, layer, "src")
