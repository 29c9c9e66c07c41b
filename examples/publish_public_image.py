"""Example: publish an image to ECR Public and pull it back anonymously, as users of it would.

The publisher pushes over ``/v2/`` with the ECR Public token (``docker login public.ecr.aws``
does the same); anyone pulls with an anonymous token from the registry's token endpoint. Inside
``mock_ecr`` the ``requests`` calls to ``https://public.ecr.aws`` are answered in-process. Run
it as ``python examples/publish_public_image.py``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any
from urllib.parse import urljoin

import requests

from ecr_mock import mock_ecr

REGISTRY = "https://public.ecr.aws"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def publisher_session(ecr_public: Any) -> requests.Session:
    """A session holding the ECR Public token as Basic credentials."""
    data = ecr_public.get_authorization_token()["authorizationData"]
    username, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    session = requests.Session()
    session.auth = (username, password)
    return session


def push_blob(session: requests.Session, path: str, blob: bytes) -> str:
    """Monolithic upload of ``blob`` to repository ``path`` (``<alias>/<name>``)."""
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    started = session.post(f"{REGISTRY}/v2/{path}/blobs/uploads/")
    started.raise_for_status()
    location = urljoin(f"{REGISTRY}/", started.headers["Location"])
    separator = "&" if "?" in location else "?"
    session.put(f"{location}{separator}digest={digest}", data=blob).raise_for_status()
    return digest


def publish(ecr_public: Any, name: str, tag: str, content: bytes) -> tuple[str, str]:
    """Create public repository ``name`` and push a one-layer image as ``tag``; returns
    (repository URI, manifest digest)."""
    uri = ecr_public.create_repository(
        repositoryName=name, catalogData={"description": f"{name}, published by the example"}
    )["repository"]["repositoryUri"]
    path = uri.split("/", 1)[1]
    session = publisher_session(ecr_public)
    config = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": push_blob(session, path, config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": push_blob(session, path, content),
                    "size": len(content),
                }
            ],
        }
    ).encode()
    pushed = session.put(
        f"{REGISTRY}/v2/{path}/manifests/{tag}",
        data=manifest,
        headers={"Content-Type": OCI_MANIFEST},
    )
    pushed.raise_for_status()
    return uri, pushed.headers["Docker-Content-Digest"]


def anonymous_pull(uri: str, tag: str) -> tuple[str, bytes]:
    """Pull ``uri:tag`` with no credentials; returns (manifest digest, the layer's bytes)."""
    path = uri.split("/", 1)[1]
    challenge = requests.get(f"{REGISTRY}/v2/{path}/manifests/{tag}")
    if challenge.status_code != 401 or not challenge.headers["WWW-Authenticate"].startswith(
        "Bearer "
    ):
        raise RuntimeError("expected ECR Public's Bearer challenge")
    token = requests.get(f"{REGISTRY}/token", params={"scope": f"repository:{path}:pull"})
    headers = {"Authorization": f"Bearer {token.json()['token']}", "Accept": OCI_MANIFEST}
    manifest = requests.get(f"{REGISTRY}/v2/{path}/manifests/{tag}", headers=headers)
    manifest.raise_for_status()
    layer = manifest.json()["layers"][0]["digest"]
    blob = requests.get(f"{REGISTRY}/v2/{path}/blobs/{layer}", headers=headers)
    blob.raise_for_status()
    return manifest.headers["Docker-Content-Digest"], blob.content


def main() -> None:
    import boto3

    with mock_ecr():
        ecr_public = boto3.client("ecr-public", region_name="us-east-1")
        content = b"the tool's files"
        uri, digest = publish(ecr_public, "tools/cli", "1.0", content)
        print(f"published {uri}:1.0 {digest}")
        pulled, layer = anonymous_pull(uri, "1.0")
        print(f"pulled anonymously {pulled} {'same' if layer == content else 'other'} bytes")


if __name__ == "__main__":
    main()
