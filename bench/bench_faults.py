"""What fault matching and the call record cost per in-process ECR API call.

Run: ``python bench/bench_faults.py``. Warm DescribeRepositories and PutImage calls in one
process, medians of 2,000 (1,000 for PutImage) calls per variant, variants interleaved in 5
rounds: no rules; 100 rules that never match; and the cost of recording one call, measured by
timing ``CallLog.record`` alone.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import boto3

from ecr_mock import mock_ecr
from ecr_mock.store.calls import Call, CallLog

ROUNDS = 5
SMOKE = "--smoke" in sys.argv  # every part once at tiny sizes, to prove the script works


def median_ms(run: Callable[[], Any], count: int) -> float:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def record_cost_us(count: int = 100_000) -> float:
    log = CallLog()
    call = Call(
        "api", "PutImage", "app", "123456789012", "us-east-1", None, 200, None, 1, 1, 1.0, 0
    )
    started = time.perf_counter()
    for _ in range(count):
        log.record(call)
    return (time.perf_counter() - started) / count * 1e6


def main() -> None:
    results: dict[str, list[float]] = {}
    with mock_ecr() as backend:
        ecr = boto3.client("ecr", region_name="us-east-1")
        ecr.create_repository(repositoryName="app")
        config = b'{"architecture":"amd64","os":"linux"}'
        upload_id = ecr.initiate_layer_upload(repositoryName="app")["uploadId"]
        ecr.upload_layer_part(
            repositoryName="app",
            uploadId=upload_id,
            partFirstByte=0,
            partLastByte=len(config) - 1,
            layerPartBlob=config,
        )
        digest = "sha256:" + hashlib.sha256(config).hexdigest()
        ecr.complete_layer_upload(repositoryName="app", uploadId=upload_id, layerDigests=[digest])
        counter = iter(range(10**9))

        def put() -> None:
            manifest = json.dumps(
                {
                    "schemaVersion": 2,
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {
                        "mediaType": "application/vnd.oci.image.config.v1+json",
                        "digest": digest,
                        "size": len(config),
                    },
                    "layers": [],
                    "annotations": {"n": str(next(counter))},
                }
            )
            ecr.put_image(repositoryName="app", imageManifest=manifest)

        for _ in range(2 if SMOKE else 200):  # warm up
            ecr.describe_repositories()
        for _ in range(1 if SMOKE else ROUNDS):
            for rules in (0, 100):
                backend.faults.clear()
                for index in range(rules):
                    backend.faults.add(repository=f"never-{index}", error="ServerException")
                results.setdefault(f"DescribeRepositories, {rules} rules", []).append(
                    median_ms(ecr.describe_repositories, 3 if SMOKE else 2000)
                )
                results.setdefault(f"PutImage, {rules} rules", []).append(
                    median_ms(put, 3 if SMOKE else 1000)
                )
            backend.calls.clear()
    for name, values in results.items():
        print(
            f"{name}: {statistics.median(values):.3f} ms (rounds: {', '.join(f'{v:.3f}' for v in values)})"
        )
    print(f"CallLog.record: {record_cost_us(100 if SMOKE else 100_000):.2f} us per call")


if __name__ == "__main__":
    main()
