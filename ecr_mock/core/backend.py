"""The backend: all registries, the clock, tokens and identities, and the operations on them."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ecr_mock.core.blobs import Blob, UploadSession, new_upload
from ecr_mock.core.clock import Clock
from ecr_mock.core.errors import (
    BlobUnknown,
    DigestInvalid,
    EmptyUpload,
    ExclusionAlreadyExists,
    ExclusionNotFound,
    ImageAlreadyExists,
    ImageArchived,
    ImageDeleteFailure,
    ImageDigestDoesNotMatch,
    ImageNotFound,
    ImageTagAlreadyExists,
    InvalidLayer,
    InvalidLayerPart,
    InvalidParameter,
    InvalidTagParameter,
    KmsError,
    LayerAlreadyExists,
    LayerInaccessible,
    LayerPartTooSmall,
    LayersNotFound,
    LimitExceeded,
    ReferencedImagesNotFound,
    RepositoryAlreadyExists,
    RepositoryNotEmpty,
    RepositoryNotFound,
    TooManyTags,
    UploadNotFound,
)
from ecr_mock.core.manifests import Descriptor, Manifest, digest_of, parse_manifest
from ecr_mock.core.models import (
    IMMUTABLE,
    IMMUTABLE_WITH_EXCLUSION,
    MUTABLE,
    MUTABLE_WITH_EXCLUSION,
    Image,
    Principal,
    Registry,
    Repository,
)
from ecr_mock.core.names import (
    DEFAULT_ACCOUNT,
    DEFAULT_REGION,
    check_repository_name,
    check_tag,
    is_digest,
    is_valid_repository_name,
    parse_repository_arn,
    registry_host,
)
from ecr_mock.core.tokens import Token, TokenStore

if TYPE_CHECKING:
    from ecr_mock.core.access import IdentityProvider
    from ecr_mock.core.events import EventLog
    from ecr_mock.core.lifecycle import LifecycleAction
    from ecr_mock.core.lifecycle_runner import LifecycleScheduler
    from ecr_mock.core.policy import Policy
    from ecr_mock.core.services.seed import OperationCaller

LIFECYCLE_PERIOD = timedelta(hours=24)
"""How often stored lifecycle policies are applied (ECR acts within 24 hours)."""

MAX_TAGS_PER_IMAGE = 1000
MAX_IMAGES_PER_REPOSITORY = 100_000
MAX_REPOSITORIES = 100_000
MIN_PART_BYTES = 5 * 1024 * 1024
MAX_PART_BYTES = 20 * 1024 * 1024
PART_SIZE = 10 * 1024 * 1024
DEFAULT_PLATFORM = ("linux", "amd64")
MAX_PARTS = 4200
MAX_RESOURCE_TAGS = 50
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256
MAX_EXCLUSION_FILTERS = 5
TAG_MUTABILITIES = (MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION)
ENCRYPTION_TYPES = ("AES256", "KMS", "KMS_DSSE")
_EXCLUSION_FILTER_RE = re.compile(r"[0-9a-zA-Z._*-]{1,128}")
_KMS_ARN_RE = re.compile(r"arn:aws[a-z-]*:kms:(?P<region>[a-z0-9-]+):[0-9]{12}:.+")
_TAG_LENGTH_MESSAGE = (
    "An invalid parameter has been specified. Tag keys can have a maximum character length "
    f"of {MAX_TAG_KEY} characters, and tag values can have a maximum length of "
    f"{MAX_TAG_VALUE} characters."
)

Listener = Callable[[str, dict[str, Any]], None]


class Backend:
    """Every registry of every account and region, sharing one clock and one token store."""

    def __init__(
        self,
        account_id: str = DEFAULT_ACCOUNT,
        region: str = DEFAULT_REGION,
        clock: Clock | None = None,
        *,
        allow_missing_layers: bool = False,
    ) -> None:
        self.default_account = account_id
        self.default_region = region
        self.clock = clock or Clock()
        self.tokens = TokenStore(self.clock)
        self.lock = threading.RLock()
        self.registries: dict[tuple[str, str], Registry] = {}
        self.access_keys: dict[str, Principal] = {}
        self.identity_provider: IdentityProvider | None = None
        """Where identities and their policies come from first (moto's IAM is consulted after)."""
        self.strict_credentials = False
        """Refuse unknown access keys (``UnrecognizedClientException``) instead of using root."""
        self.allow_missing_layers = allow_missing_layers
        """Accept manifests naming blobs never uploaded and indexes naming images never pushed.

        Off by default, as in ECR (``LayersNotFoundException``,
        ``ReferencedImagesNotFoundException``). On, it is the bridge for suites written against
        moto, which never checks: the image is stored exactly as pushed (digest, media type,
        tags, immutability and policies unchanged), its size comes from the manifest's
        descriptors, and a missing blob stays missing (``BLOB_UNKNOWN`` on ``/v2/``).
        """
        self.public_endpoint: str | None = None
        """``HOST:PORT`` of a live server sharing this backend; None for ``*.amazonaws.com``."""
        self.public_scheme = "https"
        self.listeners: list[Listener] = []
        self.operation_caller: OperationCaller | None = None
        """Makes ECR API calls in-process for ``seed`` (attached by mock_ecr and the server)."""
        self.extra: dict[str, Any] = {}
        self._events: EventLog | None = None
        self._lifecycle: LifecycleScheduler | None = None
        self._lifecycle_epoch = self.clock.now()
        self._scan_on_push: Listener | None = None
        self.listeners.append(self._on_core_event)

    # ----- parts made on first use (a fresh process pays only for what it uses) --------------

    @property
    def events(self) -> EventLog:
        """ECR's EventBridge events recorded so far: ``events.all()``, ``events.of_type(...)``."""
        if self._events is None:
            from ecr_mock.core.events import EventLog

            with self.lock:
                if self._events is None:
                    self._events = EventLog(backend=self)
        return self._events

    @property
    def lifecycle(self) -> LifecycleScheduler:
        """Applies lifecycle policies as time passes; ``tick()`` runs it, a server ``start()``s it."""
        if self._lifecycle is None:
            from ecr_mock.core.lifecycle_runner import LifecycleScheduler

            with self.lock:
                if self._lifecycle is None:
                    scheduler = LifecycleScheduler(self, period=LIFECYCLE_PERIOD)
                    scheduler.last_run = self._lifecycle_epoch
                    self._lifecycle = scheduler
        return self._lifecycle

    def _on_core_event(self, kind: str, detail: dict[str, Any]) -> None:
        """Record every core event as an ECR event, and scan new images that scan on push."""
        self.events.on_backend_event(kind, detail)
        if kind == "image-pushed" and detail.get("new"):
            if self._scan_on_push is None:
                from ecr_mock.core.scanning import ScanOnPush

                self._scan_on_push = ScanOnPush(self)
            self._scan_on_push(kind, detail)

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
        """The principal behind an access key: registered, known to an identity provider, else
        the default root (Unauthenticated instead when ``strict_credentials`` is set)."""
        from ecr_mock.core.access import resolve_principal

        return resolve_principal(self, access_key)

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

    # ----- state operations (the control API's, in-process) ------------------------------------

    def reset(self, account_id: str | None = None) -> None:
        """Empty all state (or one account's registries and tokens); configuration stays."""
        from ecr_mock.core.services import admin

        admin.reset(self, account_id)

    def state(self) -> dict[str, Any]:
        """A JSON-ready summary: registries, repositories, images (digest, tags, size...)."""
        from ecr_mock.core.services import admin

        return admin.summary(self)

    def issue_token(
        self,
        principal_arn: str | None = None,
        account_id: str | None = None,
        region: str | None = None,
    ) -> Token:
        """A registry token for any IAM principal (default: the account root)."""
        from ecr_mock.core.services import admin

        return admin.issue_token(self, principal_arn, account_id, region)

    def seed(self, doc: Mapping[str, Any], base_dir: str | None = None) -> dict[str, Any]:
        """Apply a seed document (see ``ecr_mock.core.services.seed``) all or nothing.

        Returns what was created; SeedError (with the bad field's path) creates nothing.
        Image paths are read relative to ``base_dir`` (default: the working directory); a
        YAML or JSON file loads with ``ecr_mock.seeding.load_seed_file``.
        """
        from ecr_mock.core.services import seed

        return seed.apply_seed(self, doc, base_dir=base_dir)

    # ----- time-driven work: lifecycle policies, restores ------------------------------------

    def tick(self) -> list[LifecycleAction]:
        """Run what the clock says is due (cheap; meant for the start of every request).

        Completes restores whose 20 minutes have passed and, once the clock is 24 h past the
        last evaluation, applies every lifecycle policy; returns the lifecycle actions taken.
        """
        if self._lifecycle is None:
            now = self.clock.now()
            if self._lifecycle_epoch <= now < self._lifecycle_epoch + LIFECYCLE_PERIOD:
                return []
        return self.lifecycle.tick()

    def apply_lifecycle_policies(
        self, registry: Registry | None = None, repository: Repository | None = None
    ) -> list[LifecycleAction]:
        """Apply the stored lifecycle policies now (all, one registry's or one repository's)."""
        from ecr_mock.core.lifecycle_runner import apply_lifecycle

        return apply_lifecycle(self, registry, repository)

    def update_image_storage_class(
        self, repo: Repository, image: Image, target: str, tag: str | None = None
    ) -> Image:
        """UpdateImageStorageClass: ``ARCHIVE`` archives, ``STANDARD`` starts a 20-minute restore."""
        from ecr_mock.core.lifecycle_runner import update_storage_class

        self.lifecycle  # noqa: B018  (restores complete on the scheduler's ticks)
        return update_storage_class(self, repo, image, target, tag)

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
            restored = existing is not None and self._restore_on_push(existing)
            if existing is not None and (tag is None or old_digest == digest):
                if idempotent or restored:
                    return existing
                raise ImageAlreadyExists(digest, tag, repo.name, repo.account)
            if tag is not None and old_digest is not None and repo.tag_is_immutable(tag):
                raise ImageTagAlreadyExists(tag, repo.name)
            if existing is None:
                if not self.allow_missing_layers:
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
                repo.index_image(image)
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

    def _restore_on_push(self, image: Image) -> bool:
        """Pushing an archived image again restores it at once (ECR's documented behaviour)."""
        if image.status != "ARCHIVED":
            return False
        image.storage_class = "STANDARD"
        image.status = "ACTIVE"
        image.last_activated_at = self.now()
        return True

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
                    self.emit("tag-removed", {"repository": repo, "image": image, "tag": tag})
                    return image
                digest = target
            found = repo.images.get(digest or "")
            if found is None:
                raise ImageDeleteFailure("ImageNotFound", "Requested image not found")
            image = found
            parents = sorted(repo.parents.get(image.digest, ()))
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
        repo.unindex_image(image)

    def untag(self, repo: Repository, tag: str) -> Image:
        """Remove a tag only (``/v2/`` tag DELETE); the image stays, untagged if it was the last."""
        with self.lock:
            digest = repo.tags.get(tag)
            if digest is None:
                raise ImageNotFound()
            self._drop_tag(repo, tag)
            image = repo.images[digest]
        self.emit("tag-removed", {"repository": repo, "image": image, "tag": tag})
        return image

    def delete_manifest(self, repo: Repository, digest: str) -> Image:
        """Remove an image and every tag on it (``/v2/`` manifest DELETE by digest)."""
        with self.lock:
            image = repo.images.get(digest)
            if image is None:
                raise ImageNotFound()
            self._remove_image(repo, image)
        self.emit("image-deleted", {"repository": repo, "image": image})
        return image

    def record_pull(self, repo: Repository, image: Image, principal_arn: str | None = None) -> None:
        """Note a pull: ``lastRecordedPullTime``; archived images cannot be pulled.

        A pull by a principal on the registry's pull-time update exclusion list leaves
        ``lastRecordedPullTime`` unchanged.
        """
        if image.storage_class == "ARCHIVE" or image.status != "ACTIVE":
            raise ImageArchived(image.digest)
        excluded = self.registry(repo.account, repo.region).pull_time_update_exclusions
        if principal_arn is None or principal_arn not in excluded:
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
        self, reg: Registry, repo: Repository, upload_id: str, digests: list[str]
    ) -> str:
        """CompleteLayerUpload: check the digest and store the blob in the registry."""
        session = self.get_upload(reg, repo, upload_id)
        with session.lock:
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
        if blob is None or not repo.references_blob(digest):
            raise LayerInaccessible(digest, repo.name, reg.account)
        return blob

    def mount_blob(
        self, reg: Registry, source: Repository, target: Repository, digest: str
    ) -> Blob | None:
        """Cross-repository mount: the blob when an image of ``source`` references it."""
        blob = reg.blobs.get(digest)
        if blob is None or not source.references_blob(digest):
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

    def select_manifest(
        self, repo: Repository, image: Image, accepted: Collection[str] | None
    ) -> Image:
        """The manifest to serve for ``image`` to a client accepting ``accepted`` media types.

        The image itself when no list is given or its type is accepted. A manifest list or index
        whose type is not accepted yields its linux/amd64 entry (else its first entry) of an
        accepted type held by the repository. Otherwise the image unchanged: ECR answers with
        what it has when it cannot convert.
        """
        wanted = {item.split(";")[0].strip() for item in accepted or ()}
        if not wanted or image.media_type in wanted or not image.parsed.is_index:
            return image
        candidates = [
            child
            for child in image.parsed.manifests
            if child.media_type in wanted and child.digest in repo.images
        ]
        if not candidates:
            return image

        def rank(child: Descriptor) -> int:
            platform = child.platform or {}
            found = (platform.get("os"), platform.get("architecture"))
            return 0 if found == DEFAULT_PLATFORM else 1

        return repo.images[min(candidates, key=rank).digest]

    def layer_media_type(self, repo: Repository, digest: str) -> str | None:
        """The media type the newest image of ``repo`` referencing blob ``digest`` gives it."""
        return repo.layer_types.get(digest)

    # ----- helpers for listings ----------------------------------------------------------------

    def images_referenced_by_indexes(self, repo: Repository) -> set[str]:
        """Digests referenced by manifest lists/indexes of ``repo``."""
        return repo.referenced_manifests()

    def all_repositories(self, registries: Iterable[Registry] | None = None) -> list[Repository]:
        """Every repository of the given registries (default: all)."""
        regs = registries if registries is not None else list(self.registries.values())
        return [repo for reg in regs for repo in reg.repositories.values()]

    # ----- repository settings, resource tags, policies ------------------------------------------

    @staticmethod
    def check_tag_mutability(
        mutability: str, filters: list[dict[str, str]] | None
    ) -> list[dict[str, str]]:
        """Validate a tag mutability and its exclusion filters; returns the filters to store.

        ``*_WITH_EXCLUSION`` needs 1-5 WILDCARD filters (ECR: "can't be null"); MUTABLE and
        IMMUTABLE take none (the "must be null" wording is this emulator's).
        """
        if mutability not in TAG_MUTABILITIES:
            raise InvalidParameter(
                "Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member "
                "must satisfy enum value set: [" + ", ".join(TAG_MUTABILITIES) + "]'"
            )
        where = (
            "Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint"
        )
        with_exclusion = mutability in (IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION)
        if with_exclusion and not filters:
            raise InvalidParameter(
                f"{where}: 'ImageTagMutabilityExclusionFilters can't be null when "
                f"imageTagMutability is set as {mutability}'"
            )
        if not with_exclusion:
            if filters is not None:
                raise InvalidParameter(
                    f"{where}: 'ImageTagMutabilityExclusionFilters must be null when "
                    f"imageTagMutability is set as {mutability}'"
                )
            return []
        kept: list[dict[str, str]] = []
        for item in filters or []:
            kind, value = item.get("filterType"), item.get("filter")
            if kind != "WILDCARD":
                raise InvalidParameter(
                    f"{where}: 'Invalid value for 'filterType' in mutability exclusion filter: "
                    f"{kind}'"
                )
            if not isinstance(value, str) or not _EXCLUSION_FILTER_RE.fullmatch(value):
                raise InvalidParameter(
                    f"{where}: 'Member must satisfy regular expression pattern: "
                    "^[0-9a-zA-Z._*-]{1,128}$'"
                )
            kept.append({"filterType": kind, "filter": value})
        if len(kept) > MAX_EXCLUSION_FILTERS:
            raise InvalidParameter(
                f"{where}: 'Member must have length less than or equal to {MAX_EXCLUSION_FILTERS}'"
            )
        return kept

    def set_tag_mutability(
        self, repo: Repository, mutability: str, filters: list[dict[str, str]] | None
    ) -> None:
        """PutImageTagMutability: validate, then replace the setting and its filters."""
        kept = self.check_tag_mutability(mutability, filters)
        with self.lock:
            repo.tag_mutability = mutability
            repo.mutability_exclusions = kept

    def resolve_encryption(self, reg: Registry, config: Mapping[str, Any] | None) -> dict[str, str]:
        """The ``encryptionConfiguration`` a new repository gets (AES256 by default).

        KMS/KMS_DSSE without ``kmsKey`` use the registry's AWS managed key (one stable
        ``arn:aws:kms:<region>:<account>:key/<uuid>`` per registry); a given key is echoed.
        """
        if not config:
            return {"encryptionType": "AES256"}
        kind = config.get("encryptionType")
        key = config.get("kmsKey")
        if kind not in ENCRYPTION_TYPES:
            raise InvalidParameter(
                "Invalid parameter at 'encryptionType' failed to satisfy constraint: 'Member must "
                "satisfy enum value set: [" + ", ".join(ENCRYPTION_TYPES) + "]'"
            )
        if kind == "AES256":
            if key is not None:
                raise InvalidParameter(
                    "Invalid parameter at 'encryptionConfiguration' failed to satisfy constraint: "
                    "'kmsKey can only be specified when encryptionType is KMS or KMS_DSSE'"
                )
            return {"encryptionType": kind}
        if key is None:
            with self.lock:
                managed = reg.extra.setdefault(
                    "aws_managed_kms_key",
                    f"arn:aws:kms:{reg.region}:{reg.account}:key/{uuid.uuid4()}",
                )
            return {"encryptionType": str(kind), "kmsKey": str(managed)}
        match = _KMS_ARN_RE.fullmatch(str(key))
        if match is not None and match["region"] != reg.region:
            raise KmsError(
                f"The KMS key '{key}' is not in the region of the repository ('{reg.region}')",
                kmsError="NotFoundException",
            )
        return {"encryptionType": str(kind), "kmsKey": str(key)}

    @staticmethod
    def check_resource_tags(
        tags: Mapping[str, str], existing: Mapping[str, str] | None = None
    ) -> None:
        """ECR's resource tag rules: keys 1-128, values 0-256, no ``aws:`` keys, at most 50."""
        for key, value in tags.items():
            if not 1 <= len(key) <= MAX_TAG_KEY or len(value) > MAX_TAG_VALUE:
                raise InvalidTagParameter(_TAG_LENGTH_MESSAGE)
            if key.lower().startswith("aws:"):
                raise InvalidTagParameter(
                    "An invalid parameter has been specified. Tag keys prefixed with 'aws:' are "
                    "reserved for use by AWS."
                )
        total = len(set(tags) | set(existing or {}))
        if total > MAX_RESOURCE_TAGS:
            raise TooManyTags(
                f"A resource can have at most {MAX_RESOURCE_TAGS} tags; the request would leave "
                f"{total} tags on it."
            )

    def tag_repository(self, repo: Repository, tags: Mapping[str, str]) -> None:
        """TagResource: add or overwrite tags (all or nothing)."""
        with self.lock:
            self.check_resource_tags(tags, repo.resource_tags)
            repo.resource_tags.update(tags)

    def untag_repository(self, repo: Repository, keys: Iterable[str]) -> None:
        """UntagResource: remove tags; absent keys are ignored, ``aws:`` keys refused."""
        keys = list(keys)
        for key in keys:
            if key.lower().startswith("aws:"):
                raise InvalidTagParameter(
                    "An invalid parameter has been specified. Tag keys prefixed with 'aws:' are "
                    "reserved for use by AWS."
                )
        with self.lock:
            for key in keys:
                repo.resource_tags.pop(key, None)

    def repository_by_arn(self, arn: str, region: str) -> Repository:
        """The repository a resource ARN names, for a call made in ``region``.

        InvalidParameterException for anything but a repository ARN of that region (ECR says
        "The ARN provided is invalid."); RepositoryNotFoundException when it does not exist.
        """
        ref = parse_repository_arn(arn)
        if ref is None or ref.region != region or not is_valid_repository_name(ref.name):
            raise InvalidParameter("The ARN provided is invalid.")
        reg = self.registry(ref.account, ref.region)
        return self.get_repository(reg, ref.name)

    @staticmethod
    def policy_locks_out(
        policy: Policy, principal: Principal, resource_arn: str, action: str
    ) -> bool:
        """Whether resource policy ``policy`` explicitly denies ``principal`` ``action``.

        SetRepositoryPolicy without ``force`` refuses such a policy: the caller could not
        replace it afterwards.
        """
        from ecr_mock.core.policy import AuthzRequest, evaluate
        from ecr_mock.core.policy import Principal as IamPrincipal

        try:
            caller = IamPrincipal.from_arn(principal.arn, tags=dict(principal.tags))
        except ValueError:
            caller = IamPrincipal.for_root(principal.account_id)
        request = AuthzRequest(action=action, resource=resource_arn, principal=caller)
        decision = evaluate(request, [], [policy])
        return decision.reason == "explicit_deny"

    # ----- account settings, pull-time update exclusions -----------------------------------------

    def account_setting(self, reg: Registry, name: str) -> str:
        """The value of account setting ``name`` (its default when never set)."""
        check_account_setting(name)
        return reg.settings.get(name, ACCOUNT_SETTING_DEFAULTS[name])

    def put_account_setting(self, reg: Registry, name: str, value: str) -> str:
        """Set account setting ``name``; InvalidParameter for unknown names or values."""
        check_account_setting(name, value)
        with self.lock:
            reg.settings[name] = value
        return value

    def register_pull_time_exclusion(self, reg: Registry, principal_arn: str) -> datetime:
        """Stop recording pull times for ``principal_arn``; returns when the exclusion began."""
        with self.lock:
            if principal_arn in reg.pull_time_update_exclusions:
                raise ExclusionAlreadyExists(principal_arn, reg.account)
            if len(reg.pull_time_update_exclusions) >= MAX_PULL_TIME_EXCLUSIONS:
                raise LimitExceeded(
                    "The maximum number of pull time update exclusions "
                    f"({MAX_PULL_TIME_EXCLUSIONS}) in the registry has been reached"
                )
            created = self.now()
            reg.pull_time_update_exclusions[principal_arn] = created
        return created

    def deregister_pull_time_exclusion(self, reg: Registry, principal_arn: str) -> None:
        """Record pull times for ``principal_arn`` again; ExclusionNotFound when not excluded."""
        with self.lock:
            if principal_arn not in reg.pull_time_update_exclusions:
                raise ExclusionNotFound(principal_arn, reg.account)
            del reg.pull_time_update_exclusions[principal_arn]


ACCOUNT_SETTING_VALUES: dict[str, tuple[str, ...]] = {
    "BASIC_SCAN_TYPE_VERSION": ("AWS_NATIVE", "CLAIR"),
    "REGISTRY_POLICY_SCOPE": ("V1", "V2"),
    "BLOB_MOUNTING": ("ENABLED", "DISABLED"),
}
ACCOUNT_SETTING_DEFAULTS: dict[str, str] = {
    "BASIC_SCAN_TYPE_VERSION": "AWS_NATIVE",
    "REGISTRY_POLICY_SCOPE": "V2",
    "BLOB_MOUNTING": "ENABLED",
}
"""What a registry that never called PutAccountSetting reports (and how the emulator acts)."""
MAX_PULL_TIME_EXCLUSIONS = 100


def check_account_setting(name: str, value: str | None = None) -> None:
    """InvalidParameter unless ``name`` (and ``value``, when given) is a known account setting."""
    allowed = ACCOUNT_SETTING_VALUES.get(name)
    if allowed is None:
        raise InvalidParameter(
            "Invalid parameter at 'name' failed to satisfy constraint: 'Member must satisfy enum "
            f"value set: [{', '.join(ACCOUNT_SETTING_VALUES)}]'"
        )
    if value is not None and value not in allowed:
        raise InvalidParameter(
            f"Invalid parameter at 'value' failed to satisfy constraint: 'Member must satisfy "
            f"enum value set for {name}: [{', '.join(allowed)}]'"
        )
