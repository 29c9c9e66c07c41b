"""Resource tag operations on repositories: TagResource, UntagResource, ListTagsForResource."""

from __future__ import annotations

from ecr_mock.protocols.ecr_api.dispatch import Context, Handler, Params, Result
from ecr_mock.protocols.ecr_api.ecr.repositories import tags_param
from ecr_mock.protocols.ecr_api.serialize import tags_json
from ecr_mock.services import repositories


def tag_resource(ctx: Context, params: Params) -> Result:
    """TagResource: add or overwrite tags; at most 50 on a repository."""
    repo = repositories.repository_by_arn(ctx.backend, params["resourceArn"], ctx.region)
    repositories.tag_repository(ctx.backend, repo, tags_param(params.get("tags")))
    return {}


def untag_resource(ctx: Context, params: Params) -> Result:
    """UntagResource: remove keys; keys the repository does not have are ignored."""
    repo = repositories.repository_by_arn(ctx.backend, params["resourceArn"], ctx.region)
    repositories.untag_repository(ctx.backend, repo, params.get("tagKeys") or [])
    return {}


def list_tags_for_resource(ctx: Context, params: Params) -> Result:
    """ListTagsForResource: every tag of the repository."""
    repo = repositories.repository_by_arn(ctx.backend, params["resourceArn"], ctx.region)
    return {"tags": tags_json(dict(repo.resource_tags))}


HANDLERS: dict[str, Handler] = {
    "ListTagsForResource": list_tags_for_resource,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
}
"""The ECR operations this module serves, by name."""
