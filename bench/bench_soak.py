"""Soak: clients push, pull, list and delete distinct images against one ``ecr-mock serve`` for a
while, then the clock moves past the layer grace period and a reclamation pass runs.

Prints rounds per second, the server's RSS over time (and after the pass), and the bytes left
(blob files under the state directory, and what ``GET /ecr-mock/reclaim`` reports).

    python bench/bench_soak.py --seconds 60 --clients 8 [--state-dir]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import boto3
import requests

MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def start(state_dir: Path | None) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    argv = [sys.executable, "-m", "ecr_mock", "serve", "--port", str(port), "--quiet"]
    if state_dir is not None:
        argv += ["--state-dir", str(state_dir)]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            requests.get(f"{url}/ecr-mock/health", timeout=1)
            return proc, url
        except requests.ConnectionError:
            time.sleep(0.05)
    raise SystemExit("the server did not start")


def control(url: str, method: str, route: str, body: dict[str, Any] | None = None) -> Any:
    answer = requests.request(method, f"{url}/ecr-mock/{route}", json=body, timeout=600)
    answer.raise_for_status()
    return answer.json()


def worker(url: str, index: int, stop: threading.Event, counts: list[int]) -> None:
    ecr = boto3.client(
        "ecr",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="y",
    )
    repo = f"soak/c{index}"
    ecr.create_repository(repositoryName=repo)
    password = control(url, "POST", "tokens", {"principal_arn": "123456789012"})["password"]
    http = requests.Session()
    http.auth = ("AWS", password)
    config = json.dumps({"client": index}).encode()
    config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
    http.post(f"{url}/v2/{repo}/blobs/uploads/", params={"digest": config_digest}, data=config)
    n = 0
    while not stop.is_set():
        layer = os.urandom(200 * 1024 + (n % 60) * 1024)
        digest = "sha256:" + hashlib.sha256(layer).hexdigest()
        http.post(f"{url}/v2/{repo}/blobs/uploads/", params={"digest": digest}, data=layer)
        doc = {
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest,
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": digest,
                    "size": len(layer),
                }
            ],
        }
        put = http.put(
            f"{url}/v2/{repo}/manifests/r{n}",
            data=json.dumps(doc).encode(),
            headers={"Content-Type": MANIFEST},
        )
        pulled = http.get(f"{url}/v2/{repo}/blobs/{digest}")
        if put.status_code != 201 or hashlib.sha256(pulled.content).hexdigest() != digest[7:]:
            raise SystemExit(f"round failed: {put.status_code} {pulled.status_code}")
        ecr.list_images(repositoryName=repo)
        ecr.batch_delete_image(
            repositoryName=repo, imageIds=[{"imageDigest": put.headers["Docker-Content-Digest"]}]
        )
        n += 1
        counts[index] = n


def soak(seconds: float, clients: int, state_dir: Path | None) -> dict[str, Any]:
    proc, url = start(state_dir)
    try:
        start_rss = rss_mib(proc.pid)
        stop = threading.Event()
        counts = [0] * clients
        threads = [
            threading.Thread(target=worker, args=(url, i, stop, counts)) for i in range(clients)
        ]
        began = time.monotonic()
        for thread in threads:
            thread.start()
        samples = []
        while time.monotonic() - began < seconds:
            time.sleep(seconds / 6)
            samples.append((round(time.monotonic() - began), round(rss_mib(proc.pid))))
        stop.set()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - began
        rounds = sum(counts)
        before = control(url, "GET", "reclaim")["registries"][0]
        control(url, "POST", "clock", {"advance_seconds": 2 * 24 * 3600})
        t0 = time.monotonic()
        reclaimed = control(url, "POST", "lifecycle/run")
        pass_seconds = time.monotonic() - t0
        after = control(url, "GET", "reclaim")["registries"][0]
        end_rss = rss_mib(proc.pid)
        files = (
            sum(p.stat().st_size for p in (state_dir / "blobs").glob("*/*"))
            if state_dir is not None
            else None
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    return {
        "rounds": rounds,
        "rounds_per_second": round(rounds / elapsed, 1),
        "rss_start_mib": round(start_rss),
        "rss_samples": samples,
        "rss_after_pass_mib": round(end_rss),
        "reclaimable_mib_before": round(before["reclaimableBytes"] / 2**20, 1),
        "reclaimed_mib": round(reclaimed["reclaimedBytes"] / 2**20, 1),
        "pass_seconds": round(pass_seconds, 2),
        "layer_bytes_left": after["layerBytes"],
        "blob_file_bytes_left": files,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--state-dir", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="2 seconds, 1 client: it works")
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.clients = 2, 1
    work = Path(tempfile.mkdtemp(prefix="ecr-mock-soak-"))
    try:
        result = soak(args.seconds, args.clients, work / "state" if args.state_dir else None)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
