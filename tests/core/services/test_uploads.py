"""The uploads service: sessions, parts, completion, blobs, mounts, expiry; `/v2/` bodies."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import pytest

from ecr_mock import Backend, Clock
from ecr_mock.domain.blobs import Blob
from ecr_mock.domain.errors import (
    BlobUnknown,
    DigestInvalid,
    EmptyUpload,
    InvalidLayer,
    InvalidLayerPart,
    ItemFailure,
    LayerAlreadyExists,
    LayerInaccessible,
    LayerNotFound,
    LayerPartTooSmall,
    RangeInvalid,
    RepositoryNotFound,
    SizeInvalid,
    UploadNotFound,
)
from ecr_mock.domain.models import Registry, Repository
from ecr_mock.services import repositories, uploads
from tests.support.services import Push

DATA = b"layer bytes " * 100
DIGEST = Blob.from_bytes(DATA).digest


def test_a_completed_upload_is_a_registry_blob(
    ecr_backend: Backend, reg: Registry, repo: Repository
) -> None:
    session = uploads.start_upload(ecr_backend, reg, repo)
    assert reg.uploads[session.upload_id] is session
    uploads.upload_part(ecr_backend, reg, repo, session.upload_id, 0, len(DATA) - 1, DATA)
    assert uploads.complete_upload(ecr_backend, reg, repo, session.upload_id, [DIGEST]) == DIGEST
    assert session.upload_id not in reg.uploads
    assert uploads.get_blob(ecr_backend, reg, repo, DIGEST).read() == DATA
    assert uploads.layer_available(ecr_backend, reg, repo, DIGEST) is reg.blobs[DIGEST]


@pytest.mark.parametrize(
    ("first", "last", "data"),
    [(1, 10, b"x" * 10), (0, 9, b"x" * 5), (0, -1, b"")],
    ids=["gap", "length-mismatch", "backwards"],
)
def test_a_part_out_of_place_is_refused_with_the_next_valid_byte(
    ecr_backend: Backend, reg: Registry, repo: Repository, first: int, last: int, data: bytes
) -> None:
    session = uploads.start_upload(ecr_backend, reg, repo)
    with pytest.raises(InvalidLayerPart) as bad:
        uploads.upload_part(ecr_backend, reg, repo, session.upload_id, first, last, data)
    assert bad.value.code == "InvalidLayerPartException"
    assert session.size == 0


def test_completion_refuses_empty_small_parts_bad_and_wrong_digests(
    ecr_backend: Backend, reg: Registry, repo: Repository
) -> None:
    empty = uploads.start_upload(ecr_backend, reg, repo)
    with pytest.raises(EmptyUpload):
        uploads.complete_upload(ecr_backend, reg, repo, empty.upload_id, [DIGEST])
    small = uploads.start_upload(ecr_backend, reg, repo)
    uploads.upload_part(ecr_backend, reg, repo, small.upload_id, 0, 9, b"0123456789")
    uploads.upload_part(ecr_backend, reg, repo, small.upload_id, 10, 19, b"0123456789")
    with pytest.raises(LayerPartTooSmall):
        uploads.complete_upload(ecr_backend, reg, repo, small.upload_id, [DIGEST])
    session = uploads.start_upload(ecr_backend, reg, repo)
    uploads.upload_part(ecr_backend, reg, repo, session.upload_id, 0, len(DATA) - 1, DATA)
    with pytest.raises(InvalidLayer):
        uploads.complete_upload(ecr_backend, reg, repo, session.upload_id, ["sha256:xyz"])
    with pytest.raises(InvalidLayer) as wrong:
        uploads.complete_upload(ecr_backend, reg, repo, session.upload_id, ["sha256:" + "0" * 64])
    assert DIGEST in wrong.value.message
    assert DIGEST not in reg.blobs


def test_completing_a_layer_the_repository_has_is_layer_already_exists(
    ecr_backend: Backend, reg: Registry, repo: Repository
) -> None:
    uploads.store_blob(ecr_backend, reg, repo, Blob.from_bytes(DATA))
    session = uploads.start_upload(ecr_backend, reg, repo)
    uploads.upload_part(ecr_backend, reg, repo, session.upload_id, 0, len(DATA) - 1, DATA)
    with pytest.raises(LayerAlreadyExists):
        uploads.complete_upload(ecr_backend, reg, repo, session.upload_id, [DIGEST])
    assert session.upload_id not in reg.uploads


def test_registry_protocol_finish_and_cancel(
    ecr_backend: Backend, reg: Registry, repo: Repository
) -> None:
    session = uploads.start_upload(ecr_backend, reg, repo)
    session.append(DATA)
    blob = uploads.finish_upload(ecr_backend, reg, repo, session, DIGEST)
    assert (blob.digest, reg.blobs[DIGEST]) == (DIGEST, blob)
    empty = uploads.start_upload(ecr_backend, reg, repo)
    with pytest.raises(EmptyUpload):
        uploads.finish_upload(ecr_backend, reg, repo, empty, DIGEST)
    cancelled = uploads.start_upload(ecr_backend, reg, repo)
    uploads.cancel_upload(ecr_backend, reg, repo, cancelled.upload_id)
    assert cancelled.upload_id not in reg.uploads
    with pytest.raises(UploadNotFound):
        uploads.cancel_upload(ecr_backend, reg, repo, cancelled.upload_id)


def test_an_upload_belongs_to_its_repository(
    ecr_backend: Backend, reg: Registry, repo: Repository
) -> None:
    other = repositories.create_repository(ecr_backend, reg, "other")
    session = uploads.start_upload(ecr_backend, reg, repo)
    with pytest.raises(UploadNotFound) as missing:
        uploads.get_upload(ecr_backend, reg, other, session.upload_id)
    assert missing.value.code == "UploadNotFoundException"
    assert uploads.get_upload(ecr_backend, reg, repo, session.upload_id) is session


def test_idle_sessions_expire_on_the_backend_clock(
    ecr_backend: Backend, ecr_clock: Clock, reg: Registry, repo: Repository
) -> None:
    ecr_clock.freeze(ecr_clock.now())
    idle = uploads.start_upload(ecr_backend, reg, repo)
    ecr_clock.advance(ecr_backend.upload_idle_timeout - timedelta(seconds=1))
    assert uploads.expire_uploads(ecr_backend) == 0
    ecr_clock.advance(timedelta(seconds=2))
    assert uploads.expire_uploads(ecr_backend) == 1
    assert idle.upload_id not in reg.uploads
    with pytest.raises(UploadNotFound):
        uploads.get_upload(ecr_backend, reg, repo, idle.upload_id)


def test_deleting_a_repository_ends_its_uploads(
    ecr_backend: Backend, reg: Registry, repo: Repository
) -> None:
    session = uploads.start_upload(ecr_backend, reg, repo)
    repositories.delete_repository(ecr_backend, reg, "app")
    assert session.upload_id not in reg.uploads
    with pytest.raises(RepositoryNotFound):
        uploads.store_blob(ecr_backend, reg, repo, Blob.from_bytes(b"late"))


def test_a_blob_is_kept_once_per_registry(
    ecr_backend: Backend, reg: Registry, repo: Repository
) -> None:
    other = repositories.create_repository(ecr_backend, reg, "other")
    first = uploads.store_blob(ecr_backend, reg, repo, Blob.from_bytes(DATA))
    second = uploads.store_blob(ecr_backend, reg, other, Blob.from_bytes(DATA))
    assert second is first
    assert DIGEST in repo.blobs and DIGEST in other.blobs


def test_download_layer_needs_a_referencing_image(
    ecr_backend: Backend, reg: Registry, repo: Repository, push: Push
) -> None:
    with pytest.raises(LayerNotFound):
        uploads.download_layer(ecr_backend, reg, repo, DIGEST)
    uploads.store_blob(ecr_backend, reg, repo, Blob.from_bytes(DATA))
    with pytest.raises(LayerInaccessible):
        uploads.download_layer(ecr_backend, reg, repo, DIGEST)
    layer = push(tag="v1").parsed.layers[0].digest
    assert uploads.download_layer(ecr_backend, reg, repo, layer).digest == layer


def test_mount_needs_an_image_of_the_source_referencing_the_blob(
    ecr_backend: Backend, reg: Registry, repo: Repository, push: Push
) -> None:
    target = repositories.create_repository(ecr_backend, reg, "target")
    uploads.store_blob(ecr_backend, reg, repo, Blob.from_bytes(DATA))
    assert uploads.mount_blob(ecr_backend, reg, repo, target, DIGEST) is None
    layer = push(tag="v1").parsed.layers[0].digest
    mounted = uploads.mount_blob(ecr_backend, reg, repo, target, layer)
    assert mounted is not None and mounted.digest == layer
    assert layer in target.blobs


def test_delete_blob_forgets_it_and_frees_what_no_repository_knows(
    ecr_backend: Backend, reg: Registry, repo: Repository
) -> None:
    uploads.store_blob(ecr_backend, reg, repo, Blob.from_bytes(DATA))
    uploads.delete_blob(ecr_backend, reg, repo, DIGEST)
    assert DIGEST not in repo.blobs and DIGEST not in reg.blobs
    with pytest.raises(BlobUnknown):
        uploads.delete_blob(ecr_backend, reg, repo, DIGEST)
    with pytest.raises(BlobUnknown):
        uploads.get_blob(ecr_backend, reg, repo, DIGEST)


def test_release_keeps_blobs_another_repository_knows(
    ecr_backend: Backend, reg: Registry, repo: Repository
) -> None:
    other = repositories.create_repository(ecr_backend, reg, "other")
    uploads.store_blob(ecr_backend, reg, repo, Blob.from_bytes(DATA))
    uploads.store_blob(ecr_backend, reg, other, Blob.from_bytes(DATA))
    repo.blobs.discard(DIGEST)
    assert uploads.release_unreferenced_blobs(ecr_backend, reg, [DIGEST]) == 0
    other.blobs.discard(DIGEST)
    assert uploads.release_unreferenced_blobs(ecr_backend, reg, [DIGEST]) == 1
    assert DIGEST not in reg.blobs


# ----- /v2/ bodies ----------------------------------------------------------------------------------
def v2_upload_repo(backend: Backend) -> tuple[Registry, Repository]:
    reg = backend.registry()
    return reg, repositories.create_repository(backend, reg, "app")


class _CutShort(io.BytesIO):
    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        if not data:
            raise SizeInvalid("cut")
        return data


def test_append_body_continues_at_the_content_range(ecr_backend: Backend) -> None:
    reg, repo = v2_upload_repo(ecr_backend)
    session = uploads.start_upload(ecr_backend, reg, repo)
    uploads.append_body(ecr_backend, reg, repo, session.upload_id, io.BytesIO(b"abc"), 3)
    uploads.append_body(ecr_backend, reg, repo, session.upload_id, io.BytesIO(b"def"), None, (3, 5))
    assert session.size == 6
    with pytest.raises(RangeInvalid) as raised:
        uploads.append_body(ecr_backend, reg, repo, session.upload_id, io.BytesIO(b"x"), 1, (2, 2))
    assert raised.value.current_size == 6
    with pytest.raises(SizeInvalid):
        uploads.append_body(ecr_backend, reg, repo, session.upload_id, io.BytesIO(b"xy"), 2, (6, 8))
    digest = "sha256:" + hashlib.sha256(b"abcdef").hexdigest()
    blob = uploads.finish_upload(ecr_backend, reg, repo, session, digest)
    assert blob.digest == digest and digest in repo.blobs


def test_an_interrupted_body_drops_the_upload(ecr_backend: Backend) -> None:
    reg, repo = v2_upload_repo(ecr_backend)
    session = uploads.start_upload(ecr_backend, reg, repo)
    with pytest.raises(SizeInvalid):
        uploads.append_body(ecr_backend, reg, repo, session.upload_id, _CutShort(b"ab"), 10)
    with pytest.raises(UploadNotFound):
        uploads.get_upload(ecr_backend, reg, repo, session.upload_id)


def test_a_digest_mismatch_at_completion_drops_the_upload(ecr_backend: Backend) -> None:
    reg, repo = v2_upload_repo(ecr_backend)
    session = uploads.start_upload(ecr_backend, reg, repo)
    uploads.append_body(ecr_backend, reg, repo, session.upload_id, io.BytesIO(b"abc"), 3)
    with pytest.raises(DigestInvalid):
        uploads.finish_upload(ecr_backend, reg, repo, session, "sha256:" + "0" * 64)
    with pytest.raises(UploadNotFound):
        uploads.get_upload(ecr_backend, reg, repo, session.upload_id)
    uploads.drop_upload(ecr_backend, reg, repo, session.upload_id)  # harmless when gone
    assert reg.blobs == {}


@pytest.mark.parametrize(
    ("digest", "code"),
    [
        ("", "MissingLayerDigest"),
        ("sha256:xyz", "InvalidLayerDigest"),
        ("sha256:" + "0" * 64, "MissingLayerDigest"),
    ],
    ids=["empty", "malformed", "unknown"],
)
def test_check_layer_fails_with_ecrs_codes(
    ecr_backend: Backend, reg: Registry, repo: Repository, digest: str, code: str
) -> None:
    with pytest.raises(ItemFailure) as raised:
        uploads.check_layer(ecr_backend, reg, repo, digest)
    assert raised.value.failure_code == code


def test_check_layer_finds_a_layer_the_repository_holds(
    ecr_backend: Backend, reg: Registry, repo: Repository
) -> None:
    blob = uploads.store_blob(ecr_backend, reg, repo, Blob.from_bytes(DATA))
    assert uploads.check_layer(ecr_backend, reg, repo, DIGEST) is blob
