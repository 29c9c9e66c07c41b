"""The state directory's rows: saves write what changed only, and schema-1 directories migrate."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from ecr_mock import Backend, mock_ecr
from ecr_mock.store.persistence import SCHEMA_VERSION
from ecr_mock.store.persistence.codec import encode, encode_fields
from ecr_mock.store.persistence.rows import MODEL_TYPES
from tests.core.test_persistence import build_rich_state, client, full_state

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def manifest(number: int) -> str:
    """A manifest naming blobs never uploaded (the backend allows missing layers)."""
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": "sha256:" + f"{number:064x}",
                "size": 10,
            },
            "layers": [],
        }
    )


def test_a_tag_push_writes_the_same_rows_however_many_images_are_stored(tmp_path: Path) -> None:
    backend = Backend.open(tmp_path)
    backend.allow_missing_layers = True
    written = []
    try:
        with mock_ecr(backend):
            ecr = client()
            ecr.create_repository(repositoryName="many")
            stored = 0
            for total in (5, 200):
                for number in range(stored, total):
                    ecr.put_image(repositoryName="many", imageManifest=manifest(number))
                stored = total
                backend.save()
                ecr.put_image(
                    repositoryName="many", imageManifest=manifest(0), imageTag=f"at-{total}"
                )
                assert backend.state_dir is not None
                written.append(backend.state_dir.save(backend))
    finally:
        backend.close()
    assert written == [1, 1]  # the image row of the image tagged, nothing else
    again = Backend.open(tmp_path)
    try:
        repo = again.registry().repositories["many"]
        assert len(repo.images) == 200
        assert repo.tags == {"at-5": repo.tags["at-5"], "at-200": repo.tags["at-5"]}
    finally:
        again.close()


def test_a_moved_tag_leaves_the_image_it_left(tmp_path: Path) -> None:
    backend = Backend.open(tmp_path)
    backend.allow_missing_layers = True
    with mock_ecr(backend):
        ecr = client()
        ecr.create_repository(repositoryName="moving")
        first = ecr.put_image(repositoryName="moving", imageManifest=manifest(1), imageTag="v")
        ecr.put_image(repositoryName="moving", imageManifest=manifest(2), imageTag="w")
        backend.save()
        ecr.put_image(repositoryName="moving", imageManifest=manifest(2), imageTag="v")
        backend.save()
    backend.close()
    again = Backend.open(tmp_path)
    try:
        with mock_ecr(again):
            found = client().describe_images(repositoryName="moving")["imageDetails"]
        tags = {d["imageDigest"]: sorted(d.get("imageTags", [])) for d in found}
        assert tags[first["image"]["imageId"]["imageDigest"]] == []
        assert sorted(tags.values()) == [[], ["v", "w"]]
    finally:
        again.close()


def write_schema_1(path: Path, backend: Backend) -> None:
    """What the previous version of ecr-mock wrote: one ``rows`` table of JSON documents."""
    path.mkdir(parents=True)
    (path / "tmp").mkdir()
    rows: list[tuple[str, Any, bytes | None]] = []
    offset, frozen = backend.clock.state()
    rows.append(("backend/clock", {"offset": encode(offset), "frozen": encode(frozen)}, None))
    rows.append(("backend/tokens", encode(backend.tokens.issued()), None))
    rows.append(("backend/access_keys", encode(dict(backend.access_keys)), None))
    rows.append(("backend/lifecycle", {"last_run": encode(backend.lifecycle_last_run())}, None))
    for name in ("download_url_secret", "secrets"):
        rows.append((f"backend/slot/{name}", encode(getattr(backend, name), MODEL_TYPES), None))
    for (account, region), reg in backend.registries.items():
        prefix = f"{account}/{region}"
        own = frozenset({"repositories", "blobs", "uploads"})
        rows.append((f"registry/{prefix}", encode_fields(reg, MODEL_TYPES, own), None))
        for digest, blob in reg.blobs.items():
            rows.append((f"blob/{prefix}/{digest}", {"size": blob.size}, None))
            target = path / "blobs" / digest.replace(":", "/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob.read())
        for key, repo in reg.repositories.items():
            doc = encode_fields(repo, MODEL_TYPES, frozenset({"images"}))
            rows.append((f"repository/{prefix}/{key}", doc, None))
            for digest, image in repo.images.items():
                doc = encode_fields(image, MODEL_TYPES, frozenset({"manifest", "parsed"}))
                rows.append((f"image/{prefix}/{key}@{digest}", doc, image.manifest))
    db = sqlite3.connect(path / "state.db")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("CREATE TABLE rows (key TEXT PRIMARY KEY, doc TEXT NOT NULL, data BLOB)")
    db.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    db.executemany("INSERT INTO rows VALUES (?, ?, ?)", [(k, json.dumps(d), b) for k, d, b in rows])
    db.commit()
    db.close()


def test_a_schema_1_directory_migrates_on_open_with_everything_in_it(tmp_path: Path) -> None:
    source = Backend()
    build_rich_state(source)
    before = full_state(source)
    path = tmp_path / "old"
    write_schema_1(path, source)
    viewer = Backend.open(path, read_only=True)  # read-only: read as it is, not migrated
    try:
        assert full_state(viewer) == before
    finally:
        viewer.close()
    migrated = Backend.open(path)
    try:
        assert full_state(migrated) == before
        with mock_ecr(migrated):
            client().create_repository(repositoryName="after-migration")
    finally:
        migrated.close()
    with sqlite3.connect(path / "state.db") as db:
        version = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    db.close()
    assert version == (str(SCHEMA_VERSION),)
    assert "rows" not in tables
    again = Backend.open(path)
    try:
        assert "after-migration" in again.registry().repositories
        assert full_state(again)["registries"] != before["registries"]  # one repository more
        layers = [blob.read() for reg in again.registries.values() for blob in reg.blobs.values()]
        assert b"layer one" * 100 in layers
    finally:
        again.close()


@pytest.mark.parametrize("mode", ["always", "batch", "never"])
def test_each_fsync_mode_keeps_pushed_images(tmp_path: Path, mode: str) -> None:
    backend = Backend.open(tmp_path, fsync=mode)
    with mock_ecr(backend):
        ecr = client()
        ecr.create_repository(repositoryName="synced")
        from tests.core.test_persistence import push

        digest = push(ecr, "synced", "v1", b"synced layer" * 1000)
    backend.close()
    again = Backend.open(tmp_path)
    try:
        with mock_ecr(again):
            got = client().batch_get_image(repositoryName="synced", imageIds=[{"imageTag": "v1"}])[
                "images"
            ]
        assert got[0]["imageId"]["imageDigest"] == digest
        blobs = again.registry().blobs.values()
        assert b"synced layer" * 1000 in [blob.read() for blob in blobs]
    finally:
        again.close()


def test_an_unknown_fsync_mode_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="always, batch, never"):
        Backend.open(tmp_path, fsync="sometimes")


@pytest.mark.parametrize(
    "doc",
    [
        json.loads(manifest(7)),
        {**json.loads(manifest(8)), "annotations": {"a": "b"}},
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "digest": "sha256:" + "c" * 64,
                "size": 5,
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "digest": "sha256:" + "d" * 64,
                    "size": 9,
                }
            ],
        },
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.example.sbom",
                "digest": "sha256:" + "e" * 64,
                "size": 2,
            },
            "layers": [],
        },
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{"mediaType": OCI_MANIFEST, "digest": "sha256:" + "f" * 64, "size": 3}],
        },
    ],
)
def test_a_stored_manifest_parses_again_to_what_it_parsed_to_when_pushed(doc: Any) -> None:
    from ecr_mock.domain.manifests import parse_manifest, parse_stored_manifest

    data = json.dumps(doc).encode()
    first = parse_manifest(data, doc["mediaType"])
    assert parse_stored_manifest(data, first.media_type) == first
