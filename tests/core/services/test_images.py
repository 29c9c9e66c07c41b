"""The images service: ``/v2/`` references (lookup, checks, push, delete) and manifest bodies."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable

import pytest

from ecr_mock import Backend
from ecr_mock.core.errors import (
    DigestMalformed,
    ImageDigestDoesNotMatch,
    ImageNotFound,
    ImageTagAlreadyExists,
    InvalidParameter,
    ItemFailure,
    SizeInvalid,
    TagInvalid,
)
from ecr_mock.core.models import Image, Registry, Repository
from ecr_mock.core.services import Store, images, repositories

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


def _manifest(seed: str) -> str:
    layer = hashlib.sha256(seed.encode()).hexdigest()
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "size": 2,
                "digest": "sha256:" + hashlib.sha256(b"{}").hexdigest(),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "size": 10,
                    "digest": f"sha256:{layer}",
                }
            ],
        }
    )


def _store_with_images() -> tuple[Store, Repository, Image, Image]:
    store = Store(allow_missing_layers=True)
    reg = store.registry()
    repo = repositories.create_repository(store, reg, "app")
    tagged = images.put_api_image(store, reg, repo, _manifest("a"), tag="v1")
    untagged = images.put_api_image(store, reg, repo, _manifest("b"))
    return store, repo, tagged, untagged


def _failure_code(call: Callable[..., object], *args: object) -> str:
    with pytest.raises(ItemFailure) as caught:
        call(*args)
    return caught.value.failure_code


def test_image_ids_are_checked_and_looked_up_with_ecr_failure_codes() -> None:
    store, repo, tagged, _ = _store_with_images()
    assert images.lookup_image_id(store, repo, None, "v1") is tagged
    assert images.lookup_image_id(store, repo, tagged.digest, "v1") is tagged
    absent = "sha256:" + "0" * 64
    cases = {
        (None, None): "MissingDigestAndTag",
        ("not-a-digest", None): "InvalidImageDigest",
        (None, "bad tag"): "InvalidImageTag",
        (None, "v2"): "ImageNotFound",
        (absent, "v1"): "ImageTagDoesNotMatchDigest",
        (absent, None): "ImageNotFound",
    }
    for (digest, tag), code in cases.items():
        assert _failure_code(images.lookup_image_id, store, repo, digest, tag) == code


def test_describe_image_id_raises_call_errors() -> None:
    store, repo, tagged, _ = _store_with_images()
    assert images.describe_image_id(store, repo, tagged.digest, None) is tagged
    with pytest.raises(InvalidParameter, match="both tag and digest cannot be null"):
        images.describe_image_id(store, repo, None, None)
    with pytest.raises(InvalidParameter, match="should satisfy the regex"):
        images.describe_image_id(store, repo, "nope", None)
    with pytest.raises(ImageNotFound):
        images.describe_image_id(store, repo, None, "v9")


def test_served_images_and_pulls() -> None:
    store, repo, tagged, _ = _store_with_images()
    store.clock.freeze()
    served = images.image_to_serve(store, repo, None, "v1", None)
    assert served is tagged
    images.record_served_pull(store, repo, served, None)
    assert tagged.last_pulled_at == store.now()


def test_delete_image_id_reports_every_removed_id() -> None:
    store, repo, tagged, untagged = _store_with_images()
    assert images.delete_image_id(store, repo, tagged.digest, None) == [(tagged.digest, "v1")]
    assert images.delete_image_id(store, repo, untagged.digest, None) == [(untagged.digest, None)]
    sha1_like = "sha1:" + "0" * 40
    assert _failure_code(images.delete_image_id, store, repo, sha1_like, None) == ("ImageNotFound")


def test_put_api_image_applies_ecrs_put_checks() -> None:
    store = Store(allow_missing_layers=True)
    reg = store.registry()
    repo = repositories.create_repository(store, reg, "app")
    bare = json.loads(_manifest("c"))
    del bare["mediaType"]
    with pytest.raises(InvalidParameter, match="mediatype not provided"):
        images.put_api_image(store, reg, repo, json.dumps(bare))
    with pytest.raises(InvalidParameter, match="must satisfy regular expression"):
        images.put_api_image(store, reg, repo, _manifest("c"), digest="nope")
    with pytest.raises(ImageDigestDoesNotMatch):
        images.put_api_image(store, reg, repo, _manifest("c"), digest="md5:abc")


def test_listings_page_in_push_order() -> None:
    store, repo, tagged, untagged = _store_with_images()
    assert images.list_image_ids(store, repo, "ANY", "ACTIVE", 0, 10) == [
        (tagged.digest, "v1"),
        (untagged.digest, None),
    ]
    assert images.list_image_ids(store, repo, "UNTAGGED", "ACTIVE", 0, 10) == [
        (untagged.digest, None)
    ]
    assert images.list_images(store, repo, "ANY", "ANY", 1, 10) == [untagged]
    assert images.list_images(store, repo, "TAGGED", "ACTIVE", 0, 10) == [tagged]
