"""A state directory: metadata in SQLite (WAL), blobs as content-addressed durable files."""

from __future__ import annotations

import contextlib
import copy
import fcntl
import functools
import gc
import json
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecr_mock.domain.blobs import Blob
from ecr_mock.domain.models import ACTIVATING, Registry, Repository
from ecr_mock.store.changes import ChangeSet
from ecr_mock.store.errors import StateDirError, Unencodable
from ecr_mock.store.persistence import rows
from ecr_mock.store.persistence.codec import encode
from ecr_mock.store.persistence.durable import ALWAYS, BATCH, BlobFiles, BlobStore
from ecr_mock.store.persistence.kept_uploads import UploadKeeper
from ecr_mock.store.persistence.legacy import STORE_SLOTS_KEPT, load_backend_rows, load_schema_1
from ecr_mock.store.persistence.private import (
    create_private_file,
    make_private,
    make_private_directory,
)

if TYPE_CHECKING:
    from ecr_mock.store.persistence.snapshot import Snapshot
    from ecr_mock.store.persistence.verify import Verifier
    from ecr_mock.store.state import Store

SCHEMA_VERSION = 2
"""The layout of ``state.db`` this version writes and reads (version 1 is migrated on open)."""

FLUSH_INTERVAL = 0.5
"""Seconds between background saves of changes no request waited for (pull times, scans)."""

Statement = tuple[str, tuple[Any, ...]]


class StateDir:
    """One state directory opened by one process: ``state.db``, ``blobs/``, ``tmp/``, ``lock``.

    A save writes one row per changed registry, repository, image, repository blob and blob
    (the services mark what they change, see :class:`~ecr_mock.store.changes.ChangeSet`), in
    one SQLite transaction, so its cost does not grow with what is stored. Blob files are
    written and synced (one file-system sync for all of them, in ``batch`` mode) before any
    row naming them commits, so after a crash every tag has its manifest and every manifest
    its blobs.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        read_only: bool = False,
        fsync: str = BATCH,
        blob_store: Callable[[Path], BlobStore] | None = None,
    ) -> None:
        self.path = Path(path).resolve()
        self.read_only = read_only
        self.local_files = BlobFiles(self.path, fsync)
        self.files: BlobStore = self.local_files if blob_store is None else blob_store(self.path)
        self._lock_file: Any = None
        self._save_lock = threading.Lock()
        self._written_state: dict[str, str] = {}
        self._written_repos: dict[tuple[str, str, str], str] = {}
        self._docs = _DocCache()
        self._dirty = threading.Event()
        self._kick = threading.Event()
        self._stop = threading.Event()
        self._flusher: threading.Thread | None = None
        self._schema = SCHEMA_VERSION
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
            self._db.execute(f"PRAGMA synchronous={'FULL' if fsync == ALWAYS else 'NORMAL'}")
            self._db.execute("PRAGMA secure_delete=ON")  # replaced rows leave no old bytes
        try:
            self._check_schema()
            if not read_only:
                self._record_blob_store(getattr(self.files, "url", None))
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
            with self._transaction():
                self._db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
                rows.create_tables(self._db)
                self._db.execute(
                    "INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
                )
            return
        found = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        version = found[0] if found else None
        if version == "1":
            self._schema = 1  # migrated by load(), in one transaction
        elif version != str(SCHEMA_VERSION):
            raise StateDirError(
                f"the state directory {self.path} has schema version {version}; this version "
                f"of ecr-mock reads version {SCHEMA_VERSION} (and migrates version 1) only (nothing was "
                "changed)"
            )

    def _record_blob_store(self, url: str | None) -> None:
        """Name in ``meta`` the object store holding the blob bytes (none: ``DIR/blobs``), so
        ``ecr-mock check`` knows not to look for their files."""
        found = self._db.execute("SELECT value FROM meta WHERE key = 'blob_store'").fetchone()
        if (found and found[0]) == url:
            return
        with self._transaction() as db:
            db.execute("DELETE FROM meta WHERE key = 'blob_store'")
            if url is not None:
                db.execute("INSERT INTO meta VALUES ('blob_store', ?)", (url,))

    @contextlib.contextmanager
    def _transaction(self) -> Any:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def blob_path(self, digest: str) -> Path:
        """Where the bytes of ``digest`` live: ``blobs/<algorithm>/<hex>``."""
        return self.local_files.path(digest)

    @property
    def spill_dir(self) -> str:
        """Where large uploads spill to: on this directory's file system, so making their
        blobs durable is a hard link rather than a copy."""
        return str(self.path / "tmp")

    # ----- loading ----------------------------------------------------------------------------

    def load(self, backend: Store) -> None:
        """Put everything the directory holds into ``backend`` (which should be empty).

        A schema-1 directory is rewritten as schema 2 in one transaction (a crash during it
        leaves schema 1, migrated again on the next open).
        """
        with backend.lock:
            if self._schema == 1:
                self.migrated = load_schema_1(self._db, backend, self.blob_path, self.verifier)
                if not self.read_only:
                    with self._transaction() as db:
                        rows.create_tables(db)
                        for sql, params in self._everything(backend):
                            db.execute(sql, params)
                        for key, doc in self._state_rows(backend).items():
                            db.execute(rows.UPSERT_STATE, (key, doc))
                        db.execute("DROP TABLE rows")
                        db.execute(
                            "UPDATE meta SET value = ? WHERE key = 'schema_version'",
                            (str(SCHEMA_VERSION),),
                        )
                    self._schema = SCHEMA_VERSION
            else:
                collecting = gc.isenabled()
                gc.disable()  # the load makes objects only: no cycles to look for meanwhile
                try:
                    self._load(backend)
                finally:
                    if collecting:
                        gc.enable()
            self._resume_restores(backend)
            if self._schema == SCHEMA_VERSION:
                self._written_state = dict(self._db.execute("SELECT key, doc FROM state"))
            if not self.read_only:
                backend.changes = ChangeSet()
        if not self.read_only:
            self._collect_garbage()

    def _load(self, backend: Store) -> None:
        db = self._db
        own: list[tuple[str, Any]] = []
        for key, doc in db.execute("SELECT key, doc FROM state ORDER BY rowid"):
            if key.startswith("registry/"):
                reg = rows.load_registry(doc)
                backend.registries[(reg.account, reg.region)] = reg
            else:
                own.append((key, json.loads(doc)))
        if load_backend_rows(backend, own):
            self.migrated = True  # passwords stored in the clear: written again hashed
        registries: dict[tuple[str, str], Registry] = {}
        for account, region, digest, size in db.execute("SELECT * FROM blobs"):
            held = registries.get((account, region))
            if held is None:
                held = registries[(account, region)] = backend.registry(account, region)
            blob = self._open_blob(digest, size)
            if blob is not None:
                blob.retain()
                held.blobs[digest] = blob
        repos: dict[tuple[str, str, str], Repository] = {}
        for account, region, name, key, doc in db.execute(
            "SELECT account, region, name, key, doc FROM repositories"
        ):
            repo = rows.load_repository(doc)
            backend.registry(account, region).repositories[key] = repo
            repos[(account, region, name)] = repo
            self._written_repos[(account, region, name)] = doc
        for account, region, name, digest in db.execute("SELECT * FROM repository_blobs"):
            found = repos.get((account, region, name))
            if found is not None:
                found.blobs.add(digest)
        load_image, add_image = rows.load_image, rows.add_image
        for account, region, name, digest, doc, manifest in db.execute(
            "SELECT account, region, repository, digest, doc, manifest FROM images ORDER BY rowid"
        ):
            found = repos.get((account, region, name))
            if found is not None:
                add_image(found, load_image(digest, doc, manifest))

    def _open_blob(self, digest: str, size: int) -> Blob | None:
        """The stored blob ``digest``; a local file is verified before it is served, and one
        missing or of another size is reported to the verifier."""
        verifier = self.verifier
        if verifier is None or self.files is not self.local_files:
            return self.files.open_blob(digest, size)
        path = self.blob_path(digest)
        try:
            intact = path.stat().st_size == size
        except OSError:
            intact = False
        if intact:
            return verifier.make_blob(digest, size, str(path))
        verifier.note_missing(digest, path, size)
        return None

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
        """Remove half-written files and blobs no registry names (crash leftovers)."""
        for leftover in (self.path / "tmp").iterdir():
            with contextlib.suppress(OSError):
                leftover.unlink()
        named = {digest for (digest,) in self._db.execute("SELECT digest FROM blobs")}
        self.files.collect_garbage(named)

    # ----- saving -----------------------------------------------------------------------------

    def touch(self) -> None:
        """Note that something may have changed: the background flusher saves it soon."""
        self._dirty.set()
        self._kick.set()

    def listener(self, backend: Store) -> Callable[[str, dict[str, Any]], None]:
        """An event-bus listener marking the image each core event names as changed."""

        def on_event(kind: str, detail: dict[str, Any]) -> None:
            repo, image = detail.get("repository"), detail.get("image")
            digest = getattr(image, "digest", None)
            if isinstance(repo, Repository) and isinstance(digest, str):
                backend.note_image(repo, digest)
            self.touch()

        return on_event

    def save(self, backend: Store, names: Collection[str] | None = None) -> int:
        """Write what changed since the last save; returns how many rows were written.

        Only what the services marked is looked at (``names`` is accepted for callers that
        still narrow a save to repositories; marks make that unnecessary), plus the backend's
        own rows and one row per registry.
        """
        if self.read_only:
            raise StateDirError(f"{self.path} was opened read-only")
        with self._save_lock:
            if self.closed:
                return 0
            self._dirty.clear()
            with backend.lock:
                changes = backend.changes.take() if backend.changes is not None else ChangeSet()
                try:
                    state_rows = self._state_rows(backend)
                    if changes.everything:
                        statements = list(self._everything(backend, wipe=True))
                        new_blobs, freed = self._not_durable(backend), None
                    else:
                        statements, new_blobs, freed = self._plan(backend, changes)
                except BaseException:
                    self._give_back(backend, changes)
                    raise
            try:
                durable = self.files.write_all([blob for _, _, blob in new_blobs])
                for key, doc in state_rows.items():
                    if self._written_state.get(key) != doc:
                        statements.append((rows.UPSERT_STATE, (key, doc)))
                for key in self._written_state:
                    if key not in state_rows:
                        statements.append(("DELETE FROM state WHERE key = ?", (key,)))
                if statements:
                    with self._transaction() as db:
                        for sql, params in statements:
                            db.execute(sql, params)
            except BaseException:
                self._written_repos.clear()  # rewritten in full when marked again
                self._give_back(backend, changes)
                raise
            self._written_state = state_rows
            by_blob = {id(blob): (reg, digest) for reg, digest, blob in new_blobs}
            _swap_in(backend, [(*by_blob[id(old)], old, new) for old, new in durable])
            self._remove_blob_files(backend, freed)
            return len(statements)

    @staticmethod
    def _give_back(backend: Store, changes: ChangeSet) -> None:
        with backend.lock:
            if backend.changes is not None:
                backend.changes.merge(changes)

    def _state_rows(self, backend: Store) -> dict[str, str]:
        """The backend's own rows and one per registry, as JSON text (the lock is held).

        Each is encoded again only when its values differ from a copy kept of what was last
        encoded (comparing is much cheaper than encoding).
        """
        dump, doc = json.dumps, self._docs.doc
        offset, frozen = backend.clock.state()
        found = {
            "backend/clock": doc(
                "backend/clock",
                (offset, frozen),
                lambda: dump({"offset": encode(offset), "frozen": encode(frozen)}),
            ),
        }
        tokens = backend.tokens.persisted()  # no password: tokens are signed with a kept key
        found["backend/tokens"] = doc("backend/tokens", tokens, lambda: dump(tokens))
        keys = dict(backend.access_keys)
        found["backend/access_keys"] = doc("backend/access_keys", keys, lambda: dump(encode(keys)))
        last_run = backend.lifecycle_last_run()
        found["backend/lifecycle"] = doc(
            "backend/lifecycle", last_run, lambda: dump({"last_run": encode(last_run)})
        )
        for name in STORE_SLOTS_KEPT:
            value = getattr(backend, name)
            found[f"backend/slot/{name}"] = doc(
                f"backend/slot/{name}",
                value,
                functools.partial(_dump_slot, value),
            )
        for (account, region), reg in backend.registries.items():
            key = f"registry/{account}/{region}"
            found[key] = doc(
                key, rows.registry_values(reg), functools.partial(rows.registry_doc, reg)
            )
        return found

    def _plan(
        self, backend: Store, changes: ChangeSet
    ) -> tuple[list[Statement], list[tuple[Registry, str, Blob]], set[str]]:
        """The statements writing the marked changes, the blobs to make durable first and the
        digests whose blob rows go (the lock is held)."""
        statements: list[Statement] = []
        upserts: list[Statement] = []
        live: dict[int, bool] = {}
        for repo in changes.repositories.values():
            account, region, name = repo.account, repo.region, repo.name
            current = _is_current(backend, repo)
            live[id(repo)] = current
            key = (account, region, name)
            if not current:
                self._written_repos.pop(key, None)
                for sql in rows.DELETE_REPOSITORY:
                    statements.append((sql, key))
                continue
            doc = rows.repository_doc(repo)
            if self._written_repos.get(key) != doc:
                self._written_repos[key] = doc
                reg = backend.registries[(account, region)]
                upserts.append((rows.UPSERT_REPOSITORY, (*key, _key_of(reg, repo), doc)))
        statements.extend(upserts)  # deletions first: a name deleted and created again
        for (_, digest), repo in changes.images.items():
            alive = live.get(id(repo))
            if alive is None:
                alive = live[id(repo)] = _is_current(backend, repo)
            if not alive:
                continue
            image = repo.images.get(digest)
            where = (repo.account, repo.region, repo.name, digest)
            if image is None:
                statements.append((rows.DELETE_IMAGE, where))
            else:
                statements.append(
                    (rows.UPSERT_IMAGE, (*where, rows.image_doc(image), image.manifest))
                )
        for (_, digest), repo in changes.repository_blobs.items():
            known = live.get(id(repo))
            if known is None:
                known = live[id(repo)] = _is_current(backend, repo)
            if not known:
                continue
            where = (repo.account, repo.region, repo.name, digest)
            sql = (
                rows.INSERT_REPOSITORY_BLOB if digest in repo.blobs else rows.DELETE_REPOSITORY_BLOB
            )
            statements.append((sql, where))
        new_blobs: list[tuple[Registry, str, Blob]] = []
        freed: set[str] = set()
        for (_, digest), reg in changes.blobs.items():
            if backend.registries.get((reg.account, reg.region)) is not reg:
                continue  # a reset dropped the registry (its save rewrites everything)
            blob = reg.blobs.get(digest)
            if blob is None:
                statements.append((rows.DELETE_BLOB, (reg.account, reg.region, digest)))
                freed.add(digest)
                continue
            statements.append((rows.UPSERT_BLOB, (reg.account, reg.region, digest, blob.size)))
            if not blob.durable:
                new_blobs.append((reg, digest, blob))
        return statements, new_blobs, freed

    def _everything(self, backend: Store, *, wipe: bool = False) -> list[Statement]:
        """Statements writing every repository, image and blob (after emptying the tables)."""
        statements: list[Statement] = []
        if wipe:
            for table in ("repositories", "images", "repository_blobs", "blobs"):
                statements.append((f"DELETE FROM {table}", ()))
        self._written_repos.clear()
        for (account, region), reg in backend.registries.items():
            for digest, blob in reg.blobs.items():
                statements.append((rows.UPSERT_BLOB, (account, region, digest, blob.size)))
            for key, repo in reg.repositories.items():
                where = (account, region, repo.name)
                doc = rows.repository_doc(repo)
                self._written_repos[where] = doc
                statements.append((rows.UPSERT_REPOSITORY, (*where, key, doc)))
                for digest in repo.blobs:
                    statements.append((rows.INSERT_REPOSITORY_BLOB, (*where, digest)))
                for digest, image in repo.images.items():
                    doc = rows.image_doc(image)
                    statements.append((rows.UPSERT_IMAGE, (*where, digest, doc, image.manifest)))
        return statements

    @staticmethod
    def _not_durable(backend: Store) -> list[tuple[Registry, str, Blob]]:
        return [
            (reg, digest, blob)
            for reg in backend.registries.values()
            for digest, blob in reg.blobs.items()
            if not blob.durable
        ]

    def _remove_blob_files(self, backend: Store, freed: set[str] | None) -> None:
        """Remove the files of blobs no row names any more (``None``: look at every file)."""
        if freed is None:
            self._collect_garbage()
            return
        for digest in freed:
            with backend.lock:
                if any(digest in reg.blobs for reg in backend.registries.values()):
                    continue  # stored again since: its next save names it
            named = self._db.execute(
                "SELECT 1 FROM blobs WHERE digest = ? LIMIT 1", (digest,)
            ).fetchone()
            if named is None:
                self.files.remove(digest)

    def make_blobs_durable(self, backend: Store) -> int:
        """Write (and sync, once for all) every marked blob not yet in its file; how many."""
        with backend.lock:
            changes = backend.changes
            if changes is None:
                return 0
            pending = []
            for (_, digest), reg in list(changes.blobs.items()):
                blob = reg.blobs.get(digest)
                if blob is not None and not blob.durable:
                    pending.append((reg, digest, blob))
        if not pending:
            return 0
        with self._save_lock:
            if self.closed:
                return 0
            durable = self.files.write_all([blob for _, _, blob in pending])
            by_blob = {id(blob): (reg, digest) for reg, digest, blob in pending}
            _swap_in(backend, [(*by_blob[id(old)], old, new) for old, new in durable])
        return len(durable)

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
            close_store = getattr(self.files, "close", None)
            if close_store is not None:
                close_store()

    def _close_db(self) -> None:
        if self._view is not None:
            self._view.close()  # removes its copy, if it made one
        else:
            self._db.close()


class _DocCache:
    """Documents by key with a copy of the values each was encoded from."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[Any, str]] = {}

    def doc(self, key: str, values: Any, make: Callable[[], str]) -> str:
        """The document of ``values``: the one kept when they equal the copy, else ``make()``."""
        found = self._entries.get(key)
        if found is not None:
            with contextlib.suppress(Exception):  # values that cannot be compared: encode
                if found[0] == values:
                    return found[1]
        text = make()
        try:
            kept = copy.deepcopy(values)
        except Exception:  # not copyable (a lock): never equal, always encoded
            kept = _NEVER_EQUAL
        self._entries[key] = (kept, text)
        return text


_NEVER_EQUAL = object()


def _dump_slot(value: Any) -> str:
    return json.dumps(encode(value, rows.MODEL_TYPES))


def _key_of(reg: Registry, repo: Repository) -> str:
    """The key ``repo`` has in its registry's ``repositories`` (``<alias>/<name>`` if public)."""
    if reg.public is not None and repo.catalog is not None:
        return f"{reg.public.alias}/{repo.name}"
    return repo.name


def _is_current(backend: Store, repo: Repository) -> bool:
    """Whether ``repo`` is still in its registry (not deleted, not replaced by a namesake)."""
    reg = backend.registries.get((repo.account, repo.region))
    return reg is not None and reg.repositories.get(_key_of(reg, repo)) is repo


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


__all__ = ["SCHEMA_VERSION", "StateDir", "StateDirError", "Unencodable"]
