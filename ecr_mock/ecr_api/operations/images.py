"""Image operations: PutImage, BatchGetImage, BatchDeleteImage, ListImages, DescribeImages."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from ecr_mock.core.errors import (
    ImageArchived,
    ImageDeleteFailure,
    ImageDigestDoesNotMatch,
    InvalidParameter,
    ManifestInvalid,
    UnsupportedImageType,
)
from ecr_mock.core.manifests import sha256_digest
from ecr_mock.core.models import Image, Repository
from ecr_mock.core.names import is_digest, is_valid_tag
from ecr_mock.ecr_api.dispatch import Context, Params, Result, operation, paginate
from ecr_mock.ecr_api.serialize import image_detail, image_json

DEFAULT_PAGE = 100
MAX_PAGE = 1000
ACTIVE = "ACTIVE"

# ECR's own digest syntax (the model's LayerDigest pattern): anything else is "invalid";
# a digest of that syntax that is not a sha256/sha512 one simply names no image.
_ECR_DIGEST_RE = re.compile(r"[a-zA-Z0-9\-_+.]+:[a-fA-F0-9]+")

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
ARCHIVED = "The image is archived and cannot be pulled until it is restored"


class _Failure(Exception):
    """One image id of a batch call that cannot be served; ``code`` is its ``failureCode``."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _ids(image_id: dict[str, Any]) -> tuple[str | None, str | None]:
    digest = image_id.get("imageDigest") or None
    tag = image_id.get("imageTag") or None
    return digest, tag


def _echo(image_id: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in image_id.items() if k in ("imageDigest", "imageTag") and v}


def _failure(image_id: dict[str, Any], code: str, reason: str) -> dict[str, Any]:
    return {"imageId": _echo(image_id), "failureCode": code, "failureReason": reason}


def _check_id(digest: str | None, tag: str | None) -> None:
    """The syntax checks ECR reports per image id rather than failing the call."""
    if digest is None and tag is None:
        raise _Failure("MissingDigestAndTag", MISSING_DIGEST_AND_TAG)
    if digest is not None and not _ECR_DIGEST_RE.fullmatch(digest):
        raise _Failure("InvalidImageDigest", INVALID_DIGEST)
    if tag is not None and not is_valid_tag(tag):
        raise _Failure("InvalidImageTag", INVALID_TAG)


def _lookup(repo: Repository, image_id: dict[str, Any]) -> tuple[Image, str | None]:
    """The image an id names and the tag it was asked by; _Failure otherwise."""
    digest, tag = _ids(image_id)
    _check_id(digest, tag)
    if tag is not None:
        target = repo.tags.get(tag)
        if target is None:
            raise _Failure("ImageNotFound", NOT_FOUND)
        if digest is not None and digest != target:
            raise _Failure("ImageTagDoesNotMatchDigest", TAG_DOES_NOT_MATCH)
        digest = target
    image = repo.images.get(digest or "")
    if image is None:
        raise _Failure("ImageNotFound", NOT_FOUND)
    return image, tag


# ----- PutImage --------------------------------------------------------------------------------


MEDIA_TYPE_MISSING = "image manifest mediatype not provided in manifest or parameter"
"""ECR's answer (InvalidParameterException) to a schema 2 manifest without ``mediaType`` put
without ``imageManifestMediaType``: the text moto's ECR tests expect."""


def _require_media_type(manifest: bytes) -> None:
    """A schema 2 manifest without ``mediaType`` needs ``imageManifestMediaType`` (ECR rule)."""
    try:
        doc = json.loads(manifest)
    except (ValueError, RecursionError):
        return  # the core reports the syntax error
    if isinstance(doc, dict) and doc.get("schemaVersion") == 2 and "mediaType" not in doc:
        raise InvalidParameter(MEDIA_TYPE_MISSING)


@operation("PutImage")
def put_image(ctx: Context, params: Params) -> Result:
    """PutImage: store the manifest verbatim, tag it, answer with the manifest as given."""
    reg = ctx.registry(params)
    repo = ctx.repository(params, reg)
    try:
        manifest = str(params["imageManifest"]).encode("utf-8")
    except UnicodeEncodeError:
        raise ManifestInvalid("Invalid JSON syntax") from None
    media_type = params.get("imageManifestMediaType") or None
    if media_type is None:
        _require_media_type(manifest)
    digest = params.get("imageDigest") or None
    if digest is not None:
        if not _ECR_DIGEST_RE.fullmatch(digest):
            raise InvalidParameter(
                "Invalid parameter at 'imageDigest' failed to satisfy constraint: 'must satisfy "
                "regular expression '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+''"
            )
        if not is_digest(digest):
            raise ImageDigestDoesNotMatch(digest, sha256_digest(manifest))
    tag = params.get("imageTag")
    try:
        image = ctx.backend.put_image(
            reg, repo, manifest, tag=tag, media_type=media_type, digest=digest
        )
    except UnsupportedImageType as exc:  # not an error PutImage has in the model
        raise InvalidParameter(
            f"Invalid parameter at 'imageManifestMediaType' failed to satisfy constraint: "
            f"'{exc.message}'"
        ) from None
    return {"image": image_json(repo, image, tag)}


# ----- BatchGetImage ---------------------------------------------------------------------------


@operation("BatchGetImage")
def batch_get_image(ctx: Context, params: Params) -> Result:
    """BatchGetImage: manifests by tag or digest, per-id failures, pulls recorded."""
    reg = ctx.registry(params)
    repo = ctx.repository(params, reg)
    accepted = params.get("acceptedMediaTypes") or None
    images: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    seen: set[tuple[str, str | None]] = set()
    failed: set[tuple[str, str | None, str | None]] = set()
    for image_id in params["imageIds"]:
        try:
            image, tag = _lookup(repo, image_id)
            if not image.pullable():
                raise _Failure("ImageInaccessible", ARCHIVED)
            served = ctx.backend.select_manifest(repo, image, accepted)
            if (served.digest, tag) in seen:
                continue
            try:
                ctx.backend.record_pull(repo, served, ctx.principal.arn)
            except ImageArchived:
                raise _Failure("ImageInaccessible", ARCHIVED) from None
        except _Failure as exc:
            key = (exc.code, *_ids(image_id))
            if key not in failed:
                failed.add(key)
                failures.append(_failure(image_id, exc.code, exc.reason))
            continue
        seen.add((served.digest, tag))
        images.append(image_json(repo, served, tag))
    return {"images": images, "failures": failures}


# ----- BatchDeleteImage ------------------------------------------------------------------------


@operation("BatchDeleteImage")
def batch_delete_image(ctx: Context, params: Params) -> Result:
    """BatchDeleteImage: by digest removes the image, by tag the tag (and the image with its last)."""
    reg = ctx.registry(params)
    repo = ctx.repository(params, reg)
    deleted: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    done: set[tuple[str | None, str | None]] = set()
    for image_id in params["imageIds"]:
        digest, tag = _ids(image_id)
        if (digest, tag) in done:
            continue
        done.add((digest, tag))
        try:
            _check_id(digest, tag)
            if digest is not None and not is_digest(digest):
                raise _Failure("ImageNotFound", NOT_FOUND)
            known = repo.images.get(digest) if digest is not None and tag is None else None
            tags_before = list(known.tags) if known is not None else []
            image = ctx.backend.delete_image(repo, digest=digest, tag=tag)
        except _Failure as exc:
            failures.append(_failure(image_id, exc.code, exc.reason))
            continue
        except ImageDeleteFailure as exc:
            failures.append(_failure(image_id, exc.failure_code, exc.message))
            continue
        if tag is not None:
            deleted.append({"imageDigest": image.digest, "imageTag": tag})
        elif tags_before:
            deleted.extend({"imageDigest": image.digest, "imageTag": t} for t in tags_before)
        else:
            deleted.append({"imageDigest": image.digest})
    return {"imageIds": deleted, "failures": failures}


# ----- ListImages and DescribeImages -----------------------------------------------------------


def _filters(params: Params) -> tuple[str, str]:
    """(tagStatus, imageStatus) of the ``filter``: ANY and ACTIVE unless given."""
    found = params.get("filter") or {}
    return found.get("tagStatus") or "ANY", found.get("imageStatus") or ACTIVE


def _status_matches(image: Image, wanted: str) -> bool:
    return wanted == "ANY" or image.status == wanted


def _tag_matches(image: Image, wanted: str) -> bool:
    if wanted == "TAGGED":
        return bool(image.tags)
    if wanted == "UNTAGGED":
        return not image.tags
    return True


def _list_entries(repo: Repository, tag_status: str, image_status: str) -> Iterator[dict[str, Any]]:
    """ListImages entries in push order: one per tag, one for an untagged image."""
    for image in repo.images.values():
        if not _status_matches(image, image_status):
            continue
        if image.tags:
            if tag_status != "UNTAGGED":
                for tag in image.tags:
                    yield {"imageDigest": image.digest, "imageTag": tag}
        elif tag_status != "TAGGED":
            yield {"imageDigest": image.digest}


def _described(repo: Repository, tag_status: str, image_status: str) -> Iterator[Image]:
    for image in repo.images.values():
        if _status_matches(image, image_status) and _tag_matches(image, tag_status):
            yield image


@operation("ListImages")
def list_images(ctx: Context, params: Params) -> Result:
    """ListImages with ``filter.tagStatus`` / ``filter.imageStatus``, paginated."""
    reg = ctx.registry(params)
    repo = ctx.repository(params, reg)
    tag_status, image_status = _filters(params)
    with ctx.backend.lock:
        page, token = paginate(
            _list_entries(repo, tag_status, image_status),
            params,
            default=DEFAULT_PAGE,
            maximum=MAX_PAGE,
        )
    result: Result = {"imageIds": page}
    if token:
        result["nextToken"] = token
    return result


@operation("DescribeImages")
def describe_images(ctx: Context, params: Params) -> Result:
    """DescribeImages: the named images (each must exist) or a filtered, paginated listing."""
    reg = ctx.registry(params)
    repo = ctx.repository(params, reg)
    image_ids = params.get("imageIds")
    if image_ids:
        if params.get("maxResults") is not None or params.get("nextToken") is not None:
            raise InvalidParameter(
                "Invalid parameter: maxResults and nextToken cannot be used with imageIds"
            )
        found: dict[str, Image] = {}
        for image_id in image_ids:
            digest, tag = _ids(image_id)
            if digest is None and tag is None:
                raise InvalidParameter(MISSING_DIGEST_AND_TAG)
            if digest is not None and not _ECR_DIGEST_RE.fullmatch(digest):
                raise InvalidParameter(INVALID_DIGEST)
            image = ctx.backend.find_image(repo, digest=digest, tag=tag)
            found.setdefault(image.digest, image)
        return {"imageDetails": [image_detail(repo, image) for image in found.values()]}
    tag_status, image_status = _filters(params)
    with ctx.backend.lock:
        page, token = paginate(
            _described(repo, tag_status, image_status),
            params,
            default=DEFAULT_PAGE,
            maximum=MAX_PAGE,
        )
        details = [image_detail(repo, image) for image in page]
    result: Result = {"imageDetails": details}
    if token:
        result["nextToken"] = token
    return result
