"""``ecr-mock check``: verify a state directory's digests and links, and repair it safely."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ecr_mock.domain.manifests import parse_manifest
from ecr_mock.domain.models import Image, Repository
from ecr_mock.store.errors import StateDirError
from ecr_mock.store.persistence.codec import build, decode, encode_fields
from ecr_mock.store.persistence.integrity import open_snapshot
from ecr_mock.store.persistence.statedir import (
    _IMAGE_OWN,
    _MODEL_TYPES,
    _REPOSITORY_OWN,
    SCHEMA_VERSION,
)
from ecr_mock.store.persistence.verify import file_digest_problem, move_to_quarantine


@dataclass
class Problem:
    """One thing wrong, and what ``--repair`` does about it (empty: nothing it can do)."""

    what: str
    repair: str


@dataclass
class Report:
    """What a check found, and the plan a repair follows."""

    problems: list[Problem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    bad_blobs: dict[str, str] = field(default_factory=dict)
    """Blob row key -> its digest, for blobs whose file is missing or damaged."""
    removed_images: set[str] = field(default_factory=set)
    """Image row keys a repair removes."""
    repositories: dict[str, tuple[Any, dict[str, tuple[Any, bytes | None]]]] = field(
        default_factory=dict
    )
    """Repository row key -> its document and its image rows (document, manifest)."""

    @property
    def sound(self) -> bool:
        return not self.problems

    @property
    def repairable(self) -> bool:
        return all(p.repair for p in self.problems)


def _parts(key: str) -> tuple[str, str, str]:
    _, account, region, rest = key.split("/", 3)
    return account, region, rest


def _digest_of(data: bytes, digest: str) -> bool:
    algorithm, _, expected = digest.partition(":")
    try:
        return hashlib.new(algorithm, data).hexdigest() == expected
    except ValueError:
        return False


def inspect(directory: Path) -> Report:
    """Check everything ``directory`` holds; changes nothing. StateDirDamaged when the
    database itself cannot be read."""
    report = Report()
    snapshot = open_snapshot(directory)
    try:
        found = snapshot.db.execute("SELECT value FROM meta WHERE key = 'schema_version'")
        version = found.fetchone()
        if version is None or version[0] != str(SCHEMA_VERSION):
            report.problems.append(
                Problem(f"schema version {version and version[0]}, not {SCHEMA_VERSION}", "")
            )
            return report
        rows = snapshot.db.execute("SELECT key, doc, data FROM rows ORDER BY rowid").fetchall()
    except sqlite3.DatabaseError as exc:
        report.problems.append(Problem(f"the database cannot be read: {exc}", ""))
        return report
    finally:
        snapshot.close()
    sound_blobs: dict[tuple[str, str], set[str]] = {}
    images: dict[str, list[tuple[str, Any, bytes | None]]] = {}
    for key, text, data in rows:
        kind = key.split("/", 1)[0]
        try:
            doc = json.loads(text)
        except ValueError:
            if kind == "image":
                report.removed_images.add(key)
                report.problems.append(Problem(f"row {key} is not JSON", "remove the image"))
            else:
                report.problems.append(Problem(f"row {key} is not JSON", ""))
            continue
        if kind == "blob":
            account, region, digest = _parts(key)
            path = directory / "blobs" / digest.replace(":", "/", 1)
            problem = file_digest_problem(path, digest, int(doc.get("size", -1)))
            if problem is None:
                sound_blobs.setdefault((account, region), set()).add(digest)
            else:
                report.bad_blobs[key] = digest
                report.problems.append(
                    Problem(
                        f"blob {digest} of {account}/{region}: {problem}",
                        f"move its file to quarantine/{digest.replace(':', '-', 1)} and "
                        f"forget the blob",
                    )
                )
        elif kind == "repository":
            report.repositories[key] = (doc, {})
        elif kind == "image":
            images.setdefault(key[len("image/") :].rpartition("@")[0], []).append((key, doc, data))
    report.counts = {
        "blobs": sum(len(s) for s in sound_blobs.values()) + len(report.bad_blobs),
        "images": sum(len(v) for v in images.values()),
        "repositories": len(report.repositories),
    }
    for repo_key, image_rows in images.items():
        repo_row = report.repositories.get("repository/" + repo_key)
        for key, doc, data in image_rows:
            if repo_row is None:
                report.removed_images.add(key)
                report.problems.append(Problem(f"image {key} has no repository", "remove it"))
            else:
                repo_row[1][key] = (doc, data)
    _check_images(report, sound_blobs)
    return report


def _check_images(report: Report, sound_blobs: dict[tuple[str, str], set[str]]) -> None:
    """Manifest digests, manifest-to-blob and index-to-manifest links, tag-to-manifest links."""
    parsed: dict[str, Any] = {}
    for _, image_rows in report.repositories.values():
        for key, (doc, data) in image_rows.items():
            if key in report.removed_images:
                continue
            digest = key.rpartition("@")[2]
            why = None
            if data is None:
                why = "its manifest is missing"
            elif not _digest_of(data, digest):
                why = "its manifest's bytes do not hash to its digest"
            else:
                try:
                    parsed[key] = parse_manifest(data, decode(doc.get("media_type")))
                except Exception as exc:  # any refusal of the stored manifest
                    why = f"its manifest cannot be read ({exc})"
            if why is not None:
                report.removed_images.add(key)
                report.problems.append(Problem(f"image {key[6:]}: {why}", "remove the image"))
    changed = True
    while changed:  # an image removed can break the indexes naming it
        changed = False
        for repo_key, (_, image_rows) in report.repositories.items():
            account, region, _ = _parts(repo_key)
            blobs = sound_blobs.get((account, region), set())
            present = {k.rpartition("@")[2] for k in image_rows if k not in report.removed_images}
            for key in image_rows:
                if key in report.removed_images:
                    continue
                manifest = parsed[key]
                lost = [d for d in manifest.stored_blob_digests() if d not in blobs]
                children = [m.digest for m in manifest.manifests if m.digest not in present]
                if lost or children:
                    report.removed_images.add(key)
                    need = ", ".join(lost + children)
                    report.problems.append(
                        Problem(
                            f"image {key[6:]} needs {need}, which the directory does not hold "
                            f"whole",
                            "remove the image (it cannot be pulled)",
                        )
                    )
                    changed = True
    for repo_key, (doc, image_rows) in report.repositories.items():
        present = {k.rpartition("@")[2] for k in image_rows if k not in report.removed_images}
        for tag, digest in (decode(doc.get("tags")) or {}).items():
            if digest not in present:
                report.problems.append(
                    Problem(
                        f"tag {tag!r} of {repo_key[11:]} points at {digest}, which is not "
                        f"there (whole)",
                        "remove the tag",
                    )
                )


def repair(directory: Path, report: Report) -> list[str]:
    """Carry out the report's plan; returns what was done.

    Damaged blob files move to the quarantine first (each a rename); then one transaction
    forgets them, removes the images that cannot be served and rewrites their repositories
    (tags and references). A kill between the steps leaves a directory that opens: a blob
    whose file is gone is not loaded, and its images answer ``BLOB_UNKNOWN`` until the repair
    runs again.
    """
    lock = _take_lock(directory)
    try:
        done: list[str] = []
        for digest in report.bad_blobs.values():
            source = directory / "blobs" / digest.replace(":", "/", 1)
            moved = move_to_quarantine(directory, digest, source)
            if moved is not None:
                done.append(
                    f"moved {source.relative_to(directory)} to {moved.relative_to(directory)}"
                )
        db = sqlite3.connect(directory / "state.db", isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA secure_delete=ON")
            db.execute("BEGIN IMMEDIATE")
            for key in report.bad_blobs:
                db.execute("DELETE FROM rows WHERE key = ?", (key,))
            for key in sorted(report.removed_images):
                db.execute("DELETE FROM rows WHERE key = ?", (key,))
                done.append(f"removed image {key[6:]}")
            for repo_key, (doc, image_rows) in report.repositories.items():
                _rewrite_repository(db, repo_key, doc, image_rows, report.removed_images)
            db.execute("COMMIT")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            db.close()
        return done
    finally:
        lock.close()


def _rewrite_repository(
    db: sqlite3.Connection,
    repo_key: str,
    doc: Any,
    image_rows: dict[str, tuple[Any, bytes | None]],
    removed: set[str],
) -> None:
    """Rebuild a repository's tags and references from the images it keeps."""
    repo: Repository = build(Repository, doc, images={})
    repo.blob_refs, repo.parents, repo.referrers, repo.layer_types = {}, {}, {}, {}
    kept: dict[str, Image] = {}
    for key, (image_doc, data) in image_rows.items():
        if key in removed or data is None:
            continue
        media_type = decode(image_doc.get("media_type"))
        image = build(Image, image_doc, manifest=data, parsed=parse_manifest(data, media_type))
        kept[image.digest] = image
        repo.index_image(image)
    repo.tags = {tag: d for tag, d in repo.tags.items() if d in kept}
    for digest, image in kept.items():
        tags = sorted(t for t, d in repo.tags.items() if d == digest)
        if sorted(image.tags) != tags:
            image.tags = tags
            db.execute(
                "UPDATE rows SET doc = ? WHERE key = ?",
                (
                    json.dumps(encode_fields(image, _MODEL_TYPES, _IMAGE_OWN)),
                    f"image/{repo_key[len('repository/') :]}@{digest}",
                ),
            )
    new_doc = json.dumps(encode_fields(repo, _MODEL_TYPES, _REPOSITORY_OWN))
    if json.loads(new_doc) != doc:
        db.execute("UPDATE rows SET doc = ? WHERE key = ?", (new_doc, repo_key))


def _take_lock(directory: Path) -> Any:
    handle = open(directory / "lock", "a+")  # noqa: SIM115  (held during the repair)
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise StateDirError(
            f"the state directory {directory} is in use by a running ecr-mock; stop it to "
            f"repair (checking works while it runs)"
        ) from None
    os.chmod(directory / "lock", 0o600)
    return handle
