"""Replication operations: configuration, per-image replication status, and backfills."""

from __future__ import annotations

from ecr_mock.domain.errors import InvalidParameter
from ecr_mock.protocols.ecr_api.dispatch import Context, Handler, Params, Result, paginate
from ecr_mock.services import images, replication
from ecr_mock.services import replication_backfill as backfill


def put_replication_configuration(ctx: Context, params: Params) -> Result:
    """PutReplicationConfiguration: replace the caller's registry rules in the call's region."""
    reg = ctx.backend.registry(ctx.account, ctx.region)
    config = params.get("replicationConfiguration") or {}
    rules = replication.put_replication_configuration(ctx.backend, reg, config.get("rules") or [])
    return {"replicationConfiguration": {"rules": rules}}


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
    image = images.find_image(ctx.backend, repo, digest=digest, tag=tag)
    answered: dict[str, str] = {"imageDigest": image.digest}
    if tag is not None:
        answered["imageTag"] = tag
    return {
        "repositoryName": repo.name,
        "imageId": answered,
        "replicationStatuses": replication.replication_statuses(image),
    }


def start_replication_backfill(ctx: Context, params: Params) -> Result:
    """StartReplicationBackfill: a PREPARING backfill of existing images to one destination."""
    reg = ctx.registry(params)
    dest = params.get("destination")
    if not isinstance(dest, dict):
        dest = {}
    found = backfill.start(
        ctx.backend, reg, str(dest.get("region", "")), str(dest.get("registryId", ""))
    )
    summary = found.summary()
    return {
        "replicationBackfillId": found.backfill_id,
        "registryId": reg.account,
        "destination": summary["destination"],
        "status": found.status,
        "startedAt": found.started_at,
    }


def stop_replication_backfill(ctx: Context, params: Params) -> Result:
    """StopReplicationBackfill: stop a PREPARING or IN_PROGRESS backfill."""
    reg = ctx.registry(params)
    found = backfill.stop(ctx.backend, reg, str(params.get("replicationBackfillId", "")))
    summary = found.summary()
    return {
        "registryId": reg.account,
        "replicationBackfillId": found.backfill_id,
        "destination": summary["destination"],
        "status": found.status,
        "startedAt": found.started_at,
    }


def describe_replication_backfill_results(ctx: Context, params: Params) -> Result:
    """DescribeReplicationBackfillResults: status, progress and (once ended) per-image results.

    Each call moves an unfinished backfill one step (see ``core.replication_backfill``).
    """
    reg = ctx.registry(params)
    found = backfill.get(ctx.backend, reg, str(params.get("replicationBackfillId", "")))
    backfill.observe(ctx.backend, reg, found)
    wanted = params.get("resultStatusFilter")
    results = found.visible_results(wanted if isinstance(wanted, str) else None)
    page, token = paginate(results, params, default=100, maximum=1000)
    out: Result = {"registryId": reg.account, **found.summary()}
    out["results"] = [item.to_api() for item in page]
    if token is not None:
        out["nextToken"] = token
    return out


def list_replication_backfills(ctx: Context, params: Params) -> Result:
    """ListReplicationBackfills: the registry's backfills, oldest first, each moved one step."""
    reg = ctx.registry(params)
    page, token = paginate(backfill.backfills(ctx.backend, reg), params, default=25, maximum=50)
    for item in page:
        backfill.observe(ctx.backend, reg, item)
    out: Result = {"registryId": reg.account, "backfills": [item.summary() for item in page]}
    if token is not None:
        out["nextToken"] = token
    return out


HANDLERS: dict[str, Handler] = {
    "DescribeImageReplicationStatus": describe_image_replication_status,
    "DescribeReplicationBackfillResults": describe_replication_backfill_results,
    "ListReplicationBackfills": list_replication_backfills,
    "PutReplicationConfiguration": put_replication_configuration,
    "StartReplicationBackfill": start_replication_backfill,
    "StopReplicationBackfill": stop_replication_backfill,
}
"""The ECR operations this module serves, by name."""
