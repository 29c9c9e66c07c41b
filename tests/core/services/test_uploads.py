"""The uploads service: ``/v2/`` bodies streamed into sessions, completion and dropped uploads."""

from __future__ import annotations

import hashlib
import io

import pytest

from ecr_mock import Backend
from ecr_mock.core.errors import (
    DigestInvalid,
    ItemFailure,
    RangeInvalid,
    SizeInvalid,
    UploadNotFound,
)
from ecr_mock.core.models import Registry, Repository
from ecr_mock.core.services import Store, repositories, uploads


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


def test_check_layer_failure_codes() -> None:
    store = Store()
    reg = store.registry()
    repo = repositories.create_repository(store, reg, "app")
    for digest, code in (
        ("", "MissingLayerDigest"),
        ("sha256:xyz", "InvalidLayerDigest"),
        ("sha256:" + "0" * 64, "MissingLayerDigest"),
    ):
        with pytest.raises(ItemFailure) as caught:
            uploads.check_layer(store, reg, repo, digest)
        assert caught.value.failure_code == code
