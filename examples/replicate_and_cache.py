"""Example: replicate pushes to another region, and cache another registry through pull-through.

Run it as ``python examples/replicate_and_cache.py``. It configures replication from us-east-1
to us-west-2, pushes ``prod/api:v1`` with the layer API, reads the replica and its status, then
creates a pull-through cache rule whose upstream is the us-west-2 registry and pulls through it
with ``requests`` (served in-process, no socket).
"""

from __future__ import annotations

import base64
from typing import Any

import boto3
import requests
from push_with_layer_api import push_image

from ecr_mock import mock_ecr

MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)


def replicate(east: Any, west: Any) -> tuple[str, str, list[dict[str, str]]]:
    """Push into a replicated repository; (source digest, replica digest, statuses)."""
    account = east.describe_registry()["registryId"]
    east.put_replication_configuration(
        replicationConfiguration={
            "rules": [
                {
                    "destinations": [{"region": "us-west-2", "registryId": account}],
                    "repositoryFilters": [{"filter": "prod", "filterType": "PREFIX_MATCH"}],
                }
            ]
        }
    )
    east.create_repository(repositoryName="prod/api")
    digest = push_image(east, "prod/api", "v1", {"app": b"#!/bin/sh\necho replicated\n"})
    replica = west.describe_images(repositoryName="prod/api", imageIds=[{"imageTag": "v1"}])
    statuses = east.describe_image_replication_status(
        repositoryName="prod/api", imageId={"imageTag": "v1"}
    )["replicationStatuses"]
    return digest, replica["imageDetails"][0]["imageDigest"], statuses


def pull_through(east: Any, upstream_host: str) -> tuple[int, str, list[str]]:
    """Cache ``upstream_host`` under ``mirror/`` and pull through it: (status, digest, repos)."""
    east.create_pull_through_cache_rule(
        ecrRepositoryPrefix="mirror", upstreamRegistryUrl=upstream_host
    )
    auth = east.get_authorization_token()["authorizationData"][0]
    user, password = base64.b64decode(auth["authorizationToken"]).decode().split(":", 1)
    response = requests.get(
        f"{auth['proxyEndpoint']}/v2/mirror/prod/api/manifests/v1",
        auth=(user, password),
        headers={"Accept": MANIFEST_TYPES},
        timeout=30,
    )
    names = [r["repositoryName"] for r in east.describe_repositories()["repositories"]]
    return response.status_code, response.headers.get("Docker-Content-Digest", ""), names


def main() -> None:
    """Replicate, then cache, printing what each step saw."""
    with mock_ecr():
        east = boto3.client("ecr", region_name="us-east-1")
        west = boto3.client("ecr", region_name="us-west-2")
        digest, replica, statuses = replicate(east, west)
        print(f"pushed {digest}; replica in us-west-2 {replica}")
        print(f"replication: {[(s['region'], s['status']) for s in statuses]}")
        account = east.describe_registry()["registryId"]
        status, cached, names = pull_through(east, f"{account}.dkr.ecr.us-west-2.amazonaws.com")
        print(f"pull through mirror/: {status} {cached}; repositories {sorted(names)}")


if __name__ == "__main__":
    main()
