"""Policy operations: repository and registry policies, DescribeRegistry, lifecycle policies."""

from __future__ import annotations

from ecr_mock.core.errors import (
    InvalidParameter,
    LifecyclePolicyNotFound,
    RegistryPolicyNotFound,
    RepositoryPolicyNotFound,
    ValidationFailed,
)
from ecr_mock.core.lifecycle import parse_lifecycle_policy
from ecr_mock.core.models import Registry
from ecr_mock.core.policy import (
    Policy,
    PolicyParseError,
    validate_registry_policy,
    validate_repository_policy,
)
from ecr_mock.ecr_api.dispatch import Context, Params, Result, operation

MAX_POLICY_CHARS = 10_240
"""Largest repository or registry policy text (the model's ``max``)."""

INVALID_REPOSITORY_POLICY = (
    "Invalid parameter at 'PolicyText' failed to satisfy constraint: "
    "'Invalid repository policy provided'"
)
INVALID_REGISTRY_POLICY = (
    "Invalid parameter at 'PolicyText' failed to satisfy constraint: "
    "'Invalid registry policy provided'"
)
LOCKOUT = (
    "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'The repository policy "
    "would prevent the caller from setting the repository policy in the future; set force to "
    "apply it anyway'"
)
V1_REGISTRY_ACTIONS = frozenset(
    {"ecr:replicateimage", "ecr:createrepository", "ecr:batchimportupstreamimage", "ecr:*"}
)
"""What a registry policy may grant while the account's REGISTRY_POLICY_SCOPE is V1.

The ECR user guide (registry permissions): V1 enforces only ``ecr:ReplicateImage``,
``ecr:BatchImportUpstreamImage`` and ``ecr:CreateRepository``, "if any additional actions are
added to the registry policy, an error will occur", yet "it is possible to add the ``ecr:*``
action". V2, the default scope, "allows all ECR actions in the policy"; an action of another
service is refused under both (as moto refuses anything outside its list), with the same
``Invalid registry policy provided``.
"""


def _own_registry(ctx: Context) -> Registry:
    return ctx.backend.registry(ctx.account, ctx.region)


# ----- repository policy --------------------------------------------------------------------


@operation("SetRepositoryPolicy")
def set_repository_policy(ctx: Context, params: Params) -> Result:
    """SetRepositoryPolicy: validated like ECR; ``force`` is needed for a self-lockout."""
    repo = ctx.repository(params)
    text = params["policyText"]
    if len(text) > MAX_POLICY_CHARS:
        raise InvalidParameter(
            "Invalid parameter at 'policyText' failed to satisfy constraint: 'Member must have "
            f"length less than or equal to {MAX_POLICY_CHARS}'"
        )
    try:
        policy = validate_repository_policy(text)
    except PolicyParseError:
        raise InvalidParameter(INVALID_REPOSITORY_POLICY) from None
    if not params.get("force") and ctx.backend.policy_locks_out(
        policy, ctx.principal, repo.arn, "ecr:SetRepositoryPolicy"
    ):
        raise InvalidParameter(LOCKOUT)
    repo.policy_text = text
    return {"registryId": repo.account, "repositoryName": repo.name, "policyText": text}


@operation("GetRepositoryPolicy")
def get_repository_policy(ctx: Context, params: Params) -> Result:
    """GetRepositoryPolicy: the text exactly as set."""
    repo = ctx.repository(params)
    if repo.policy_text is None:
        raise RepositoryPolicyNotFound(repo.name, repo.account)
    return {"registryId": repo.account, "repositoryName": repo.name, "policyText": repo.policy_text}


@operation("DeleteRepositoryPolicy")
def delete_repository_policy(ctx: Context, params: Params) -> Result:
    """DeleteRepositoryPolicy: returns the text it deleted."""
    repo = ctx.repository(params)
    text = repo.policy_text
    if text is None:
        raise RepositoryPolicyNotFound(repo.name, repo.account)
    repo.policy_text = None
    return {"registryId": repo.account, "repositoryName": repo.name, "policyText": text}


# ----- registry policy and description ------------------------------------------------------


def _check_registry_scope(reg: Registry, policy: Policy) -> None:
    """Refuse actions outside what the account's registry policy scope lets a policy grant."""
    v1 = reg.settings.get("REGISTRY_POLICY_SCOPE", "V2") == "V1"
    for statement in policy.statements:
        if v1 and statement.actions_negated:
            raise InvalidParameter(INVALID_REGISTRY_POLICY)
        for action in statement.actions:
            lowered = action.lower()
            allowed = (
                lowered in V1_REGISTRY_ACTIONS
                if v1
                else lowered == "*" or lowered.startswith("ecr:")
            )
            if not allowed:
                raise InvalidParameter(INVALID_REGISTRY_POLICY)


@operation("PutRegistryPolicy")
def put_registry_policy(ctx: Context, params: Params) -> Result:
    """PutRegistryPolicy: the caller's registry in the call's region."""
    reg = _own_registry(ctx)
    text = params["policyText"]
    if len(text) > MAX_POLICY_CHARS:
        raise ValidationFailed(
            "1 validation error detected: Value at 'policyText' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_POLICY_CHARS}"
        )
    try:
        policy = validate_registry_policy(text)
    except PolicyParseError:
        raise InvalidParameter(INVALID_REGISTRY_POLICY) from None
    _check_registry_scope(reg, policy)
    reg.policy_text = text
    return {"registryId": reg.account, "policyText": text}


@operation("GetRegistryPolicy")
def get_registry_policy(ctx: Context, params: Params) -> Result:
    """GetRegistryPolicy: the text exactly as put."""
    reg = _own_registry(ctx)
    if reg.policy_text is None:
        raise RegistryPolicyNotFound(reg.account)
    return {"registryId": reg.account, "policyText": reg.policy_text}


@operation("DeleteRegistryPolicy")
def delete_registry_policy(ctx: Context, params: Params) -> Result:
    """DeleteRegistryPolicy: returns the text it deleted."""
    reg = _own_registry(ctx)
    text = reg.policy_text
    if text is None:
        raise RegistryPolicyNotFound(reg.account)
    reg.policy_text = None
    return {"registryId": reg.account, "policyText": text}


@operation("DescribeRegistry")
def describe_registry(ctx: Context, params: Params) -> Result:
    """DescribeRegistry: the registry id and its replication rules (none by default)."""
    reg = _own_registry(ctx)
    return {
        "registryId": reg.account,
        "replicationConfiguration": {"rules": list(reg.replication_rules)},
    }


# ----- lifecycle policy ---------------------------------------------------------------------


@operation("PutLifecyclePolicy")
def put_lifecycle_policy(ctx: Context, params: Params) -> Result:
    """PutLifecyclePolicy: validated like ECR, stored verbatim with the time it was put."""
    repo = ctx.repository(params)
    text = params["lifecyclePolicyText"]
    parse_lifecycle_policy(text)
    repo.lifecycle_policy_text = text
    repo.lifecycle_updated_at = ctx.backend.now()
    return {"registryId": repo.account, "repositoryName": repo.name, "lifecyclePolicyText": text}


def _lifecycle_result(ctx: Context, params: Params, delete: bool) -> Result:
    repo = ctx.repository(params)
    text = repo.lifecycle_policy_text
    if text is None:
        raise LifecyclePolicyNotFound(repo.name, repo.account)
    result: Result = {
        "registryId": repo.account,
        "repositoryName": repo.name,
        "lifecyclePolicyText": text,
    }
    if repo.lifecycle_updated_at is not None:
        result["lastEvaluatedAt"] = repo.lifecycle_updated_at
    if delete:
        repo.lifecycle_policy_text = None
        repo.lifecycle_updated_at = None
    return result


@operation("GetLifecyclePolicy")
def get_lifecycle_policy(ctx: Context, params: Params) -> Result:
    """GetLifecyclePolicy: the text and ``lastEvaluatedAt``."""
    return _lifecycle_result(ctx, params, delete=False)


@operation("DeleteLifecyclePolicy")
def delete_lifecycle_policy(ctx: Context, params: Params) -> Result:
    """DeleteLifecyclePolicy: returns what it deleted."""
    return _lifecycle_result(ctx, params, delete=True)
