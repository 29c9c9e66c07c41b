"""One module per group of ECR operations, imported on the first call of one of its operations."""

from __future__ import annotations

import importlib

MODULES: dict[str, tuple[str, ...]] = {
    "archive": ("UpdateImageStorageClass",),
    "auth": ("GetAuthorizationToken",),
    "images": ("BatchDeleteImage", "BatchGetImage", "DescribeImages", "ListImages", "PutImage"),
    "layers": (
        "BatchCheckLayerAvailability",
        "CompleteLayerUpload",
        "GetDownloadUrlForLayer",
        "InitiateLayerUpload",
        "UploadLayerPart",
    ),
    "lifecycle": ("GetLifecyclePolicyPreview", "StartLifecyclePolicyPreview"),
    "policies": (
        "DeleteLifecyclePolicy",
        "DeleteRegistryPolicy",
        "DeleteRepositoryPolicy",
        "DescribeRegistry",
        "GetLifecyclePolicy",
        "GetRegistryPolicy",
        "GetRepositoryPolicy",
        "PutLifecyclePolicy",
        "PutRegistryPolicy",
        "SetRepositoryPolicy",
    ),
    "pull_through": (
        "CreatePullThroughCacheRule",
        "DeletePullThroughCacheRule",
        "DescribePullThroughCacheRules",
        "UpdatePullThroughCacheRule",
        "ValidatePullThroughCacheRule",
    ),
    "referrers": ("ListImageReferrers",),
    "replication": (
        "DescribeImageReplicationStatus",
        "DescribeReplicationBackfillResults",
        "ListReplicationBackfills",
        "PutReplicationConfiguration",
        "StartReplicationBackfill",
        "StopReplicationBackfill",
    ),
    "repositories": (
        "CreateRepository",
        "DeleteRepository",
        "DescribeRepositories",
        "PutImageScanningConfiguration",
        "PutImageTagMutability",
    ),
    "scanning": (
        "BatchGetRepositoryScanningConfiguration",
        "DescribeImageScanFindings",
        "GetRegistryScanningConfiguration",
        "PutRegistryScanningConfiguration",
        "StartImageScan",
    ),
    "settings": (
        "DeregisterPullTimeUpdateExclusion",
        "GetAccountSetting",
        "ListPullTimeUpdateExclusions",
        "PutAccountSetting",
        "RegisterPullTimeUpdateExclusion",
    ),
    "signing": (
        "DeleteSigningConfiguration",
        "DescribeImageSigningStatus",
        "GetSigningConfiguration",
        "PutSigningConfiguration",
    ),
    "tagging": ("ListTagsForResource", "TagResource", "UntagResource"),
    "templates": (
        "CreateRepositoryCreationTemplate",
        "DeleteRepositoryCreationTemplate",
        "DescribeRepositoryCreationTemplates",
        "UpdateRepositoryCreationTemplate",
    ),
}
"""Module name -> the operations it registers (a test checks this against the modules)."""

MODULE_OF: dict[str, str] = {op: module for module, ops in MODULES.items() for op in ops}


def load(operation: str) -> bool:
    """Import the module serving ``operation``; False when no module serves it."""
    module = MODULE_OF.get(operation)
    if module is None:
        return False
    importlib.import_module(f"{__name__}.{module}")
    return True


def load_all() -> None:
    """Import every operation module (registers every operation of the model)."""
    for module in MODULES:
        importlib.import_module(f"{__name__}.{module}")
