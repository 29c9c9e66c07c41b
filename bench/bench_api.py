"""Benchmark of the in-process ECR API against moto 5: start-up, warm latency, memory, scaling.

Run by hand: ``python bench/bench_api.py`` (``--no-scaling`` skips the long scaling part;
``--smoke`` runs every part but scaling once at tiny sizes, in seconds, to prove it works).
Prints a markdown table of medians and ratios.
"""

from __future__ import annotations

import io
import json
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import boto3

REGION = "us-east-1"

STARTUP_ECR_MOCK = """
import time
t = time.perf_counter()
import boto3
from ecr_mock import mock_ecr
with mock_ecr():
    client = boto3.client("ecr", region_name="us-east-1")
    client.create_repository(repositoryName="bench")
print(time.perf_counter() - t)
"""

STARTUP_MOTO = """
import time
t = time.perf_counter()
import boto3
from moto import mock_aws
with mock_aws():
    client = boto3.client("ecr", region_name="us-east-1")
    client.create_repository(repositoryName="bench")
print(time.perf_counter() - t)
"""


FLOOR = """
import time
t = time.perf_counter()
import boto3
from botocore.stub import Stubber
client = boto3.client("ecr", region_name="us-east-1")
with Stubber(client) as stub:
    stub.add_response("create_repository", {"repository": {"repositoryName": "bench"}})
    client.create_repository(repositoryName="bench")
print(time.perf_counter() - t)
"""


MEMORY = """
import gc, sys, tracemalloc
import boto3
VARIANT, COUNT = sys.argv[1], int(sys.argv[2])
CONFIG, LAYER = "sha256:" + "1" * 64, "sha256:" + "2" * 64
MANIFEST = {manifest_source!r}
if VARIANT == "moto":
    from moto import mock_aws as mock
    options = {{}}
else:
    from ecr_mock import mock_ecr as mock
    options = {{"allow_missing_layers": True}}
    if VARIANT == "ecr_mock-small-record":
        options["max_calls"] = 1
with mock(**options):
    client = boto3.client("ecr", region_name="us-east-1")
    client.create_repository(repositoryName="mem")
    client.put_image(repositoryName="mem", imageManifest=MANIFEST % (-1,), imageTag="warm")
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(COUNT):
        client.put_image(repositoryName="mem", imageManifest=MANIFEST % (i,), imageTag=f"t{{i}}")
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
print((after - before) / COUNT)
"""


def memory_per_image(variant: str, count: int = 10_000) -> float:
    """Bytes each image adds to the process (``tracemalloc``, fresh interpreter), pushed by
    PutImage with a tag; about 450-byte manifests in one repository."""
    source = manifest(0, "sha256:" + "1" * 64, "sha256:" + "2" * 64).replace(
        '"n": "0"', '"n": "%d"'
    )
    code = MEMORY.format(manifest_source=source)
    env = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code, variant, str(count)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def warm_put_floor(indexes: range) -> list[float]:
    """Milliseconds of PutImage answered by botocore's Stubber from a canned response."""
    from botocore.stub import Stubber

    client = boto3.client("ecr", region_name=REGION)
    config, layer = "sha256:" + "1" * 64, "sha256:" + "2" * 64
    answer = {
        "image": {
            "registryId": "123456789012",
            "repositoryName": "bench",
            "imageId": {"imageDigest": "sha256:" + "3" * 64, "imageTag": "t"},
            "imageManifest": manifest(0, config, layer),
            "imageManifestMediaType": "application/vnd.docker.distribution.manifest.v2+json",
        }
    }
    with Stubber(client) as stub:

        def call(i: int) -> Any:
            stub.add_response("put_image", answer)
            return client.put_image(
                repositoryName="bench", imageManifest=manifest(i, config, layer), imageTag=f"t{i}"
            )

        return samples_ms(call, indexes)


class _CannedBody(io.BytesIO):
    """A canned HTTP body botocore can ``stream()``."""

    def stream(self, **_: Any) -> Any:
        data = self.read()
        while data:
            yield data
            data = self.read()


def warm_put_endpoint_floor(indexes: range) -> list[float]:
    """Milliseconds of PutImage through botocore's whole request path (serialise, sign, retry
    handler, parse) answered by a canned HTTP response: what the in-process hook cannot skip."""
    from botocore import endpoint
    from botocore.awsrequest import AWSResponse

    client = boto3.client("ecr", region_name=REGION)
    config, layer = "sha256:" + "1" * 64, "sha256:" + "2" * 64
    body = json.dumps(
        {
            "image": {
                "registryId": "123456789012",
                "repositoryName": "bench",
                "imageId": {"imageDigest": "sha256:" + "3" * 64, "imageTag": "t"},
                "imageManifest": manifest(0, config, layer),
                "imageManifestMediaType": "application/vnd.oci.image.manifest.v1+json",
            }
        }
    ).encode()
    headers = {"Content-Type": "application/x-amz-json-1.1", "Content-Length": str(len(body))}

    def canned(self: Any, request: Any, operation_model: Any, context: Any) -> Any:
        http = AWSResponse(request.url, 200, headers, _CannedBody(body))
        response = endpoint.convert_to_response_dict(http, operation_model)
        parser = self._response_parser_factory.create_parser("json")
        return (http, parser.parse(response, operation_model.output_shape)), None

    original = endpoint.Endpoint._do_get_response
    endpoint.Endpoint._do_get_response = canned
    try:
        return samples_ms(
            lambda i: client.put_image(
                repositoryName="bench", imageManifest=manifest(i, config, layer), imageTag=f"t{i}"
            ),
            indexes,
        )
    finally:
        endpoint.Endpoint._do_get_response = original


def run_once(code: str) -> float:
    """Seconds a fresh interpreter reports for ``code``."""
    env = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def startups(runs: int) -> dict[str, float]:
    """Median start-up seconds of ecr_mock, moto and boto3 alone, runs interleaved."""
    samples: dict[str, list[float]] = {"ecr_mock": [], "moto": [], "floor": []}
    for _ in range(runs):
        samples["ecr_mock"].append(run_once(STARTUP_ECR_MOCK))
        samples["moto"].append(run_once(STARTUP_MOTO))
        samples["floor"].append(run_once(FLOOR))
    return {name: statistics.median(values) for name, values in samples.items()}


def manifest(i: int, config: str, layer: str) -> str:
    """A distinct OCI manifest (by annotation) over the same config and layer."""
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config,
                "size": 2,
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": layer,
                    "size": 4,
                }
            ],
            "annotations": {"n": str(i)},
        }
    )


def seed_blobs(client: Any, repo: str) -> tuple[str, str]:
    """Upload a config and a layer through the layer API (moto ignores them; harmless)."""
    import hashlib

    digests = []
    for data in (b"{}", b"abcd"):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        try:
            upload = client.initiate_layer_upload(repositoryName=repo)["uploadId"]
            client.upload_layer_part(
                repositoryName=repo,
                uploadId=upload,
                partFirstByte=0,
                partLastByte=len(data) - 1,
                layerPartBlob=data,
            )
            client.complete_layer_upload(
                repositoryName=repo, uploadId=upload, layerDigests=[digest]
            )
        except Exception:
            pass
        digests.append(digest)
    return digests[0], digests[1]


def median_ms(func: Callable[[int], Any], runs: int) -> float:
    """Median milliseconds of ``func(i)`` over ``runs`` calls."""
    return statistics.median(samples_ms(func, range(runs)))


def samples_ms(func: Callable[[int], Any], indexes: range) -> list[float]:
    """Milliseconds of ``func(i)`` for each ``i``."""
    samples = []
    for i in indexes:
        start = time.perf_counter()
        func(i)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def warm_put_interleaved(rounds: int, per_round: int) -> dict[str, float]:
    """Median ms of PutImage answered by ecr_mock, by the Stubber and by botocore's whole path
    with a canned HTTP answer, measured in alternating blocks so that load changes on a shared
    machine hit the three alike."""
    from ecr_mock import mock_ecr

    config, layer = "sha256:" + "1" * 64, "sha256:" + "2" * 64
    mock = mock_ecr(allow_missing_layers=True)
    samples: dict[str, list[float]] = {"ecr_mock": [], "stubber": [], "endpoint": []}
    with mock:
        client = boto3.client("ecr", region_name=REGION)
        client.create_repository(repositoryName="bench")
    for round_ in range(rounds):
        indexes = range(round_ * per_round, (round_ + 1) * per_round)
        with mock:
            samples["ecr_mock"] += samples_ms(
                lambda i: client.put_image(
                    repositoryName="bench",
                    imageManifest=manifest(i, config, layer),
                    imageTag=f"t{i}",
                ),
                indexes,
            )
        samples["stubber"] += warm_put_floor(indexes)
        samples["endpoint"] += warm_put_endpoint_floor(indexes)
    return {name: statistics.median(values) for name, values in samples.items()}


def warm(client: Any, runs: int) -> dict[str, float]:
    """Median latency of PutImage, DescribeImages, BatchGetImage in one repository."""
    client.create_repository(repositoryName="warm")
    config, layer = seed_blobs(client, "warm")
    put = median_ms(
        lambda i: client.put_image(
            repositoryName="warm", imageManifest=manifest(i, config, layer), imageTag=f"t{i}"
        ),
        runs,
    )
    describe = median_ms(
        lambda i: client.describe_images(repositoryName="warm", maxResults=100), runs
    )
    get = median_ms(
        lambda i: client.batch_get_image(
            repositoryName="warm", imageIds=[{"imageTag": f"t{i % runs}"}]
        ),
        runs,
    )
    return {"PutImage": put, "DescribeImages": describe, "BatchGetImage": get}


def fill(backend: Any, repo_name: str, count: int) -> None:
    """Put ``count`` images into a repository through the core (fast set-up)."""
    from ecr_mock.domain.blobs import Blob

    reg = backend.registry()
    repo = backend.create_repository(reg, repo_name)
    config = Blob.from_bytes(b"{}")
    layer = Blob.from_bytes(b"abcd")
    backend.store_blob(reg, repo, config)
    backend.store_blob(reg, repo, layer)
    for i in range(count):
        backend.put_image(
            reg, repo, manifest(i, config.digest, layer.digest).encode(), tag=f"seed{i}"
        )


def scaling(runs: int) -> dict[str, float]:
    """PutImage at 100 vs 10,000 images; DescribeImages(maxResults=100) at 100 vs 100,000."""
    from ecr_mock import mock_ecr
    from ecr_mock.domain.blobs import Blob

    results = {}
    config = Blob.from_bytes(b"{}").digest
    layer = Blob.from_bytes(b"abcd").digest
    for size in (100, 10_000):
        with mock_ecr() as backend:
            fill(backend, "scale", size)
            client = boto3.client("ecr", region_name=REGION)
            results[f"put@{size}"] = median_ms(
                lambda i, s=size, c=client: c.put_image(
                    repositoryName="scale",
                    imageManifest=manifest(s + 1 + i, config, layer),
                    imageTag=f"new{i}",
                ),
                runs,
            )
    for size in (100, 100_000):
        with mock_ecr() as backend:
            fill(backend, "scale", size)
            client = boto3.client("ecr", region_name=REGION)
            results[f"describe@{size}"] = median_ms(
                lambda i, c=client: c.describe_images(repositoryName="scale", maxResults=100), runs
            )
    return results


def moto_scaling(runs: int) -> dict[str, float]:
    """moto's PutImage at 100 vs 10,000 images, for comparison."""
    from moto import mock_aws

    results = {}
    config, layer = "sha256:" + "1" * 64, "sha256:" + "2" * 64
    for size in (100, 10_000):
        with mock_aws():
            client = boto3.client("ecr", region_name=REGION)
            client.create_repository(repositoryName="scale")
            for i in range(size):
                client.put_image(
                    repositoryName="scale",
                    imageManifest=manifest(i, config, layer),
                    imageTag=f"seed{i}",
                )
            results[f"put@{size}"] = median_ms(
                lambda i, s=size, c=client: c.put_image(
                    repositoryName="scale",
                    imageManifest=manifest(s + 1 + i, config, layer),
                    imageTag=f"new{i}",
                ),
                runs,
            )
    return results


def main() -> None:
    import os

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "x")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "y")
    from moto import mock_aws

    from ecr_mock import mock_ecr

    smoke = "--smoke" in sys.argv
    runs = 3 if smoke else 300
    starts = startups(1 if smoke else 15)
    ours_start, moto_start = starts["ecr_mock"], starts["moto"]
    with mock_ecr():
        ours = warm(boto3.client("ecr", region_name=REGION), runs)
    with mock_aws():
        theirs = warm(boto3.client("ecr", region_name=REGION), runs)
    put = warm_put_interleaved(rounds=1, per_round=3) if smoke else warm_put_interleaved(10, 60)
    floor_put, endpoint_put = put["stubber"], put["endpoint"]
    variants = ("ecr_mock", "ecr_mock-small-record", "moto")
    memory = {variant: memory_per_image(variant, 20 if smoke else 10_000) for variant in variants}

    print(
        f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print()
    print("| measure | ecr_mock | moto | ratio |")
    print("|---|---|---|---|")
    print(
        f"| fresh process: import, mock, client, CreateRepository (ms) | {ours_start * 1000:.0f} "
        f"| {moto_start * 1000:.0f} | {ours_start / moto_start:.2f} |"
    )
    print(
        f"| fresh process, boto3 alone answering from a canned response (ms) "
        f"| {starts['floor'] * 1000:.0f} | | |"
    )
    print(
        f"| start-up ratio to boto3 alone | {ours_start / starts['floor']:.2f} "
        f"| {moto_start / starts['floor']:.2f} | |"
    )
    for name in ours:
        print(
            f"| warm {name} median (ms) | {ours[name]:.3f} | {theirs[name]:.3f} "
            f"| {ours[name] / theirs[name]:.2f} |"
        )
    print(
        f"| warm PutImage, interleaved with the two floors below (ms) | {put['ecr_mock']:.3f} | | |"
    )
    print(f"| warm PutImage answered by botocore's Stubber (ms) | {floor_put:.3f} | | |")
    print(
        f"| warm PutImage ratio to the Stubber | {put['ecr_mock'] / floor_put:.2f} "
        f"| {theirs['PutImage'] / floor_put:.2f} | |"
    )
    print(
        f"| warm PutImage through botocore's whole request path, canned HTTP answer (ms) "
        f"| {endpoint_put:.3f} | | |"
    )
    print(
        f"| warm PutImage ratio to that path | {put['ecr_mock'] / endpoint_put:.2f} "
        f"| {theirs['PutImage'] / endpoint_put:.2f} | |"
    )
    print(
        f"| memory per image, 10,000 images (bytes) | {memory['ecr_mock']:.0f} "
        f"| {memory['moto']:.0f} | {memory['ecr_mock'] / memory['moto']:.2f} |"
    )
    print(
        f"| the same with the call record kept to 1 call (max_calls=1) (bytes) "
        f"| {memory['ecr_mock-small-record']:.0f} | "
        f"| {memory['ecr_mock-small-record'] / memory['moto']:.2f} |"
    )
    if "--no-scaling" in sys.argv or smoke:
        return
    scale = scaling(200)
    moto_scale = moto_scaling(100)
    print()
    print("| scaling (median ms) | ecr_mock | moto |")
    print("|---|---|---|")
    print(f"| PutImage at 100 images | {scale['put@100']:.3f} | {moto_scale['put@100']:.3f} |")
    print(
        f"| PutImage at 10,000 images | {scale['put@10000']:.3f} | {moto_scale['put@10000']:.3f} |"
    )
    print(
        f"| ratio 10,000 / 100 | {scale['put@10000'] / scale['put@100']:.2f} "
        f"| {moto_scale['put@10000'] / moto_scale['put@100']:.2f} |"
    )
    print(f"| DescribeImages(maxResults=100) at 100 images | {scale['describe@100']:.3f} | |")
    print(
        f"| DescribeImages(maxResults=100) at 100,000 images | {scale['describe@100000']:.3f} | |"
    )
    print(f"| ratio 100,000 / 100 | {scale['describe@100000'] / scale['describe@100']:.2f} | |")


if __name__ == "__main__":
    main()
