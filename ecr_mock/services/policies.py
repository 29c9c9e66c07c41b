"""Policy text: repository, registry and lifecycle policies, registry policy scope, lockout."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ecr_mock.domain.errors import (
    InvalidParameter,
    LifecyclePolicyNotFound,
    RegistryPolicyNotFound,
    RepositoryPolicyNotFound,
    ValidationFailed,
)
from ecr_mock.domain.models import Principal, Registry, Repository
from ecr_mock.services.settings import registry_policy_scope
from ecr_mock.store.state import Store

if TYPE_CHECKING:
    from ecr_mock.domain.iam_policy import Policy

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


# ----- repository policies ----------------------------------------------------------------------


def set_repository_policy(
    store: Store,
    repo: Repository,
    text: str,
    principal: Principal,
    *,
    force: bool = False,
    resource_arn: str | None = None,
    action: str = "ecr:SetRepositoryPolicy",
) -> str:
    """SetRepositoryPolicy: validated like ECR; without ``force`` a self-lockout is refused.

    ``resource_arn`` and ``action`` name the repository and the call as the lockout check sees
    them (default: the private repository's ARN and ``ecr:SetRepositoryPolicy``).
    """
    from ecr_mock.domain.iam_policy import PolicyParseError, validate_repository_policy

    if len(text) > MAX_POLICY_CHARS:
        raise InvalidParameter(
            "Invalid parameter at 'policyText' failed to satisfy constraint: 'Member must have "
            f"length less than or equal to {MAX_POLICY_CHARS}'"
        )
    try:
        policy = validate_repository_policy(text)
    except PolicyParseError:
        raise InvalidParameter(INVALID_REPOSITORY_POLICY) from None
    if not force and policy_locks_out(policy, principal, resource_arn or repo.arn, action):
        raise InvalidParameter(LOCKOUT)
    with store.lock:
        repo.policy_text = text
    return text


def get_repository_policy(store: Store, repo: Repository) -> str:
    """The repository policy text exactly as set; RepositoryPolicyNotFound when none is."""
    text = repo.policy_text
    if text is None:
        raise RepositoryPolicyNotFound(repo.name, repo.account)
    return text


def delete_repository_policy(store: Store, repo: Repository) -> str:
    """Remove the repository policy; returns the text removed (RepositoryPolicyNotFound)."""
    with store.lock:
        text = get_repository_policy(store, repo)
        repo.policy_text = None
    return text


def policy_locks_out(policy: Policy, principal: Principal, resource_arn: str, action: str) -> bool:
    """Whether resource policy ``policy`` explicitly denies ``principal`` ``action``.

    SetRepositoryPolicy without ``force`` refuses such a policy: the caller could not
    replace it afterwards.
    """
    from ecr_mock.domain.iam_policy import AuthzRequest, IamPrincipal, evaluate

    try:
        caller = IamPrincipal.from_arn(principal.arn, tags=dict(principal.tags))
    except ValueError:
        caller = IamPrincipal.for_root(principal.account_id)
    request = AuthzRequest(action=action, resource=resource_arn, principal=caller)
    decision = evaluate(request, [], [policy])
    return decision.reason == "explicit_deny"


# ----- registry policies ------------------------------------------------------------------------


def put_registry_policy(store: Store, reg: Registry, text: str) -> str:
    """PutRegistryPolicy: validated like ECR, within what the registry policy scope allows."""
    from ecr_mock.domain.iam_policy import PolicyParseError, validate_registry_policy

    if len(text) > MAX_POLICY_CHARS:
        raise ValidationFailed(
            "1 validation error detected: Value at 'policyText' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_POLICY_CHARS}"
        )
    try:
        policy = validate_registry_policy(text)
    except PolicyParseError:
        raise InvalidParameter(INVALID_REGISTRY_POLICY) from None
    with store.lock:
        check_registry_scope(reg, policy)
        reg.policy_text = text
    return text


def check_registry_scope(reg: Registry, policy: Policy) -> None:
    """Refuse actions outside what the account's registry policy scope lets a policy grant."""
    v1 = registry_policy_scope(reg) == "V1"
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


def get_registry_policy(store: Store, reg: Registry) -> str:
    """The registry policy text exactly as put; RegistryPolicyNotFound when none is."""
    text = reg.policy_text
    if text is None:
        raise RegistryPolicyNotFound(reg.account)
    return text


def delete_registry_policy(store: Store, reg: Registry) -> str:
    """Remove the registry policy; returns the text removed (RegistryPolicyNotFound)."""
    with store.lock:
        text = get_registry_policy(store, reg)
        reg.policy_text = None
    return text


# ----- lifecycle policies -----------------------------------------------------------------------


def put_lifecycle_policy(store: Store, repo: Repository, text: str) -> str:
    """PutLifecyclePolicy: validated like ECR, stored verbatim with the time it was put."""
    from ecr_mock.domain.lifecycle_rules import parse_lifecycle_policy

    parse_lifecycle_policy(text)
    with store.lock:
        repo.lifecycle_policy_text = text
        repo.lifecycle_updated_at = store.now()
    return text


def get_lifecycle_policy(store: Store, repo: Repository) -> tuple[str, datetime | None]:
    """The lifecycle policy text and when it was put; LifecyclePolicyNotFound when none is."""
    text = repo.lifecycle_policy_text
    if text is None:
        raise LifecyclePolicyNotFound(repo.name, repo.account)
    return text, repo.lifecycle_updated_at


def delete_lifecycle_policy(store: Store, repo: Repository) -> tuple[str, datetime | None]:
    """Remove the lifecycle policy; returns what was removed (LifecyclePolicyNotFound)."""
    with store.lock:
        found = get_lifecycle_policy(store, repo)
        repo.lifecycle_policy_text = None
        repo.lifecycle_updated_at = None
    return found
