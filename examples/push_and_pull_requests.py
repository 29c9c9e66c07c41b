"""Example: push an image through the registry's /v2/ API with ``requests``, read it with boto3.

Inside ``mock_ecr`` the ``requests`` calls to ``https://<account>.dkr.ecr.<region>.amazonaws.com``
are answered in-process, so code that speaks the registry protocol itself runs offline. Run it
as ``python examples/push_and_pull_requests.py``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any
from urllib.parse import urljoin

import requests

from ecr_mock import mock_ecr

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def registry_session(ecr: Any) -> tuple[str, requests.Session]:
    """(registry URL, session logged in with the ECR token) for the client's registry."""
    data = ecr.get_authorization_token()["authorizationData"][0]
    username, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    session = requests.Session()
    session.auth = (username, password)
    return data["proxyEndpoint"], session


def push_blob(session: requests.Session, registry: str, repository: str, blob: bytes) -> str:
    """Monolithic upload: POST a session, PUT the bytes with their digest; returns the digest."""
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    started = session.post(f"{registry}/v2/{repository}/blobs/uploads/")
    started.raise_for_status()
    location = urljoin(f"{registry}/", started.headers["Location"])
    separator = "&" if "?" in location else "?"
    finished = session.put(
        f"{location}{separator}digest={digest}",
        data=blob,
        headers={"Content-Type": "application/octet-stream"},
    )
    finished.raise_for_status()
    return digest


def push_image(ecr: Any, repository: str, tag: str, content: bytes) -> tuple[str, bytes]:
    """Push a one-layer image as ``repository:tag`` over /v2/; returns (digest, manifest bytes)."""
    registry, session = registry_session(ecr)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {
                "type": "layers",
                "diff_ids": ["sha256:" + hashlib.sha256(content).hexdigest()],
            },
        }
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": push_blob(session, registry, repository, config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": push_blob(session, registry, repository, content),
                    "size": len(content),
                }
            ],
        }
    ).encode()
    response = session.put(
        f"{registry}/v2/{repository}/manifests/{tag}",
        data=manifest,
        headers={"Content-Type": OCI_MANIFEST},
    )
    response.raise_for_status()
    return response.headers["Docker-Content-Digest"], manifest


def read_back(ecr: Any, repository: str, tag: str) -> tuple[str, bytes]:
    """(digest, manifest bytes) of ``repository:tag`` as the ECR API's BatchGetImage sees it."""
    images = ecr.batch_get_image(
        repositoryName=repository,
        imageIds=[{"imageTag": tag}],
        acceptedMediaTypes=[OCI_MANIFEST],
    )["images"]
    return images[0]["imageId"]["imageDigest"], images[0]["imageManifest"].encode()


def main() -> None:
    """Push over /v2/ with requests, then show that BatchGetImage returns the same bytes."""
    import boto3

    with mock_ecr():
        ecr = boto3.client("ecr", region_name="ap-southeast-2")
        ecr.create_repository(repositoryName="tools/cli")
        pushed, manifest = push_image(ecr, "tools/cli", "1.0", b"a tiny layer")
        digest, stored = read_back(ecr, "tools/cli", "1.0")
        print("pushed", pushed)
        print("stored", digest, "same bytes" if stored == manifest else "DIFFERENT bytes")


if __name__ == "__main__":
    main()
