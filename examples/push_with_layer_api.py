"""Example: push an image with the ECR layer API in plain boto3, the way ``docker push`` does.

Run it as ``python examples/push_with_layer_api.py``: it pushes a small image into an in-process
ecr_mock and prints its digest and URI. ``push_image`` works the same against real ECR.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from typing import Any

from ecr_mock import mock_ecr

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def sha256(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def build_layer(files: dict[str, bytes]) -> tuple[bytes, str]:
    """A gzipped tar layer holding ``files``; returns (blob, diff id of the uncompressed tar)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, content in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    tar_bytes = raw.getvalue()
    return gzip.compress(tar_bytes, mtime=0), sha256(tar_bytes)


def upload_blob(ecr: Any, repository: str, blob: bytes) -> str:
    """Upload ``blob`` unless the repository already has it; returns its digest."""
    digest = sha256(blob)
    found = ecr.batch_check_layer_availability(repositoryName=repository, layerDigests=[digest])
    if any(layer.get("layerAvailability") == "AVAILABLE" for layer in found["layers"]):
        return digest
    upload_id = ecr.initiate_layer_upload(repositoryName=repository)["uploadId"]
    ecr.upload_layer_part(
        repositoryName=repository,
        uploadId=upload_id,
        partFirstByte=0,
        partLastByte=len(blob) - 1,
        layerPartBlob=blob,
    )
    ecr.complete_layer_upload(repositoryName=repository, uploadId=upload_id, layerDigests=[digest])
    return digest


def push_image(ecr: Any, repository: str, tag: str, files: dict[str, bytes]) -> str:
    """Push a one-layer OCI image holding ``files`` as ``repository:tag``; returns its digest."""
    layer, diff_id = build_layer(files)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Cmd": ["/app"]},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        },
        sort_keys=True,
    ).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": OCI_CONFIG,
            "digest": upload_blob(ecr, repository, config),
            "size": len(config),
        },
        "layers": [
            {
                "mediaType": OCI_LAYER,
                "digest": upload_blob(ecr, repository, layer),
                "size": len(layer),
            }
        ],
    }
    image = ecr.put_image(
        repositoryName=repository,
        imageManifest=json.dumps(manifest, indent=3),
        imageManifestMediaType=OCI_MANIFEST,
        imageTag=tag,
    )["image"]
    return str(image["imageId"]["imageDigest"])


def main() -> None:
    """Push ``demo/app:v1`` into an in-process ecr_mock and print where it went."""
    import boto3

    with mock_ecr():
        ecr = boto3.client("ecr", region_name="eu-west-1")
        uri = ecr.create_repository(repositoryName="demo/app")["repository"]["repositoryUri"]
        digest = push_image(ecr, "demo/app", "v1", {"app": b"#!/bin/sh\necho hello\n"})
        print(f"pushed {uri}:v1 {digest}")


if __name__ == "__main__":
    main()
