"""Pull-through cache rule operations: Create/Describe/Update/Delete/ValidatePullThroughCacheRule."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ecr_mock.domain.models import PullThroughRule, Registry
from ecr_mock.protocols.ecr_api.dispatch import Context, Handler, Params, Result, paginate
from ecr_mock.protocols.ecr_api.validation import output_members, shape_members
from ecr_mock.services import pull_through


def _rule_json(rule: PullThroughRule, registry_id: str, keys: Iterable[str]) -> dict[str, Any]:
    """The rule's members that the model's shape ``keys`` name (they differ per operation)."""
    values: dict[str, Any] = {
        "ecrRepositoryPrefix": rule.prefix,
        "upstreamRegistryUrl": rule.upstream_url,
        "createdAt": rule.created_at,
        "registryId": registry_id,
        "upstreamRegistry": rule.upstream_registry,
        "credentialArn": rule.credential_arn,
        "customRoleArn": rule.custom_role_arn,
        "upstreamRepositoryPrefix": rule.upstream_prefix,
        "updatedAt": rule.updated_at,
    }
    return {key: values[key] for key in keys if values.get(key) is not None}


def _answer(ctx: Context, rule: PullThroughRule, registry_id: str) -> dict[str, Any]:
    """The rule as the calling operation's output shape has it."""
    return _rule_json(rule, registry_id, output_members(ctx.operation))


def _registry(ctx: Context, params: Params) -> Registry:
    return ctx.registry(params)


def create_pull_through_cache_rule(ctx: Context, params: Params) -> Result:
    """CreatePullThroughCacheRule."""
    reg = _registry(ctx, params)
    rule = pull_through.create_rule(
        ctx.backend,
        reg,
        params["ecrRepositoryPrefix"],
        params["upstreamRegistryUrl"],
        upstream_registry=params.get("upstreamRegistry"),
        credential_arn=params.get("credentialArn"),
        custom_role_arn=params.get("customRoleArn"),
        upstream_prefix=params.get("upstreamRepositoryPrefix"),
    )
    return _answer(ctx, rule, reg.account)


def describe_pull_through_cache_rules(ctx: Context, params: Params) -> Result:
    """DescribePullThroughCacheRules: the named prefixes (each must exist) or all, paginated."""
    reg = _registry(ctx, params)
    found = pull_through.describe_rules(reg, params.get("ecrRepositoryPrefixes"))
    page, token = paginate(found, params, default=100, maximum=1000)
    result: Result = {
        "pullThroughCacheRules": [
            _rule_json(rule, reg.account, shape_members("PullThroughCacheRule")) for rule in page
        ]
    }
    if token:
        result["nextToken"] = token
    return result


def update_pull_through_cache_rule(ctx: Context, params: Params) -> Result:
    """UpdatePullThroughCacheRule: a new credential ARN and/or custom role."""
    reg = _registry(ctx, params)
    rule = pull_through.update_rule(
        ctx.backend,
        reg,
        params["ecrRepositoryPrefix"],
        credential_arn=params.get("credentialArn"),
        custom_role_arn=params.get("customRoleArn"),
    )
    return _answer(ctx, rule, reg.account)


def delete_pull_through_cache_rule(ctx: Context, params: Params) -> Result:
    """DeletePullThroughCacheRule (repositories already cached stay)."""
    reg = _registry(ctx, params)
    rule = pull_through.delete_rule(ctx.backend, reg, params["ecrRepositoryPrefix"])
    return _answer(ctx, rule, reg.account)


def validate_pull_through_cache_rule(ctx: Context, params: Params) -> Result:
    """ValidatePullThroughCacheRule: reach the upstream with the rule's credentials."""
    reg = _registry(ctx, params)
    failure = pull_through.validate_rule(ctx.backend, reg, params["ecrRepositoryPrefix"])
    rule = pull_through.get_rule(reg, params["ecrRepositoryPrefix"])
    result = _answer(ctx, rule, reg.account)
    result["isValid"] = failure is None
    if failure is not None:
        result["failure"] = failure
    return result


HANDLERS: dict[str, Handler] = {
    "CreatePullThroughCacheRule": create_pull_through_cache_rule,
    "DeletePullThroughCacheRule": delete_pull_through_cache_rule,
    "DescribePullThroughCacheRules": describe_pull_through_cache_rules,
    "UpdatePullThroughCacheRule": update_pull_through_cache_rule,
    "ValidatePullThroughCacheRule": validate_pull_through_cache_rule,
}
"""The ECR operations this module serves, by name."""
