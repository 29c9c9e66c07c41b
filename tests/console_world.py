"""A seeded world for the web console's tests, built through boto3 over a live server."""

from __future__ import annotations

import json
import re
import socket
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config

from ecr_mock.server import EcrMockServer
from tests.ecr_api.helpers import descriptor, push_image, sha256, upload_layer

ACCOUNT = "123456789012"
REGION = "us-east-1"
REPO = "team/app"
HOSTILE = "<script>alert(1)</script>"
"""A value a page must show as text, never run."""
KEY = {"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key": "secret"}
LIFECYCLE = {
    "rules": [
        {
            "rulePriority": 1,
            "description": "keep one untagged image",
            "selection": {
                "tagStatus": "untagged",
                "countType": "imageCountMoreThan",
                "countNumber": 1,
            },
            "action": {"type": "expire"},
        }
    ]
}
POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ReadOnly",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": ["ecr:BatchGetImage"],
        }
    ],
}


@dataclass
class World:
    """The server, a boto3 client to it, and the digests of what was pushed."""

    server: EcrMockServer
    client: Any
    v1: str
    v2: str
    untagged: str
    index: str
    sbom: str

    def url(self, path: str) -> str:
        """The server's URL of ``path``."""
        return self.server.url + path

    def repo_path(self) -> str:
        """The repository page's path."""
        return f"/ecr-mock/ui/repositories/{ACCOUNT}/{REGION}/{REPO}"

    def image_path(self, digest: str) -> str:
        """An image page's path."""
        return f"/ecr-mock/ui/images/{ACCOUNT}/{REGION}/{REPO}@{digest}"

    def compare_path(self) -> str:
        """The comparison of v1 (base) with v2."""
        return f"/ecr-mock/ui/compare/{ACCOUNT}/{REGION}/{REPO}?base={self.v1}&other={self.v2}"

    def digests(self) -> set[str]:
        """The digests the ECR API lists now."""
        ids = self.client.list_images(repositoryName=REPO)["imageIds"]
        return {image["imageDigest"] for image in ids}


def ecr_client(server: EcrMockServer) -> Any:
    """A boto3 ECR client over the server's socket."""
    return boto3.client(
        "ecr",
        endpoint_url=server.url,
        region_name=REGION,
        config=Config(retries={"max_attempts": 1}),
        **KEY,
    )


def build_world(server: EcrMockServer) -> World:
    """A repository with settings and policies, tagged and untagged images, an index of two
    images and an SBOM referring to one; every value set through the ECR API."""
    client = ecr_client(server)
    client.create_repository(
        repositoryName=REPO,
        tags=[{"Key": "team", "Value": HOSTILE}],
        imageScanningConfiguration={"scanOnPush": False},
    )
    client.set_repository_policy(repositoryName=REPO, policyText=json.dumps(POLICY))
    client.put_lifecycle_policy(repositoryName=REPO, lifecyclePolicyText=json.dumps(LIFECYCLE))
    v1 = push_image(client, REPO, "one", tag="v1", oci=True, layer_count=2)
    v2 = push_image(client, REPO, "two", tag="v2", oci=True, layer_count=3, architecture="arm64")
    untagged = push_image(client, REPO, "old", oci=True, layer_count=1)
    server.backend.clock.advance(hours=1)  # the SBOM below is the newer untagged image
    children = [(v1.manifest, "amd64"), (v2.manifest, "arm64")]
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                descriptor(
                    "application/vnd.oci.image.manifest.v1+json",
                    text.encode(),
                    platform={"architecture": arch, "os": "linux"},
                )
                for text, arch in children
            ],
        }
    )
    client.put_image(repositoryName=REPO, imageManifest=index, imageTag="multi")
    empty = b"{}"
    upload_layer(client, REPO, empty)
    sbom_blob = json.dumps({"spdxVersion": "SPDX-2.3", "name": "app"}).encode()
    upload_layer(client, REPO, sbom_blob)
    sbom = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": "application/spdx+json",
            "config": descriptor("application/vnd.oci.empty.v1+json", empty),
            "layers": [descriptor("application/spdx+json", sbom_blob)],
            "subject": descriptor(
                "application/vnd.oci.image.manifest.v1+json", v2.manifest.encode()
            ),
        }
    )
    client.put_image(repositoryName=REPO, imageManifest=sbom)
    return World(
        server,
        client,
        v1.digest,
        v2.digest,
        untagged.digest,
        sha256(index.encode()),
        sha256(sbom.encode()),
    )


_CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = _CSRF.search(html)
    if found is None:
        raise AssertionError("no CSRF field on the page")
    return found.group(1)


def outside_address() -> str:
    """A non-loopback IPv4 address of this machine to bind to (the test skips without one)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks a route
            address = str(probe.getsockname()[0])
        except OSError:
            address = ""
    if not address or address.startswith("127.") or address == "0.0.0.0":
        pytest.skip("this machine has no non-loopback IPv4 address to bind to")
    return address
