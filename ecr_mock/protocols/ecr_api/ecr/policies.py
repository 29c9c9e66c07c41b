"""Policy operations: repository and registry policies, DescribeRegistry, lifecycle policies."""

from __future__ import annotations

from datetime import datetime

from ecr_mock.domain.models import Registry, Repository
from ecr_mock.protocols.ecr_api.dispatch import Context, Handler, Params, Result
from ecr_mock.services import policies


def _own_registry(ctx: Context) -> Registry:
    return ctx.backend.registry(ctx.account, ctx.region)


# ----- repository policy --------------------------------------------------------------------


def set_repository_policy(ctx: Context, params: Params) -> Result:
    """SetRepositoryPolicy: validated like ECR; ``force`` is needed for a self-lockout."""
    repo = ctx.repository(params)
    text = policies.set_repository_policy(
        ctx.backend, repo, params["policyText"], ctx.principal, force=bool(params.get("force"))
    )
    return {"registryId": repo.account, "repositoryName": repo.name, "policyText": text}


def get_repository_policy(ctx: Context, params: Params) -> Result:
    """GetRepositoryPolicy: the text exactly as set."""
    repo = ctx.repository(params)
    text = policies.get_repository_policy(ctx.backend, repo)
    return {"registryId": repo.account, "repositoryName": repo.name, "policyText": text}


def delete_repository_policy(ctx: Context, params: Params) -> Result:
    """DeleteRepositoryPolicy: returns the text it deleted."""
    repo = ctx.repository(params)
    text = policies.delete_repository_policy(ctx.backend, repo)
    return {"registryId": repo.account, "repositoryName": repo.name, "policyText": text}


# ----- registry policy and description ------------------------------------------------------


def put_registry_policy(ctx: Context, params: Params) -> Result:
    """PutRegistryPolicy: the caller's registry in the call's region."""
    reg = _own_registry(ctx)
    text = policies.put_registry_policy(ctx.backend, reg, params["policyText"])
    return {"registryId": reg.account, "policyText": text}


def get_registry_policy(ctx: Context, params: Params) -> Result:
    """GetRegistryPolicy: the text exactly as put."""
    reg = _own_registry(ctx)
    return {"registryId": reg.account, "policyText": policies.get_registry_policy(ctx.backend, reg)}


def delete_registry_policy(ctx: Context, params: Params) -> Result:
    """DeleteRegistryPolicy: returns the text it deleted."""
    reg = _own_registry(ctx)
    text = policies.delete_registry_policy(ctx.backend, reg)
    return {"registryId": reg.account, "policyText": text}


def describe_registry(ctx: Context, params: Params) -> Result:
    """DescribeRegistry: the registry id and its replication rules (none by default)."""
    reg = _own_registry(ctx)
    return {
        "registryId": reg.account,
        "replicationConfiguration": {"rules": list(reg.replication_rules)},
    }


# ----- lifecycle policy ---------------------------------------------------------------------


def put_lifecycle_policy(ctx: Context, params: Params) -> Result:
    """PutLifecyclePolicy: validated like ECR, stored verbatim with the time it was put."""
    repo = ctx.repository(params)
    text = policies.put_lifecycle_policy(ctx.backend, repo, params["lifecyclePolicyText"])
    return {"registryId": repo.account, "repositoryName": repo.name, "lifecyclePolicyText": text}


def _lifecycle_result(repo: Repository, found: tuple[str, datetime | None]) -> Result:
    text, evaluated_at = found
    result: Result = {
        "registryId": repo.account,
        "repositoryName": repo.name,
        "lifecyclePolicyText": text,
    }
    if evaluated_at is not None:
        result["lastEvaluatedAt"] = evaluated_at
    return result


def get_lifecycle_policy(ctx: Context, params: Params) -> Result:
    """GetLifecyclePolicy: the text and ``lastEvaluatedAt``."""
    repo = ctx.repository(params)
    found = policies.get_lifecycle_policy(ctx.backend, repo)
    return _lifecycle_result(repo, found)


def delete_lifecycle_policy(ctx: Context, params: Params) -> Result:
    """DeleteLifecyclePolicy: returns what it deleted."""
    repo = ctx.repository(params)
    found = policies.delete_lifecycle_policy(ctx.backend, repo)
    return _lifecycle_result(repo, found)


HANDLERS: dict[str, Handler] = {
    "DeleteLifecyclePolicy": delete_lifecycle_policy,
    "DeleteRegistryPolicy": delete_registry_policy,
    "DeleteRepositoryPolicy": delete_repository_policy,
    "DescribeRegistry": describe_registry,
    "GetLifecyclePolicy": get_lifecycle_policy,
    "GetRegistryPolicy": get_registry_policy,
    "GetRepositoryPolicy": get_repository_policy,
    "PutLifecyclePolicy": put_lifecycle_policy,
    "PutRegistryPolicy": put_registry_policy,
    "SetRepositoryPolicy": set_repository_policy,
}
"""The ECR operations this module serves, by name."""
