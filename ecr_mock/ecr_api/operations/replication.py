"""Replication operations: PutReplicationConfiguration and DescribeImageReplicationStatus."""

from __future__ import annotations

from ecr_mock.core import replication
from ecr_mock.core.errors import InvalidParameter
from ecr_mock.ecr_api.dispatch import Context, Params, Result, operation


@operation("PutReplicationConfiguration")
def put_replication_configuration(ctx: Context, params: Params) -> Result:
    """PutReplicationConfiguration: replace the caller's registry rules in the call's region."""
    reg = ctx.backend.registry(ctx.account, ctx.region)
    config = params.get("replicationConfiguration") or {}
    rules = replication.put_replication_configuration(ctx.backend, reg, config.get("rules") or [])
    return {"replicationConfiguration": {"rules": rules}}


@operation("DescribeImageReplicationStatus")
def describe_image_replication_status(ctx: Context, params: Params) -> Result:
    """DescribeImageReplicationStatus: one status per destination the image was copied to."""
    repo = ctx.repository(params)
    image_id = params.get("imageId") or {}
    digest, tag = image_id.get("imageDigest"), image_id.get("imageTag")
    if digest is None and tag is None:
        raise InvalidParameter(
            "Invalid parameter at 'imageId' failed to satisfy constraint: 'imageDigest or "
            "imageTag must be specified'"
        )
    image = ctx.backend.find_image(repo, digest=digest, tag=tag)
    answered: dict[str, str] = {"imageDigest": image.digest}
    if tag is not None:
        answered["imageTag"] = tag
    return {
        "repositoryName": repo.name,
        "imageId": answered,
        "replicationStatuses": replication.replication_statuses(image),
    }
