"""What the core needs from outside: identity providers, upstream registries, secrets, listeners."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ecr_mock.domain.input_errors import UpstreamError
from ecr_mock.domain.models import Principal

__all__ = [
    "Credentials",
    "EventListener",
    "Identity",
    "IdentityProvider",
    "SecretReader",
    "UpstreamClient",
    "UpstreamConnector",
    "UpstreamError",
]


@dataclass(frozen=True)
class Identity:
    """What an identity provider knows about a principal at request time.

    ``policies`` are the JSON documents of every identity policy that applies (inline, attached,
    inherited from groups, AWS managed); ``tags`` are the principal's tags
    (``aws:PrincipalTag/*``); ``role_arn`` is the role of an assumed-role session.
    """

    principal: Principal
    policies: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    role_arn: str | None = None


class IdentityProvider(Protocol):
    """A source of identities: maps access keys to principals and principals to policies."""

    def principal_for_key(self, access_key: str) -> Principal | None:
        """The principal ``access_key`` belongs to, or None when this provider does not know it.

        May raise Unauthenticated (e.g. an inactive key or expired session credentials).
        """
        ...

    def identity(self, principal: Principal) -> Identity | None:
        """The current policies and tags of ``principal``, or None when unknown here."""
        ...


@dataclass(frozen=True)
class Credentials:
    """What a pull-through rule's secret holds: ``username`` and ``accessToken``."""

    username: str
    password: str


class UpstreamClient(Protocol):
    """An OCI registry to read from; raises :class:`UpstreamError`."""

    def check(self) -> None:
        """Reach the registry and authenticate (``GET /v2/``)."""

    def manifest(self, name: str, reference: str) -> tuple[bytes, str]:
        """The manifest bytes and media type of ``name:reference``."""
        ...

    def blob(self, name: str, digest: str, write: Callable[[bytes], None]) -> None:
        """Stream blob ``digest`` of ``name`` into ``write``."""


UpstreamConnector = Callable[[str, "Credentials | None", float], UpstreamClient]
"""``(upstream URL, credentials, timeout seconds) -> client``."""

SecretReader = Callable[[str], "str | None"]
"""``secret ARN or name -> secret string`` (None when the reader does not hold it)."""

OperationCaller = Callable[[Any, str, dict[str, Any], str, str], tuple[int, dict[str, Any]]]
"""``call(backend, operation, params, account, region) -> (status, answer)``: one ECR API call
made as the root of ``account`` in ``region``, answered like the API (``__type`` on errors)."""

EventListener = Callable[[str, dict[str, Any]], None]
"""``(kind, detail)``: told about every core event (image pushed, deleted, scanned, ...)."""
