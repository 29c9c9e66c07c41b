"""The reclaim service: which unreferenced layers a pass takes, and which it must leave."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ecr_mock import Backend
from ecr_mock.domain.blobs import Blob
from ecr_mock.domain.models import Registry, Repository
from ecr_mock.services import images, reclaim, uploads
from tests.core.services.conftest import Push


def deleted_layer(backend: Backend, repo: Repository, push: Push) -> str:
    image = push(tag="v1", seed="gone")
    images.delete_image(backend, repo, digest=image.digest)
    return image.parsed.layers[0].digest


def test_an_unreferenced_layer_goes_only_after_its_grace(
    ecr_backend: Backend, reg: Registry, repo: Repository, push: Push
) -> None:
    layer = deleted_layer(ecr_backend, repo, push)
    ecr_backend.clock.advance(hours=23)
    early = reclaim.reclaim(ecr_backend)
    kept_early = layer in reg.blobs
    ecr_backend.clock.advance(hours=1, seconds=1)
    late = reclaim.reclaim(ecr_backend)
    assert early.layers == 0 and kept_early
    assert late.layers == 2  # the layer and its config
    assert layer not in reg.blobs and layer not in repo.blobs
    assert reclaim.was_reclaimed(reg, layer) == len(b"layer gone" * 10)


def test_the_grace_period_is_settable_in_process(
    ecr_backend: Backend, reg: Registry, repo: Repository, push: Push
) -> None:
    ecr_backend.layer_grace = timedelta(minutes=5)
    layer = deleted_layer(ecr_backend, repo, push)
    ecr_backend.clock.advance(minutes=6)
    assert ecr_backend.reclaim_layers().layers == 2
    assert layer not in reg.blobs


def test_a_layer_being_downloaded_is_kept_until_the_download_ends(
    ecr_backend: Backend, reg: Registry, repo: Repository, push: Push
) -> None:
    layer = deleted_layer(ecr_backend, repo, push)
    reader = reg.blobs[layer].body()
    ecr_backend.clock.advance(days=2)
    during = reclaim.reclaim(ecr_backend)
    sent = b"".join(reader)
    reader.close()
    after = reclaim.reclaim(ecr_backend)
    assert during.layers == 1  # the config went; the layer read is kept
    assert sent == b"layer gone" * 10
    assert after.layers == 1 and layer not in reg.blobs


def test_an_open_upload_session_keeps_the_layers_of_its_repository(
    ecr_backend: Backend, reg: Registry, repo: Repository
) -> None:
    early = uploads.store_blob(ecr_backend, reg, repo, Blob.from_bytes(b"uploaded first"))
    session = uploads.start_upload(ecr_backend, reg, repo)
    ecr_backend.clock.advance(minutes=50)  # the session is not idle-expired yet (an hour)
    ecr_backend.layer_grace = timedelta(minutes=10)
    held = reclaim.reclaim(ecr_backend)
    kept = early.digest in reg.blobs
    uploads.cancel_upload(ecr_backend, reg, repo, session.upload_id)
    gone = reclaim.reclaim(ecr_backend)  # nothing in progress, 50 minutes since the last upload
    assert held.layers == 0 and kept
    assert gone.layers == 1 and early.digest not in reg.blobs


def test_a_layer_another_repository_references_is_never_reclaimed(
    ecr_backend: Backend, reg: Registry, repo: Repository, push: Push
) -> None:
    from ecr_mock.services import repositories

    other = repositories.create_repository(ecr_backend, reg, "other")
    kept = push(tag="v1", seed="shared", into=other)
    layer = kept.parsed.layers[0].digest
    uploads.mount_blob(ecr_backend, reg, other, repo, layer)
    ecr_backend.clock.advance(days=3)
    report = reclaim.reclaim(ecr_backend)
    assert report.layers == 0
    assert reg.blobs[layer].read() == b"layer shared" * 10


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("90s", 90), ("30m", 1800), ("24h", 86400), ("2d", 172800)]
)
def test_grace_periods_are_read_in_seconds_or_with_a_unit(text: str, seconds: int) -> None:
    assert reclaim.parse_grace(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "-1", "h", "1w", "nan", "1e20"])
def test_a_bad_grace_period_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        reclaim.parse_grace(text)


def test_a_request_after_the_grace_period_reclaims_through_the_tick(
    ecr_backend: Backend, ecr_client: object, reg: Registry, repo: Repository, push: Push
) -> None:
    layer = deleted_layer(ecr_backend, repo, push)
    ecr_backend.clock.advance(days=1, minutes=6)
    ecr_client.describe_repositories()  # type: ignore[attr-defined]  # any request ticks
    assert layer not in reg.blobs
    assert reg.reclaimed_layers == 2
