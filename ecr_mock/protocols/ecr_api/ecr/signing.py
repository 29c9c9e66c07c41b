"""Signing operations: the registry signing configuration and DescribeImageSigningStatus."""

from __future__ import annotations

from ecr_mock.protocols.ecr_api.dispatch import Context, Handler, Params, Result
from ecr_mock.services import images, signing


def put_signing_configuration(ctx: Context, params: Params) -> Result:
    """PutSigningConfiguration: replace the registry's signing rules."""
    reg = ctx.backend.registry(ctx.account, ctx.region)
    stored = signing.put_signing_configuration(ctx.backend, reg, params.get("signingConfiguration"))
    return {"signingConfiguration": stored}


def get_signing_configuration(ctx: Context, params: Params) -> Result:
    """GetSigningConfiguration; SigningConfigurationNotFoundException when none is set."""
    reg = ctx.backend.registry(ctx.account, ctx.region)
    return {
        "registryId": reg.account,
        "signingConfiguration": signing.get_signing_configuration(reg),
    }


def delete_signing_configuration(ctx: Context, params: Params) -> Result:
    """DeleteSigningConfiguration: returns the configuration removed."""
    reg = ctx.backend.registry(ctx.account, ctx.region)
    removed = signing.delete_signing_configuration(ctx.backend, reg)
    return {"registryId": reg.account, "signingConfiguration": removed}


def describe_image_signing_status(ctx: Context, params: Params) -> Result:
    """DescribeImageSigningStatus: one status per signing profile covering the repository."""
    reg = ctx.registry(params)
    repo = ctx.repository(params, reg)
    image_id = params.get("imageId") or {}
    image = images.find_image(
        ctx.backend, repo, digest=image_id.get("imageDigest"), tag=image_id.get("imageTag")
    )
    returned_id = {"imageDigest": image.digest}
    if image_id.get("imageTag"):
        returned_id["imageTag"] = image_id["imageTag"]
    return {
        "repositoryName": repo.name,
        "imageId": returned_id,
        "registryId": repo.account,
        "signingStatuses": signing.signing_statuses(ctx.backend, reg, repo, image),
    }


HANDLERS: dict[str, Handler] = {
    "DeleteSigningConfiguration": delete_signing_configuration,
    "DescribeImageSigningStatus": describe_image_signing_status,
    "GetSigningConfiguration": get_signing_configuration,
    "PutSigningConfiguration": put_signing_configuration,
}
"""The ECR operations this module serves, by name."""
