"""Image operations: PutImage, BatchGetImage, BatchDeleteImage, ListImages, DescribeImages."""

from __future__ import annotations

from typing import Any

from ecr_mock.domain.errors import InvalidParameter, ItemFailure
from ecr_mock.domain.models import ACTIVE, Image
from ecr_mock.protocols.ecr_api.dispatch import Context, Handler, Params, Result, paginate_with
from ecr_mock.protocols.ecr_api.serialize import image_detail, image_json
from ecr_mock.services import images

DEFAULT_PAGE = 100
MAX_PAGE = 1000


def _ids(image_id: dict[str, Any]) -> tuple[str | None, str | None]:
    digest = image_id.get("imageDigest") or None
    tag = image_id.get("imageTag") or None
    return digest, tag


def _echo(image_id: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in image_id.items() if k in ("imageDigest", "imageTag") and v}


def _failure(image_id: dict[str, Any], exc: ItemFailure) -> dict[str, Any]:
    return {
        "imageId": _echo(image_id),
        "failureCode": exc.failure_code,
        "failureReason": exc.message,
    }


def put_image(ctx: Context, params: Params) -> Result:
    """PutImage: store the manifest verbatim, tag it, answer with the manifest as given."""
    reg = ctx.registry(params)
    repo = ctx.repository(params, reg)
    tag = params.get("imageTag")
    image = images.put_api_image(
        ctx.backend,
        reg,
        repo,
        str(params["imageManifest"]),
        tag=tag,
        media_type=params.get("imageManifestMediaType") or None,
        digest=params.get("imageDigest") or None,
    )
    return {"image": image_json(repo, image, tag)}


def batch_get_image(ctx: Context, params: Params) -> Result:
    """BatchGetImage: manifests by tag or digest, per-id failures, pulls recorded."""
    reg = ctx.registry(params)
    repo = ctx.repository(params, reg)
    accepted = params.get("acceptedMediaTypes") or None
    served_images: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    seen: set[tuple[str, str | None]] = set()
    failed: set[tuple[str, str | None, str | None]] = set()
    for image_id in params["imageIds"]:
        digest, tag = _ids(image_id)
        try:
            served = images.image_to_serve(ctx.backend, repo, digest, tag, accepted)
            if (served.digest, tag) in seen:
                continue
            images.record_served_pull(ctx.backend, repo, served, ctx.principal.arn)
        except ItemFailure as exc:
            key = (exc.failure_code, digest, tag)
            if key not in failed:
                failed.add(key)
                failures.append(_failure(image_id, exc))
            continue
        seen.add((served.digest, tag))
        served_images.append(image_json(repo, served, tag))
    return {"images": served_images, "failures": failures}


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
            removed = images.delete_image_id(ctx.backend, repo, digest, tag)
        except ItemFailure as exc:
            failures.append(_failure(image_id, exc))
            continue
        for removed_digest, removed_tag in removed:
            entry = {"imageDigest": removed_digest}
            if removed_tag is not None:
                entry["imageTag"] = removed_tag
            deleted.append(entry)
    return {"imageIds": deleted, "failures": failures}


def _filters(params: Params) -> tuple[str, str]:
    """(tagStatus, imageStatus) of the ``filter``: ANY and ACTIVE unless given."""
    found = params.get("filter") or {}
    return found.get("tagStatus") or "ANY", found.get("imageStatus") or ACTIVE


def list_images(ctx: Context, params: Params) -> Result:
    """ListImages with ``filter.tagStatus`` / ``filter.imageStatus``, paginated."""
    reg = ctx.registry(params)
    repo = ctx.repository(params, reg)
    tag_status, image_status = _filters(params)
    page, token = paginate_with(
        lambda start, stop: images.list_image_ids(
            ctx.backend, repo, tag_status, image_status, start, stop
        ),
        params,
        default=DEFAULT_PAGE,
        maximum=MAX_PAGE,
    )
    ids = [
        {"imageDigest": digest, "imageTag": tag} if tag is not None else {"imageDigest": digest}
        for digest, tag in page
    ]
    result: Result = {"imageIds": ids}
    if token:
        result["nextToken"] = token
    return result


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
            image = images.describe_image_id(ctx.backend, repo, *_ids(image_id))
            found.setdefault(image.digest, image)
        return {"imageDetails": [image_detail(repo, image) for image in found.values()]}
    tag_status, image_status = _filters(params)
    page, token = paginate_with(
        lambda start, stop: images.list_images(
            ctx.backend, repo, tag_status, image_status, start, stop
        ),
        params,
        default=DEFAULT_PAGE,
        maximum=MAX_PAGE,
    )
    result: Result = {"imageDetails": [image_detail(repo, image) for image in page]}
    if token:
        result["nextToken"] = token
    return result


HANDLERS: dict[str, Handler] = {
    "BatchDeleteImage": batch_delete_image,
    "BatchGetImage": batch_get_image,
    "DescribeImages": describe_images,
    "ListImages": list_images,
    "PutImage": put_image,
}
"""The ECR operations this module serves, by name."""
