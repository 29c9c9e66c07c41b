"""The images service: lookup, put, delete, untag, pullability, pulls and manifest selection."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from ecr_mock import Backend, Clock
from ecr_mock.core.blobs import Blob
from ecr_mock.core.errors import (
    DigestInvalid,
    ImageAlreadyExists,
    ImageArchived,
    ImageDeleteFailure,
    ImageDigestDoesNotMatch,
    ImageNotFound,
    ImageTagAlreadyExists,
    LayersNotFound,
    ReferencedImagesNotFound,
)
from ecr_mock.core.manifests import digest_of
from ecr_mock.core.models import Registry, Repository
from ecr_mock.core.services import images, repositories
from tests.core.services.conftest import OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, Push

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
WHEN = datetime(2026, 2, 3, 4, 5, 6, tzinfo=timezone.utc)


def manifest_naming(*digests: str) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": digests[0], "size": 2},
            "layers": [{"mediaType": OCI_LAYER, "digest": d, "size": 2} for d in digests[1:]],
        }
    ).encode()


def index_of(*children: tuple[str, str, str]) -> bytes:
    """An OCI index of (digest, os, architecture) image manifests."""
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": digest,
                    "size": 100,
                    "platform": {"os": os_name, "architecture": arch},
                }
                for digest, os_name, arch in children
            ],
        }
    ).encode()


def test_put_stores_the_manifest_verbatim_under_its_digest(
    ecr_clock: Clock, repo: Repository, push: Push
) -> None:
    ecr_clock.freeze(WHEN)
    image = push(tag="v1")
    assert image.digest == digest_of(image.manifest, "sha256")
    assert image.pushed_at == WHEN
    assert image.tags == ["v1"]
    assert repo.tags == {"v1": image.digest}
    assert image.size == 70  # the layer's descriptor size


def test_find_image_by_tag_digest_both_and_reference(
    ecr_backend: Backend, repo: Repository, push: Push
) -> None:
    image = push(tag="v1")
    assert images.find_image(ecr_backend, repo, tag="v1") is image
    assert images.find_image(ecr_backend, repo, digest=image.digest) is image
    assert images.find_image(ecr_backend, repo, digest=image.digest, tag="v1") is image
    assert images.resolve_reference(ecr_backend, repo, "v1") is image
    assert images.resolve_reference(ecr_backend, repo, image.digest) is image


@pytest.mark.parametrize(
    ("digest", "tag", "words"),
    [
        (None, "v2", "imageDigest:'null', imageTag:'v2'"),
        ("sha256:" + "0" * 64, None, "imageTag:'null'"),
        ("sha256:" + "0" * 64, "v1", "imageTag:'v1'"),
    ],
)
def test_find_image_names_the_missing_id_in_ecr_words(
    ecr_backend: Backend,
    repo: Repository,
    push: Push,
    digest: str | None,
    tag: str | None,
    words: str,
) -> None:
    push(tag="v1")
    with pytest.raises(ImageNotFound) as missing:
        images.find_image(ecr_backend, repo, digest=digest, tag=tag)
    assert words in missing.value.message
    assert "repository with name 'app' in the registry with id '123456789012'" in (
        missing.value.message
    )


def test_put_again_is_image_already_exists_unless_idempotent(
    ecr_backend: Backend, reg: Registry, repo: Repository, push: Push
) -> None:
    image = push(tag="v1")
    with pytest.raises(ImageAlreadyExists):
        images.put_image(ecr_backend, reg, repo, image.manifest, tag="v1")
    same = images.put_image(ecr_backend, reg, repo, image.manifest, tag="v1", idempotent=True)
    assert same is image
    images.put_image(ecr_backend, reg, repo, image.manifest, tag="latest")
    assert sorted(image.tags) == ["latest", "v1"]


def test_moving_a_tag_takes_it_off_the_old_image_unless_immutable(
    ecr_backend: Backend, repo: Repository, push: Push
) -> None:
    old = push(tag="v1", seed="a")
    new = push(tag="v1", seed="b")
    assert (old.tags, new.tags, repo.tags["v1"]) == ([], ["v1"], new.digest)
    repositories.set_tag_mutability(ecr_backend, repo, "IMMUTABLE", None)
    with pytest.raises(ImageTagAlreadyExists):
        push(tag="v1", seed="c")
    assert repo.tags["v1"] == new.digest


def test_put_checks_a_given_digest(
    ecr_backend: Backend, reg: Registry, repo: Repository, push: Push
) -> None:
    manifest = push().manifest
    with pytest.raises(DigestInvalid):
        images.put_image(ecr_backend, reg, repo, manifest, tag="x", digest="sha256:nothex")
    wrong = "sha256:" + "1" * 64
    with pytest.raises(ImageDigestDoesNotMatch) as mismatch:
        images.put_image(ecr_backend, reg, repo, manifest, tag="x", digest=wrong)
    assert mismatch.value.code == "ImageDigestDoesNotMatchException"
    assert "x" not in repo.tags


def test_put_refuses_missing_layers_and_missing_index_children(
    ecr_backend: Backend, reg: Registry, repo: Repository
) -> None:
    config = Blob.from_bytes(b"{}")
    assert config.digest not in reg.blobs
    with pytest.raises(LayersNotFound) as layers:
        images.put_image(ecr_backend, reg, repo, manifest_naming(config.digest), tag="v1")
    assert layers.value.code == "LayersNotFoundException"
    child = "sha256:" + "2" * 64
    with pytest.raises(ReferencedImagesNotFound):
        images.put_image(ecr_backend, reg, repo, index_of((child, "linux", "amd64")), tag="v1")
    assert repo.images == {}


def test_delete_by_tag_drops_the_tag_then_the_image_with_its_last_tag(
    ecr_backend: Backend, repo: Repository, push: Push
) -> None:
    image = push(tag="v1")
    push(tag="latest")
    images.delete_image(ecr_backend, repo, tag="v1")
    assert image.digest in repo.images and image.tags == ["latest"]
    images.delete_image(ecr_backend, repo, tag="latest")
    assert repo.images == {} and repo.tags == {}


@pytest.mark.parametrize(
    ("digest", "tag", "failure"),
    [
        (None, None, "MissingDigestAndTag"),
        ("not-a-digest", None, "InvalidImageDigest"),
        (None, "absent", "ImageNotFound"),
        ("sha256:" + "3" * 64, None, "ImageNotFound"),
        ("sha256:" + "3" * 64, "v1", "ImageTagDoesNotMatchDigest"),
    ],
)
def test_delete_failures_say_why(
    ecr_backend: Backend,
    repo: Repository,
    push: Push,
    digest: str | None,
    tag: str | None,
    failure: str,
) -> None:
    push(tag="v1")
    with pytest.raises(ImageDeleteFailure) as refused:
        images.delete_image(ecr_backend, repo, digest=digest, tag=tag)
    assert refused.value.failure_code == failure
    assert len(repo.images) == 1


def test_an_image_in_an_index_cannot_be_deleted_and_select_manifest_picks_amd64(
    ecr_backend: Backend, reg: Registry, repo: Repository, push: Push
) -> None:
    arm = push(seed="arm")
    amd = push(seed="amd")
    index = images.put_image(
        ecr_backend,
        reg,
        repo,
        index_of((arm.digest, "linux", "arm64"), (amd.digest, "linux", "amd64")),
        tag="multi",
    )
    assert images.images_referenced_by_indexes(ecr_backend, repo) == {arm.digest, amd.digest}
    assert index.size == max(arm.size, amd.size)
    with pytest.raises(ImageDeleteFailure) as refused:
        images.delete_image(ecr_backend, repo, digest=arm.digest)
    assert refused.value.failure_code == "ImageReferencedByManifestList"
    assert images.select_manifest(ecr_backend, repo, index, [OCI_MANIFEST]) is amd
    assert images.select_manifest(ecr_backend, repo, index, [OCI_INDEX, OCI_MANIFEST]) is index
    assert images.select_manifest(ecr_backend, repo, index, None) is index


def test_untag_and_delete_manifest_of_the_registry_protocol(
    ecr_backend: Backend, repo: Repository, push: Push
) -> None:
    image = push(tag="v1")
    assert images.untag(ecr_backend, repo, "v1") is image
    assert image.digest in repo.images and image.tags == []
    with pytest.raises(ImageNotFound):
        images.untag(ecr_backend, repo, "v1")
    push(tag="v2")
    images.delete_manifest(ecr_backend, repo, image.digest)
    assert repo.images == {} and "v2" not in repo.tags
    with pytest.raises(ImageNotFound):
        images.delete_manifest(ecr_backend, repo, image.digest)


def test_record_pull_notes_the_time_except_for_excluded_principals(
    ecr_backend: Backend, ecr_clock: Clock, reg: Registry, repo: Repository, push: Push
) -> None:
    image = push(tag="v1")
    ecr_clock.freeze(WHEN)
    images.record_pull(ecr_backend, repo, image, "arn:aws:iam::123456789012:role/ci")
    assert image.last_pulled_at == WHEN
    reg.pull_time_update_exclusions["arn:aws:iam::123456789012:role/bot"] = WHEN
    ecr_clock.advance(timedelta(hours=1))
    images.record_pull(ecr_backend, repo, image, "arn:aws:iam::123456789012:role/bot")
    assert image.last_pulled_at == WHEN


def test_an_archived_image_is_not_pullable_until_pushed_again(
    ecr_backend: Backend, reg: Registry, repo: Repository, push: Push
) -> None:
    image = push(tag="v1")
    images.check_pullable(image)
    image.storage_class, image.status = "ARCHIVE", "ARCHIVED"
    with pytest.raises(ImageArchived):
        images.check_pullable(image)
    with pytest.raises(ImageArchived):
        images.record_pull(ecr_backend, repo, image)
    images.put_image(ecr_backend, reg, repo, image.manifest, tag="v1")
    assert (image.status, image.storage_class) == ("ACTIVE", "STANDARD")
    images.check_pullable(image)


def test_layer_media_type_comes_from_the_images_referencing_the_blob(
    ecr_backend: Backend, repo: Repository, push: Push
) -> None:
    image = push(tag="v1")
    layer = image.parsed.layers[0].digest
    assert images.layer_media_type(ecr_backend, repo, layer) == OCI_LAYER
    assert images.layer_media_type(ecr_backend, repo, "sha256:" + "4" * 64) is None
