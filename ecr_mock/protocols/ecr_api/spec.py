"""One declarative spec per ECR and ECR Public operation: every fact the layers need about it.

An :class:`Operation` names the operation, the module serving it (its handler is imported on
the first call), the IAM action and how its resource is named, whether it changes state and
whether its answer waits for that change to be saved, the name fault rules match, and the quota
bucket it draws from. The access table, the operation modules' index, the fault catalogue's
operation names, the quota keys and the server's "save before answering" rule all come from
:data:`OPERATIONS`; a test runs every operation against a Store with a state directory and
fails when one that changed saved state is not marked as changing it.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

if TYPE_CHECKING:
    from ecr_mock.protocols.ecr_api.context import Handler

__all__ = [
    "ECR",
    "ECR_PUBLIC",
    "OPERATIONS",
    "PUBLIC_TARGET_PREFIX",
    "TARGET_PREFIX",
    "Change",
    "Operation",
    "Scope",
    "operation",
    "target_operation",
]

TARGET_PREFIX: Final = "AmazonEC2ContainerRegistry_V20150921."
"""ECR's ``X-Amz-Target`` prefix."""
PUBLIC_TARGET_PREFIX: Final = "SpencerFrontendService."
"""ECR Public's target prefix (``ecr-public`` in botocore)."""

Service = Literal["ecr", "ecr-public"]
Scope = Literal["repository", "repositories", "describe", "resource_arn", "registry", "identity"]
"""How an operation names its resource for IAM.

- ``repository``: ``repositoryName`` (+ ``registryId``): the repository ARN.
- ``repositories``: each of ``repositoryNames`` in the caller's registry.
- ``describe``: DescribeRepositories: each named repository, else ``repository/*`` of the
  registry (so a listing of another account's registry needs its registry policy).
- ``resource_arn``: the ``resourceArn`` parameter (tagging operations).
- ``registry``: registry-level settings: resource ``*`` in the registry's account.
- ``identity``: resource ``*``, identity policies only (GetAuthorizationToken).
- ``public``: ECR Public decides in its own module (``ecr_public.operations``).
"""
Change = Literal["reads", "deferred", "saved"]
"""What a call does to saved state: ``reads`` (nothing), ``deferred`` (changes it, saved in the
background: upload sessions, blobs, pull times), ``saved`` (changes it; the server answers only
after the change is saved)."""

READS: Final = "reads"
DEFERRED: Final = "deferred"
SAVED: Final = "saved"

_PACKAGES: Mapping[Service, str] = {
    "ecr": "ecr_mock.protocols.ecr_api.ecr",
    "ecr-public": "ecr_mock.protocols.ecr_api.ecr_public",
}
_ACTION_PREFIX: Mapping[Service, str] = {"ecr": "ecr", "ecr-public": "ecr-public"}


@dataclass(frozen=True)
class Operation:
    """Every fact about one JSON 1.1 operation of one service."""

    name: str
    service: Service
    module: str
    """The module (under the service's package) whose ``HANDLERS`` table serves it."""
    scope: Scope | Literal["public"]
    change: Change = READS
    quota: str | None = None
    """The quota bucket a call draws from: its own name for ECR's operations (the rates in
    ``Quotas.rates``, AWS's ``API_RATE_QUOTAS`` by default, say which are limited); None for
    ECR Public, which has no such quotas."""

    @property
    def action(self) -> str:
        """The IAM action the call is authorized as (``ecr:PutImage``)."""
        return f"{_ACTION_PREFIX[self.service]}:{self.name}"

    @property
    def fault_name(self) -> str:
        """The name fault rules match (the operation name, on the ``api`` surface)."""
        return self.name

    @property
    def mutates(self) -> bool:
        """True when a call may change saved state."""
        return self.change != READS

    @property
    def saves(self) -> bool:
        """True when the server saves before answering (an acknowledged change is durable)."""
        return self.change == SAVED

    def handler(self) -> Handler | None:
        """The handler, importing only its module."""
        module = importlib.import_module(f"{_PACKAGES[self.service]}.{self.module}")
        found: Handler | None = module.HANDLERS.get(self.name)
        return found


def _ecr(name: str, module: str, scope: Scope, change: Change = READS) -> Operation:
    return Operation(name, "ecr", module, scope, change, name)


def _public(name: str, change: Change = READS) -> Operation:
    return Operation(name, "ecr-public", "operations", "public", change)


ECR: Mapping[str, Operation] = {
    spec.name: spec
    for spec in (
        _ecr("BatchCheckLayerAvailability", "layers", "repository"),
        _ecr("BatchDeleteImage", "images", "repository", SAVED),
        _ecr("BatchGetImage", "images", "repository", DEFERRED),
        _ecr("BatchGetRepositoryScanningConfiguration", "scanning", "repositories"),
        _ecr("CompleteLayerUpload", "layers", "repository", DEFERRED),
        _ecr("CreatePullThroughCacheRule", "pull_through", "registry", SAVED),
        _ecr("CreateRepository", "repositories", "repository", SAVED),
        _ecr("CreateRepositoryCreationTemplate", "templates", "registry", SAVED),
        _ecr("DeleteLifecyclePolicy", "policies", "repository", SAVED),
        _ecr("DeletePullThroughCacheRule", "pull_through", "registry", SAVED),
        _ecr("DeleteRegistryPolicy", "policies", "registry", SAVED),
        _ecr("DeleteRepository", "repositories", "repository", SAVED),
        _ecr("DeleteRepositoryCreationTemplate", "templates", "registry", SAVED),
        _ecr("DeleteRepositoryPolicy", "policies", "repository", SAVED),
        _ecr("DeleteSigningConfiguration", "signing", "registry", SAVED),
        _ecr("DeregisterPullTimeUpdateExclusion", "settings", "registry", SAVED),
        _ecr("DescribeImageReplicationStatus", "replication", "repository"),
        _ecr("DescribeImageScanFindings", "scanning", "repository"),
        _ecr("DescribeImageSigningStatus", "signing", "repository"),
        _ecr("DescribeImages", "images", "repository"),
        _ecr("DescribePullThroughCacheRules", "pull_through", "registry"),
        _ecr("DescribeRegistry", "policies", "registry"),
        _ecr("DescribeReplicationBackfillResults", "replication", "registry"),
        _ecr("DescribeRepositories", "repositories", "describe"),
        _ecr("DescribeRepositoryCreationTemplates", "templates", "registry"),
        _ecr("GetAccountSetting", "settings", "registry"),
        _ecr("GetAuthorizationToken", "auth", "identity", SAVED),
        _ecr("GetDownloadUrlForLayer", "layers", "repository", DEFERRED),
        _ecr("GetLifecyclePolicy", "policies", "repository"),
        _ecr("GetLifecyclePolicyPreview", "lifecycle_previews", "repository", DEFERRED),
        _ecr("GetRegistryPolicy", "policies", "registry"),
        _ecr("GetRegistryScanningConfiguration", "scanning", "registry"),
        _ecr("GetRepositoryPolicy", "policies", "repository"),
        _ecr("GetSigningConfiguration", "signing", "registry"),
        _ecr("InitiateLayerUpload", "layers", "repository", DEFERRED),
        _ecr("ListImageReferrers", "referrers", "repository"),
        _ecr("ListImages", "images", "repository"),
        _ecr("ListPullTimeUpdateExclusions", "settings", "registry"),
        _ecr("ListReplicationBackfills", "replication", "registry"),
        _ecr("ListTagsForResource", "tagging", "resource_arn"),
        _ecr("PutAccountSetting", "settings", "registry", SAVED),
        _ecr("PutImage", "images", "repository", SAVED),
        _ecr("PutImageScanningConfiguration", "repositories", "repository", SAVED),
        _ecr("PutImageTagMutability", "repositories", "repository", SAVED),
        _ecr("PutLifecyclePolicy", "policies", "repository", SAVED),
        _ecr("PutRegistryPolicy", "policies", "registry", SAVED),
        _ecr("PutRegistryScanningConfiguration", "scanning", "registry", SAVED),
        _ecr("PutReplicationConfiguration", "replication", "registry", SAVED),
        _ecr("PutSigningConfiguration", "signing", "registry", SAVED),
        _ecr("RegisterPullTimeUpdateExclusion", "settings", "registry", SAVED),
        _ecr("SetRepositoryPolicy", "policies", "repository", SAVED),
        _ecr("StartImageScan", "scanning", "repository", SAVED),
        _ecr("StartLifecyclePolicyPreview", "lifecycle_previews", "repository", SAVED),
        _ecr("StartReplicationBackfill", "replication", "registry", SAVED),
        _ecr("StopReplicationBackfill", "replication", "registry", SAVED),
        _ecr("TagResource", "tagging", "resource_arn", SAVED),
        _ecr("UntagResource", "tagging", "resource_arn", SAVED),
        _ecr("UpdateImageStorageClass", "archive", "repository", SAVED),
        _ecr("UpdatePullThroughCacheRule", "pull_through", "registry", SAVED),
        _ecr("UpdateRepositoryCreationTemplate", "templates", "registry", SAVED),
        _ecr("UploadLayerPart", "layers", "repository", DEFERRED),
        _ecr("ValidatePullThroughCacheRule", "pull_through", "registry"),
    )
}
"""Every ECR operation (botocore's ``ecr`` model), by name."""

ECR_PUBLIC: Mapping[str, Operation] = {
    spec.name: spec
    for spec in (
        _public("BatchCheckLayerAvailability"),
        _public("BatchDeleteImage", SAVED),
        _public("CompleteLayerUpload", DEFERRED),
        _public("CreateRepository", SAVED),
        _public("DeleteRepository", SAVED),
        _public("DeleteRepositoryPolicy", SAVED),
        _public("DescribeImageTags"),
        _public("DescribeImages"),
        _public("DescribeRegistries"),
        _public("DescribeRepositories"),
        _public("GetAuthorizationToken", SAVED),
        _public("GetRegistryCatalogData"),
        _public("GetRepositoryCatalogData"),
        _public("GetRepositoryPolicy"),
        _public("InitiateLayerUpload", DEFERRED),
        _public("ListTagsForResource"),
        _public("PutImage", SAVED),
        _public("PutRegistryCatalogData", SAVED),
        _public("PutRepositoryCatalogData", SAVED),
        _public("SetRepositoryPolicy", SAVED),
        _public("TagResource", SAVED),
        _public("UntagResource", SAVED),
        _public("UploadLayerPart", DEFERRED),
    )
}
"""Every ECR Public operation (botocore's ``ecr-public`` model), by name."""

OPERATIONS: Mapping[Service, Mapping[str, Operation]] = {"ecr": ECR, "ecr-public": ECR_PUBLIC}
"""Both services' operations."""


def operation(service: str, name: str) -> Operation | None:
    """The spec of ``name`` in ``service`` (``ecr`` or ``ecr-public``); None when unknown."""
    table = OPERATIONS.get(service)  # type: ignore[call-overload]
    return None if table is None else table.get(name)


def target_operation(target: str) -> tuple[Service | None, str]:
    """(service, operation name) an ``X-Amz-Target`` names; (None, "") for a foreign target."""
    if target.startswith(TARGET_PREFIX):
        return "ecr", target[len(TARGET_PREFIX) :]
    if target.startswith(PUBLIC_TARGET_PREFIX):
        return "ecr-public", target[len(PUBLIC_TARGET_PREFIX) :]
    return None, ""
