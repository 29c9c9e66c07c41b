"""The backend: all registries, the clock, tokens and identities, and the operations on them."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from ecr_mock.core.blobs import Blob, UploadSession, new_upload
from ecr_mock.core.clock import Clock
from ecr_mock.core.errors import (
    BlobUnknown,
    DigestInvalid,
    EmptyUpload,
    ImageAlreadyExists,
    ImageArchived,
    ImageDeleteFailure,
    ImageDigestDoesNotMatch,
    ImageNotFound,
    ImageTagAlreadyExists,
    InvalidLayer,
    InvalidLayerPart,
    LayerAlreadyExists,
    LayerInaccessible,
    LayerPartTooSmall,
    LayersNotFound,
    LimitExceeded,
    ReferencedImagesNotFound,
    RepositoryAlreadyExists,
    RepositoryNotEmpty,
    RepositoryNotFound,
    UploadNotFound,
)
from ecr_mock.core.manifests import Manifest, digest_of, parse_manifest
from ecr_mock.core.models import MUTABLE, Image, Principal, Registry, Repository
from ecr_mock.core.names import (
    DEFAULT_ACCOUNT,
    DEFAULT_REGION,
    check_repository_name,
    check_tag,
    is_digest,
    registry_host,
)
from ecr_mock.core.tokens import TokenStore

MAX_TAGS_PER_IMAGE = 1000
MAX_IMAGES_PER_REPOSITORY = 100_000
MAX_REPOSITORIES = 100_000
MIN_PART_BYTES = 5 * 1024 * 1024
MAX_PART_BYTES = 20 * 1024 * 1024
PART_SIZE = 10 * 1024 * 1024
MAX_PARTS = 4200

Listener = Callable[[str, dict[str, Any]], None]


class Backend:
    """Every registry of every account and region, sharing one clock and one token store."""

    def __init__(
        self,
        account_id: str = DEFAULT_ACCOUNT,
        region: str = DEFAULT_REGION,
        clock: Clock | None = None,
    ) -> None:
        self.default_account = account_id
        self.default_region = region
        self.clock = clock or Clock()
        self.tokens = TokenStore(self.clock)
        self.lock = threading.RLock()
        self.registries: dict[tuple[str, str], Registry] = {}
        self.access_keys: dict[str, Principal] = {}
        self.public_endpoint: str | None = None
        """``HOST:PORT`` of a live server sharing this backend; None for ``*.amazonaws.com``."""
        self.public_scheme = "https"
        self.listeners: list[Listener] = []
        self.extra: dict[str, Any] = {}

    # ----- registries, identities, addresses -------------------------------------------------

    def registry(self, account: str | None = None, region: str | None = None) -> Registry:
        """The registry of (account, region), created on first use."""
        key = (account or self.default_account, region or self.default_region)
        found = self.registries.get(key)
        if found is None:
            with self.lock:
                found = self.registries.setdefault(key, Registry(account=key[0], region=key[1]))
        return found

    def principal_for_key(self, access_key: str | None) -> Principal:
        """The principal behind an access key: a registered one, else the default root."""
        if access_key and access_key in self.access_keys:
            return self.access_keys[access_key]
        return Principal.root(self.default_account)

    def add_access_key(
        self, access_key: str, account: str, arn: str | None = None, kind: str = "root"
    ) -> Principal:
        """Make ``access_key`` speak for ``arn`` (default: the account root) of ``account``."""
        principal = (
            Principal(arn=arn, account_id=account, kind=kind) if arn else Principal.root(account)
        )
        self.access_keys[access_key] = principal
        return principal

    def host(self, account: str, region: str) -> str:
        """The registry host clients use: the live server's ``HOST:PORT`` or ECR's host name."""
        return self.public_endpoint or registry_host(account, region)

    def proxy_endpoint(self, account: str, region: str) -> str:
        """``proxyEndpoint`` of GetAuthorizationToken."""
        scheme = "http" if self.public_endpoint else "https"
        return f"{scheme}://{self.host(account, region)}"

    def repository_uri(self, repo: Repository) -> str:
        """``repositoryUri``: ``<host>/<name>``."""
        return f"{self.host(repo.account, repo.region)}/{repo.name}"

    def emit(self, kind: str, detail: dict[str, Any]) -> None:
        """Tell listeners about an event (push, delete, ...)."""
        for listener in list(self.listeners):
            listener(kind, detail)

    def now(self) -> datetime:
        """The backend clock's time."""
        return self.clock.now()

    # ----- repositories ------------------------------------------------------------------------

    def create_repository(
        self,
        reg: Registry,
        name: str,
        *,
        tag_mutability: str = MUTABLE,
        mutability_exclusions: list[dict[str, str]] | None = None,
        scan_on_push: bool = False,
        encryption: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
    ) -> Repository:
        """Create a repository; RepositoryAlreadyExists when the name is taken."""
        check_repository_name(name)
        with self.lock:
            if name in reg.repositories:
                raise RepositoryAlreadyExists(name, reg.account)
            if len(reg.repositories) >= MAX_REPOSITORIES:
                raise LimitExceeded("The maximum number of repositories in the registry is reached")
            repo = Repository(
                name=name,
                account=reg.account,
                region=reg.region,
                created_at=self.now(),
                tag_mutability=tag_mutability,
                mutability_exclusions=list(mutability_exclusions or []),
                scan_on_push=scan_on_push,
                encryption=dict(encryption or {"encryptionType": "AES256"}),
                resource_tags=dict(tags or {}),
            )
            reg.repositories[name] = repo
        return repo

    def get_repository(self, reg: Registry, name: str) -> Repository:
        """The repository called ``name``; RepositoryNotFound otherwise."""
        repo = reg.repositories.get(name)
        if repo is None:
            raise RepositoryNotFound(name, reg.account)
        return repo

    def delete_repository(self, reg: Registry, name: str, force: bool = False) -> Repository:
        """Delete a repository; RepositoryNotEmpty unless empty or ``force``."""
        with self.lock:
            repo = self.get_repository(reg, name)
            if repo.images and not force:
                raise RepositoryNotEmpty(name, reg.account)
            del reg.repositories[name]
            for upload_id, session in list(reg.uploads.items()):
                if session.repository == name:
                    session.discard()
                    del reg.uploads[upload_id]
        for image in list(repo.images.values()):
            self.emit("image-deleted", {"repository": repo, "image": image})
        return repo

    # ----- images --------------------------------------------------------------------------

    def find_image(
        self, repo: Repository, *, digest: str | None = None, tag: str | None = None
    ) -> Image:
        """The image with ``digest`` and/or ``tag``; ImageNotFound otherwise."""
        if tag is not None:
            tagged = repo.tags.get(tag)
            if tagged is None or (digest is not None and digest != tagged):
                raise ImageNotFound(
                    f"The image with imageId {{imageDigest:'{digest or 'null'}', imageTag:'{tag}'}}"
                    f" does not exist within the repository with name '{repo.name}' in the "
                    f"registry with id '{repo.account}'"
                )
            digest = tagged
        image = repo.images.get(digest or "")
        if image is None:
            raise ImageNotFound(
                f"The image with imageId {{imageDigest:'{digest}', imageTag:'null'}} does not "
                f"exist within the repository with name '{repo.name}' in the registry with id "
                f"'{repo.account}'"
            )
        return image

    def resolve_reference(self, repo: Repository, reference: str) -> Image:
        """The image a ``/v2/`` reference (tag or digest) names."""
        if ":" in reference:
            return self.find_image(repo, digest=reference)
        return self.find_image(repo, tag=reference)

    def put_image(
        self,
        reg: Registry,
        repo: Repository,
        manifest: bytes,
        *,
        tag: str | None = None,
        media_type: str | None = None,
        digest: str | None = None,
        idempotent: bool = False,
    ) -> Image:
        """Store a manifest verbatim under its digest and point ``tag`` at it.

        ``idempotent`` (the ``/v2/`` behaviour) makes a repeated push of the same manifest and
        tag succeed instead of raising ImageAlreadyExists.
        """
        if tag is not None:
            check_tag(tag)
        parsed = parse_manifest(manifest, media_type)
        computed = digest_of(manifest, "sha256")
        if digest is not None:
            if not is_digest(digest):
                raise DigestInvalid(f"Invalid digest: '{digest}'", digest=digest)
            algorithm = digest.split(":", 1)[0]
            actual = computed if algorithm == "sha256" else digest_of(manifest, algorithm)
            if actual != digest:
                raise ImageDigestDoesNotMatch(digest, actual)
        else:
            digest = computed
        with self.lock:
            existing = repo.images.get(digest)
            old_digest = repo.tags.get(tag) if tag is not None else None
            if existing is not None and (tag is None or old_digest == digest):
                if idempotent:
                    return existing
                raise ImageAlreadyExists(digest, tag, repo.name, repo.account)
            if tag is not None and old_digest is not None and repo.tag_is_immutable(tag):
                raise ImageTagAlreadyExists(tag, repo.name)
            if existing is None:
                self._check_references(reg, repo, parsed)
                if len(repo.images) >= MAX_IMAGES_PER_REPOSITORY:
                    raise LimitExceeded(
                        "The maximum number of images in the repository has been reached"
                    )
            elif tag is not None and len(existing.tags) >= MAX_TAGS_PER_IMAGE:
                raise LimitExceeded(f"An image can have at most {MAX_TAGS_PER_IMAGE} tags")
            image = existing or Image(
                digest=digest,
                manifest=manifest,
                parsed=parsed,
                media_type=parsed.media_type,
                pushed_at=self.now(),
                size=self._image_size(repo, parsed),
            )
            if existing is None:
                repo.images[digest] = image
                repo.blobs.update(parsed.blob_digests())
                if parsed.subject is not None:
                    repo.referrers.setdefault(parsed.subject.digest, set()).add(digest)
            if tag is not None:
                if old_digest is not None and old_digest != digest:
                    self._drop_tag(repo, tag)
                repo.tags[tag] = digest
                image.tags.append(tag)
        self.emit(
            "image-pushed",
            {"repository": repo, "image": image, "tag": tag, "new": existing is None},
        )
        return image

    def _check_references(self, reg: Registry, repo: Repository, parsed: Manifest) -> None:
        if parsed.is_index:
            missing = [c.digest for c in parsed.manifests if c.digest not in repo.images]
            if missing:
                raise ReferencedImagesNotFound(missing)
            return
        absent = [d for d in parsed.blob_digests() if d not in reg.blobs or d not in repo.blobs]
        if absent:
            raise LayersNotFound(absent, repo.name, repo.account)

    @staticmethod
    def _image_size(repo: Repository, parsed: Manifest) -> int:
        if parsed.is_index:
            sizes = [
                repo.images[c.digest].size for c in parsed.manifests if c.digest in repo.images
            ]
            return max(sizes, default=0)
        return parsed.layer_size()

    @staticmethod
    def _drop_tag(repo: Repository, tag: str) -> None:
        digest = repo.tags.pop(tag, None)
        if digest is not None and digest in repo.images:
            tags = repo.images[digest].tags
            if tag in tags:
                tags.remove(tag)

    def delete_image(
        self, repo: Repository, *, digest: str | None = None, tag: str | None = None
    ) -> Image:
        """BatchDeleteImage for one id: by digest removes the image, by tag removes the tag.

        Removing the last tag of an image removes the image, as ECR does.
        """
        with self.lock:
            if digest is None and tag is None:
                raise ImageDeleteFailure(
                    "MissingDigestAndTag",
                    "Invalid request parameters: both tag and digest cannot be null",
                )
            if digest is not None and not is_digest(digest):
                raise ImageDeleteFailure(
                    "InvalidImageDigest",
                    "Invalid request parameters: image digest should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'",
                )
            if tag is not None:
                target = repo.tags.get(tag)
                if target is None:
                    raise ImageDeleteFailure("ImageNotFound", "Requested image not found")
                if digest is not None and digest != target:
                    raise ImageDeleteFailure(
                        "ImageTagDoesNotMatchDigest",
                        "Invalid request parameters: given tag does not map to the given digest",
                    )
                image = repo.images[target]
                if len(image.tags) > 1:
                    self._drop_tag(repo, tag)
                    return image
                digest = target
            found = repo.images.get(digest or "")
            if found is None:
                raise ImageDeleteFailure("ImageNotFound", "Requested image not found")
            image = found
            parents = [
                other.digest
                for other in repo.images.values()
                if any(c.digest == image.digest for c in other.parsed.manifests)
            ]
            if parents:
                raise ImageDeleteFailure(
                    "ImageReferencedByManifestList",
                    f"Requested image referenced by manifest list: {parents}",
                )
            self._remove_image(repo, image)
        self.emit("image-deleted", {"repository": repo, "image": image})
        return image

    def _remove_image(self, repo: Repository, image: Image) -> None:
        for tag in list(image.tags):
            repo.tags.pop(tag, None)
        del repo.images[image.digest]
        subject = image.parsed.subject
        if subject is not None and subject.digest in repo.referrers:
            repo.referrers[subject.digest].discard(image.digest)
            if not repo.referrers[subject.digest]:
                del repo.referrers[subject.digest]

    def untag(self, repo: Repository, tag: str) -> Image:
        """Remove a tag only (``/v2/`` tag DELETE); the image stays, untagged if it was the last."""
        with self.lock:
            digest = repo.tags.get(tag)
            if digest is None:
                raise ImageNotFound()
            self._drop_tag(repo, tag)
            return repo.images[digest]

    def delete_manifest(self, repo: Repository, digest: str) -> Image:
        """Remove an image and every tag on it (``/v2/`` manifest DELETE by digest)."""
        with self.lock:
            image = repo.images.get(digest)
            if image is None:
                raise ImageNotFound()
            self._remove_image(repo, image)
        self.emit("image-deleted", {"repository": repo, "image": image})
        return image

    def record_pull(self, repo: Repository, image: Image) -> None:
        """Note a pull: ``lastRecordedPullTime``; archived images cannot be pulled."""
        if image.storage_class == "ARCHIVE" or image.status != "ACTIVE":
            raise ImageArchived(image.digest)
        image.last_pulled_at = self.now()
        self.emit("image-pulled", {"repository": repo, "image": image})

    # ----- blobs and uploads -----------------------------------------------------------------

    def start_upload(self, reg: Registry, repo: Repository) -> UploadSession:
        """Start an upload session into ``repo``."""
        session = new_upload(repo.name, self.now())
        with self.lock:
            reg.uploads[session.upload_id] = session
        return session

    def get_upload(self, reg: Registry, repo: Repository, upload_id: str) -> UploadSession:
        """The open upload ``upload_id`` of ``repo``; UploadNotFound otherwise."""
        session = reg.uploads.get(upload_id)
        if session is None or session.repository != repo.name or session.closed:
            raise UploadNotFound(upload_id, repo.name, reg.account)
        return session

    def upload_part(
        self,
        reg: Registry,
        repo: Repository,
        upload_id: str,
        first_byte: int,
        last_byte: int,
        data: bytes,
    ) -> UploadSession:
        """UploadLayerPart: bytes ``[first, last]`` continuing the upload, ECR's size rules."""
        session = self.get_upload(reg, repo, upload_id)
        with session.lock:
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
            previous = session.last_part_size
            if previous is not None and previous < MIN_PART_BYTES:
                raise LayerPartTooSmall(
                    f"The layer part of size {previous} bytes is smaller than the minimum of "
                    f"{MIN_PART_BYTES} bytes: only the last part may be smaller"
                )
            if session.parts >= MAX_PARTS:
                raise LimitExceeded(f"An upload can have at most {MAX_PARTS} parts")
            session.append(data)
            session.parts += 1
            session.last_part_size = len(data)
        return session

    def complete_upload(
        self, reg: Registry, repo: Repository, upload_id: str, digests: list[str]
    ) -> str:
        """CompleteLayerUpload: check the digest and store the blob in the registry."""
        session = self.get_upload(reg, repo, upload_id)
        with session.lock:
            if session.size == 0:
                raise EmptyUpload(upload_id, repo.name, reg.account)
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
        self.store_blob(reg, repo, blob)
        reg.uploads.pop(upload_id, None)
        return digest

    def finish_upload(
        self, reg: Registry, repo: Repository, session: UploadSession, digest: str
    ) -> Blob:
        """``/v2/`` upload completion: zero bytes refused, digest checked, blob stored."""
        with session.lock:
            if session.size == 0:
                raise EmptyUpload(session.upload_id, repo.name, reg.account)
            blob = session.finish(digest)
        self.store_blob(reg, repo, blob)
        reg.uploads.pop(session.upload_id, None)
        return blob

    def cancel_upload(self, reg: Registry, repo: Repository, upload_id: str) -> None:
        """Drop an upload session and what it received."""
        session = self.get_upload(reg, repo, upload_id)
        with session.lock:
            session.discard()
        reg.uploads.pop(upload_id, None)

    def store_blob(self, reg: Registry, repo: Repository, blob: Blob) -> Blob:
        """Keep ``blob`` in the registry (once per digest) and make it known to ``repo``."""
        with self.lock:
            kept = reg.blobs.setdefault(blob.digest, blob)
            repo.blobs.add(blob.digest)
        return kept

    def layer_available(self, reg: Registry, repo: Repository, digest: str) -> Blob | None:
        """The blob when the repository can serve ``digest`` (uploaded, mounted or referenced)."""
        if digest in repo.blobs:
            return reg.blobs.get(digest)
        return None

    def get_blob(self, reg: Registry, repo: Repository, digest: str) -> Blob:
        """A blob the repository can serve; BlobUnknown otherwise."""
        blob = self.layer_available(reg, repo, digest)
        if blob is None:
            raise BlobUnknown(digest)
        return blob

    def download_layer(self, reg: Registry, repo: Repository, digest: str) -> Blob:
        """GetDownloadUrlForLayer: only layers an image of the repository references."""
        blob = reg.blobs.get(digest)
        if blob is None or digest not in repo.referenced_blobs():
            raise LayerInaccessible(digest, repo.name, reg.account)
        return blob

    def mount_blob(
        self, reg: Registry, source: Repository, target: Repository, digest: str
    ) -> Blob | None:
        """Cross-repository mount: the blob when an image of ``source`` references it."""
        blob = reg.blobs.get(digest)
        if blob is None or digest not in source.referenced_blobs():
            return None
        with self.lock:
            target.blobs.add(digest)
        return blob

    def delete_blob(self, reg: Registry, repo: Repository, digest: str) -> None:
        """Forget a blob in a repository (``/v2/`` blob DELETE); BlobUnknown when unknown."""
        with self.lock:
            if digest not in repo.blobs:
                raise BlobUnknown(digest)
            repo.blobs.discard(digest)

    # ----- helpers for listings ----------------------------------------------------------------

    def images_referenced_by_indexes(self, repo: Repository) -> set[str]:
        """Digests referenced by manifest lists/indexes of ``repo``."""
        return repo.referenced_manifests()

    def all_repositories(self, registries: Iterable[Registry] | None = None) -> list[Repository]:
        """Every repository of the given registries (default: all)."""
        regs = registries if registries is not None else list(self.registries.values())
        return [repo for reg in regs for repo in reg.repositories.values()]
