"""The images service: ECR image ids (syntax, per-id failures), PutImage checks, listings."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import pytest

from ecr_mock.core.errors import (
    ImageDigestDoesNotMatch,
    ImageNotFound,
    InvalidParameter,
    ItemFailure,
)
from ecr_mock.core.models import Image, Repository
from ecr_mock.core.services import Store, images, repositories


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
