"""Registry credentials on the wire: the Authorization header, host, challenges, request context."""

from __future__ import annotations

from dataclasses import dataclass

from werkzeug.wrappers import Request

from ecr_mock.domain.models import Registry
from ecr_mock.protocols.wire import normalize_host
from ecr_mock.services import Store, public, registry_auth
from ecr_mock.services.registry_auth import Caller


@dataclass
class RequestContext:
    """One registry request: the store, the request and who it speaks for."""

    store: Store
    request: Request
    caller: Caller

    @property
    def registry(self) -> Registry:
        """The registry the request addresses."""
        return self.caller.registry

    def repository_arn(self, name: str) -> str:
        """The ARN of repository ``name`` (its path name) in the addressed registry."""
        return registry_auth.repository_arn(self.caller.registry, name)


def challenges(store: Store, request: Request, name: str | None = None) -> list[str]:
    """The ``WWW-Authenticate`` values for the host and path the client addressed.

    The public registry host (``public.ecr.aws``, or a live server's public name) and paths of
    public repositories get ECR Public's Bearer challenge naming this server's token endpoint
    (clients then fetch an anonymous or a credentialed token); everything else gets ECR's Basic
    challenge.
    """
    host = request.host or "localhost"
    ecr_host = registry_auth.addressed_registry(normalize_host(host)) is not None
    public_host = public.is_public_host(store, host)
    scheme = "https" if ecr_host or host.split(":", 1)[0] == public.PUBLIC_HOST else request.scheme
    if public_host or (
        not ecr_host and name is not None and public.addressed_repository(store, name)
    ):
        scope = f"repository:{name}:pull" if name is not None else "aws"
        return [f'Bearer realm="{scheme}://{host}/token",service="{host}",scope="{scope}"']
    return [f'Basic realm="{scheme}://{host}/",service="ecr.amazonaws.com"']


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """The user and password of a well-formed Basic ``Authorization`` header, else None."""
    if request.headers.get("Authorization", "")[:6].lower() != "basic ":
        return None
    auth = request.authorization
    if auth is None or auth.type != "basic" or auth.username is None or auth.password is None:
        return None
    return auth.username, auth.password


def authenticate(store: Store, request: Request, name: str | None = None) -> RequestContext:
    """Check the credentials and pick the registry (see ``registry_auth.speaking_for``).

    Raises Unauthenticated (401) or TokenExpired (403).
    """
    caller = registry_auth.speaking_for(
        store,
        request.headers.get("Authorization"),
        basic_credentials(request),
        host=normalize_host(request.host or ""),
        name=name,
        source_ip=request.remote_addr,
        secure_transport=request.scheme == "https",
    )
    return RequestContext(store, request, caller)
