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
from ecr_mock.store.errors import StateDirError
from ecr_mock.store.persistence.integrity import open_snapshot
from ecr_mock.store.persistence.statedir import SCHEMA_VERSION
from ecr_mock.store.persistence.verify import file_digest_problem, move_to_quarantine

BlobKey = tuple[str, str, str]
"""(account, region, digest) of a ``blobs`` row."""
ImageKey = tuple[str, str, str, str]
"""(account, region, repository, digest) of an ``images`` row."""


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
    bad_blobs: set[BlobKey] = field(default_factory=set)
    """Blob rows whose file is missing or damaged."""
    removed_images: set[ImageKey] = field(default_factory=set)
    """Image rows a repair removes."""
    migrate: bool = False
    """The directory has schema version 1: a repair migrates it (as opening it does)."""
    blob_store: str | None = None
    """The object store holding the blob bytes (their digests are not verified then)."""

    @property
    def sound(self) -> bool:
        return not self.problems

    @property
    def repairable(self) -> bool:
        return all(p.repair for p in self.problems)


def _digest_of(data: bytes, digest: str) -> bool:
    algorithm, _, expected = digest.partition(":")
    try:
        return hashlib.new(algorithm, data).hexdigest() == expected
    except ValueError:
        return False


def _name(key: ImageKey) -> str:
    return f"{key[0]}/{key[1]}/{key[2]}@{key[3]}"


def inspect(directory: Path) -> Report:
    """Check everything ``directory`` holds; changes nothing. StateDirDamaged when the
    database itself cannot be read."""
    report = Report()
    snapshot = open_snapshot(directory)
    try:
        db = snapshot.db
        found = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        version = found and found[0]
        if version == "1":
            report.migrate = True
            report.problems.append(
                Problem(
                    "schema version 1 (written by an earlier ecr-mock); it is migrated to "
                    f"version {SCHEMA_VERSION} when opened, and checked after that",
                    f"migrate it to schema version {SCHEMA_VERSION} now",
                )
            )
            return report
        if version != str(SCHEMA_VERSION):
            report.problems.append(Problem(f"schema version {version}, not {SCHEMA_VERSION}", ""))
            return report
        found = db.execute("SELECT value FROM meta WHERE key = 'blob_store'").fetchone()
        report.blob_store = found and found[0]
        for key, text in db.execute("SELECT key, doc FROM state"):
            _json_problem(report, f"row {key}", text)
        repositories = set()
        for account, region, name, text in db.execute(
            "SELECT account, region, name, doc FROM repositories"
        ):
            repositories.add((account, region, name))
            _json_problem(report, f"repository {account}/{region}/{name}", text)
        blobs = db.execute("SELECT account, region, digest, size FROM blobs").fetchall()
        images = db.execute(
            "SELECT account, region, repository, digest, doc, manifest FROM images ORDER BY rowid"
        ).fetchall()
    except sqlite3.DatabaseError as exc:
        report.problems.append(Problem(f"the database cannot be read: {exc}", ""))
        return report
    finally:
        snapshot.close()
    sound_blobs: dict[tuple[str, str], set[str]] = {}
    for account, region, digest, size in blobs:
        if report.blob_store is not None:  # the bytes are elsewhere: the rows are trusted
            sound_blobs.setdefault((account, region), set()).add(digest)
            continue
        path = directory / "blobs" / digest.replace(":", "/", 1)
        problem = file_digest_problem(path, digest, int(size))
        if problem is None:
            sound_blobs.setdefault((account, region), set()).add(digest)
            continue
        report.bad_blobs.add((account, region, digest))
        report.problems.append(
            Problem(
                f"blob {digest} of {account}/{region}: {problem}",
                f"move its file to quarantine/{digest.replace(':', '-', 1)} and forget the blob",
            )
        )
    report.counts = {"blobs": len(blobs), "images": len(images), "repositories": len(repositories)}
    _check_images(report, images, repositories, sound_blobs)
    return report


def _json_problem(report: Report, what: str, text: Any) -> bool:
    try:
        json.loads(text)
    except (TypeError, ValueError):
        report.problems.append(Problem(f"{what} is not JSON", ""))
        return True
    return False


def _check_images(
    report: Report,
    images: list[tuple[str, str, str, str, Any, bytes | None]],
    repositories: set[tuple[str, str, str]],
    sound_blobs: dict[tuple[str, str], set[str]],
) -> None:
    """Manifest digests, manifest-to-blob and index-to-manifest links, tags of removed images."""
    parsed: dict[ImageKey, Any] = {}
    tags: dict[ImageKey, list[str]] = {}
    by_repository: dict[tuple[str, str, str], list[ImageKey]] = {}
    for account, region, repository, digest, text, data in images:
        key = (account, region, repository, digest)
        try:
            doc = json.loads(text)
        except (TypeError, ValueError):
            doc = None
        tags[key] = [str(t) for t in (doc if isinstance(doc, dict) else {}).get("tags") or []]
        why = None
        if (account, region, repository) not in repositories:
            why = "it has no repository"
        elif not isinstance(doc, dict):
            why = "its row is not JSON"
        elif data is None:
            why = "its manifest is missing"
        elif not _digest_of(bytes(data), digest):
            why = "its manifest's bytes do not hash to its digest"
        else:
            try:
                parsed[key] = parse_manifest(bytes(data), doc.get("media_type"))
            except Exception as exc:  # any refusal of the stored manifest
                why = f"its manifest cannot be read ({exc})"
        by_repository.setdefault((account, region, repository), []).append(key)
        if why is not None:
            report.removed_images.add(key)
            report.problems.append(Problem(f"image {_name(key)}: {why}", "remove the image"))
    changed = True
    while changed:  # an image removed can break the indexes naming it
        changed = False
        for (account, region, _), keys in by_repository.items():
            held = sound_blobs.get((account, region), set())
            present = {k[3] for k in keys if k not in report.removed_images}
            for key in keys:
                if key in report.removed_images:
                    continue
                manifest = parsed[key]
                lost = [d for d in manifest.stored_blob_digests() if d not in held]
                children = [m.digest for m in manifest.manifests if m.digest not in present]
                if lost or children:
                    report.removed_images.add(key)
                    need = ", ".join(lost + children)
                    report.problems.append(
                        Problem(
                            f"image {_name(key)} needs {need}, which the directory does not hold "
                            "whole",
                            "remove the image (it cannot be pulled)",
                        )
                    )
                    changed = True
    for key in sorted(report.removed_images):
        for tag in tags.get(key, []):
            report.problems.append(
                Problem(
                    f"tag {tag!r} of {key[0]}/{key[1]}/{key[2]} points at {key[3]}, which is not "
                    "there (whole)",
                    "remove the tag",
                )
            )


def repair(directory: Path, report: Report) -> list[str]:
    """Carry out the report's plan; returns what was done.

    Damaged blob files move to the quarantine first (each a rename); then one transaction
    forgets them and removes the images that cannot be served (with their tags, which their
    rows hold). A kill between the steps leaves a directory that opens: a blob whose file is
    gone is not loaded, and its images answer ``BLOB_UNKNOWN`` until the repair runs again.
    A schema-1 directory is not repaired here: opening it migrates it (``ecr-mock check
    --repair`` opens it).
    """
    lock = _take_lock(directory)
    try:
        done: list[str] = []
        for _, _, digest in sorted(report.bad_blobs):
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
            for blob in sorted(report.bad_blobs):
                db.execute(
                    "DELETE FROM blobs WHERE account = ? AND region = ? AND digest = ?", blob
                )
            for image in sorted(report.removed_images):
                db.execute(
                    "DELETE FROM images WHERE account = ? AND region = ? AND repository = ? "
                    "AND digest = ?",
                    image,
                )
                done.append(f"removed image {_name(image)}")
            db.execute("COMMIT")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            db.close()
        return done
    finally:
        lock.close()


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
