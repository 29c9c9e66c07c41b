"""Reading a schema-1 state directory (one ``rows`` table of JSON documents) into a store."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecr_mock.domain.blobs import Blob
from ecr_mock.domain.manifests import parse_manifest
from ecr_mock.domain.models import Image, Principal, Registry, Repository
from ecr_mock.store.persistence.codec import build, decode
from ecr_mock.store.tokens import Token

if TYPE_CHECKING:
    from ecr_mock.store.state import Store

STORE_SLOTS_KEPT = ("download_url_secret", "secrets", "applied_seed")
"""Store slots that are state (the others are wiring: providers, locks, listeners)."""

Row = tuple[str, Any, Any]


def load_backend_rows(backend: Store, rows: list[tuple[str, Any]]) -> None:
    """The backend's own rows (``backend/<name>``, document decoded from JSON) into ``backend``."""
    for key, doc in rows:
        name = key.split("/", 1)[1]
        if name == "clock":
            backend.clock.restore(decode(doc["offset"]), decode(doc["frozen"]))
        elif name == "tokens":
            backend.tokens.restore([t for t in decode(doc) if isinstance(t, Token)])
        elif name == "access_keys":
            keys = decode(doc)
            backend.access_keys.update({k: v for k, v in keys.items() if isinstance(v, Principal)})
        elif name == "lifecycle":
            backend.set_lifecycle_last_run(decode(doc["last_run"]))
        elif name.startswith("slot/") and name[len("slot/") :] in STORE_SLOTS_KEPT:
            setattr(backend, name[len("slot/") :], decode(doc))


def load_schema_1(db: sqlite3.Connection, backend: Store, blob_path: Any) -> None:
    """Everything a schema-1 ``rows`` table holds, into ``backend`` (the lock is held)."""
    by_kind: dict[str, list[Row]] = {}
    for key, doc, data in db.execute("SELECT key, doc, data FROM rows ORDER BY rowid"):
        by_kind.setdefault(key.split("/", 1)[0], []).append((key, json.loads(doc), data))
    load_backend_rows(backend, [(key, doc) for key, doc, _ in by_kind.get("backend", [])])
    for _, doc, _ in by_kind.get("registry", []):
        reg = build(Registry, doc, repositories={}, blobs={}, uploads={})
        backend.registries[(reg.account, reg.region)] = reg
    for key, doc, _ in by_kind.get("blob", []):
        reg, digest = _registry_of(backend, key)
        path: Path = blob_path(digest)
        size = int(doc["size"])
        if path.is_file() and path.stat().st_size == size:
            blob = Blob.from_path(digest, size, str(path))
            blob.retain()
            reg.blobs[digest] = blob
    for key, doc, _ in by_kind.get("repository", []):
        reg, name = _registry_of(backend, key)
        reg.repositories[name] = build(Repository, doc, images={})
    for key, doc, data in by_kind.get("image", []):
        reg, rest = _registry_of(backend, key)
        name, _, digest = rest.rpartition("@")
        repo = reg.repositories.get(name)
        if repo is None or data is None:
            continue
        media_type = decode(doc.get("media_type"))
        repo.images[digest] = build(
            Image, doc, manifest=data, parsed=parse_manifest(data, media_type)
        )


def _registry_of(backend: Store, key: str) -> tuple[Registry, str]:
    _, account, region, rest = key.split("/", 3)
    return backend.registry(account, region), rest


__all__ = ["STORE_SLOTS_KEPT", "load_backend_rows", "load_schema_1"]
