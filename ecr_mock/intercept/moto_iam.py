"""Identities from moto's IAM and STS: access keys, users, groups, roles, sessions, policies."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

from ecr_mock.core.access import (
    ExpiredCredentials,
    Identity,
    register_default_provider,
)
from ecr_mock.core.errors import Unauthenticated
from ecr_mock.core.models import Principal

__all__ = ["ECR_MANAGED_POLICIES", "MOTO_IDENTITIES", "MotoIdentities", "add_ecr_managed_policies"]

ECR_MANAGED_POLICIES = (
    "AmazonEC2ContainerRegistryFullAccess",
    "AmazonEC2ContainerRegistryPowerUser",
    "AmazonEC2ContainerRegistryReadOnly",
    "AmazonEC2ContainerRegistryPullOnly",
)
"""The AWS managed ECR policies; attach them as ``arn:aws:iam::aws:policy/<name>``."""


def _iam_backends() -> Iterator[tuple[str, Any]]:
    """(account, IAM backend) for every IAM backend moto has created, without creating any.

    Nothing is imported unless moto already loaded its IAM models: without them no IAM user,
    role or key can exist.
    """
    models = sys.modules.get("moto.iam.models")
    if models is None:
        return
    backends = getattr(models, "iam_backends", None)
    if backends is None:
        return
    for account_id, per_account in list(dict.items(backends)):
        for backend in list(dict.values(per_account)):
            yield str(account_id), backend


def _sts_sessions(account_id: str) -> Iterator[Any]:
    """moto's assumed-role sessions held for ``account_id`` (the role's account)."""
    models = sys.modules.get("moto.sts.models")
    backends = getattr(models, "sts_backends", None) if models is not None else None
    if backends is None or account_id not in dict.keys(backends):
        return
    for backend in list(dict.values(dict.__getitem__(backends, account_id))):
        yield from list(getattr(backend, "assumed_roles", []))


def _document(managed_policy: Any) -> str | None:
    """The default version's document of a moto managed policy."""
    for version in getattr(managed_policy, "versions", []):
        if getattr(version, "is_default", False):
            return str(version.document)
    return None


def _policies_of(entity: Any) -> list[str]:
    """Inline then attached (customer or AWS managed) policy documents of a user/group/role."""
    found = [str(text) for text in getattr(entity, "policies", {}).values()]
    for managed in getattr(entity, "managed_policies", {}).values():
        document = _document(managed)
        if document:
            found.append(document)
    return found


def _tags(pairs: Any) -> dict[str, str]:
    if isinstance(pairs, dict):
        pairs = pairs.get("Tags", [])
    return {str(t["Key"]): str(t.get("Value", "")) for t in pairs or [] if "Key" in t}


def _user_by_arn(backend: Any, arn: str) -> Any:
    for user in list(backend.users.values()):
        if user.arn == arn:
            return user
    return None


def _role_by_arn(backend: Any, arn: str) -> Any:
    for role in list(backend.roles.values()):
        if role.arn == arn:
            return role
    return None


def _expired(expiration: Any) -> bool:
    if not isinstance(expiration, datetime):
        return False
    if expiration.tzinfo is None:
        expiration = expiration.replace(tzinfo=timezone.utc)
    utils = sys.modules.get("moto.core.utils")
    now_fn = getattr(utils, "utcnow", None)
    now = now_fn() if now_fn is not None else datetime.now(timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return bool(now >= expiration)


class MotoIdentities:
    """An IdentityProvider reading moto's IAM and STS state at request time.

    Works in-process beside ``mock_aws`` and in a server that also serves moto's services:
    both keep their state in moto's backends in this process. Access keys of IAM users and of
    STS ``AssumeRole`` sessions are recognised; a user's policies are its inline and attached
    policies plus those of its groups, a session's are its role's; AWS managed policies
    (``AmazonEC2ContainerRegistryReadOnly`` and the rest) come from moto's copies.
    """

    def principal_for_key(self, access_key: str) -> Principal | None:
        """The moto user or assumed-role session owning ``access_key``."""
        for account_id, backend in _iam_backends():
            key = backend.access_keys.get(access_key)
            if key is None:
                continue
            if getattr(key, "status", "Active") != "Active":
                raise Unauthenticated()
            if key.user_name:
                user = backend.users.get(key.user_name)
                if user is None:
                    raise Unauthenticated()
                tags = _tags(backend.tagger.list_tags_for_resource(user.arn))
                return Principal(user.arn, account_id, "user", tuple(sorted(tags.items())))
            for session in _sts_sessions(account_id):
                if session.access_key_id == access_key:
                    if _expired(getattr(session, "expiration", None)):
                        raise ExpiredCredentials()
                    return Principal(session.arn, account_id, "assumed-role")
        return None

    def identity(self, principal: Principal) -> Identity | None:
        """Current policies and tags of a moto user or assumed-role session."""
        if principal.kind not in ("user", "assumed-role", "role"):
            return None
        for account_id, backend in _iam_backends():
            if account_id != principal.account_id:
                continue
            if principal.kind == "user":
                user = _user_by_arn(backend, principal.arn)
                if user is None:
                    continue
                policies = _policies_of(user)
                for group in list(backend.groups.values()):
                    if user in group.users:
                        policies.extend(_policies_of(group))
                tags = _tags(backend.tagger.list_tags_for_resource(user.arn))
                return Identity(principal, tuple(policies), tags)
            role_arn = self._role_arn(principal)
            role = _role_by_arn(backend, role_arn) if role_arn else None
            if role is None:
                continue
            return Identity(principal, tuple(_policies_of(role)), _tags(role.tags), role_arn)
        return None

    @staticmethod
    def _role_arn(principal: Principal) -> str | None:
        if principal.kind == "role":
            return principal.arn
        for session in _sts_sessions(principal.account_id):
            if session.arn == principal.arn:
                return str(session.role_arn)
        return None


def add_ecr_managed_policies(account_id: str = "123456789012") -> list[str]:
    """Make moto's IAM in ``account_id`` know the four AWS managed ECR policies; their ARNs.

    moto only loads AWS managed policies when asked (``mock_aws(config={"iam":
    {"load_aws_managed_policies": True}})`` or ``MOTO_IAM_LOAD_MANAGED_POLICIES=true``), which
    loads all of them; this adds just the ECR ones, cheaply. Call it after ``mock_aws`` starts
    (moto resets its state on start). Adding them twice is harmless. Requires moto.
    """
    from moto.iam.aws_managed_policies import aws_managed_policies_data
    from moto.iam.models import AWSManagedPolicy, iam_backends

    data = json.loads(aws_managed_policies_data)
    backend = iam_backends[account_id]["aws"]
    arns: list[str] = []
    for name in ECR_MANAGED_POLICIES:
        policy = AWSManagedPolicy.from_data(name, account_id, "us-east-1", data[name])
        backend.managed_policies.setdefault(policy.arn, policy)
        arns.append(str(policy.arn))
    return arns


MOTO_IDENTITIES = MotoIdentities()
"""The provider every backend consults once this module is imported (it does nothing until
moto's IAM holds users)."""

register_default_provider(MOTO_IDENTITIES)
