"""Account settings and the pull-time update exclusion list of a registry."""

from __future__ import annotations

from ecr_mock.protocols.ecr_api.dispatch import Context, Handler, Params, Result, paginate
from ecr_mock.services import settings

EXCLUSIONS_PAGE_DEFAULT = 100
EXCLUSIONS_PAGE_MAX = 1000


def get_account_setting(ctx: Context, params: Params) -> Result:
    """GetAccountSetting: the stored value, else the setting's default."""
    reg = ctx.backend.registry(ctx.account, ctx.region)
    name = params["name"]
    return {"name": name, "value": settings.account_setting(ctx.backend, reg, name)}


def put_account_setting(ctx: Context, params: Params) -> Result:
    """PutAccountSetting: BASIC_SCAN_TYPE_VERSION, REGISTRY_POLICY_SCOPE or BLOB_MOUNTING."""
    reg = ctx.backend.registry(ctx.account, ctx.region)
    name, value = params["name"], params["value"]
    return {"name": name, "value": settings.put_account_setting(ctx.backend, reg, name, value)}


def register_pull_time_update_exclusion(ctx: Context, params: Params) -> Result:
    """RegisterPullTimeUpdateExclusion: pulls by the principal stop updating pull times."""
    reg = ctx.backend.registry(ctx.account, ctx.region)
    arn = params["principalArn"]
    created = settings.register_pull_time_exclusion(ctx.backend, reg, arn)
    return {"principalArn": arn, "createdAt": created}


def deregister_pull_time_update_exclusion(ctx: Context, params: Params) -> Result:
    """DeregisterPullTimeUpdateExclusion; ExclusionNotFoundException when not excluded."""
    reg = ctx.backend.registry(ctx.account, ctx.region)
    arn = params["principalArn"]
    settings.deregister_pull_time_exclusion(ctx.backend, reg, arn)
    return {"principalArn": arn}


def list_pull_time_update_exclusions(ctx: Context, params: Params) -> Result:
    """ListPullTimeUpdateExclusions, in the order they were registered, paginated."""
    reg = ctx.backend.registry(ctx.account, ctx.region)
    page, token = paginate(
        list(reg.pull_time_update_exclusions),
        params,
        default=EXCLUSIONS_PAGE_DEFAULT,
        maximum=EXCLUSIONS_PAGE_MAX,
    )
    result: Result = {"pullTimeUpdateExclusions": page}
    if token:
        result["nextToken"] = token
    return result


HANDLERS: dict[str, Handler] = {
    "DeregisterPullTimeUpdateExclusion": deregister_pull_time_update_exclusion,
    "GetAccountSetting": get_account_setting,
    "ListPullTimeUpdateExclusions": list_pull_time_update_exclusions,
    "PutAccountSetting": put_account_setting,
    "RegisterPullTimeUpdateExclusion": register_pull_time_update_exclusion,
}
"""The ECR operations this module serves, by name."""
