"""Reading a schema-1 state directory (one ``rows`` table of JSON documents) into a store."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecr_mock.domain.blobs import Blob
from ecr_mock.domain.manifests import parse_manifest
from ecr_mock.domain.models import Image, Principal, Registry, Repository
from ecr_mock.store.persistence.codec import build, decode

if TYPE_CHECKING:
    from ecr_mock.store.persistence.verify import Verifier
    from ecr_mock.store.state import Store

STORE_SLOTS_KEPT = ("download_url_secret", "secrets", "applied_seed")
"""Store slots that are state (the others are wiring: providers, locks, listeners)."""

Row = tuple[str, Any, Any]


def load_backend_rows(backend: Store, rows: list[tuple[str, Any]]) -> bool:
    """The backend's own rows (``backend/<name>``, document decoded from JSON) into ``backend``.

    True when they were written in an older form that the next save must write anew (tokens
    stored with their passwords: kept from now on as salted hashes only).
    """
    migrated = False
    for key, doc in rows:
        name = key.split("/", 1)[1]
        if name == "clock":
            backend.clock.restore(decode(doc["offset"]), decode(doc["frozen"]))
        elif name == "tokens":
            stored = decode(doc) if isinstance(doc, list) else doc
            if backend.tokens.restore_persisted(stored):
                migrated = True
        elif name == "access_keys":
            keys = decode(doc)
            backend.access_keys.update({k: v for k, v in keys.items() if isinstance(v, Principal)})
        elif name == "lifecycle":
            backend.set_lifecycle_last_run(decode(doc["last_run"]))
        elif name.startswith("slot/") and name[len("slot/") :] in STORE_SLOTS_KEPT:
            setattr(backend, name[len("slot/") :], decode(doc))
    return migrated


def load_schema_1(
    db: sqlite3.Connection,
    backend: Store,
    blob_path: Callable[[str], Path],
    verifier: Verifier | None = None,
) -> bool:
    """Everything a schema-1 ``rows`` table holds, into ``backend`` (the lock is held).

    Blob files are made blobs ``verifier`` checks before serving (missing ones are reported
    to it). Returns what :func:`load_backend_rows` does.
    """
    make_blob = verifier.make_blob if verifier is not None else Blob.from_path
    by_kind: dict[str, list[Row]] = {}
    for key, doc, data in db.execute("SELECT key, doc, data FROM rows ORDER BY rowid"):
        by_kind.setdefault(key.split("/", 1)[0], []).append((key, json.loads(doc), data))
    migrated = load_backend_rows(
        backend, [(key, doc) for key, doc, _ in by_kind.get("backend", [])]
    )
    for _, doc, _ in by_kind.get("registry", []):
        reg = build(Registry, doc, repositories={}, blobs={}, uploads={})
        backend.registries[(reg.account, reg.region)] = reg
    for key, doc, _ in by_kind.get("blob", []):
        reg, digest = _registry_of(backend, key)
        path = blob_path(digest)
        size = int(doc["size"])
        if path.is_file() and path.stat().st_size == size:
            blob = make_blob(digest, size, str(path))
            blob.retain()
            reg.blobs[digest] = blob
        elif verifier is not None:
            verifier.note_missing(digest, path, size)
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
    return migrated


def _registry_of(backend: Store, key: str) -> tuple[Registry, str]:
    _, account, region, rest = key.split("/", 3)
    return backend.registry(account, region), rest


__all__ = ["STORE_SLOTS_KEPT", "load_backend_rows", "load_schema_1"]
