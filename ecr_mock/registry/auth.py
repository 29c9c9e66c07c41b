"""Registry authentication (ECR's HTTP Basic tokens), registry selection and the access hook."""

from __future__ import annotations

from dataclasses import dataclass

from werkzeug.wrappers import Request

from ecr_mock.core.access import AccessRequest, check_access
from ecr_mock.core.backend import Backend
from ecr_mock.core.errors import Unauthenticated
from ecr_mock.core.models import Principal, Registry
from ecr_mock.core.names import REGISTRY_HOST_RE, parse_repository_arn, repository_arn
from ecr_mock.core.tokens import Token
from ecr_mock.intercept import moto_iam  # noqa: F401  (moto's IAM users decide when moto is loaded)
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


@dataclass
class RequestContext:
    """One registry request: the backend, the addressed registry and who is calling."""

    backend: Backend
    request: Request
    registry: Registry
    token: Token | None

    @property
    def principal(self) -> Principal | None:
        """The principal the token was issued to (None for signed download URLs)."""
        return self.token.principal if self.token is not None else None

    def repository_arn(self, name: str) -> str:
        """The ARN of repository ``name`` in the addressed registry."""
        return repository_arn(self.registry.account, self.registry.region, name)


def addressed_registry(host: str) -> tuple[str, str] | None:
    """(account, region) when ``host`` is an ECR registry host name, else None."""
    match = REGISTRY_HOST_RE.fullmatch(normalize_host(host).split(":", 1)[0])
    if match is None:
        return None
    return match["account"], match["region"]


def challenge(request: Request) -> str:
    """ECR's ``WWW-Authenticate`` value for the host the client addressed."""
    host = request.host or "localhost"
    scheme = "https" if addressed_registry(host) else request.scheme
    return f'Basic realm="{scheme}://{host}/",service="ecr.amazonaws.com"'


def authenticate(backend: Backend, request: Request) -> RequestContext:
    """Check HTTP Basic credentials and pick the registry.

    An ECR host name addresses its registry, and the token must have been issued for it; any
    other host (a live server's ``HOST:PORT``) addresses the registry the token was issued for.
    Raises Unauthenticated (401) or TokenExpired (403).
    """
    auth = request.authorization
    if auth is None or auth.type != "basic" or auth.username is None or auth.password is None:
        raise Unauthenticated("Not Authorized")
    token = backend.tokens.check_basic(auth.username, auth.password)
    addressed = addressed_registry(request.host or "")
    if addressed is not None and addressed != (token.account, token.region):
        raise Unauthenticated("Not Authorized")
    return RequestContext(
        backend=backend,
        request=request,
        registry=backend.registry(token.account, token.region),
        token=token,
    )


def authorize(request_ctx: RequestContext, action: str, repo_arn: str) -> None:
    """Allow or refuse ``action`` on ``repo_arn`` for the caller; raises AccessDenied.

    Every registry step calls this with the IAM action ECR checks. The policies in force now
    decide (a token stops working for what its principal has lost): the caller's identity
    policies, the repository policy and the registry policy. Signed download URLs (no token)
    carry their own authority and are not checked here.
    """
    principal = request_ctx.principal
    if principal is None:
        return
    registry = request_ctx.registry
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
