"""Tests for applying lifecycle policies to the backend, archive/restore, previews and scheduling."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from werkzeug.test import Client

from ecr_mock.domain.blobs import Blob
from ecr_mock.domain.errors import ImageArchived, InvalidParameter, LifecyclePolicyNotFound
from ecr_mock.domain.lifecycle_rules import LifecyclePolicyError
from ecr_mock.domain.models import Image, Registry, Repository
from ecr_mock.protocols.registry.app import RegistryApp, basic_auth_headers
from ecr_mock.services.backend import Backend
from ecr_mock.services.lifecycle import (
    RESTORE_DURATION,
    ImageStorageClassUpdateNotSupported,
    LifecyclePolicyPreviewInProgress,
    LifecyclePolicyPreviewNotFound,
    LifecycleScheduler,
    apply_lifecycle,
    get_preview,
    preview_results,
    start_preview,
)
from ecr_mock.store.clock import Clock

START = datetime(2026, 1, 10, 12, 0, tzinfo=timezone.utc)
ACCOUNT = "123456789012"
REGION = "us-east-1"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def policy(*rules: dict[str, Any]) -> str:
    return json.dumps({"rules": list(rules)})


def rule(
    priority: int,
    tag_status: str,
    count_type: str,
    count: int,
    action: str = "expire",
    **selection: Any,
) -> dict[str, Any]:
    sel: dict[str, Any] = {"tagStatus": tag_status, "countType": count_type, "countNumber": count}
    if count_type != "imageCountMoreThan":
        sel["countUnit"] = "days"
    sel.update(selection)
    act: dict[str, Any] = {"type": action}
    if action == "transition":
        act["targetStorageClass"] = "archive"
    return {"rulePriority": priority, "selection": sel, "action": act}


class World:
    """A backend on a frozen clock with one repository and a core-level push helper."""

    def __init__(self) -> None:
        self.clock = Clock()
        self.clock.freeze(START)
        self.backend = Backend(clock=self.clock)
        self.reg: Registry = self.backend.registry(ACCOUNT, REGION)
        self.repo: Repository = self.backend.create_repository(self.reg, "team/app")

    def push(self, seed: str, tag: str | None = None) -> Image:
        config = Blob.from_bytes(json.dumps({"architecture": "amd64", "seed": seed}).encode())
        layer = Blob.from_bytes(f"layer-{seed}".encode() * 8)
        for blob in (config, layer):
            self.backend.store_blob(self.reg, self.repo, blob)
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": config.digest,
                    "size": config.size,
                },
                "layers": [
                    {
                        "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                        "digest": layer.digest,
                        "size": layer.size,
                    }
                ],
            }
        ).encode()
        return self.backend.put_image(self.reg, self.repo, manifest, tag=tag)

    def push_index(self, children: list[Image], tag: str | None = None) -> Image:
        doc = {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": child.digest,
                    "size": len(child.manifest),
                    "platform": {"architecture": "amd64", "os": "linux"},
                }
                for child in children
            ],
        }
        return self.backend.put_image(self.reg, self.repo, json.dumps(doc).encode(), tag=tag)

    def state(self) -> dict[str, tuple[tuple[str, ...], str, str, Any, Any]]:
        return {
            d: (tuple(i.tags), i.storage_class, i.status, i.last_archived_at, i.last_activated_at)
            for d, i in self.repo.images.items()
        }


@pytest.fixture
def world() -> World:
    return World()


# --------------------------------------------------------------------------- apply_lifecycle


def test_expired_untagged_images_are_deleted_and_tagged_ones_kept(world: World) -> None:
    old = world.push("old")
    kept = world.push("kept", tag="v1")
    world.clock.advance(days=10)
    young = world.push("young")
    world.repo.lifecycle_policy_text = policy(rule(1, "untagged", "sinceImagePushed", 5))
    world.clock.advance(days=1)

    actions = apply_lifecycle(world.backend)

    assert [(a.digest, a.action) for a in actions] == [(old.digest, "expire")]
    assert set(world.repo.images) == {kept.digest, young.digest}


def test_expiry_goes_through_the_delete_path_so_listeners_see_image_deleted(world: World) -> None:
    old = world.push("old", tag="v0")
    world.clock.advance(minutes=1)
    world.push("new", tag="v1")
    world.repo.lifecycle_policy_text = policy(
        rule(1, "tagged", "imageCountMoreThan", 1, tagPrefixList=["v"])
    )
    seen: list[tuple[str, str]] = []
    world.backend.listeners.append(lambda kind, d: seen.append((kind, d["image"].digest)))

    world.clock.advance(seconds=1)
    apply_lifecycle(world.backend)

    assert "v0" not in world.repo.tags
    assert ("image-deleted", old.digest) in seen
    assert ("lifecycle-action", old.digest) in seen


def test_image_count_rule_keeps_the_newest_images(world: World) -> None:
    pushed = []
    for i in range(4):
        pushed.append(world.push(f"img{i}", tag=f"build-{i}"))
        world.clock.advance(hours=1)
    world.repo.lifecycle_policy_text = policy(
        rule(1, "tagged", "imageCountMoreThan", 2, tagPatternList=["build-*"])
    )

    world.backend.apply_lifecycle_policies()

    assert set(world.repo.images) == {pushed[2].digest, pushed[3].digest}


def test_transition_archives_images_and_a_later_archive_rule_expires_them(world: World) -> None:
    image = world.push("cold", tag="v1")
    world.repo.lifecycle_policy_text = policy(
        rule(1, "any", "sinceImagePushed", 30, action="transition"),
        rule(2, "any", "sinceImageTransitioned", 90, storageClass="archive"),
    )
    world.clock.advance(days=31)

    first = apply_lifecycle(world.backend)

    assert [(a.action, a.target_storage_class) for a in first] == [("transition", "archive")]
    assert image.storage_class == "ARCHIVE"
    assert image.status == "ARCHIVED"
    assert image.last_archived_at == world.clock.now()
    with pytest.raises(ImageArchived):
        world.backend.record_pull(world.repo, image)

    world.clock.advance(days=89)
    assert apply_lifecycle(world.backend) == []
    world.clock.advance(days=2)
    assert [a.action for a in apply_lifecycle(world.backend)] == ["expire"]
    assert image.digest not in world.repo.images


def test_images_referenced_by_an_index_outlive_the_index(world: World) -> None:
    child = world.push("child")
    index = world.push_index([child], tag="multi")
    world.repo.lifecycle_policy_text = policy(rule(1, "any", "sinceImagePushed", 1))
    world.clock.advance(days=2)

    first = apply_lifecycle(world.backend)
    second = apply_lifecycle(world.backend)

    assert [a.digest for a in first] == [index.digest]
    assert [a.digest for a in second] == [child.digest]
    assert world.repo.images == {}


def test_repository_argument_limits_application_to_that_repository(world: World) -> None:
    world.push("a")
    other = world.backend.create_repository(world.reg, "team/other")
    text = policy(rule(1, "untagged", "sinceImagePushed", 1))
    world.repo.lifecycle_policy_text = text
    other.lifecycle_policy_text = text
    world.clock.advance(days=2)

    assert apply_lifecycle(world.backend, repository=other) == []
    assert len(world.repo.images) == 1
    assert len(apply_lifecycle(world.backend, registry=world.reg)) == 1


def test_unparseable_stored_policy_is_skipped_without_changes(world: World) -> None:
    world.push("a")
    world.repo.lifecycle_policy_text = '{"rules": "nope"}'
    world.clock.advance(days=400)
    before = world.state()

    assert apply_lifecycle(world.backend) == []
    assert world.state() == before


# --------------------------------------------------------------------------- /v2/ sees expiry


def test_expired_image_is_gone_from_the_registry_surface(world: World) -> None:
    image = world.push("old", tag="old")
    world.repo.lifecycle_policy_text = policy(
        rule(1, "tagged", "sinceImagePushed", 1, tagPrefixList=["old"])
    )
    client = Client(RegistryApp(world.backend))
    base = f"https://{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
    path = f"/v2/team/app/manifests/{image.digest}"
    accept = {"Accept": OCI_MANIFEST, **basic_auth_headers(world.backend, ACCOUNT, REGION)}
    assert client.get(path, headers=accept, base_url=base).status_code == 200

    world.clock.advance(days=2)
    apply_lifecycle(world.backend)
    accept = {"Accept": OCI_MANIFEST, **basic_auth_headers(world.backend, ACCOUNT, REGION)}

    assert client.get(path, headers=accept, base_url=base).status_code == 404
    assert (
        client.get("/v2/team/app/manifests/old", headers=accept, base_url=base).status_code == 404
    )


def test_archived_image_cannot_be_pulled_through_the_registry(world: World) -> None:
    image = world.push("cold", tag="cold")
    world.backend.update_image_storage_class(world.repo, image, "ARCHIVE")
    client = Client(RegistryApp(world.backend))
    headers = {"Accept": OCI_MANIFEST, **basic_auth_headers(world.backend, ACCOUNT, REGION)}

    response = client.get(
        "/v2/team/app/manifests/cold",
        headers=headers,
        base_url=f"https://{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com",
    )

    assert response.status_code == 404
    assert response.json["errors"][0]["code"] == "MANIFEST_UNKNOWN"
    assert image.last_pulled_at is None


def test_pushing_an_archived_image_again_restores_it_at_once(world: World) -> None:
    image = world.push("cold", tag="cold")
    world.backend.update_image_storage_class(world.repo, image, "ARCHIVE")
    world.clock.advance(hours=1)

    again = world.backend.put_image(world.reg, world.repo, image.manifest, tag="cold")

    assert again is image
    assert (image.storage_class, image.status) == ("STANDARD", "ACTIVE")
    assert image.last_activated_at == world.clock.now()
    world.backend.record_pull(world.repo, image)
    assert image.last_pulled_at == world.clock.now()


# --------------------------------------------------------------------------- archive / restore


def test_archive_then_restore_goes_through_activating_to_active(world: World) -> None:
    image = world.push("img", tag="v1")
    world.backend.update_image_storage_class(world.repo, image, "ARCHIVE")
    archived_at = world.clock.now()
    world.clock.advance(days=3)

    world.backend.update_image_storage_class(world.repo, image, "STANDARD")

    assert (image.status, image.storage_class) == ("ACTIVATING", "ARCHIVE")
    with pytest.raises(ImageArchived):
        world.backend.record_pull(world.repo, image)
    world.clock.advance(RESTORE_DURATION - timedelta(seconds=1))
    world.backend.tick()
    assert image.status == "ACTIVATING"

    world.clock.advance(seconds=1)
    world.backend.tick()

    assert (image.status, image.storage_class) == ("ACTIVE", "STANDARD")
    assert image.last_archived_at == archived_at
    assert image.last_activated_at == world.clock.now()
    world.backend.record_pull(world.repo, image)
    assert image.last_pulled_at == world.clock.now()


def test_storage_class_refusals_change_nothing(world: World) -> None:
    image = world.push("img", tag="v1")
    with pytest.raises(InvalidParameter):
        world.backend.update_image_storage_class(world.repo, image, "STANDARD")
    with pytest.raises(InvalidParameter):
        world.backend.update_image_storage_class(world.repo, image, "GLACIER")
    world.backend.update_image_storage_class(world.repo, image, "ARCHIVE")
    before = world.state()
    world.clock.advance(hours=1)

    with pytest.raises(InvalidParameter):
        world.backend.update_image_storage_class(world.repo, image, "ARCHIVE")
    assert world.state() == before

    world.backend.update_image_storage_class(world.repo, image, "STANDARD")
    restoring = world.state()
    for target in ("STANDARD", "ARCHIVE"):
        with pytest.raises(ImageStorageClassUpdateNotSupported) as err:
            world.backend.update_image_storage_class(world.repo, image, target)
        assert err.value.code == "ImageStorageClassUpdateNotSupportedException"
    assert world.state() == restoring


def test_images_being_restored_are_left_alone_by_lifecycle_rules(world: World) -> None:
    image = world.push("img")
    world.backend.update_image_storage_class(world.repo, image, "ARCHIVE")
    world.clock.advance(days=100)
    world.backend.update_image_storage_class(world.repo, image, "STANDARD")
    world.repo.lifecycle_policy_text = policy(
        rule(1, "any", "sinceImageTransitioned", 90, storageClass="archive")
    )

    assert apply_lifecycle(world.backend) == []
    assert image.digest in world.repo.images


# --------------------------------------------------------------------------- previews


def test_preview_reports_actions_without_changing_images(world: World) -> None:
    old = world.push("old")
    world.push("new", tag="v1")
    world.clock.advance(days=3)
    before = world.state()

    preview = start_preview(
        world.backend, world.repo, policy(rule(1, "untagged", "sinceImagePushed", 1))
    )

    assert preview.status == "IN_PROGRESS"
    assert [(r.digest, r.action, r.rule_priority) for r in preview.results] == [
        (old.digest, "EXPIRE", 1)
    ]
    assert world.state() == before
    assert get_preview(world.repo).status == "COMPLETE"


def test_preview_errors_and_refused_text_leaves_no_preview(world: World) -> None:
    with pytest.raises(LifecyclePolicyPreviewNotFound):
        get_preview(world.repo)
    with pytest.raises(LifecyclePolicyNotFound):
        start_preview(world.backend, world.repo, None)
    with pytest.raises(LifecyclePolicyError):
        start_preview(world.backend, world.repo, '{"rules": []}')
    with pytest.raises(LifecyclePolicyPreviewNotFound):
        get_preview(world.repo)

    text = policy(rule(1, "untagged", "sinceImagePushed", 1))
    start_preview(world.backend, world.repo, text)
    with pytest.raises(LifecyclePolicyPreviewInProgress):
        start_preview(world.backend, world.repo, text)
    get_preview(world.repo)
    assert start_preview(world.backend, world.repo, text).status == "IN_PROGRESS"


# --------------------------------------------------------------------------- scheduling


def test_tick_applies_policies_once_the_clock_passes_the_next_due_time(world: World) -> None:
    world.push("old")
    world.repo.lifecycle_policy_text = policy(rule(1, "untagged", "sinceImagePushed", 1))
    world.clock.advance(hours=23)
    assert world.backend.tick() == []
    assert len(world.repo.images) == 1

    world.clock.advance(days=2)

    assert len(world.backend.tick()) == 1
    assert world.repo.images == {}


def test_tick_applies_when_the_clock_is_moved_back_before_the_last_run(world: World) -> None:
    world.clock.freeze(START - timedelta(days=30))
    world.push("old")
    world.repo.lifecycle_policy_text = policy(rule(1, "untagged", "sinceImagePushed", 1))
    world.clock.advance(days=2)

    assert world.clock.now() < world.backend.lifecycle.last_run
    assert len(world.backend.tick()) == 1
    assert world.backend.lifecycle.last_run == world.clock.now()


def test_started_scheduler_applies_policies_in_real_time_and_stops(world: World) -> None:
    world.push("old")
    world.repo.lifecycle_policy_text = policy(rule(1, "untagged", "sinceImagePushed", 1))
    world.clock.advance(days=2)
    done = threading.Event()
    world.backend.listeners.append(
        lambda kind, _detail: done.set() if kind == "lifecycle-action" else None
    )
    scheduler = LifecycleScheduler(world.backend, interval=0.01)

    scheduler.start()
    scheduler.start()
    try:
        assert done.wait(timeout=30)
        assert scheduler.running
    finally:
        scheduler.stop()
    scheduler.stop()

    assert not scheduler.running
    assert world.repo.images == {}


def test_expiring_an_image_deletes_the_artifacts_that_refer_to_it(world: World) -> None:
    def refer(subject: Image, name: str) -> Image:
        empty = Blob.from_bytes(b"{}")
        payload = Blob.from_bytes(name.encode())
        for blob in (empty, payload):
            world.backend.store_blob(world.reg, world.repo, blob)
        doc = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": "application/vnd.cncf.notary.signature",
            "config": {
                "mediaType": "application/vnd.oci.empty.v1+json",
                "digest": empty.digest,
                "size": empty.size,
            },
            "layers": [
                {
                    "mediaType": "application/octet-stream",
                    "digest": payload.digest,
                    "size": payload.size,
                }
            ],
            "subject": {
                "mediaType": OCI_MANIFEST,
                "digest": subject.digest,
                "size": len(subject.manifest),
            },
        }
        return world.backend.put_image(
            world.reg, world.repo, json.dumps(doc).encode(), tag=f"{name}-tag"
        )

    old = world.push("old")
    signature = refer(old, "signature")
    countersigned = refer(signature, "countersignature")
    kept = world.push("kept", tag="v1")
    unrelated = refer(kept, "kept-signature")
    world.repo.lifecycle_policy_text = policy(rule(1, "untagged", "sinceImagePushed", 5))
    world.clock.advance(days=6)

    actions = apply_lifecycle(world.backend)

    assert [a.digest for a in actions] == [old.digest]
    assert set(world.repo.images) == {kept.digest, unrelated.digest}
    assert signature.digest not in world.repo.images
    assert countersigned.digest not in world.repo.images
    assert world.repo.referrers == {kept.digest: {unrelated.digest}}


def test_preview_results_narrow_to_named_images_and_tag_status(world: World) -> None:
    untagged = world.push("old")
    tagged = world.push("tagged", tag="v1")
    world.clock.advance(days=3)
    start_preview(world.backend, world.repo, policy(rule(1, "any", "sinceImagePushed", 1)))

    preview, everything = preview_results(world.backend, world.repo, None, "ANY")
    assert preview.status == "COMPLETE"
    assert {r.digest for r in everything} == {untagged.digest, tagged.digest}
    by_tag = preview_results(world.backend, world.repo, [(None, "v1")], "ANY")[1]
    assert [r.digest for r in by_tag] == [tagged.digest]
    mismatched = preview_results(world.backend, world.repo, [(untagged.digest, "v1")], "ANY")[1]
    assert mismatched == []
    by_digest = preview_results(world.backend, world.repo, [(untagged.digest, None)], "ANY")[1]
    assert [r.digest for r in by_digest] == [untagged.digest]
    assert [r.digest for r in preview_results(world.backend, world.repo, None, "TAGGED")[1]] == [
        tagged.digest
    ]
    untagged_only = preview_results(world.backend, world.repo, None, "UNTAGGED")[1]
    assert [r.digest for r in untagged_only] == [untagged.digest]
