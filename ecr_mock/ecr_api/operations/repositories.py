"""Repository operations: create, describe, delete, mutability and scanning settings."""

from __future__ import annotations

from ecr_mock.core.errors import InvalidParameter
from ecr_mock.ecr_api.dispatch import Context, Params, Result, operation, paginate
from ecr_mock.ecr_api.serialize import repository_json


@operation("CreateRepository")
def create_repository(ctx: Context, params: Params) -> Result:
    """CreateRepository."""
    reg = ctx.registry(params)
    tags = {t["Key"]: t.get("Value", "") for t in params.get("tags") or []}
    scanning = params.get("imageScanningConfiguration") or {}
    repo = ctx.backend.create_repository(
        reg,
        params["repositoryName"],
        tag_mutability=params.get("imageTagMutability") or "MUTABLE",
        mutability_exclusions=params.get("imageTagMutabilityExclusionFilters"),
        scan_on_push=bool(scanning.get("scanOnPush", False)),
        encryption=params.get("encryptionConfiguration"),
        tags=tags,
    )
    return {"repository": repository_json(ctx.backend, repo)}


@operation("DescribeRepositories")
def describe_repositories(ctx: Context, params: Params) -> Result:
    """DescribeRepositories: named ones (all must exist) or every one, paginated."""
    reg = ctx.registry(params)
    names = params.get("repositoryNames")
    if names:
        if params.get("maxResults") is not None or params.get("nextToken") is not None:
            raise InvalidParameter(
                "Invalid parameter: maxResults and nextToken cannot be used with repositoryNames"
            )
        repos = [ctx.backend.get_repository(reg, name) for name in names]
        return {"repositories": [repository_json(ctx.backend, r) for r in repos]}
    page, token = paginate(reg.repositories.values(), params, default=100, maximum=1000)
    result: Result = {"repositories": [repository_json(ctx.backend, r) for r in page]}
    if token:
        result["nextToken"] = token
    return result


@operation("DeleteRepository")
def delete_repository(ctx: Context, params: Params) -> Result:
    """DeleteRepository (``force`` deletes the images too)."""
    reg = ctx.registry(params)
    repo = ctx.backend.delete_repository(reg, params["repositoryName"], bool(params.get("force")))
    return {"repository": repository_json(ctx.backend, repo)}
