"""Image storage classes: UpdateImageStorageClass (archive and restore)."""

from __future__ import annotations

from typing import Any

from ecr_mock.domain.errors import InvalidParameter
from ecr_mock.protocols.ecr_api.dispatch import Context, Handler, Params, Result
from ecr_mock.services import images, lifecycle


def update_image_storage_class(ctx: Context, params: Params) -> Result:
    """UpdateImageStorageClass: ARCHIVE -> ARCHIVED now; STANDARD -> ACTIVATING for 20 minutes.

    The restore completes once the store's clock is 20 minutes on and its ``tick()`` runs
    (every request that ticks, or the server's scheduler); the image is then ACTIVE.
    """
    ctx.backend.tick()
    reg = ctx.registry(params)
    repo = ctx.repository(params, reg)
    image_id: dict[str, Any] = params.get("imageId") or {}
    digest = image_id.get("imageDigest")
    tag = image_id.get("imageTag")
    if digest is None and tag is None:
        raise InvalidParameter(images.MISSING_DIGEST_AND_TAG)
    image = images.find_image(ctx.backend, repo, digest=digest, tag=tag)
    lifecycle.update_storage_class(ctx.backend, repo, image, params["targetStorageClass"], tag)
    answered: dict[str, Any] = {"imageDigest": image.digest}
    if tag is not None:
        answered["imageTag"] = tag
    return {
        "registryId": repo.account,
        "repositoryName": repo.name,
        "imageId": answered,
        "imageStatus": image.status,
    }


HANDLERS: dict[str, Handler] = {
    "UpdateImageStorageClass": update_image_storage_class,
}
"""The ECR operations this module serves, by name."""
