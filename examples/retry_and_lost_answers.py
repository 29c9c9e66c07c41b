"""Example: code that survives ECR throttling and a lost PutImage answer, proved with faults.

Run it as ``python examples/retry_and_lost_answers.py``. ``publish`` is the code under test: it
pushes with boto3's standard retry mode and treats ``ImageAlreadyExistsException`` for the
same digest as success, which is what makes a retried PutImage safe when the first answer was
lost after ECR had stored the image. The ``main`` function injects two throttles and a lost
answer with ecr_mock's fault rules and shows, from the call record, what the code did.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from ecr_mock import mock_ecr

RETRIES = Config(retries={"mode": "standard", "max_attempts": 5})


def publish(client: Any, repository: str, manifest: str, tag: str) -> str:
    """PutImage ``manifest`` as ``tag``; returns its digest. Safe to call again after a failure."""
    digest = "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
    try:
        client.put_image(repositoryName=repository, imageManifest=manifest, imageTag=tag)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ImageAlreadyExistsException":
            raise
        # An earlier attempt stored it and its answer was lost: check it is this very image.
        found = client.batch_get_image(repositoryName=repository, imageIds=[{"imageTag": tag}])
        if found["images"][0]["imageId"]["imageDigest"] != digest:
            raise
    return digest


def upload(client: Any, repository: str, data: bytes) -> dict[str, Any]:
    """Upload one blob with the layer API; returns its descriptor."""
    upload_id = client.initiate_layer_upload(repositoryName=repository)["uploadId"]
    client.upload_layer_part(
        repositoryName=repository,
        uploadId=upload_id,
        partFirstByte=0,
        partLastByte=len(data) - 1,
        layerPartBlob=data,
    )
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    client.complete_layer_upload(
        repositoryName=repository, uploadId=upload_id, layerDigests=[digest]
    )
    return {"digest": digest, "size": len(data)}


def small_manifest(client: Any, repository: str) -> str:
    """Upload a config and a layer and return an OCI manifest naming them."""
    config = upload(client, repository, b'{"architecture":"amd64","os":"linux"}')
    layer = upload(client, repository, b"layer bytes " * 100)
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **layer}],
        }
    )


def main() -> None:
    with mock_ecr() as backend:
        ecr = boto3.client("ecr", region_name="us-east-1", config=RETRIES)
        ecr.create_repository(repositoryName="shop/api")
        manifest = small_manifest(ecr, "shop/api")

        # Two throttles: boto3's standard mode retries them by itself.
        backend.faults.add(operation="PutImage", error="ThrottlingException", times=2)
        # Then a lost answer: ECR stores the image, the client sees a 500 and retries.
        backend.faults.add(
            operation="PutImage", error="ServerException", after_commit=True, times=1, skip=2
        )
        digest = publish(ecr, "shop/api", manifest, "v1")

        attempts = backend.calls.of(operation="PutImage")
        for call in attempts:
            print(f"PutImage -> {call.status} {call.error_code or 'OK'}")
        images = ecr.describe_images(repositoryName="shop/api")["imageDetails"]
        assert [image["imageDigest"] for image in images] == [digest]
        print(f"published {digest} once after {len(attempts)} attempts")


if __name__ == "__main__":
    main()
