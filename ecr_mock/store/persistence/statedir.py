"""A state directory: metadata in SQLite (WAL), blobs as content-addressed durable files."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import sys
import threading
import time
import uuid
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecr_mock.domain.blobs import Blob, UploadSession
from ecr_mock.domain.errors import BlobUnknown
from ecr_mock.domain.manifests import parse_manifest
from ecr_mock.domain.models import ACTIVATING, Image, Principal, Registry, Repository
from ecr_mock.store.errors import StateDirError, Unencodable
from ecr_mock.store.persistence.codec import (
    build,
    decode,
    encode,
    encode_fields,
)
from ecr_mock.store.persistence.kept_uploads import UploadKeeper
from ecr_mock.store.persistence.private import (
    create_private_file,
    make_private,
    make_private_directory,
)

if TYPE_CHECKING:
    from ecr_mock.store.persistence.snapshot import Snapshot
    from ecr_mock.store.persistence.verify import Verifier
    from ecr_mock.store.state import Store

SCHEMA_VERSION = 1
"""The layout of ``state.db`` this version writes and reads."""

FLUSH_INTERVAL = 0.5
"""Seconds between background saves of changes no request waited for (pull times, scans)."""

_MODEL_TYPES = frozenset({Registry, Repository, Image, Blob, UploadSession})
_REGISTRY_OWN = frozenset({"repositories", "blobs", "uploads"})
_REPOSITORY_OWN = frozenset({"images"})
_IMAGE_OWN = frozenset({"manifest", "parsed"})
_STORE_SLOTS_KEPT = ("download_url_secret", "secrets", "applied_seed")
"""Store slots that are state (the others are wiring: providers, locks, listeners)."""


class StateDir:
    """One state directory opened by one process: ``state.db``, ``blobs/``, ``tmp/``, ``lock``.

    Saves are atomic SQLite transactions of the rows that changed since the last save; a blob's
    file is written, fsynced and renamed into place before any row naming it commits, so after
    a crash every tag has its manifest and every manifest its blobs.
    """

    def __init__(self, path: str | os.PathLike[str], *, read_only: bool = False) -> None:
        self.path = Path(path).resolve()
        self.read_only = read_only
        self._lock_file: Any = None
        self._save_lock = threading.Lock()
        self._written: dict[str, str] = {}
        self._written_images: dict[str, dict[str, str]] = {}
        self._dirty = threading.Event()
        self._kick = threading.Event()
        self._stop = threading.Event()
        self._flusher: threading.Thread | None = None
        self.closed = False
        self.verifier: Verifier | None = None
        """Checks loaded blob files against their digests (set by ``Backend.open``)."""
        self.uploads = UploadKeeper(self.path)
        """Uploads in progress, kept in ``DIR/uploads/`` (see ``kept_uploads``)."""
        self.migrated = False
        """Whether loading found an older form that the next save writes anew."""
        self._view: Snapshot | None = None
        if read_only:
            if not (self.path / "state.db").is_file():
                raise StateDirError(f"{self.path} is not an ecr-mock state directory")
            from ecr_mock.store.persistence.integrity import open_snapshot

            self._view = open_snapshot(self.path)  # changes nothing in the directory
            self._db = self._view.db
        else:
            if (self.path / "state.db").is_file():
                from ecr_mock.store.persistence.integrity import check_database

                check_database(self.path)  # a damaged database is refused untouched
            try:
                make_private_directory(self.path / "tmp")
                make_private_directory(self.path / "blobs")
                make_private(self.path)
                create_private_file(self.path / "state.db")  # its -wal and -shm take its mode
            except OSError as exc:
                raise StateDirError(f"cannot use {self.path} as a state directory: {exc}") from None
            self._take_lock()
            self._db = sqlite3.connect(
                self.path / "state.db", check_same_thread=False, isolation_level=None
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA secure_delete=ON")  # replaced rows leave no old bytes
        try:
            self._check_schema()
        except BaseException:
            self._close_db()
            self._release_lock()
            raise

    # ----- opening ----------------------------------------------------------------------------

    def _take_lock(self) -> None:
        create_private_file(self.path / "lock")
        handle = open(self.path / "lock", "a+")  # noqa: SIM115  (held until close)
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise StateDirError(
                f"the state directory {self.path} is in use by another ecr-mock "
                f"(pid {holder}); stop it or choose another --state-dir"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._lock_file = handle

    def _release_lock(self) -> None:
        handle, self._lock_file = self._lock_file, None
        if handle is not None:
            with contextlib.suppress(OSError):
                handle.truncate(0)
            handle.close()

    def _check_schema(self) -> None:
        tables = {
            row[0]
            for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        if "meta" not in tables:
            if self.read_only:
                raise StateDirError(f"{self.path} holds no ecr-mock state yet")
            with self._db:
                self._db.execute("BEGIN")
                self._db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
                self._db.execute(
                    "CREATE TABLE rows (key TEXT PRIMARY KEY, doc TEXT NOT NULL, data BLOB)"
                )
                self._db.execute(
                    "INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
                )
            return
        found = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        version = found[0] if found else None
        if version != str(SCHEMA_VERSION):
            raise StateDirError(
                f"the state directory {self.path} has schema version {version}; this version "
                f"of ecr-mock reads version {SCHEMA_VERSION} only (nothing was changed)"
            )

    def blob_path(self, digest: str) -> Path:
        """Where the bytes of ``digest`` live: ``blobs/<algorithm>/<hex>``."""
        algorithm, _, hexpart = digest.partition(":")
        return self.path / "blobs" / algorithm / hexpart

    # ----- loading ----------------------------------------------------------------------------

    def load(self, store: Store) -> None:
        """Put everything the directory holds into ``backend`` (which should be empty)."""
        rows = self._db.execute("SELECT key, doc, data FROM rows ORDER BY rowid").fetchall()
        make_blob = self.verifier.make_blob if self.verifier is not None else Blob.from_path
        by_kind: dict[str, list[tuple[str, Any, bytes | None]]] = {}
        for key, doc, data in rows:
            by_kind.setdefault(key.split("/", 1)[0], []).append((key, json.loads(doc), data))
        with store.lock:
            self._load_backend(store, by_kind.get("backend", []))
            for _, doc, _ in by_kind.get("registry", []):
                reg = build(Registry, doc, repositories={}, blobs={}, uploads={})
                store.registries[(reg.account, reg.region)] = reg
            for key, doc, _ in by_kind.get("blob", []):
                reg, digest = self._registry_of(store, key)
                path = self.blob_path(digest)
                size = int(doc["size"])
                if path.is_file() and path.stat().st_size == size:
                    blob = make_blob(digest, size, str(path))
                    blob.retain()
                    reg.blobs[digest] = blob
                elif self.verifier is not None:
                    self.verifier.note_missing(digest, path, size)
            for key, doc, _ in by_kind.get("repository", []):
                reg, name = self._registry_of(store, key)
                reg.repositories[name] = build(Repository, doc, images={})
            for key, doc, data in by_kind.get("image", []):
                reg, rest = self._registry_of(store, key)
                name, _, digest = rest.rpartition("@")
                repo = reg.repositories.get(name)
                if repo is None or data is None:
                    continue
                media_type = decode(doc.get("media_type"))
                repo.images[digest] = build(
                    Image, doc, manifest=data, parsed=parse_manifest(data, media_type)
                )
            self._resume_restores(store)
        self._written = {}
        self._written_images = {}
        for key, doc, _ in rows:
            if key.startswith("image/"):
                repo_key = key[len("image/") :].rpartition("@")[0]
                self._written_images.setdefault(repo_key, {})[key] = doc
            else:
                self._written[key] = doc
        if not self.read_only:
            self._collect_garbage()

    @staticmethod
    def _registry_of(store: Store, key: str) -> tuple[Registry, str]:
        _, account, region, rest = key.split("/", 3)
        return store.registry(account, region), rest

    def _load_backend(self, store: Store, rows: list[tuple[str, Any, bytes | None]]) -> None:
        for key, doc, _ in rows:
            name = key.split("/", 1)[1]
            if name == "clock":
                store.clock.restore(decode(doc["offset"]), decode(doc["frozen"]))
            elif name == "tokens":
                stored = decode(doc) if isinstance(doc, list) else doc
                if store.tokens.restore_persisted(stored):
                    self.migrated = True  # passwords stored in the clear: written again hashed
            elif name == "access_keys":
                keys = decode(doc)
                store.access_keys.update(
                    {k: v for k, v in keys.items() if isinstance(v, Principal)}
                )
            elif name == "lifecycle":
                store.set_lifecycle_last_run(decode(doc["last_run"]))
            elif name.startswith("slot/") and name[len("slot/") :] in _STORE_SLOTS_KEPT:
                setattr(store, name[len("slot/") :], decode(doc))

    @staticmethod
    def _resume_restores(store: Store) -> None:
        """Restores in progress at the last save complete on the clock as if never stopped (the
        store's ticks complete ``pending_restores``)."""
        pending = store.pending_restores
        for reg in store.registries.values():
            for repo in reg.repositories.values():
                for image in repo.images.values():
                    if image.status == ACTIVATING:
                        pending[(id(repo), image.digest)] = (repo, image)

    def _collect_garbage(self) -> None:
        """Remove half-written files and blob files no registry names (crash leftovers)."""
        for leftover in (self.path / "tmp").iterdir():
            with contextlib.suppress(OSError):
                leftover.unlink()
        named = {
            self.blob_path(key.rsplit("/", 1)[1])
            for (key,) in self._db.execute("SELECT key FROM rows WHERE key LIKE 'blob/%'")
        }
        for path in (self.path / "blobs").glob("*/*"):
            if path not in named:
                with contextlib.suppress(OSError):
                    path.unlink()

    # ----- saving -----------------------------------------------------------------------------

    def touch(self) -> None:
        """Note that something may have changed: the background flusher saves it soon."""
        self._dirty.set()
        self._kick.set()

    def save(self, store: Store, names: Collection[str] | None = None) -> int:
        """Write what changed since the last save; returns how many rows were written.

        With ``names``, only the images of repositories so named (in any registry) are looked
        at; everything else but other images is. A request that touched one repository saves
        in time independent of how many images the others hold; the background flusher's full
        saves catch the rest.
        """
        if self.read_only:
            raise StateDirError(f"{self.path} was opened read-only")
        with self._save_lock:
            if self.closed:
                return 0
            if names is None:
                self._dirty.clear()
            with store.lock:
                rows, images, manifests, new_blobs = self._snapshot(store, names)
            durable = self._make_all_durable(new_blobs)
            changed = {k: doc for k, doc in rows.items() if self._written.get(k) != doc}
            removed = [k for k in self._written if k not in rows]
            for repo_key, image_rows in images.items():
                old = self._written_images.get(repo_key, {})
                if image_rows is old:
                    continue
                changed.update((k, doc) for k, doc in image_rows.items() if old.get(k) != doc)
                removed.extend(k for k in old if k not in image_rows)
            for repo_key, old in self._written_images.items():
                if repo_key not in images:
                    removed.extend(old)
            if changed or removed:
                self._write(changed, removed, manifests)
            self._written = rows
            self._written_images = images
            _swap_in(store, durable)
            self._remove_blob_files(store, rows, removed)
            return len(changed) + len(removed)

    def _remove_blob_files(self, store: Store, rows: dict[str, str], removed: list[str]) -> None:
        """Remove the files of blobs no row names any more (released by every registry)."""
        gone = {key.rsplit("/", 1)[1] for key in removed if key.startswith("blob/")}
        if not gone:
            return
        gone -= {key.rsplit("/", 1)[1] for key in rows if key.startswith("blob/")}
        with store.lock:
            for digest in gone:
                if any(digest in reg.blobs for reg in store.registries.values()):
                    continue  # stored again since the snapshot: its next save names it
                with contextlib.suppress(OSError):
                    self.blob_path(digest).unlink()

    def make_blobs_durable(self, store: Store) -> int:
        """Write, fsync and rename every blob not yet in its file; returns how many."""
        with store.lock:
            pending = [
                (reg, digest, blob)
                for reg in list(store.registries.values())
                for digest, blob in reg.blobs.items()
                if blob.path is None
            ]
        if not pending:
            return 0
        with self._save_lock:
            if self.closed:
                return 0
            durable = self._make_all_durable(pending)
            _swap_in(store, durable)
        return len(durable)

    def _snapshot(
        self, store: Store, names: Collection[str] | None
    ) -> tuple[
        dict[str, str],
        dict[str, dict[str, str]],
        dict[str, bytes],
        list[tuple[Registry, str, Blob]],
    ]:
        """The rows of the current state as JSON text (the backend lock is held).

        Returns the rows but images, the image rows by repository, the manifests of images
        not written yet, and the blobs that are not durable yet.
        """
        rows: dict[str, str] = {}
        images: dict[str, dict[str, str]] = {}
        manifests: dict[str, bytes] = {}
        new_blobs: list[tuple[Registry, str, Blob]] = []
        dump = json.dumps
        offset, frozen = store.clock.state()
        rows["backend/clock"] = dump({"offset": encode(offset), "frozen": encode(frozen)})
        rows["backend/tokens"] = dump(store.tokens.persisted())
        rows["backend/access_keys"] = dump(encode(dict(store.access_keys)))
        rows["backend/lifecycle"] = dump({"last_run": encode(store.lifecycle_last_run())})
        for name in _STORE_SLOTS_KEPT:
            rows[f"backend/slot/{name}"] = dump(encode(getattr(store, name), _MODEL_TYPES))
        for (account, region), reg in list(store.registries.items()):
            prefix = f"{account}/{region}"
            rows[f"registry/{prefix}"] = dump(encode_fields(reg, _MODEL_TYPES, _REGISTRY_OWN))
            for digest, blob in reg.blobs.items():
                rows[f"blob/{prefix}/{digest}"] = f'{{"size": {blob.size}}}'
                if blob.path is None:
                    new_blobs.append((reg, digest, blob))
            for name, repo in reg.repositories.items():
                repo_key = f"{prefix}/{name}"
                rows[f"repository/{repo_key}"] = dump(
                    encode_fields(repo, _MODEL_TYPES, _REPOSITORY_OWN)
                )
                written = self._written_images.get(repo_key)
                if names is not None and name not in names and written is not None:
                    images[repo_key] = written
                    continue
                image_rows: dict[str, str] = {}
                for digest, image in repo.images.items():
                    key = f"image/{repo_key}@{digest}"
                    image_rows[key] = dump(encode_fields(image, _MODEL_TYPES, _IMAGE_OWN))
                    if written is None or key not in written:
                        manifests[key] = image.manifest
                images[repo_key] = image_rows
        return rows, images, manifests, new_blobs

    def _make_all_durable(
        self, blobs: list[tuple[Registry, str, Blob]]
    ) -> list[tuple[Registry, str, Blob, Blob]]:
        """Each blob made durable; the directories renamed into are fsynced once each."""
        done = []
        directories: set[Path] = set()
        for reg, digest, blob in blobs:
            if blob.path is not None:
                continue
            try:
                durable, directory = self._make_durable(blob)
            except BlobUnknown:  # released meanwhile: nothing to keep
                continue
            done.append((reg, digest, blob, durable))
            if directory is not None:
                directories.add(directory)
        for directory in directories:
            _fsync_directory(directory)
        return done

    @property
    def spill_dir(self) -> str:
        """Where large uploads spill to: on this directory's file system, so making their
        blobs durable is a hard link rather than a copy."""
        return str(self.path / "tmp")

    def _make_durable(self, blob: Blob) -> tuple[Blob, Path | None]:
        """The blob's bytes in their content-addressed file (fsynced) as a file-backed blob, and
        the directory to fsync for the rename (None when the file was there already)."""
        target = self.blob_path(blob.digest)
        spilled = blob.file_path
        durable = Blob.from_path(blob.digest, blob.size, str(target))
        if target.is_file() and target.stat().st_size == blob.size:
            return durable, None
        make_private_directory(target.parent)
        if spilled is not None and Path(spilled).parent == self.path / "tmp":
            # The spilled file stays the blob's until it is released (downloads may read it).
            blob.sync()
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            try:
                os.link(spilled, target)
            except FileNotFoundError:
                raise BlobUnknown(blob.digest) from None
            except OSError:
                pass
            else:
                return durable, target.parent
        temporary = self.path / "tmp" / uuid.uuid4().hex
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            try:
                blob.copy_to(fd)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temporary, target)
        except BaseException:  # released meanwhile (reclaimed): leave no half-written file
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise
        return durable, target.parent

    def _write(self, changed: dict[str, str], removed: list[str], data: dict[str, bytes]) -> None:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            for key in removed:
                db.execute("DELETE FROM rows WHERE key = ?", (key,))
            db.executemany(
                "INSERT INTO rows (key, doc, data) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET doc = excluded.doc",
                [(key, doc, data.get(key)) for key, doc in changed.items()],
            )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    # ----- background saves, closing ----------------------------------------------------------

    def start_flusher(self, store: Store) -> None:
        """Save in the background whenever :meth:`touch` was called (harmless when started)."""
        if self._flusher is not None or self.read_only:
            return

        def loop() -> None:
            last_save = time.monotonic()
            while True:
                self._kick.wait(FLUSH_INTERVAL)
                if self._stop.is_set():
                    return
                self._kick.clear()
                try:
                    self.make_blobs_durable(store)
                    due = time.monotonic() - last_save >= FLUSH_INTERVAL
                    if due and self._dirty.is_set():
                        self.save(store)
                        last_save = time.monotonic()
                except Exception as exc:  # the next save tries again; the server keeps serving
                    print(f"ecr-mock: saving the state failed: {exc!r}", file=sys.stderr)

        self._flusher = threading.Thread(target=loop, name="ecr-mock-state-flusher", daemon=True)
        self._flusher.start()

    def close(self, store: Store | None = None) -> None:
        """Save (when ``backend`` is given), stop the flusher, close the database, unlock."""
        if self.verifier is not None:
            self.verifier.stop()
        self._stop.set()
        self._kick.set()
        flusher, self._flusher = self._flusher, None
        if flusher is not None:
            flusher.join()
        if store is not None and not self.read_only and not self.closed:
            self.uploads.sync(store)
            self.save(store)
        with self._save_lock:
            if self.closed:
                return
            self.closed = True
            if not self.read_only:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._close_db()
            self._release_lock()

    def _close_db(self) -> None:
        if self._view is not None:
            self._view.close()  # removes its copy, if it made one
        else:
            self._db.close()


def _swap_in(store: Store, durable: list[tuple[Registry, str, Blob, Blob]]) -> None:
    """Registries hold the durable blobs instead of the ones they replace (released)."""
    if not durable:
        return
    with store.lock:
        for reg, digest, old_blob, new_blob in durable:
            if reg.blobs.get(digest) is old_blob:
                new_blob.retain()
                reg.blobs[digest] = new_blob
                old_blob.release()


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = ["SCHEMA_VERSION", "StateDir", "StateDirError", "Unencodable"]
