"""The tables of ``state.db`` (schema 2) and how one registry, repository or image becomes a row."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from ecr_mock.domain.blobs import Blob, UploadSession
from ecr_mock.domain.manifests import parse_stored_manifest
from ecr_mock.domain.models import Image, Registry, Repository
from ecr_mock.store.persistence.codec import build, decode, encode, encode_fields

MODEL_TYPES = frozenset({Registry, Repository, Image, Blob, UploadSession})
REGISTRY_OWN = frozenset({"repositories", "blobs", "uploads"})
REPOSITORY_OWN = frozenset(
    {"images", "tags", "blobs", "referrers", "blob_refs", "parents", "layer_types"}
)
"""Repository fields kept in rows of their own (images, repository blobs) or rebuilt from the
images on load (tags and the reference indexes)."""
IMAGE_OWN = frozenset({"digest", "manifest", "parsed"})

TABLES = (
    "CREATE TABLE state (key TEXT PRIMARY KEY, doc TEXT NOT NULL)",
    "CREATE TABLE repositories (account TEXT NOT NULL, region TEXT NOT NULL, "
    "name TEXT NOT NULL, key TEXT NOT NULL, doc TEXT NOT NULL, "
    "PRIMARY KEY (account, region, name)) WITHOUT ROWID",
    "CREATE TABLE images (account TEXT NOT NULL, region TEXT NOT NULL, "
    "repository TEXT NOT NULL, digest TEXT NOT NULL, doc TEXT NOT NULL, manifest BLOB NOT NULL, "
    "PRIMARY KEY (account, region, repository, digest))",
    "CREATE TABLE repository_blobs (account TEXT NOT NULL, region TEXT NOT NULL, "
    "repository TEXT NOT NULL, digest TEXT NOT NULL, "
    "PRIMARY KEY (account, region, repository, digest)) WITHOUT ROWID",
    "CREATE TABLE blobs (account TEXT NOT NULL, region TEXT NOT NULL, digest TEXT NOT NULL, "
    "size INTEGER NOT NULL, PRIMARY KEY (account, region, digest)) WITHOUT ROWID",
    "CREATE INDEX blobs_by_digest ON blobs (digest)",
)
"""``state`` holds the backend's own rows (``backend/...``) and one row per registry
(``registry/<account>/<region>``); the other tables one row per entity. Images keep the push
order in their rowid."""

UPSERT_STATE = "INSERT OR REPLACE INTO state (key, doc) VALUES (?, ?)"
UPSERT_REPOSITORY = (
    "INSERT OR REPLACE INTO repositories (account, region, name, key, doc) VALUES (?, ?, ?, ?, ?)"
)
UPSERT_IMAGE = (
    "INSERT INTO images (account, region, repository, digest, doc, manifest) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account, region, repository, digest) "
    "DO UPDATE SET doc = excluded.doc"
)
DELETE_IMAGE = (
    "DELETE FROM images WHERE account = ? AND region = ? AND repository = ? AND digest = ?"
)
INSERT_REPOSITORY_BLOB = "INSERT OR IGNORE INTO repository_blobs VALUES (?, ?, ?, ?)"
DELETE_REPOSITORY_BLOB = (
    "DELETE FROM repository_blobs WHERE account = ? AND region = ? AND repository = ? "
    "AND digest = ?"
)
UPSERT_BLOB = "INSERT OR REPLACE INTO blobs (account, region, digest, size) VALUES (?, ?, ?, ?)"
DELETE_BLOB = "DELETE FROM blobs WHERE account = ? AND region = ? AND digest = ?"


def create_tables(db: sqlite3.Connection) -> None:
    """Make the schema-2 tables (inside the caller's transaction)."""
    for statement in TABLES:
        db.execute(statement)


DELETE_REPOSITORY = tuple(
    f"DELETE FROM {table} WHERE account = ? AND region = ? AND {column} = ?"
    for table, column in (
        ("repositories", "name"),
        ("images", "repository"),
        ("repository_blobs", "repository"),
    )
)
"""Removing a repository with its images and blob names (each takes account, region, name)."""


# ----- documents ------------------------------------------------------------------------------


def registry_doc(reg: Registry) -> str:
    """A registry's own fields as JSON text."""
    return json.dumps(encode_fields(reg, MODEL_TYPES, REGISTRY_OWN))


def registry_values(reg: Registry) -> tuple[Any, ...]:
    """The values :func:`registry_doc` encodes, to compare with a copy of earlier ones."""
    return tuple(getattr(reg, name) for name in _REGISTRY_FIELDS)


_REGISTRY_FIELDS = tuple(name for name in Registry.__dataclass_fields__ if name not in REGISTRY_OWN)


def repository_doc(repo: Repository) -> str:
    """A repository's own fields (settings, policies, catalog) as JSON text."""
    return json.dumps(encode_fields(repo, MODEL_TYPES, REPOSITORY_OWN))


def image_doc(image: Image) -> str:
    """An image's fields but its manifest, as JSON text (fields at their default left out)."""
    doc: dict[str, Any] = {
        "media_type": image.media_type,
        "pushed_at": image.pushed_at.isoformat(),
        "size": image.size,
        "tags": image.tags,
    }
    for name in _IMAGE_OPTIONAL:
        value = getattr(image, name)
        if value is not None and value != _IMAGE_DEFAULTS.get(name):
            doc[name] = encode(value, MODEL_TYPES)
    return json.dumps(doc)


_IMAGE_DEFAULTS = {"storage_class": "STANDARD", "status": "ACTIVE"}
_IMAGE_OPTIONAL = tuple(
    name
    for name in Image.__dataclass_fields__
    if name not in IMAGE_OWN and name not in ("media_type", "pushed_at", "size", "tags")
)


def load_registry(doc: str) -> Registry:
    """The registry a :func:`registry_doc` wrote (without repositories, blobs, uploads)."""
    reg: Registry = build(Registry, json.loads(doc), repositories={}, blobs={}, uploads={})
    return reg


def load_repository(doc: str) -> Repository:
    """The repository a :func:`repository_doc` wrote (images and indexes empty)."""
    repo: Repository = build(
        Repository,
        json.loads(doc),
        images={},
        tags={},
        blobs=set(),
        referrers={},
        blob_refs={},
        parents={},
        layer_types={},
    )
    return repo


_fromisoformat = datetime.fromisoformat
_raw_decode = json.JSONDecoder().raw_decode


def load_image(digest: str, doc: str, manifest: bytes) -> Image:
    """The image an :func:`image_doc` wrote, its manifest parsed again."""
    fields = _raw_decode(doc)[0]
    media_type = fields.pop("media_type")
    values: dict[str, Any] = {}
    for name, value in fields.items():
        if name not in _IMAGE_FIELDS:
            continue  # a field this version no longer has
        values[name] = (
            value if value is None or isinstance(value, (str, int, list)) else (decode(value))
        )
    values["pushed_at"] = _fromisoformat(values["pushed_at"])
    parsed = parse_stored_manifest(manifest, media_type)
    return Image(
        digest=digest,
        manifest=manifest,
        parsed=parsed,
        media_type=parsed.media_type if parsed.media_type == media_type else media_type,
        **values,
    )


_IMAGE_FIELDS = frozenset(Image.__dataclass_fields__) - IMAGE_OWN


def add_image(repo: Repository, image: Image) -> None:
    """Put a loaded image into its repository with its tags and references."""
    repo.images[image.digest] = image
    for tag in image.tags:
        repo.tags[tag] = image.digest
    repo.index_image(image)


__all__ = [
    "DELETE_BLOB",
    "DELETE_IMAGE",
    "DELETE_REPOSITORY",
    "DELETE_REPOSITORY_BLOB",
    "INSERT_REPOSITORY_BLOB",
    "MODEL_TYPES",
    "UPSERT_BLOB",
    "UPSERT_IMAGE",
    "UPSERT_REPOSITORY",
    "UPSERT_STATE",
    "add_image",
    "create_tables",
    "image_doc",
    "load_image",
    "load_registry",
    "load_repository",
    "registry_doc",
    "repository_doc",
]
