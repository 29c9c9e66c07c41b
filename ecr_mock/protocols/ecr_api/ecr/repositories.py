"""Repository operations: create, describe, delete, mutability and scanning settings."""

from __future__ import annotations

from typing import Any

from ecr_mock.domain.errors import InvalidParameter
from ecr_mock.protocols.ecr_api.dispatch import Context, Handler, Params, Result, paginate
from ecr_mock.protocols.ecr_api.serialize import repository_json
from ecr_mock.services import repositories

DESCRIBE_DEFAULT = 100
DESCRIBE_MAXIMUM = 1000


def tags_param(items: list[dict[str, Any]] | None) -> dict[str, str]:
    """``[{"Key": k, "Value": v}, ...]`` as a dict (a repeated key keeps its last value)."""
    return {str(t.get("Key", "")): str(t.get("Value") or "") for t in items or []}


def create_repository(ctx: Context, params: Params) -> Result:
    """CreateRepository: tags, tag mutability with exclusion filters, scanning, encryption."""
    backend = ctx.backend
    reg = ctx.registry(params)
    tags = tags_param(params.get("tags"))
    repositories.check_resource_tags(tags)
    mutability = params.get("imageTagMutability") or "MUTABLE"
    exclusions = repositories.check_tag_mutability(
        mutability, params.get("imageTagMutabilityExclusionFilters")
    )
    encryption = repositories.resolve_encryption(
        backend, reg, params.get("encryptionConfiguration")
    )
    scanning = params.get("imageScanningConfiguration") or {}
    repo = repositories.create_repository(
        backend,
        reg,
        params["repositoryName"],
        tag_mutability=mutability,
        mutability_exclusions=exclusions,
        scan_on_push=bool(scanning.get("scanOnPush", False)),
        encryption=encryption,
        tags=tags,
    )
    return {"repository": repository_json(backend, repo)}


def describe_repositories(ctx: Context, params: Params) -> Result:
    """DescribeRepositories: named ones (all must exist) or every one, paginated."""
    reg = ctx.registry(params)
    names = params.get("repositoryNames")
    if names:
        if params.get("maxResults") is not None or params.get("nextToken") is not None:
            raise InvalidParameter(
                "Invalid parameter: maxResults and nextToken cannot be used with repositoryNames"
            )
        unique = list(dict.fromkeys(names))
        repos = [repositories.get_repository(ctx.backend, reg, name) for name in unique]
        return {"repositories": [repository_json(ctx.backend, r) for r in repos]}
    page, token = paginate(
        list(reg.repositories.values()),
        params,
        default=DESCRIBE_DEFAULT,
        maximum=DESCRIBE_MAXIMUM,
    )
    result: Result = {"repositories": [repository_json(ctx.backend, r) for r in page]}
    if token:
        result["nextToken"] = token
    return result


def delete_repository(ctx: Context, params: Params) -> Result:
    """DeleteRepository (``force`` deletes the images too); its policies and tags go with it."""
    reg = ctx.registry(params)
    repo = repositories.delete_repository(
        ctx.backend, reg, params["repositoryName"], bool(params.get("force"))
    )
    return {"repository": repository_json(ctx.backend, repo)}


def put_image_tag_mutability(ctx: Context, params: Params) -> Result:
    """PutImageTagMutability: the four settings, exclusion filters only with ``*_WITH_EXCLUSION``."""
    repo = ctx.repository(params)
    repositories.set_tag_mutability(
        ctx.backend,
        repo,
        params["imageTagMutability"],
        params.get("imageTagMutabilityExclusionFilters"),
    )
    result: Result = {
        "registryId": repo.account,
        "repositoryName": repo.name,
        "imageTagMutability": repo.tag_mutability,
    }
    if repo.mutability_exclusions:
        result["imageTagMutabilityExclusionFilters"] = [dict(f) for f in repo.mutability_exclusions]
    return result


def put_image_scanning_configuration(ctx: Context, params: Params) -> Result:
    """PutImageScanningConfiguration: the repository's scan-on-push flag."""
    repo = ctx.repository(params)
    config = params.get("imageScanningConfiguration") or {}
    repositories.set_scan_on_push(ctx.backend, repo, bool(config.get("scanOnPush", False)))
    return {
        "registryId": repo.account,
        "repositoryName": repo.name,
        "imageScanningConfiguration": {"scanOnPush": repo.scan_on_push},
    }


HANDLERS: dict[str, Handler] = {
    "CreateRepository": create_repository,
    "DeleteRepository": delete_repository,
    "DescribeRepositories": describe_repositories,
    "PutImageScanningConfiguration": put_image_scanning_configuration,
    "PutImageTagMutability": put_image_tag_mutability,
}
"""The ECR operations this module serves, by name."""
