"""Blob uploads for both protocols and blob get/mount/delete with reference counts and release."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import IO

from ecr_mock.domain.blobs import Blob, UploadSession, new_upload
from ecr_mock.domain.errors import (
    BlobUnknown,
    DigestInvalid,
    EmptyUpload,
    InvalidLayer,
    InvalidLayerPart,
    ItemFailure,
    LayerAlreadyExists,
    LayerInaccessible,
    LayerNotFound,
    LayerPartTooSmall,
    LimitExceeded,
    RepositoryNotFound,
    SizeInvalid,
    UploadNotFound,
)
from ecr_mock.domain.models import Registry, Repository
from ecr_mock.domain.names import is_digest
from ecr_mock.services.reclaim import touch_layer, touch_repository
from ecr_mock.store.state import Store

MIN_PART_BYTES = 5 * 1024 * 1024
MAX_PART_BYTES = 20 * 1024 * 1024
PART_SIZE = 10 * 1024 * 1024
"""The part size this emulator suggests (``partSize`` of InitiateLayerUpload)."""
MAX_PARTS = 4200
UPLOAD_CHECK_PERIOD = timedelta(minutes=1)
"""How often (backend clock) ``tick()`` looks for expired upload sessions."""


def start_upload(store: Store, reg: Registry, repo: Repository) -> UploadSession:
    """Start an upload session into ``repo``."""
    session = new_upload(repo.name, store.now(), reg.account, store.upload_spill_dir)
    with store.lock:
        reg.uploads[session.upload_id] = session
        touch_repository(store, repo)
    return session


def expire_uploads(store: Store, now: datetime | None = None) -> int:
    """End every upload session idle longer than ``store.upload_idle_timeout``; their bytes
    are freed and they answer 404 BLOB_UPLOAD_UNKNOWN. Returns how many expired.

    ``tick()`` runs this once a minute of backend clock; a session found expired on use is
    ended then too.
    """
    now = now or store.clock.now()
    store.uploads_checked_at = now
    expired = 0
    with store.lock:
        for reg in list(store.registries.values()):
            for upload_id, session in list(reg.uploads.items()):
                if session.expired(now, store.upload_idle_timeout):
                    reason = UploadNotFound(upload_id, session.repository, reg.account)
                    if session.end(reason):
                        expired += 1
                    reg.uploads.pop(upload_id, None)
    return expired


def expire_uploads_if_due(store: Store) -> None:
    """Run :func:`expire_uploads` when a minute of backend clock passed since the last run."""
    now = store.clock.now()
    if abs(now - store.uploads_checked_at) >= UPLOAD_CHECK_PERIOD:
        expire_uploads(store, now)


def end_uploads_of(store: Store, reg: Registry, name: str) -> None:
    """Fail every upload into repository ``name`` (being deleted) with NAME_UNKNOWN."""
    with store.lock:
        for upload_id, session in list(reg.uploads.items()):
            if session.repository == name:
                session.end(RepositoryNotFound(name, reg.account))
                del reg.uploads[upload_id]


def get_upload(store: Store, reg: Registry, repo: Repository, upload_id: str) -> UploadSession:
    """The open upload ``upload_id`` of ``repo``; UploadNotFound otherwise."""
    session = reg.uploads.get(upload_id)
    if session is None or session.repository != repo.name or session.closed:
        raise UploadNotFound(upload_id, repo.name, reg.account)
    if session.expired(store.clock.now(), store.upload_idle_timeout):
        session.end(UploadNotFound(upload_id, repo.name, reg.account))
        with store.lock:
            reg.uploads.pop(upload_id, None)
        raise UploadNotFound(upload_id, repo.name, reg.account)
    return session


def upload_part(
    store: Store,
    reg: Registry,
    repo: Repository,
    upload_id: str,
    first_byte: int,
    last_byte: int,
    data: bytes,
) -> UploadSession:
    """UploadLayerPart: bytes ``[first, last]`` continuing the upload, ECR's size rules."""
    session = get_upload(store, reg, repo, upload_id)
    with session.writing(store.clock.now()):
        last_valid = max(session.size - 1, 0)
        if first_byte != session.size or last_byte < first_byte:
            raise InvalidLayerPart(
                f"The upload part with first byte {first_byte} and last byte {last_byte} is "
                f"not valid: the next part must start at byte {session.size}",
                upload_id,
                repo.name,
                reg.account,
                last_valid,
            )
        if last_byte - first_byte + 1 != len(data):
            raise InvalidLayerPart(
                f"The part byte range {first_byte}-{last_byte} does not match the "
                f"{len(data)} bytes sent",
                upload_id,
                repo.name,
                reg.account,
                last_valid,
            )
        if len(data) > MAX_PART_BYTES:
            raise InvalidLayerPart(
                "A layer part can be at most 20 MiB",
                upload_id,
                repo.name,
                reg.account,
                last_valid,
            )
        if session.parts >= MAX_PARTS:
            raise LimitExceeded(f"An upload can have at most {MAX_PARTS} parts")
        # Like S3 multipart, a too small part is refused at completion: the model lists
        # LayerPartTooSmallException for CompleteLayerUpload only.
        previous = session.last_part_size
        small = previous is not None and previous < MIN_PART_BYTES
        if small and session.small_part_size is None:
            session.small_part_size = previous
        session.append(data)
        session.parts += 1
        session.last_part_size = len(data)
    return session


def complete_upload(
    store: Store, reg: Registry, repo: Repository, upload_id: str, digests: list[str]
) -> str:
    """CompleteLayerUpload: check the digest and store the blob in the registry."""
    session = get_upload(store, reg, repo, upload_id)
    with session.writing(store.clock.now()):
        if session.size == 0:
            raise EmptyUpload(upload_id, repo.name, reg.account)
        if session.small_part_size is not None:
            raise LayerPartTooSmall(
                f"The layer part of size {session.small_part_size} bytes is smaller than "
                f"the minimum of {MIN_PART_BYTES} bytes: only the last part may be smaller"
            )
        digest = digests[0] if digests else ""
        if not is_digest(digest):
            raise InvalidLayer(
                f"Invalid parameter at 'layerDigests' failed to satisfy constraint: "
                f"'the digest '{digest}' is not a valid digest'"
            )
        if digest in reg.blobs and digest in repo.blobs:
            session.discard()
            reg.uploads.pop(upload_id, None)
            raise LayerAlreadyExists(digest, repo.name, reg.account)
        try:
            blob = session.finish(digest)
        except DigestInvalid:
            actual = session.digest(digest.split(":", 1)[0])
            raise InvalidLayer(
                f"The layer digest '{digest}' does not match the digest of the uploaded "
                f"content '{actual}'"
            ) from None
    store_blob(store, reg, repo, blob)
    reg.uploads.pop(upload_id, None)
    return digest


def append_body(
    store: Store,
    reg: Registry,
    repo: Repository,
    upload_id: str,
    stream: IO[bytes],
    length: int | None,
    content_range: tuple[int, int] | None = None,
) -> UploadSession:
    """A ``/v2/`` PATCH or PUT body: ``length`` bytes (None: to the end of the stream) streamed
    into upload ``upload_id``, continuing it at the first byte of ``content_range`` when one
    was sent. Returns the session.

    RangeInvalid when the range does not continue the upload; SizeInvalid when it disagrees with
    ``length``; an interrupted body (SizeInvalid) drops the whole session, so nothing partial
    survives.
    """
    session = get_upload(store, reg, repo, upload_id)
    interrupted = False
    with session.writing(store.clock.now()):
        if content_range is not None:
            first, last = content_range
            session.check_offset(first)
            declared = last - first + 1
            if length is not None and length != declared:
                raise SizeInvalid(
                    f"Content-Range {first}-{last} does not match Content-Length {length}"
                )
            length = declared
        if length != 0:
            try:
                session.append_stream(stream, length)
            except SizeInvalid:
                interrupted = True
    if interrupted:
        drop_upload(store, reg, repo, upload_id)
        raise SizeInvalid("The request body ended before the declared length; upload dropped")
    return session


def drop_upload(store: Store, reg: Registry, repo: Repository, upload_id: str) -> None:
    """Cancel an upload that failed, whether or not it is still open."""
    with contextlib.suppress(UploadNotFound):
        cancel_upload(store, reg, repo, upload_id)


def finish_upload(
    store: Store, reg: Registry, repo: Repository, session: UploadSession, digest: str
) -> Blob:
    """``/v2/`` upload completion: zero bytes refused, digest checked (a mismatch drops the
    session: nothing is stored), blob stored."""
    try:
        with session.writing(store.clock.now()):
            if session.size == 0:
                raise EmptyUpload(session.upload_id, repo.name, reg.account)
            blob = session.finish(digest)
    except DigestInvalid:
        drop_upload(store, reg, repo, session.upload_id)
        raise
    store_blob(store, reg, repo, blob)
    reg.uploads.pop(session.upload_id, None)
    return blob


def cancel_upload(store: Store, reg: Registry, repo: Repository, upload_id: str) -> None:
    """Drop an upload session and what it received; exactly one of a cancel and a racing
    completion (or another cancel) wins, the other gets UploadNotFound."""
    session = get_upload(store, reg, repo, upload_id)
    won = session.end(UploadNotFound(upload_id, repo.name, reg.account))
    with store.lock:
        if reg.uploads.get(upload_id) is session:
            del reg.uploads[upload_id]
    if not won:
        raise UploadNotFound(upload_id, repo.name, reg.account)


def store_blob(store: Store, reg: Registry, repo: Repository, blob: Blob) -> Blob:
    """Keep ``blob`` in the registry (once per digest) and make it known to ``repo``.

    A blob whose digest the registry already holds is dropped (the stored one stays: blobs
    are immutable); so is one for a repository deleted meanwhile (RepositoryNotFound).
    """
    with store.lock:
        live = reg.repositories.get(repo.name) is repo or any(
            held is repo for held in reg.repositories.values()
        )
        if not live:
            blob.discard()
            raise RepositoryNotFound(repo.name, reg.account)
        kept = reg.blobs.get(blob.digest)
        if kept is None or kept.freed:
            blob.retain()
            reg.blobs[blob.digest] = kept = blob
        elif kept is not blob:
            blob.discard()
        repo.blobs.add(blob.digest)
        touch_layer(store, reg, repo, blob.digest)
    return kept


def release_unreferenced_blobs(store: Store, reg: Registry, digests: Iterable[str]) -> int:
    """Let go of each of ``digests`` no repository of ``reg`` knows any more; its bytes are
    freed at once (or when the last download in flight ends). Returns how many went."""
    released = 0
    with store.lock:
        repositories = list(reg.repositories.values())
        for digest in list(digests):
            if any(digest in repo.blobs for repo in repositories):
                continue
            blob = reg.blobs.pop(digest, None)
            if blob is not None:
                blob.release()
                released += 1
    return released


def layer_available(store: Store, reg: Registry, repo: Repository, digest: str) -> Blob | None:
    """The blob when the repository can serve ``digest`` (uploaded, mounted or referenced)."""
    if digest in repo.blobs:
        return reg.blobs.get(digest)
    return None


def get_blob(store: Store, reg: Registry, repo: Repository, digest: str) -> Blob:
    """A blob the repository can serve; BlobUnknown otherwise."""
    blob = layer_available(store, reg, repo, digest)
    if blob is None:
        raise BlobUnknown(digest)
    return blob


def download_layer(store: Store, reg: Registry, repo: Repository, digest: str) -> Blob:
    """GetDownloadUrlForLayer: only layers an image of the repository references.

    LayerNotFound when the repository never received the layer; LayerInaccessible when it did
    but no image references it.
    """
    if digest not in repo.blobs or digest not in reg.blobs:
        raise LayerNotFound(digest, repo.name, reg.account)
    blob = reg.blobs.get(digest)
    if blob is None or not repo.references_blob(digest):
        raise LayerInaccessible(digest, repo.name, reg.account)
    return blob


def mount_blob(
    store: Store, reg: Registry, source: Repository, target: Repository, digest: str
) -> Blob | None:
    """Cross-repository mount: the blob when an image of ``source`` references it."""
    blob = reg.blobs.get(digest)
    if blob is None or not source.references_blob(digest):
        return None
    with store.lock:
        target.blobs.add(digest)
        touch_layer(store, reg, target, digest)
    return blob


def delete_blob(store: Store, reg: Registry, repo: Repository, digest: str) -> None:
    """Forget a blob in a repository (``/v2/`` blob DELETE); BlobUnknown when unknown."""
    with store.lock:
        if digest not in repo.blobs:
            raise BlobUnknown(digest)
        repo.blobs.discard(digest)
        release_unreferenced_blobs(store, reg, [digest])


def check_layer(store: Store, reg: Registry, repo: Repository, digest: str) -> Blob:
    """BatchCheckLayerAvailability for one digest: the blob, else an ItemFailure with ECR's
    ``failureCode`` (MissingLayerDigest, InvalidLayerDigest)."""
    if not digest:
        raise ItemFailure("MissingLayerDigest", "The layer digest is missing")
    if not is_digest(digest):
        raise ItemFailure("InvalidLayerDigest", f"Invalid layer digest: '{digest}'")
    blob = layer_available(store, reg, repo, digest)
    if blob is None:
        raise ItemFailure("MissingLayerDigest", "Could not find layer in the repository")
    return blob
