"""Images: id and reference lookup and checks, put, delete, untag, pulls, the manifest served."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import IO

from ecr_mock.domain.errors import (
    DigestInvalid,
    DigestMalformed,
    ImageAlreadyExists,
    ImageArchived,
    ImageDeleteFailure,
    ImageDigestDoesNotMatch,
    ImageNotFound,
    ImageTagAlreadyExists,
    InvalidParameter,
    ItemFailure,
    LayersNotFound,
    LimitExceeded,
    ManifestInvalid,
    ReferencedImagesNotFound,
    SizeInvalid,
    TagInvalid,
    UnsupportedImageType,
)
from ecr_mock.domain.manifests import (
    DOCKER_MANIFEST,
    INDEX_TYPES,
    MAX_MANIFEST_BYTES,
    OCI_MANIFEST,
    SCHEMA1_TYPES,
    Descriptor,
    Manifest,
    digest_of,
    parse_manifest,
)
from ecr_mock.domain.models import ACTIVE, ARCHIVED, STANDARD, Image, Registry, Repository
from ecr_mock.domain.names import check_tag, is_digest, is_valid_tag
from ecr_mock.services.reclaim import note_released
from ecr_mock.store.state import Store

MAX_TAGS_PER_IMAGE = 1000
MAX_IMAGES_PER_REPOSITORY = 100_000
DEFAULT_PLATFORM = ("linux", "amd64")


def _find(repo: Repository, digest: str | None, tag: str | None) -> Image | str:
    """The image an id (digest and/or tag) names, or why none: the ECR failure code
    (``ImageNotFound``, or ``ImageTagDoesNotMatchDigest`` for a tag on another image)."""
    if tag is not None:
        tagged = repo.tags.get(tag)
        if tagged is None:
            return "ImageNotFound"
        if digest is not None and digest != tagged:
            return "ImageTagDoesNotMatchDigest"
        digest = tagged
    return repo.images.get(digest or "") or "ImageNotFound"


def find_image(
    store: Store, repo: Repository, *, digest: str | None = None, tag: str | None = None
) -> Image:
    """The image with ``digest`` and/or ``tag``; ImageNotFound (naming the id) otherwise."""
    found = _find(repo, digest, tag)
    if isinstance(found, Image):
        return found
    shown = f"imageDigest:'{digest or 'null'}', imageTag:'{tag or 'null'}'"
    raise ImageNotFound(
        f"The image with imageId {{{shown}}} does not exist within the repository with name "
        f"'{repo.name}' in the registry with id '{repo.account}'"
    )


def resolve_reference(store: Store, repo: Repository, reference: str) -> Image:
    """The image a ``/v2/`` reference (tag or digest) names."""
    if ":" in reference:
        return find_image(store, repo, digest=reference)
    return find_image(store, repo, tag=reference)


def put_image(
    store: Store,
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
    with store.lock:
        existing = repo.images.get(digest)
        old_digest = repo.tags.get(tag) if tag is not None else None
        restored = existing is not None and _restore_on_push(store, existing)
        if existing is not None and (tag is None or old_digest == digest):
            if idempotent or restored:
                return existing
            raise ImageAlreadyExists(digest, tag, repo.name, repo.account)
        if tag is not None and old_digest is not None and repo.tag_is_immutable(tag):
            raise ImageTagAlreadyExists(tag, repo.name)
        if existing is None:
            if not store.allow_missing_layers:
                _check_references(store, reg, repo, parsed)
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
            pushed_at=store.now(),
            size=_image_size(repo, parsed),
        )
        if existing is None:
            repo.images[digest] = image
            repo.index_image(image)
        if tag is not None:
            if old_digest is not None and old_digest != digest:
                _drop_tag(repo, tag)
            repo.tags[tag] = digest
            image.tags.append(tag)
    store.emit(
        "image-pushed",
        {"repository": repo, "image": image, "tag": tag, "new": existing is None},
    )
    return image


def _restore_on_push(store: Store, image: Image) -> bool:
    """Pushing an archived image again restores it at once (ECR's documented behaviour)."""
    if image.status != ARCHIVED:
        return False
    image.storage_class = STANDARD
    image.status = ACTIVE
    image.last_activated_at = store.now()
    return True


def _check_references(store: Store, reg: Registry, repo: Repository, parsed: Manifest) -> None:
    if parsed.is_index:
        missing = [c.digest for c in parsed.manifests if c.digest not in repo.images]
        if missing:
            raise ReferencedImagesNotFound(missing)
        return
    absent = [d for d in parsed.stored_blob_digests() if d not in reg.blobs or d not in repo.blobs]
    if absent:
        raise LayersNotFound(absent, repo.name, repo.account)


def _image_size(repo: Repository, parsed: Manifest) -> int:
    """``imageSizeInBytes``: the layers' descriptor sizes; an index, its largest image.

    moto leaves the field out for a manifest list (getmoto/moto#5753 reasons from the console,
    not from an API answer); the project's ECR notes give an index the size of its largest
    image, so that stays. An image missing from the repository (only with
    ``allow_missing_layers``) counts for nothing.
    """
    if parsed.is_index:
        sizes = [repo.images[c.digest].size for c in parsed.manifests if c.digest in repo.images]
        return max(sizes, default=0)
    return parsed.layer_size()


def _drop_tag(repo: Repository, tag: str) -> None:
    digest = repo.tags.pop(tag, None)
    if digest is not None and digest in repo.images:
        tags = repo.images[digest].tags
        if tag in tags:
            tags.remove(tag)


def delete_image(
    store: Store, repo: Repository, *, digest: str | None = None, tag: str | None = None
) -> Image:
    """BatchDeleteImage for one id: by digest removes the image, by tag removes the tag.

    Removing the last tag of an image removes the image, as ECR does; ImageDeleteFailure with
    its code otherwise.
    """
    with store.lock:
        try:
            image = lookup_image_id(store, repo, digest, tag)
        except ItemFailure as failure:
            raise ImageDeleteFailure(failure.failure_code, failure.message) from None
        if tag is not None and len(image.tags) > 1:
            _drop_tag(repo, tag)
            store.emit("tag-removed", {"repository": repo, "image": image, "tag": tag})
            return image
        parents = sorted(repo.parents.get(image.digest, ()))
        if parents:
            raise ImageDeleteFailure(
                "ImageReferencedByManifestList",
                f"Requested image referenced by manifest list: {parents}",
            )
        _remove_image(store, repo, image)
    store.emit("image-deleted", {"repository": repo, "image": image})
    return image


def _remove_image(store: Store, repo: Repository, image: Image) -> None:
    for tag in list(image.tags):
        repo.tags.pop(tag, None)
    del repo.images[image.digest]
    repo.unindex_image(image)
    note_released(store, repo, image)


def untag(store: Store, repo: Repository, tag: str) -> Image:
    """Remove a tag only (``/v2/`` tag DELETE); the image stays, untagged if it was the last."""
    with store.lock:
        digest = repo.tags.get(tag)
        if digest is None:
            raise ImageNotFound()
        _drop_tag(repo, tag)
        image = repo.images[digest]
    store.emit("tag-removed", {"repository": repo, "image": image, "tag": tag})
    return image


def delete_manifest(store: Store, repo: Repository, digest: str) -> Image:
    """Remove an image and every tag on it (``/v2/`` manifest DELETE by digest)."""
    with store.lock:
        image = repo.images.get(digest)
        if image is None:
            raise ImageNotFound()
        _remove_image(store, repo, image)
    store.emit("image-deleted", {"repository": repo, "image": image})
    return image


def check_pullable(image: Image) -> None:
    """Raise ImageArchived for an image that cannot be pulled (archived or restoring).

    Every way of reading an image (GET and HEAD of a manifest, BatchGetImage) asks this first,
    so a client that checks with HEAD learns what GET would answer.
    """
    if not image.pullable():
        raise ImageArchived(image.digest)


def record_pull(
    store: Store, repo: Repository, image: Image, principal_arn: str | None = None
) -> None:
    """Note a pull: ``lastRecordedPullTime``; archived images cannot be pulled.

    A pull by a principal on the registry's pull-time update exclusion list leaves
    ``lastRecordedPullTime`` unchanged.
    """
    check_pullable(image)
    excluded = store.registry(repo.account, repo.region).pull_time_update_exclusions
    if principal_arn is None or principal_arn not in excluded:
        image.last_pulled_at = store.now()
    store.emit("image-pulled", {"repository": repo, "image": image})


def select_manifest(
    store: Store, repo: Repository, image: Image, accepted: Collection[str] | None
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


def layer_media_type(store: Store, repo: Repository, digest: str) -> str | None:
    """The media type the newest image of ``repo`` referencing blob ``digest`` gives it."""
    return repo.layer_types.get(digest)


def images_referenced_by_indexes(store: Store, repo: Repository) -> set[str]:
    """Digests referenced by manifest lists/indexes of ``repo``."""
    return repo.referenced_manifests()


# ----- ``/v2/`` references: ``<tag>`` or ``<digest>`` ----------------------------------------------

_SINGLE_IMAGE_TYPES = frozenset({DOCKER_MANIFEST, OCI_MANIFEST})


def checked_digest(value: str) -> str:
    """``value`` when it is a well-formed sha256/sha512 digest; DigestMalformed otherwise."""
    if not is_digest(value):
        raise DigestMalformed(value)
    return value


def _checked_tag(value: str) -> str:
    if not is_valid_tag(value):
        raise TagInvalid(value)
    return value


def find_reference(store: Store, repo: Repository, reference: str) -> Image:
    """The image a ``/v2/`` reference names; ImageNotFound (worded as the registry words it,
    without the image id) for an unknown or a malformed one."""
    valid = is_digest(reference) if ":" in reference else is_valid_tag(reference)
    if not valid:
        raise ImageNotFound()
    try:
        return resolve_reference(store, repo, reference)
    except ImageNotFound:
        raise ImageNotFound() from None


@dataclass(frozen=True)
class ManifestTarget:
    """Where a ``/v2/`` manifest PUT stores: by ``digest`` (with ``tags``, from ``?tag=``), or
    under its one tag (``digest`` None)."""

    digest: str | None
    tags: tuple[str, ...]


def manifest_target(reference: str, extra_tags: Collection[str] = ()) -> ManifestTarget:
    """The checked target of ``PUT /v2/<name>/manifests/<reference>[?tag=...]``: DigestMalformed
    or TagInvalid for a malformed part (``extra_tags`` count only with a digest reference and
    are ignored, unchecked, with a tag)."""
    if ":" in reference:
        return ManifestTarget(checked_digest(reference), tuple(_checked_tag(t) for t in extra_tags))
    return ManifestTarget(None, (_checked_tag(reference),))


def push_manifest(
    store: Store,
    reg: Registry,
    repo: Repository,
    manifest: bytes,
    target: ManifestTarget,
    media_type: str | None = None,
) -> Image:
    """A ``/v2/`` manifest PUT: store idempotently at ``target``. With a digest, every extra tag
    is checked against immutability before anything is stored (no image half tagged)."""
    if target.digest is None:
        return put_image(
            store, reg, repo, manifest, tag=target.tags[0], media_type=media_type, idempotent=True
        )
    with store.lock:
        for tag in target.tags:
            current = repo.tags.get(tag)
            if current is not None and current != target.digest and repo.tag_is_immutable(tag):
                raise ImageTagAlreadyExists(tag, repo.name)
    image = put_image(
        store, reg, repo, manifest, media_type=media_type, digest=target.digest, idempotent=True
    )
    for tag in target.tags:
        put_image(
            store,
            reg,
            repo,
            manifest,
            tag=tag,
            media_type=media_type,
            digest=image.digest,
            idempotent=True,
        )
    return image


def delete_reference(store: Store, repo: Repository, reference: str) -> Image:
    """A ``/v2/`` manifest DELETE: by digest the image and its tags, by tag the tag only."""
    if ":" in reference:
        return delete_manifest(store, repo, checked_digest(reference))
    return untag(store, repo, _checked_tag(reference))


def read_manifest(stream: IO[bytes], length: int | None) -> bytes:
    """A manifest body of declared ``length`` (None: to the end of the stream), read up to one
    byte past the largest manifest (so parsing refuses an oversized one without reading it
    all); SizeInvalid when the stream ends before the declared length."""
    limit = MAX_MANIFEST_BYTES + 1 if length is None else min(length, MAX_MANIFEST_BYTES + 1)
    chunks: list[bytes] = []
    received = 0
    while received < limit:
        chunk = stream.read(limit - received)
        if not chunk:
            break
        chunks.append(chunk)
        received += len(chunk)
    if length is not None and received < min(length, limit):
        raise SizeInvalid(f"The manifest body ended after {received} of {length} bytes")
    return b"".join(chunks)


def serves(image: Image, accepted: Collection[str]) -> bool:
    """Whether a ``/v2/`` GET serves ``image`` to a client accepting ``accepted`` media types
    (lower case, without parameters): always, except an index to a client that names only
    single-image manifest types (it could not use one; ECR does not convert)."""
    wanted = set(accepted)
    if image.media_type not in INDEX_TYPES or not wanted:
        return True
    if wanted & INDEX_TYPES or image.media_type in wanted:
        return True
    return not wanted <= (_SINGLE_IMAGE_TYPES | SCHEMA1_TYPES)


# ----- image ids as the ECR API names them: syntax, per-id failures, listings -------------------

ECR_DIGEST_RE = re.compile(r"[a-zA-Z0-9\-_+.]+:[a-fA-F0-9]+")
"""ECR's own digest syntax (the model's LayerDigest pattern): anything else is "invalid"; a
digest of that syntax that is not a sha256/sha512 one simply names no image."""
MISSING_DIGEST_AND_TAG = "Invalid request parameters: both tag and digest cannot be null"
INVALID_DIGEST = (
    "Invalid request parameters: image digest should satisfy the regex "
    "'[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'"
)
INVALID_TAG = (
    "Invalid request parameters: image tag should satisfy the regex '[a-zA-Z0-9-_.]+' "
    "and have length between 1 and 300"
)
TAG_DOES_NOT_MATCH = "Invalid request parameters: given tag does not map to the given digest"
NOT_FOUND = "Requested image not found"
NOT_PULLABLE = "The image is archived and cannot be pulled until it is restored"
MEDIA_TYPE_MISSING = "image manifest mediatype not provided in manifest or parameter"
"""ECR's answer (InvalidParameterException) to a schema 2 manifest without ``mediaType`` put
without ``imageManifestMediaType``: the text moto's ECR tests expect."""


def check_image_id(digest: str | None, tag: str | None) -> None:
    """The syntax checks ECR reports per image id (ItemFailure) rather than failing the call."""
    if digest is None and tag is None:
        raise ItemFailure("MissingDigestAndTag", MISSING_DIGEST_AND_TAG)
    if digest is not None and not ECR_DIGEST_RE.fullmatch(digest):
        raise ItemFailure("InvalidImageDigest", INVALID_DIGEST)
    if tag is not None and not is_valid_tag(tag):
        raise ItemFailure("InvalidImageTag", INVALID_TAG)


def lookup_image_id(store: Store, repo: Repository, digest: str | None, tag: str | None) -> Image:
    """The image an ECR image id (digest and/or tag) names; ItemFailure with its code otherwise."""
    check_image_id(digest, tag)
    found = _find(repo, digest, tag)
    if isinstance(found, Image):
        return found
    raise ItemFailure(
        found, TAG_DOES_NOT_MATCH if found == "ImageTagDoesNotMatchDigest" else NOT_FOUND
    )


def image_to_serve(
    store: Store,
    repo: Repository,
    digest: str | None,
    tag: str | None,
    accepted: Collection[str] | None,
) -> Image:
    """BatchGetImage for one id: the manifest to serve; ItemFailure (ImageInaccessible...)."""
    image = lookup_image_id(store, repo, digest, tag)
    if not image.pullable():
        raise ItemFailure("ImageInaccessible", NOT_PULLABLE)
    return select_manifest(store, repo, image, accepted)


def record_served_pull(
    store: Store, repo: Repository, image: Image, principal_arn: str | None
) -> None:
    """:func:`record_pull` for a batch: an image archived meanwhile is an ItemFailure."""
    try:
        record_pull(store, repo, image, principal_arn)
    except ImageArchived:
        raise ItemFailure("ImageInaccessible", NOT_PULLABLE) from None


def describe_image_id(store: Store, repo: Repository, digest: str | None, tag: str | None) -> Image:
    """DescribeImages for one named id: InvalidParameter for bad syntax, else ImageNotFound."""
    if digest is None and tag is None:
        raise InvalidParameter(MISSING_DIGEST_AND_TAG)
    if digest is not None and not ECR_DIGEST_RE.fullmatch(digest):
        raise InvalidParameter(INVALID_DIGEST)
    return find_image(store, repo, digest=digest, tag=tag)


def delete_image_id(
    store: Store, repo: Repository, digest: str | None, tag: str | None
) -> list[tuple[str, str | None]]:
    """BatchDeleteImage for one id: the (digest, tag) ids removed; ItemFailure otherwise.

    By tag removes that tag (and the image with its last tag); by digest the image and every
    tag on it, each reported.
    """
    check_image_id(digest, tag)
    if digest is not None and not is_digest(digest):
        raise ItemFailure("ImageNotFound", NOT_FOUND)
    known = repo.images.get(digest) if digest is not None and tag is None else None
    tags_before = list(known.tags) if known is not None else []
    image = delete_image(store, repo, digest=digest, tag=tag)
    if tag is not None:
        return [(image.digest, tag)]
    if tags_before:
        return [(image.digest, t) for t in tags_before]
    return [(image.digest, None)]


def put_api_image(
    store: Store,
    reg: Registry,
    repo: Repository,
    manifest_text: str,
    *,
    tag: str | None = None,
    media_type: str | None = None,
    digest: str | None = None,
) -> Image:
    """PutImage: ECR's checks of the manifest text, media type and digest, then :func:`put_image`.

    A schema 2 manifest without ``mediaType`` needs ``media_type``; ``digest`` must have ECR's
    syntax and, when not a sha256/sha512 one, cannot match; a manifest type ECR does not store
    is an InvalidParameter of ``imageManifestMediaType``.
    """
    try:
        manifest = manifest_text.encode("utf-8")
    except UnicodeEncodeError:
        raise ManifestInvalid("Invalid JSON syntax") from None
    if media_type is None:
        _require_media_type(manifest)
    if digest is not None:
        if not ECR_DIGEST_RE.fullmatch(digest):
            raise InvalidParameter(
                "Invalid parameter at 'imageDigest' failed to satisfy constraint: 'must satisfy "
                "regular expression '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+''"
            )
        if not is_digest(digest):
            raise ImageDigestDoesNotMatch(digest, digest_of(manifest, "sha256"))
    try:
        return put_image(store, reg, repo, manifest, tag=tag, media_type=media_type, digest=digest)
    except UnsupportedImageType as exc:  # not an error PutImage has in the model
        raise InvalidParameter(
            f"Invalid parameter at 'imageManifestMediaType' failed to satisfy constraint: "
            f"'{exc.message}'"
        ) from None


def _require_media_type(manifest: bytes) -> None:
    """A schema 2 manifest without ``mediaType`` needs ``imageManifestMediaType`` (ECR rule)."""
    try:
        doc = json.loads(manifest)
    except (ValueError, RecursionError):
        return  # put_image reports the syntax error
    if isinstance(doc, dict) and doc.get("schemaVersion") == 2 and "mediaType" not in doc:
        raise InvalidParameter(MEDIA_TYPE_MISSING)


def _status_matches(image: Image, wanted: str) -> bool:
    return wanted == "ANY" or image.status == wanted


def _tag_matches(image: Image, wanted: str) -> bool:
    if wanted == "TAGGED":
        return bool(image.tags)
    if wanted == "UNTAGGED":
        return not image.tags
    return True


def _id_entries(
    repo: Repository, tag_status: str, image_status: str
) -> Iterator[tuple[str, str | None]]:
    for image in repo.images.values():
        if not _status_matches(image, image_status):
            continue
        if image.tags:
            if tag_status != "UNTAGGED":
                for tag in image.tags:
                    yield image.digest, tag
        elif tag_status != "TAGGED":
            yield image.digest, None


def list_image_ids(
    store: Store, repo: Repository, tag_status: str, image_status: str, start: int, stop: int
) -> list[tuple[str, str | None]]:
    """ListImages entries ``[start, stop)`` in push order: one per tag, one per untagged image.

    ``tag_status`` is TAGGED, UNTAGGED or ANY; ``image_status`` an image status or ANY. Reads
    only as far as the page ends.
    """
    with store.lock:
        return list(islice(_id_entries(repo, tag_status, image_status), start, stop))


def list_images(
    store: Store, repo: Repository, tag_status: str, image_status: str, start: int, stop: int
) -> list[Image]:
    """DescribeImages' images ``[start, stop)`` in push order, filtered as :func:`list_image_ids`."""
    with store.lock:
        matching = (
            image
            for image in repo.images.values()
            if _status_matches(image, image_status) and _tag_matches(image, tag_status)
        )
        return list(islice(matching, start, stop))
