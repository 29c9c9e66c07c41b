"""The images service: ``/v2/`` references (lookup, checks, push, delete) and manifest bodies."""

from __future__ import annotations

import io
import json

import pytest

from ecr_mock import Backend
from ecr_mock.core.errors import (
    DigestMalformed,
    ImageNotFound,
    ImageTagAlreadyExists,
    SizeInvalid,
    TagInvalid,
)
from ecr_mock.core.models import Registry, Repository
from ecr_mock.core.services import images, repositories

V2_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
V2_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
V2_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


def v2_manifest(seed: str = "a") -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": V2_OCI_MANIFEST,
            "config": {"mediaType": "x/config", "digest": "sha256:" + "1" * 64, "size": 2},
            "layers": [],
            "annotations": {"seed": seed},
        }
    ).encode()


def v2_repo(backend: Backend) -> tuple[Registry, Repository]:
    backend.allow_missing_layers = True
    reg = backend.registry()
    return reg, repositories.create_repository(backend, reg, "app")


def test_checked_digest_refuses_what_is_no_digest() -> None:
    good = "sha256:" + "a" * 64
    assert images.checked_digest(good) == good
    with pytest.raises(DigestMalformed) as raised:
        images.checked_digest("sha256:xyz")
    assert (raised.value.message, raised.value.digest) == (
        "Invalid digest: 'sha256:xyz'",
        "sha256:xyz",
    )


def test_manifest_target_by_tag_or_by_digest_with_extra_tags() -> None:
    digest = "sha256:" + "b" * 64
    assert images.manifest_target("v1") == images.ManifestTarget(None, ("v1",))
    assert images.manifest_target(digest, ["a", "b"]) == images.ManifestTarget(digest, ("a", "b"))
    with pytest.raises(TagInvalid) as raised:
        images.manifest_target(digest, ["ok", "not ok"])
    assert raised.value.tag == "not ok"
    with pytest.raises(DigestMalformed):
        images.manifest_target("sha256:short", ["a"])


def test_push_manifest_by_digest_adds_every_tag_or_none(ecr_backend: Backend) -> None:
    reg, repo = v2_repo(ecr_backend)
    body = v2_manifest()
    first = images.push_manifest(ecr_backend, reg, repo, body, images.manifest_target("v1"))
    again = images.push_manifest(ecr_backend, reg, repo, body, images.manifest_target("v1"))
    assert again is first
    target = images.manifest_target(first.digest, ["a", "b"])
    assert images.push_manifest(ecr_backend, reg, repo, body, target) is first
    assert sorted(first.tags) == ["a", "b", "v1"]
    repositories.set_tag_mutability(ecr_backend, repo, "IMMUTABLE", None)
    other = images.put_image(ecr_backend, reg, repo, v2_manifest("b"))
    with pytest.raises(ImageTagAlreadyExists):
        images.push_manifest(
            ecr_backend,
            reg,
            repo,
            v2_manifest("b"),
            images.manifest_target(other.digest, ["c", "a"]),
        )
    assert "c" not in repo.tags


def test_find_reference_words_a_miss_as_the_registry_does(ecr_backend: Backend) -> None:
    reg, repo = v2_repo(ecr_backend)
    image = images.push_manifest(
        ecr_backend, reg, repo, v2_manifest(), images.manifest_target("v1")
    )
    assert images.find_reference(ecr_backend, repo, "v1") is image
    assert images.find_reference(ecr_backend, repo, image.digest) is image
    for missing in ("v2", "bad tag", "sha256:" + "0" * 64, "sha256:bad"):
        with pytest.raises(ImageNotFound) as raised:
            images.find_reference(ecr_backend, repo, missing)
        assert raised.value.message == "Requested image not found"


def test_delete_reference_by_tag_keeps_the_image_by_digest_removes_it(
    ecr_backend: Backend,
) -> None:
    reg, repo = v2_repo(ecr_backend)
    image = images.push_manifest(
        ecr_backend, reg, repo, v2_manifest(), images.manifest_target("v1")
    )
    images.delete_reference(ecr_backend, repo, "v1")
    assert image.digest in repo.images and "v1" not in repo.tags
    images.delete_reference(ecr_backend, repo, image.digest)
    assert image.digest not in repo.images
    with pytest.raises(TagInvalid):
        images.delete_reference(ecr_backend, repo, "bad tag")
    with pytest.raises(DigestMalformed):
        images.delete_reference(ecr_backend, repo, "sha256:bad")
    with pytest.raises(ImageNotFound):
        images.delete_reference(ecr_backend, repo, "v1")


def test_read_manifest_reads_the_declared_length_and_refuses_a_short_body() -> None:
    assert images.read_manifest(io.BytesIO(b"abcdef"), 4) == b"abcd"
    assert images.read_manifest(io.BytesIO(b"abcdef"), None) == b"abcdef"
    with pytest.raises(SizeInvalid):
        images.read_manifest(io.BytesIO(b"ab"), 4)


def test_serves_an_index_unless_the_client_names_only_single_image_types(
    ecr_backend: Backend,
) -> None:
    reg, repo = v2_repo(ecr_backend)
    child = images.put_image(ecr_backend, reg, repo, v2_manifest())
    index = {
        "schemaVersion": 2,
        "mediaType": V2_OCI_INDEX,
        "manifests": [{"mediaType": V2_OCI_MANIFEST, "digest": child.digest, "size": 1}],
    }
    multi = images.put_image(ecr_backend, reg, repo, json.dumps(index).encode())
    assert images.serves(multi, set())
    assert images.serves(multi, {V2_OCI_INDEX})
    assert images.serves(multi, {"*/*"})
    assert not images.serves(multi, {V2_DOCKER_MANIFEST, V2_OCI_MANIFEST})
    assert images.serves(child, {V2_DOCKER_MANIFEST})
