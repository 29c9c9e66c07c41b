"""Repository and registry policies: the lockout check of SetRepositoryPolicy."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecr_mock.core.models import Principal

if TYPE_CHECKING:
    from ecr_mock.core.policy import Policy


def policy_locks_out(policy: Policy, principal: Principal, resource_arn: str, action: str) -> bool:
    """Whether resource policy ``policy`` explicitly denies ``principal`` ``action``.

    SetRepositoryPolicy without ``force`` refuses such a policy: the caller could not
    replace it afterwards.
    """
    from ecr_mock.core.policy import AuthzRequest, evaluate
    from ecr_mock.core.policy import Principal as IamPrincipal

    try:
        caller = IamPrincipal.from_arn(principal.arn, tags=dict(principal.tags))
    except ValueError:
        caller = IamPrincipal.for_root(principal.account_id)
    request = AuthzRequest(action=action, resource=resource_arn, principal=caller)
    decision = evaluate(request, [], [policy])
    return decision.reason == "explicit_deny"
