"""One ECR API call as handlers see it: the Context (backend, caller, region) and handler types."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ecr_mock.domain.models import Principal, Registry, Repository
from ecr_mock.services import repositories
from ecr_mock.services.backend import Backend

Params = dict[str, Any]
Result = dict[str, Any]
Handler = Callable[["Context", Params], Result]
"""An operation's handler: the call's context and parameters in, the answer's members out."""


@dataclass
class Context:
    """One API call: the backend, who is calling, and from which region."""

    backend: Backend
    operation: str
    principal: Principal
    region: str
    access_key: str | None = None
    source_ip: str = "127.0.0.1"
    secure_transport: bool = False

    @property
    def account(self) -> str:
        """The caller's account id."""
        return self.principal.account_id

    def registry(self, params: Params) -> Registry:
        """The registry named by ``registryId`` (default: the caller's) in the call's region."""
        registry_id = params.get("registryId") or self.account
        return self.backend.registry(registry_id, self.region)

    def repository(self, params: Params, reg: Registry | None = None) -> Repository:
        """The repository named by ``repositoryName``; RepositoryNotFoundException otherwise."""
        reg = reg or self.registry(params)
        return repositories.get_repository(self.backend, reg, params["repositoryName"])
