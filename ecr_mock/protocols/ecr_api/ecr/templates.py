"""Repository creation template operations: Create/Describe/Update/DeleteRepositoryCreationTemplate."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ecr_mock.domain.models import CreationTemplate, TemplateSettings
from ecr_mock.protocols.ecr_api.dispatch import Context, Handler, Params, Result, paginate
from ecr_mock.services import templates


def template_json(template: CreationTemplate) -> dict[str, Any]:
    """The ``RepositoryCreationTemplate`` shape."""
    doc: dict[str, Any] = {
        "prefix": template.prefix,
        "encryptionConfiguration": dict(template.encryption),
        "resourceTags": [{"Key": k, "Value": v} for k, v in template.resource_tags.items()],
        "imageTagMutability": template.tag_mutability,
        "appliedFor": list(template.applied_for),
        "createdAt": template.created_at,
        "updatedAt": template.updated_at,
    }
    if template.description is not None:
        doc["description"] = template.description
    if template.mutability_exclusions:
        doc["imageTagMutabilityExclusionFilters"] = [
            dict(f) for f in template.mutability_exclusions
        ]
    if template.repository_policy:
        doc["repositoryPolicy"] = template.repository_policy
    if template.lifecycle_policy:
        doc["lifecyclePolicy"] = template.lifecycle_policy
    if template.custom_role_arn:
        doc["customRoleArn"] = template.custom_role_arn
    return doc


def settings_from_params(params: Mapping[str, Any]) -> TemplateSettings:
    """TemplateSettings from the members of Create/UpdateRepositoryCreationTemplate."""
    tags = params.get("resourceTags")
    return TemplateSettings(
        applied_for=params.get("appliedFor"),
        description=params.get("description"),
        encryption=params.get("encryptionConfiguration"),
        resource_tags=None if tags is None else {t["Key"]: t.get("Value", "") for t in tags},
        tag_mutability=params.get("imageTagMutability"),
        mutability_exclusions=params.get("imageTagMutabilityExclusionFilters"),
        repository_policy=params.get("repositoryPolicy"),
        lifecycle_policy=params.get("lifecyclePolicy"),
        custom_role_arn=params.get("customRoleArn"),
    )


def _answer(ctx: Context, template: CreationTemplate) -> Result:
    return {"registryId": ctx.account, "repositoryCreationTemplate": template_json(template)}


def create_repository_creation_template(ctx: Context, params: Params) -> Result:
    """CreateRepositoryCreationTemplate in the caller's registry."""
    reg = ctx.backend.registry(ctx.account, ctx.region)
    template = templates.create_template(
        ctx.backend, reg, params["prefix"], settings_from_params(params)
    )
    return _answer(ctx, template)


def describe_repository_creation_templates(ctx: Context, params: Params) -> Result:
    """DescribeRepositoryCreationTemplates: the named prefixes that exist, or all, paginated."""
    reg = ctx.backend.registry(ctx.account, ctx.region)
    found = templates.describe_templates(reg, params.get("prefixes"))
    page, token = paginate(found, params, default=100, maximum=1000)
    result: Result = {
        "registryId": ctx.account,
        "repositoryCreationTemplates": [template_json(t) for t in page],
    }
    if token:
        result["nextToken"] = token
    return result


def update_repository_creation_template(ctx: Context, params: Params) -> Result:
    """UpdateRepositoryCreationTemplate: the given members replace the stored ones."""
    reg = ctx.backend.registry(ctx.account, ctx.region)
    template = templates.update_template(
        ctx.backend, reg, params["prefix"], settings_from_params(params)
    )
    return _answer(ctx, template)


def delete_repository_creation_template(ctx: Context, params: Params) -> Result:
    """DeleteRepositoryCreationTemplate."""
    reg = ctx.backend.registry(ctx.account, ctx.region)
    return _answer(ctx, templates.delete_template(ctx.backend, reg, params["prefix"]))


HANDLERS: dict[str, Handler] = {
    "CreateRepositoryCreationTemplate": create_repository_creation_template,
    "DeleteRepositoryCreationTemplate": delete_repository_creation_template,
    "DescribeRepositoryCreationTemplates": describe_repository_creation_templates,
    "UpdateRepositoryCreationTemplate": update_repository_creation_template,
}
"""The ECR operations this module serves, by name."""
