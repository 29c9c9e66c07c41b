"""The images service: lookup, put, delete, untag, pulls, selection; `/v2/` references, bodies."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone

import pytest

from ecr_mock import Backend, Clock
from ecr_mock.domain.blobs import Blob
from ecr_mock.domain.errors import (
    DigestInvalid,
    DigestMalformed,
    ImageAlreadyExists,
    ImageArchived,
    ImageDeleteFailure,
    ImageDigestDoesNotMatch,
    ImageNotFound,
    ImageTagAlreadyExists,
    InvalidParameter,
    ItemFailure,
    LayersNotFound,
    ReferencedImagesNotFound,
    SizeInvalid,
    TagInvalid,
)
from ecr_mock.domain.manifests import digest_of
from ecr_mock.domain.models import ARCHIVED, Registry, Repository
from ecr_mock.services import images, repositories
from tests.support.services import OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, Push

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


# ----- /v2/ references and bodies ----------------------------------------------------------------
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


ABSENT = "sha256:" + "0" * 64


@pytest.mark.parametrize(
    ("digest", "tag", "code"),
    [
        (None, None, "MissingDigestAndTag"),
        ("not-a-digest", None, "InvalidImageDigest"),
        (None, "bad tag", "InvalidImageTag"),
        (None, "v2", "ImageNotFound"),
        (ABSENT, "v1", "ImageTagDoesNotMatchDigest"),
        (ABSENT, None, "ImageNotFound"),
    ],
    ids=["no-id", "bad-digest", "bad-tag", "unknown-tag", "tag-elsewhere", "unknown-digest"],
)
def test_an_api_image_id_that_names_no_image_fails_with_its_code(
    ecr_backend: Backend,
    repo: Repository,
    push: Push,
    digest: str | None,
    tag: str | None,
    code: str,
) -> None:
    push(tag="v1")
    with pytest.raises(ItemFailure) as raised:
        images.lookup_image_id(ecr_backend, repo, digest, tag)
    assert raised.value.failure_code == code


def test_an_api_image_id_finds_its_image_by_tag_digest_or_both(
    ecr_backend: Backend, repo: Repository, push: Push
) -> None:
    image = push(tag="v1")
    for digest, tag in ((None, "v1"), (image.digest, None), (image.digest, "v1")):
        assert images.lookup_image_id(ecr_backend, repo, digest, tag) is image


def test_describe_image_id_fails_the_call_for_bad_syntax_and_misses(
    ecr_backend: Backend, repo: Repository, push: Push
) -> None:
    image = push(tag="v1")
    assert images.describe_image_id(ecr_backend, repo, image.digest, None) is image
    with pytest.raises(InvalidParameter, match="both tag and digest cannot be null"):
        images.describe_image_id(ecr_backend, repo, None, None)
    with pytest.raises(InvalidParameter, match="should satisfy the regex"):
        images.describe_image_id(ecr_backend, repo, "nope", None)
    with pytest.raises(ImageNotFound):
        images.describe_image_id(ecr_backend, repo, None, "v9")


def test_an_image_served_by_id_records_its_pull_unless_archived(
    ecr_backend: Backend, ecr_clock: Clock, repo: Repository, push: Push
) -> None:
    ecr_clock.freeze(WHEN)
    image = push(tag="v1")
    served = images.image_to_serve(ecr_backend, repo, None, "v1", None)
    images.record_served_pull(ecr_backend, repo, served, None)
    assert served is image and image.last_pulled_at == WHEN
    image.status = ARCHIVED
    for serve in (
        lambda: images.image_to_serve(ecr_backend, repo, None, "v1", None),
        lambda: images.record_served_pull(ecr_backend, repo, image, None),
    ):
        with pytest.raises(ItemFailure) as raised:
            serve()
        assert raised.value.failure_code == "ImageInaccessible"


def test_delete_image_id_reports_every_id_it_removed(
    ecr_backend: Backend, repo: Repository, push: Push
) -> None:
    tagged = push(tag="v1", seed="a")
    images.put_image(ecr_backend, ecr_backend.registry(), repo, tagged.manifest, tag="v2")
    untagged = push(seed="b")
    removed = images.delete_image_id(ecr_backend, repo, tagged.digest, None)
    assert removed == [(tagged.digest, "v1"), (tagged.digest, "v2")]
    assert images.delete_image_id(ecr_backend, repo, untagged.digest, None) == [
        (untagged.digest, None)
    ]
    with pytest.raises(ItemFailure) as raised:
        images.delete_image_id(ecr_backend, repo, "sha1:" + "0" * 40, None)
    assert raised.value.failure_code == "ImageNotFound"


@pytest.mark.parametrize(
    ("media_type", "digest", "error", "text"),
    [
        (None, None, InvalidParameter, "mediatype not provided"),
        (OCI_MANIFEST, "nope", InvalidParameter, "must satisfy regular expression"),
        (OCI_MANIFEST, "md5:abc", ImageDigestDoesNotMatch, None),
    ],
    ids=["no-media-type", "bad-digest", "foreign-digest"],
)
def test_put_api_image_applies_ecrs_checks_before_storing(
    ecr_backend: Backend,
    reg: Registry,
    repo: Repository,
    media_type: str | None,
    digest: str | None,
    error: type[Exception],
    text: str | None,
) -> None:
    bare = json.dumps({"schemaVersion": 2, "config": {}, "layers": []})
    with pytest.raises(error, match=text):
        images.put_api_image(ecr_backend, reg, repo, bare, media_type=media_type, digest=digest)
    assert not repo.images


def test_api_listings_page_in_push_order_with_their_filters(
    ecr_backend: Backend, repo: Repository, push: Push
) -> None:
    tagged, untagged = push(tag="v1", seed="a"), push(seed="b")
    listed = images.list_image_ids(ecr_backend, repo, "ANY", "ACTIVE", 0, 10)
    assert listed == [(tagged.digest, "v1"), (untagged.digest, None)]
    untagged_only = images.list_image_ids(ecr_backend, repo, "UNTAGGED", "ACTIVE", 0, 10)
    assert untagged_only == [(untagged.digest, None)]
    assert images.list_images(ecr_backend, repo, "ANY", "ANY", 1, 10) == [untagged]
    assert images.list_images(ecr_backend, repo, "TAGGED", "ACTIVE", 0, 10) == [tagged]
