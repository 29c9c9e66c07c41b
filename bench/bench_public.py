"""Benchmark of ECR Public against private ECR on the same backend: API calls in-process, and
pulls over a live loopback server (anonymous Bearer token flow against ECR's Basic auth).

Run by hand: ``python bench/bench_public.py [--calls 300] [--pulls 100] [--blob-kib 1024]``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import boto3
import requests

from ecr_mock import mock_ecr
from ecr_mock.runtime.http import serve_backend

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def median_ms(fn: Callable[[int], object], count: int) -> float:
    times = []
    for i in range(count):
        start = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def upload(client: Any, repository: str, data: bytes) -> str:
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
    return digest


def manifest(client: Any, repository: str, layer: bytes) -> str:
    config = b'{"architecture":"amd64","os":"linux"}'
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": upload(client, repository, config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": upload(client, repository, layer),
                    "size": len(layer),
                }
            ],
        }
    )


def api(calls: int) -> dict[str, float]:
    """Warm PutImage (a new tag each call) and DescribeImages, public against private."""
    results = {}
    with mock_ecr():
        for service in ("ecr", "ecr-public"):
            client = boto3.client(service, region_name="us-east-1")
            client.create_repository(repositoryName="bench")
            body = manifest(client, "bench", os.urandom(1024))
            results[f"{service} PutImage"] = median_ms(
                lambda i, c=client, b=body: c.put_image(
                    repositoryName="bench", imageManifest=b, imageTag=f"t{i}"
                ),
                calls,
            )
            results[f"{service} DescribeImages"] = median_ms(
                lambda _i, c=client: c.describe_images(repositoryName="bench"), calls
            )
    return results


def pulls(count: int, blob_kib: int) -> dict[str, float]:
    """One manifest and one blob GET per pull; the public pull first fetches its token."""
    results = {}
    layer = os.urandom(blob_kib * 1024)
    with mock_ecr() as backend, serve_backend(backend) as server:
        private = boto3.client("ecr", region_name="us-east-1", endpoint_url=server.url)
        public = boto3.client("ecr-public", region_name="us-east-1", endpoint_url=server.url)
        private.create_repository(repositoryName="bench")
        private.put_image(
            repositoryName="bench", imageManifest=manifest(private, "bench", layer), imageTag="v1"
        )
        uri = public.create_repository(repositoryName="bench")["repository"]["repositoryUri"]
        public.put_image(
            repositoryName="bench", imageManifest=manifest(public, "bench", layer), imageTag="v1"
        )
        path = uri.split("/", 1)[1]
        token = private.get_authorization_token()["authorizationData"][0]["authorizationToken"]
        password = base64.b64decode(token).decode().split(":", 1)[1]
        session = requests.Session()
        digest = "sha256:" + hashlib.sha256(layer).hexdigest()
        accept = {"Accept": OCI_MANIFEST}

        def private_pull(_i: int) -> None:
            auth = ("AWS", password)
            session.get(f"{server.url}/v2/bench/manifests/v1", auth=auth, headers=accept)
            blob = session.get(f"{server.url}/v2/bench/blobs/{digest}", auth=auth)
            assert len(blob.content) == len(layer)

        def public_pull(_i: int) -> None:
            got = session.get(
                f"{server.url}/token", params={"scope": f"repository:{path}:pull"}
            ).json()
            bearer = {"Authorization": f"Bearer {got['token']}"}
            session.get(f"{server.url}/v2/{path}/manifests/v1", headers={**bearer, **accept})
            blob = session.get(f"{server.url}/v2/{path}/blobs/{digest}", headers=bearer)
            assert len(blob.content) == len(layer)

        results["private pull (Basic)"] = median_ms(private_pull, count)
        results["public pull (anonymous token + Bearer)"] = median_ms(public_pull, count)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--pulls", type=int, default=100)
    parser.add_argument("--blob-kib", type=int, default=1024)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: it works")
    args = parser.parse_args()
    if args.smoke:
        args.calls, args.pulls, args.blob_kib = 3, 3, 4
    print(
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}"
    )
    for name, value in {**api(args.calls), **pulls(args.pulls, args.blob_kib)}.items():
        print(f"{name}: {value:.3f} ms (median)")


if __name__ == "__main__":
    main()
