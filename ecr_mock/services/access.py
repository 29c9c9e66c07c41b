"""Access decisions: who a caller is, which policies apply to a request, and ECR's refusal."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timezone
from typing import TYPE_CHECKING

from ecr_mock.domain.errors import (
    AccessDenied,
    ExpiredCredentials,
    MissingAuthenticationToken,
    Unauthenticated,
)
from ecr_mock.domain.models import Principal, Registry, Repository
from ecr_mock.domain.ports import Identity, IdentityProvider
from ecr_mock.services.settings import REGISTRY_POLICY_SCOPE, registry_policy_scope

if TYPE_CHECKING:
    from ecr_mock.domain.iam_policy import AuthzRequest, Decision, IamPrincipal, Policy
    from ecr_mock.store.state import Store

__all__ = [
    "ADMINISTRATOR_POLICY",
    "POLICY_RECOVERY_ACTIONS",
    "REGISTRY_POLICY_SCOPE",
    "V1_REGISTRY_POLICY_ACTIONS",
    "AccessRequest",
    "ExpiredCredentials",
    "Identity",
    "IdentityProvider",
    "MissingAuthenticationToken",
    "StaticIdentities",
    "check_access",
    "decide",
    "identity_of",
    "is_allowed",
    "registry_policy_scope",
    "resolve_principal",
]

V1_REGISTRY_POLICY_ACTIONS = frozenset(
    {"ecr:ReplicateImage", "ecr:BatchImportUpstreamImage", "ecr:CreateRepository"}
)
"""The only actions a V1-scoped registry policy governs."""


POLICY_RECOVERY_ACTIONS = frozenset(
    {
        "ecr:GetRepositoryPolicy",
        "ecr:SetRepositoryPolicy",
        "ecr:DeleteRepositoryPolicy",
        "ecr:GetRegistryPolicy",
        "ecr:PutRegistryPolicy",
        "ecr:DeleteRegistryPolicy",
    }
)
"""Actions the owning account's root may always perform, whatever the resource policies say,
so that a policy locking everyone out (``SetRepositoryPolicy --force``) can be undone."""


class StaticIdentities:
    """An in-memory IdentityProvider: access keys and policies registered by code.

    For tests that want users and policies without moto::

        identities = StaticIdentities()
        backend.identity_provider = identities
        identities.add("AKIAREADER", "arn:aws:iam::123456789012:user/reader", [read_only_json])
    """

    def __init__(self) -> None:
        self._keys: dict[str, Principal] = {}
        self._identities: dict[str, Identity] = {}
        self._lock = threading.Lock()

    def add(
        self,
        access_key: str,
        arn: str,
        policies: Iterable[str] = (),
        tags: Mapping[str, str] | None = None,
    ) -> Principal:
        """Make ``access_key`` speak for ``arn`` (a user, role session or root ARN)."""
        from ecr_mock.domain.iam_policy import IamPrincipal

        parsed = IamPrincipal.from_arn(arn)
        principal = Principal(
            arn=parsed.arn,
            account_id=parsed.account_id,
            kind=parsed.kind,
            tags=tuple(sorted((tags or {}).items())),
        )
        identity = Identity(principal, tuple(policies), dict(tags or {}), parsed.role_arn)
        with self._lock:
            self._keys[access_key] = principal
            self._identities[principal.arn] = identity
        return principal

    def set_policies(self, arn: str, policies: Iterable[str]) -> None:
        """Replace the identity policies of an added principal (takes effect immediately)."""
        with self._lock:
            current = self._identities[arn]
            self._identities[arn] = Identity(
                current.principal, tuple(policies), current.tags, current.role_arn
            )

    def principal_for_key(self, access_key: str) -> Principal | None:
        """The principal added under ``access_key``."""
        return self._keys.get(access_key)

    def identity(self, principal: Principal) -> Identity | None:
        """The policies and tags added for ``principal``."""
        return self._identities.get(principal.arn)


def _providers(store: Store) -> list[IdentityProvider]:
    own = store.identity_provider
    found: list[IdentityProvider] = [own] if own is not None else []
    return found + list(store.identity_providers)


def resolve_principal(store: Store, access_key: str | None) -> Principal:
    """The principal behind an access key.

    Keys registered on the backend come first, then the backend's identity provider, then the
    installed providers (moto's IAM and STS, installed by the faces). An unknown key is the root of
    the backend's default account, unless ``backend.strict_credentials`` is set: then a
    missing key raises MissingAuthenticationToken and an unknown one Unauthenticated
    (``UnrecognizedClientException``), as AWS does.
    """
    strict = store.strict_credentials
    if not access_key:
        if strict:
            raise MissingAuthenticationToken()
        return Principal.root(store.default_account)
    registered = store.access_keys.get(access_key)
    if registered is not None:
        return registered
    for provider in _providers(store):
        found = provider.principal_for_key(access_key)
        if found is not None:
            return found
    if strict:
        raise Unauthenticated()
    return Principal.root(store.default_account)


ADMINISTRATOR_POLICY = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'
)
"""The identity policy of principals registered with ``Backend.add_access_key``."""


def identity_of(store: Store, principal: Principal) -> Identity:
    """The current identity of ``principal``.

    The first identity provider that knows it answers. A principal registered with
    ``Backend.add_access_key`` that no provider knows has no IAM of its own and acts as an
    administrator of its account (give it policies through an identity provider instead);
    any other principal nobody knows (e.g. a deleted user holding a token) has no policies.
    """
    if principal.kind == "root":
        return Identity(principal, (), dict(principal.tags))
    for provider in _providers(store):
        found = provider.identity(principal)
        if found is not None:
            return found
    if any(known == principal for known in list(store.access_keys.values())):
        return Identity(principal, (ADMINISTRATOR_POLICY,), dict(principal.tags))
    return Identity(principal, (), dict(principal.tags))


@dataclass(frozen=True)
class AccessRequest:
    """One action on one resource, with what the request adds to the condition context.

    ``registry`` is the registry whose account owns the resource and whose registry policy
    applies (None: the caller's own account, identity policies only); ``repository`` supplies
    the repository policy and the ``ResourceTag`` keys. ``identity_only`` ignores resource
    policies (GetAuthorizationToken). ``request_tags`` (``aws:RequestTag/*``) and ``tag_keys``
    (``aws:TagKeys``, default: the keys of ``request_tags``) describe tags the request sets or
    removes.
    """

    action: str
    resource: str
    registry: Registry | None = None
    repository: Repository | None = None
    source_ip: str | None = None
    secure_transport: bool | None = None
    request_tags: Mapping[str, str] | None = None
    tag_keys: tuple[str, ...] | None = None
    identity_only: bool = False


@functools.lru_cache(maxsize=1024)
def _parsed(text: str) -> Policy | None:
    from ecr_mock.domain.iam_policy import PolicyParseError, parse_policy

    try:
        return parse_policy(text)
    except PolicyParseError:
        return None


def _policies(texts: Iterable[str | None]) -> list[Policy]:
    found: list[Policy] = []
    for text in texts:
        if text:
            policy = _parsed(text)
            if policy is not None:
                found.append(policy)
    return found


def _iam_principal(identity: Identity) -> IamPrincipal:
    from ecr_mock.domain.iam_policy import IamPrincipal

    principal = identity.principal
    tags = dict(identity.tags)
    try:
        return IamPrincipal.from_arn(principal.arn, role_arn=identity.role_arn, tags=tags)
    except ValueError:
        return IamPrincipal(principal.arn, principal.account_id, "root", tags=tags)


def _context(store: Store, request: AccessRequest) -> dict[str, str | list[str]]:
    now = store.clock.now().astimezone(timezone.utc)
    context: dict[str, str | list[str]] = {
        "aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": str(int(now.timestamp())),
    }
    if request.source_ip:
        context["aws:SourceIp"] = request.source_ip
    if request.secure_transport is not None:
        context["aws:SecureTransport"] = "true" if request.secure_transport else "false"
    if request.registry is not None:
        context["aws:RequestedRegion"] = request.registry.region
    if request.repository is not None:
        for key, value in request.repository.resource_tags.items():
            context[f"aws:ResourceTag/{key}"] = value
            context[f"ecr:ResourceTag/{key}"] = value
    if request.request_tags is not None:
        for key, value in request.request_tags.items():
            context[f"aws:RequestTag/{key}"] = value
    keys = request.tag_keys
    if keys is None and request.request_tags is not None:
        keys = tuple(request.request_tags)
    if keys is not None:
        context["aws:TagKeys"] = list(keys)
    return context


def decide(
    store: Store, principal: Principal, request: AccessRequest
) -> tuple[Decision, AuthzRequest]:
    """Evaluate ``request`` for ``principal`` against the policies in force right now."""
    from ecr_mock.domain.iam_policy import AuthzRequest, evaluate

    identity = identity_of(store, principal)
    resource_policies: Sequence[Policy] = ()
    registry = request.registry
    owner = registry.account if registry is not None else principal.account_id
    recovering = (
        principal.kind == "root"
        and principal.account_id == owner
        and request.action in POLICY_RECOVERY_ACTIONS
    )
    if not request.identity_only and not recovering:
        texts: list[str | None] = []
        if request.repository is not None:
            texts.append(request.repository.policy_text)
        if registry is not None and (
            registry_policy_scope(registry) == "V2" or request.action in V1_REGISTRY_POLICY_ACTIONS
        ):
            texts.append(registry.policy_text)
        resource_policies = _policies(texts)
    authz = AuthzRequest(
        action=request.action,
        resource=request.resource,
        principal=_iam_principal(identity),
        resource_account=owner,
        context=_context(store, request),
    )
    decision = evaluate(authz, _policies(identity.policies), resource_policies)
    return decision, authz


def is_allowed(store: Store, principal: Principal, request: AccessRequest) -> bool:
    """Whether ``principal`` may perform ``request`` now."""
    return decide(store, principal, request)[0].allowed


def check_access(store: Store, principal: Principal, request: AccessRequest) -> None:
    """Raise AccessDenied, worded as ECR words it, unless ``principal`` may perform ``request``."""
    if _root_without_resource_policies(principal, request):
        return
    decision, authz = decide(store, principal, request)
    if decision.allowed:
        return
    full = decision.denial_message(authz)
    bare = decision.denial_message(authz, with_reason=False)
    raise AccessDenied(principal.arn, request.action, request.resource, full[len(bare) :].strip())


def _root_without_resource_policies(principal: Principal, request: AccessRequest) -> bool:
    """True for an account root in its own registry where no resource policy is set.

    Identity policies never apply to the root and only a resource policy could deny it, so
    the answer is "allowed" without evaluating anything (the common case of a test suite).
    """
    registry = request.registry
    owner = registry.account if registry is not None else principal.account_id
    if principal.kind != "root" or principal.account_id != owner or request.identity_only:
        return False
    if request.repository is not None and request.repository.policy_text:
        return False
    return not (registry is not None and registry.policy_text)
