"""Registry callers: which registry and principal a ``/v2/`` request speaks for, and may it act."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from ecr_mock.domain.errors import Unauthenticated
from ecr_mock.domain.models import Principal, Registry
from ecr_mock.domain.names import (
    REGISTRY_HOST_RE,
    parse_repository_arn,
    region_of_registry_host,
)
from ecr_mock.domain.names import repository_arn as private_repository_arn
from ecr_mock.services import public
from ecr_mock.services.access import AccessRequest, check_access

if TYPE_CHECKING:
    from ecr_mock.store.state import Store
    from ecr_mock.store.tokens import Token

# IAM actions ECR checks for each registry step.
PULL_MANIFEST = "ecr:BatchGetImage"
PULL_BLOB = "ecr:GetDownloadUrlForLayer"
CHECK_BLOB = "ecr:BatchCheckLayerAvailability"
INITIATE_UPLOAD = "ecr:InitiateLayerUpload"
UPLOAD_PART = "ecr:UploadLayerPart"
COMPLETE_UPLOAD = "ecr:CompleteLayerUpload"
PUT_IMAGE = "ecr:PutImage"
DELETE_IMAGE = "ecr:BatchDeleteImage"
LIST_IMAGES = "ecr:ListImages"
DESCRIBE_REPOSITORIES = "ecr:DescribeRepositories"
CREATE_REPOSITORY = "ecr:CreateRepository"
IMPORT_UPSTREAM = "ecr:BatchImportUpstreamImage"
PUBLIC_READS = frozenset({PULL_MANIFEST, PULL_BLOB, CHECK_BLOB, LIST_IMAGES})
"""What anyone may do in a public repository, with or without credentials."""

EMPTY_BASIC = "Og=="
"""Basic credentials of an empty user and password (``:``), what clients without any send."""


@dataclass
class Caller:
    """Who one registry request speaks for: the addressed registry, the token (None for an
    anonymous caller or a signed download URL) and what the connection adds to conditions."""

    registry: Registry
    token: Token | None
    anonymous: bool = False
    """True for a caller without credentials (public pulls only)."""
    source_ip: str | None = None
    secure_transport: bool = False

    @property
    def principal(self) -> Principal | None:
        """The principal the token was issued to (None without a token)."""
        return self.token.principal if self.token is not None else None

    @property
    def principal_arn(self) -> str | None:
        """The ARN of :attr:`principal` (None without a token)."""
        principal = self.principal
        return principal.arn if principal is not None else None


def addressed_registry(host: str) -> tuple[str, str] | None:
    """(account, region) when ``host`` (normalized, port allowed) is an ECR registry host."""
    match = REGISTRY_HOST_RE.fullmatch(host.split(":", 1)[0])
    if match is None:
        return None
    return match["account"], region_of_registry_host(match)


def repository_arn(registry: Registry, name: str) -> str:
    """The ARN of repository ``name`` (its ``/v2/`` path name) in ``registry``."""
    if public.is_public(registry):
        return public.repository_arn(registry.account, _public_name(registry, name))
    return private_repository_arn(registry.account, registry.region, name)


def _public_name(registry: Registry, name: str) -> str:
    """A public repository's own name from its path name ``<alias>/<name>``."""
    prefix = public.alias_of(registry) + "/"
    return name[len(prefix) :] if name.startswith(prefix) else name


# ----- credentials -------------------------------------------------------------------------------


def presented_token(
    store: Store, authorization: str | None, basic: tuple[str, str] | None
) -> Token | None:
    """The token an ``Authorization`` header carries: a Basic ``AWS:<password>`` (``basic``:
    its decoded user and password, None when it is no well-formed Basic header) or a Bearer
    token from ``/token``; None for none at all, empty Basic credentials and anonymous tokens.

    Raises Unauthenticated (401) for credentials that are not valid, TokenExpired (403).
    """
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        if store.tokens.check_anonymous(value):
            return None
        return store.tokens.check(value)
    if scheme.lower() == "basic" and value == EMPTY_BASIC:
        return None
    if basic is None:
        raise Unauthenticated("Not Authorized")
    return store.tokens.check_basic(*basic)


def is_anonymous_bearer(store: Store, authorization: str | None) -> bool:
    """True for ``Bearer <an anonymous token from /token>``."""
    scheme, _, value = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and store.tokens.check_anonymous(value.strip())


def granted_token(
    store: Store, grant_type: str | None, username: str, password: str, refresh_token: str
) -> Token | None:
    """The token an OAuth2 form (as docker posts to ``/token``) asks for; None for other grants."""
    if grant_type == "password":
        return store.tokens.check_basic(username, password)
    if grant_type == "refresh_token":
        return store.tokens.check(refresh_token)
    return None


def bearer_token(store: Store, token: Token | None) -> tuple[str, datetime]:
    """What ``/token`` hands out: the token's own value and expiry, or a new anonymous one."""
    if token is None:
        return store.tokens.issue_anonymous()
    return token.password, token.expires_at


# ----- which registry ----------------------------------------------------------------------------


def speaking_for(
    store: Store,
    authorization: str | None,
    basic: tuple[str, str] | None,
    *,
    host: str,
    name: str | None = None,
    source_ip: str | None = None,
    secure_transport: bool = False,
) -> Caller:
    """Check the credentials (``authorization``: the header, None when absent) and pick the
    registry a request addresses.

    An ECR host name (``host``, normalized) addresses its registry, and the token must have
    been issued for it; any other host (a live server's ``HOST:PORT``) addresses the registry
    the token was issued for. A path name ``<alias>/<name>`` of a public repository addresses
    that public registry: for anyone (pulls: an anonymous token from ``/token``, or empty Basic
    credentials), and for pushes with credentials. Raises Unauthenticated (401) or
    TokenExpired (403).
    """
    token = presented_token(store, authorization, basic)
    public_registry = public.addressed_repository(store, name) if name else None
    if token is None:
        if public_registry is None and name is None and is_anonymous_bearer(store, authorization):
            # ``/v2/`` itself with an anonymous token: a public registry nothing is stored in
            unattached = Registry(account=store.default_account, region=public.PUBLIC_REGION)
            return Caller(unattached, None, True, source_ip, secure_transport)
        if public_registry is None or authorization is None:
            raise Unauthenticated("Not Authorized")  # the challenge says how to get a token
        return Caller(public_registry, None, True, source_ip, secure_transport)
    addressed = addressed_registry(host)
    if addressed is not None and addressed != (token.account, token.region):
        raise Unauthenticated("Not Authorized")
    registry = store.registry(token.account, token.region)
    if public_registry is not None and name not in registry.repositories:
        registry = public_registry
    elif public.is_public(registry):
        registry = public.public_registry(store, token.account)
    return Caller(registry, token, False, source_ip, secure_transport)


# ----- may it act --------------------------------------------------------------------------------


def authorize(store: Store, caller: Caller, action: str, repo_arn: str) -> None:
    """Allow or refuse ``action`` on ``repo_arn`` for the caller; raises AccessDenied.

    Every registry step asks this for the IAM action ECR checks. The policies in force now
    decide (a token stops working for what its principal has lost): the caller's identity
    policies, the repository policy and the registry policy. A caller without a token in a
    private registry (a signed download URL) carries its own authority and is not checked.
    """
    registry = caller.registry
    if public.is_public(registry):
        _authorize_public(store, caller, action, repo_arn)
        return
    principal = caller.principal
    if principal is None:
        return
    ref = parse_repository_arn(repo_arn)
    repository = registry.repositories.get(ref.name) if ref is not None else None
    check_access(
        store,
        principal,
        AccessRequest(
            action=action,
            resource=repo_arn,
            registry=registry,
            repository=repository,
            source_ip=caller.source_ip,
            secure_transport=caller.secure_transport,
        ),
    )


def _authorize_public(store: Store, caller: Caller, action: str, repo_arn: str) -> None:
    """Public repositories: anyone may pull; a push needs credentials and the ``ecr-public``
    action allowed (the caller's own registry, or a repository policy granting it)."""
    if action in PUBLIC_READS:
        return
    principal = caller.principal
    if principal is None:
        raise Unauthenticated("Not Authorized")
    registry = caller.registry
    name = _public_name(registry, repo_arn.partition(":repository/")[2])
    repository = registry.repositories.get(public.repository_key(registry, name))
    check_access(
        store,
        principal,
        AccessRequest(
            action="ecr-public:" + action.partition(":")[2],
            resource=public.repository_arn(registry.account, name),
            registry=Registry(account=registry.account, region=public.API_REGION),
            repository=repository,
            source_ip=caller.source_ip,
            secure_transport=caller.secure_transport,
        ),
    )
