"""Registry authentication (ECR's Basic tokens, ECR Public's Bearer tokens and anonymous pulls),
registry selection and the access hook."""

from __future__ import annotations

from dataclasses import dataclass

from werkzeug.wrappers import Request

from ecr_mock.core.backend import Backend
from ecr_mock.core.errors import Unauthenticated
from ecr_mock.core.models import Principal, Registry
from ecr_mock.core.names import (
    REGISTRY_HOST_RE,
    parse_repository_arn,
    region_of_registry_host,
    repository_arn,
)
from ecr_mock.core.services import public
from ecr_mock.core.services.access import AccessRequest, check_access
from ecr_mock.core.tokens import Token
from ecr_mock.wire import normalize_host

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
PUBLIC_READS = frozenset({PULL_MANIFEST, PULL_BLOB, CHECK_BLOB, LIST_IMAGES})
"""What anyone may do in a public repository, with or without credentials."""


@dataclass
class RequestContext:
    """One registry request: the backend, the addressed registry and who is calling."""

    backend: Backend
    request: Request
    registry: Registry
    token: Token | None
    anonymous: bool = False
    """True for a caller without credentials (public pulls only)."""

    @property
    def principal(self) -> Principal | None:
        """The principal the token was issued to (None for signed download URLs)."""
        return self.token.principal if self.token is not None else None

    def repository_arn(self, name: str) -> str:
        """The ARN of repository ``name`` (its path name) in the addressed registry."""
        if public.is_public(self.registry):
            return public.repository_arn(self.registry.account, _public_name(self.registry, name))
        return repository_arn(self.registry.account, self.registry.region, name)


def _public_name(registry: Registry, name: str) -> str:
    """A public repository's own name from its path name ``<alias>/<name>``."""
    prefix = public.alias_of(registry) + "/"
    return name[len(prefix) :] if name.startswith(prefix) else name


def addressed_registry(host: str) -> tuple[str, str] | None:
    """(account, region) when ``host`` is an ECR registry host name, else None."""
    match = REGISTRY_HOST_RE.fullmatch(normalize_host(host).split(":", 1)[0])
    if match is None:
        return None
    return match["account"], region_of_registry_host(match)


def challenges(backend: Backend, request: Request, name: str | None = None) -> list[str]:
    """The ``WWW-Authenticate`` values for the host and path the client addressed.

    The public registry host (``public.ecr.aws``, or a live server's public name) and paths of
    public repositories get ECR Public's Bearer challenge naming this server's token endpoint
    (clients then fetch an anonymous or a credentialed token); everything else gets ECR's Basic
    challenge.
    """
    host = request.host or "localhost"
    ecr_host = addressed_registry(host) is not None
    public_host = public.is_public_host(backend, host)
    scheme = "https" if ecr_host or host.split(":", 1)[0] == public.PUBLIC_HOST else request.scheme
    if public_host or (
        not ecr_host and name is not None and public.addressed_repository(backend, name)
    ):
        scope = f"repository:{name}:pull" if name is not None else "aws"
        return [f'Bearer realm="{scheme}://{host}/token",service="{host}",scope="{scope}"']
    return [f'Basic realm="{scheme}://{host}/",service="ecr.amazonaws.com"']


EMPTY_BASIC = "Og=="
"""Basic credentials of an empty user and password (``:``), what clients without any send."""


def credentials(backend: Backend, request: Request) -> Token | None:
    """The token the request carries: a Basic ``AWS:<password>``, or a Bearer token from
    ``/token``; None for none at all, for empty Basic credentials and for an anonymous token.

    Raises Unauthenticated (401) for credentials that are not valid, TokenExpired (403).
    """
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        if backend.tokens.check_anonymous(value):
            return None
        return backend.tokens.check(value)
    if scheme.lower() == "basic" and value == EMPTY_BASIC:
        return None
    auth = request.authorization
    if auth is None or auth.type != "basic" or auth.username is None or auth.password is None:
        raise Unauthenticated("Not Authorized")
    return backend.tokens.check_basic(auth.username, auth.password)


def _anonymous_bearer(backend: Backend, request: Request) -> bool:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and backend.tokens.check_anonymous(value.strip())


def authenticate(backend: Backend, request: Request, name: str | None = None) -> RequestContext:
    """Check the credentials and pick the registry.

    An ECR host name addresses its registry, and the token must have been issued for it; any
    other host (a live server's ``HOST:PORT``) addresses the registry the token was issued for.
    A path name ``<alias>/<name>`` of a public repository addresses that public registry: for
    anyone (pulls: an anonymous token from ``/token``, or empty Basic credentials), and for
    pushes with credentials. Raises Unauthenticated (401) or
    TokenExpired (403).
    """
    token = credentials(backend, request)
    public_registry = public.addressed_repository(backend, name) if name else None
    if token is None:
        if public_registry is None and name is None and _anonymous_bearer(backend, request):
            # ``/v2/`` itself with an anonymous token: a public registry nothing is stored in
            unattached = Registry(account=backend.default_account, region=public.PUBLIC_REGION)
            return RequestContext(backend, request, unattached, None, anonymous=True)
        if public_registry is None or "Authorization" not in request.headers:
            raise Unauthenticated("Not Authorized")  # the challenge says how to get a token
        return RequestContext(backend, request, public_registry, None, anonymous=True)
    addressed = addressed_registry(request.host or "")
    if addressed is not None and addressed != (token.account, token.region):
        raise Unauthenticated("Not Authorized")
    registry = backend.registry(token.account, token.region)
    if public_registry is not None and name not in registry.repositories:
        registry = public_registry
    elif public.is_public(registry):
        registry = public.public_registry(backend, token.account)
    return RequestContext(backend=backend, request=request, registry=registry, token=token)


def authorize(request_ctx: RequestContext, action: str, repo_arn: str) -> None:
    """Allow or refuse ``action`` on ``repo_arn`` for the caller; raises AccessDenied.

    Every registry step calls this with the IAM action ECR checks. The policies in force now
    decide (a token stops working for what its principal has lost): the caller's identity
    policies, the repository policy and the registry policy. Signed download URLs (no token)
    carry their own authority and are not checked here.
    """
    registry = request_ctx.registry
    if public.is_public(registry):
        _authorize_public(request_ctx, action, repo_arn)
        return
    principal = request_ctx.principal
    if principal is None:
        return
    ref = parse_repository_arn(repo_arn)
    repository = registry.repositories.get(ref.name) if ref is not None else None
    request = request_ctx.request
    check_access(
        request_ctx.backend,
        principal,
        AccessRequest(
            action=action,
            resource=repo_arn,
            registry=registry,
            repository=repository,
            source_ip=request.remote_addr,
            secure_transport=request.scheme == "https",
        ),
    )


def _authorize_public(request_ctx: RequestContext, action: str, repo_arn: str) -> None:
    """Public repositories: anyone may pull; a push needs credentials and the ``ecr-public``
    action allowed (the caller's own registry, or a repository policy granting it)."""
    if action in PUBLIC_READS:
        return
    principal = request_ctx.principal
    if principal is None:
        raise Unauthenticated("Not Authorized")
    registry = request_ctx.registry
    name = _public_name(registry, repo_arn.partition(":repository/")[2])
    repository = registry.repositories.get(public.repository_key(registry, name))
    request = request_ctx.request
    check_access(
        request_ctx.backend,
        principal,
        AccessRequest(
            action="ecr-public:" + action.partition(":")[2],
            resource=public.repository_arn(registry.account, name),
            registry=Registry(account=registry.account, region=public.API_REGION),
            repository=repository,
            source_ip=request.remote_addr,
            secure_transport=request.scheme == "https",
        ),
    )
