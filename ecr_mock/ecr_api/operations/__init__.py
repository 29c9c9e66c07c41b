"""One module per group of ECR operations; importing this package registers them all."""

from ecr_mock.ecr_api.operations import (
    archive,
    auth,
    images,
    layers,
    lifecycle,
    policies,
    pull_through,
    referrers,
    replication,
    repositories,
    scanning,
    settings,
    signing,
    tagging,
    templates,
)

__all__ = [
    "archive",
    "auth",
    "images",
    "layers",
    "lifecycle",
    "policies",
    "pull_through",
    "referrers",
    "replication",
    "repositories",
    "scanning",
    "settings",
    "signing",
    "tagging",
    "templates",
]
