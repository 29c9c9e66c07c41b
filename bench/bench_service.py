"""``ecr-mock serve`` as a service: time to stop on SIGTERM, time to seed, cost of the request log.

Run: ``python bench/bench_service.py``. Prints medians; every server is a subprocess on a free
loopback port.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import boto3

SMOKE = "--smoke" in sys.argv  # every part once at tiny sizes, to prove the script works
ROUNDS = 1 if SMOKE else 7
CALLS = 3 if SMOKE else 300
KEYS = {"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key": "secret"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(*args: str) -> tuple[subprocess.Popen[bytes], str, float]:
    """A server; its URL and the seconds from launch until /ecr-mock/health answers."""
    port = free_port()
    began = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "ecr_mock", "serve", "--port", str(port), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            urllib.request.urlopen(f"{url}/ecr-mock/health", timeout=2).read()
            return process, url, time.perf_counter() - began
        except OSError:
            if process.poll() is not None:
                raise RuntimeError("the server exited") from None
            time.sleep(0.01)


def stop_seconds(process: subprocess.Popen[bytes]) -> float:
    began = time.perf_counter()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    return time.perf_counter() - began


def shutdown() -> tuple[float, float]:
    """Median seconds from SIGTERM to exit: idle, and after moto's IAM has been used."""
    idle, used = [], []
    for _ in range(ROUNDS):
        process, _, _ = start("--quiet")
        idle.append(stop_seconds(process))
        process, url, _ = start("--quiet")
        boto3.client("iam", endpoint_url=url, region_name="us-east-1", **KEYS).list_users()
        used.append(stop_seconds(process))
    return statistics.median(idle), statistics.median(used)


def seeding(folder: Path) -> tuple[float, float]:
    """Median seconds until healthy: no seed, and a seed of 20 repositories x 5 images."""
    seed = folder / "seed.json"
    seed.write_text(
        json.dumps(
            {
                "repositories": [
                    {
                        "name": f"team/app-{n}",
                        "images": [
                            {"synthetic": {"layers": 2, "layerSize": 4096, "seed": f"{n}-{i}"}}
                            for i in range(5)
                        ],
                    }
                    for n in range(20)
                ]
            }
        )
    )
    plain, seeded = [], []
    for _ in range(ROUNDS):
        process, _, took = start("--quiet")
        plain.append(took)
        stop_seconds(process)
        process, _, took = start("--quiet", "--seed", str(seed))
        seeded.append(took)
        stop_seconds(process)
    return statistics.median(plain), statistics.median(seeded)


def logging_cost() -> tuple[float, float]:
    """Median ms of DescribeRepositories with --quiet and with the text request log."""
    results = []
    for args in (("--quiet",), ()):
        process, url, _ = start(*args)
        client = boto3.client("ecr", endpoint_url=url, region_name="us-east-1", **KEYS)
        client.create_repository(repositoryName="bench")
        client.describe_repositories()
        timings = []
        for _ in range(CALLS):
            began = time.perf_counter()
            client.describe_repositories()
            timings.append((time.perf_counter() - began) * 1000)
        stop_seconds(process)
        results.append(statistics.median(timings))
    return results[0], results[1]


def main() -> None:
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    idle, used = shutdown()
    print(f"SIGTERM to exit, idle server: {idle * 1000:.0f} ms")
    print(f"SIGTERM to exit, after moto's IAM was used: {used * 1000:.0f} ms")
    with tempfile.TemporaryDirectory() as folder:
        plain, seeded = seeding(Path(folder))
    print(f"start to healthy, no seed: {plain * 1000:.0f} ms")
    print(f"start to healthy, seed of 20 repositories x 5 synthetic images: {seeded * 1000:.0f} ms")
    quiet, logged = logging_cost()
    print(
        f"DescribeRepositories over HTTP, --quiet: {quiet:.2f} ms; with request log: {logged:.2f} ms"
    )


if __name__ == "__main__":
    main()
