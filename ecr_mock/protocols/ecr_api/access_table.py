"""Which IAM action on which resource each ECR API operation is checked as, and the check."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ecr_mock.domain.models import Registry, Repository
from ecr_mock.protocols.ecr_api.spec import ECR, Scope
from ecr_mock.services import Store
from ecr_mock.services.access import AccessRequest, check_access
from ecr_mock.services.repositories import parse_repository_arn, repository_arn

if TYPE_CHECKING:
    from ecr_mock.protocols.ecr_api.context import Context


@dataclass(frozen=True)
class AccessRule:
    """The IAM action an operation is checked as, and how its resource is named."""

    action: str
    scope: Scope


ACCESS_TABLE: dict[str, AccessRule] = {
    name: AccessRule(spec.action, spec.scope)
    for name, spec in ECR.items()
    if spec.scope != "public"
}
"""Every ECR operation, by name, to the IAM action and resource it is authorized as."""


@dataclass(frozen=True)
class Target:
    """One (action, resource) an operation must be allowed."""

    action: str
    resource: str
    registry: Registry | None
    repository: Repository | None = None
    request_tags: Mapping[str, str] | None = None
    tag_keys: tuple[str, ...] | None = None
    identity_only: bool = False


def _registry(backend: Store, account: str, region: str) -> Registry:
    """The registry (account, region) without creating it: a check must leave no trace."""
    found = backend.registries.get((account, region))
    return found if found is not None else Registry(account=account, region=region)


def _tags(params: Mapping[str, Any], key: str) -> dict[str, str] | None:
    raw = params.get(key)
    if not isinstance(raw, list):
        return None
    return {
        str(item.get("Key")): str(item.get("Value", ""))
        for item in raw
        if isinstance(item, Mapping) and item.get("Key") is not None
    }


def targets(ctx: Context, params: Mapping[str, Any]) -> list[Target]:
    """What ``ctx.operation`` with ``params`` must be allowed; [] for an unknown operation.

    A parameter the handler will reject (a missing name, a malformed ARN) yields no target, so
    the handler's validation error is what the caller sees.
    """
    rule = ACCESS_TABLE.get(ctx.operation)
    if rule is None:
        return []
    backend, region = ctx.backend, ctx.region
    if rule.scope == "identity":
        return [Target(rule.action, "*", None, identity_only=True)]
    if rule.scope == "resource_arn":
        ref = parse_repository_arn(str(params.get("resourceArn") or ""))
        if ref is None:
            return []
        reg = _registry(backend, ref.account, ref.region)
        keys = params.get("tagKeys")
        return [
            Target(
                rule.action,
                repository_arn(ref.account, ref.region, ref.name),
                reg,
                reg.repositories.get(ref.name),
                request_tags=_tags(params, "tags"),
                tag_keys=tuple(str(k) for k in keys) if isinstance(keys, list) else None,
            )
        ]
    account = str(params.get("registryId") or ctx.account)
    reg = _registry(backend, account, region)
    if rule.scope == "registry":
        return [Target(rule.action, "*", reg)]
    if rule.scope == "repository":
        name = params.get("repositoryName")
        if not isinstance(name, str) or not name:
            return []
        return [
            Target(
                rule.action,
                repository_arn(account, region, name),
                reg,
                reg.repositories.get(name),
                request_tags=_tags(params, "tags") if ctx.operation == "CreateRepository" else None,
            )
        ]
    names = params.get("repositoryNames")
    if isinstance(names, list) and names:
        return [
            Target(
                rule.action,
                repository_arn(account, region, str(n)),
                reg,
                reg.repositories.get(str(n)),
            )
            for n in names
        ]
    if rule.scope == "describe":
        return [Target(rule.action, repository_arn(account, region, "*"), reg)]
    return []


def check_operation(ctx: Context, params: Mapping[str, Any]) -> None:
    """Raise AccessDenied unless the caller may perform ``ctx.operation`` with ``params``."""
    for target in targets(ctx, params):
        check_access(
            ctx.backend,
            ctx.principal,
            AccessRequest(
                action=target.action,
                resource=target.resource,
                registry=target.registry,
                repository=target.repository,
                source_ip=ctx.source_ip,
                secure_transport=ctx.secure_transport,
                request_tags=target.request_tags,
                tag_keys=target.tag_keys,
                identity_only=target.identity_only,
            ),
        )
