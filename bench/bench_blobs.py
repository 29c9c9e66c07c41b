"""Blob throughput with a fast client (curl) and server memory after pushing and deleting 1 GiB.

Run by hand: ``python bench/bench_blobs.py [--big-mib 512] [--rounds 3] [--memory-mib 1024]``.
Needs curl and ``docker-registry`` (Debian package). Measured, in the same run:

* push: one monolithic ``PUT <upload>?digest=`` of a ``--big-mib`` blob with ``curl -T``,
  against a single-core sha256 of the same bytes (``hashlib``, page cache warm);
* pull: ``curl`` GET of that blob to /dev/null, ecr-mock against the CNCF distribution registry;
* memory: ``ecr-mock serve`` RSS before, after pushing ``--memory-mib`` in 2 MiB layers (one
  image per 16 layers), and after deleting the images and the repository.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_registry import start_ecr_mock, start_reference

LAYER = 2 << 20


def ecr(endpoint: str) -> object:
    return boto3.client(
        "ecr",
        region_name="us-east-1",
        endpoint_url=f"http://{endpoint}",
        aws_access_key_id="x",
        aws_secret_access_key="y",
    )


def login(endpoint: str, repo: str) -> tuple[str, str]:
    client = ecr(endpoint)
    client.create_repository(repositoryName=repo)  # type: ignore[attr-defined]
    token = client.get_authorization_token()["authorizationData"][0]["authorizationToken"]  # type: ignore[attr-defined]
    user, password = base64.b64decode(token).decode().split(":", 1)
    return user, password


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def sha256_seconds(path: Path) -> tuple[str, float]:
    """One core hashing the file (read in 1 MiB blocks, page cache warm)."""
    hasher = hashlib.sha256()
    start = time.perf_counter()
    with path.open("rb", buffering=0) as source:
        while block := source.read(1 << 20):
            hasher.update(block)
    return "sha256:" + hasher.hexdigest(), time.perf_counter() - start


def curl(args: list[str]) -> float:
    """Seconds one curl transfer takes (curl's own total time)."""
    out = subprocess.run(
        ["curl", "-s", "-S", "-f", "-o", "/dev/null", "-w", "%{time_total}", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(out.stdout)


def push_pull(
    endpoint: str, blob: Path, digest: str, creds: tuple[str, str] | None
) -> tuple[float, float]:
    """Monolithic push (POST for a session, then one PUT of the whole blob), then a pull."""
    auth = ["-u", f"{creds[0]}:{creds[1]}"] if creds else []
    base = f"http://{endpoint}/v2/big"
    started = requests.post(f"{base}/blobs/uploads/", auth=creds, timeout=30)
    started.raise_for_status()
    location = started.headers["Location"]
    if location.startswith("/"):
        location = f"http://{endpoint}{location}"
    separator = "&" if "?" in location else "?"
    push = curl(
        [
            *auth,
            "-T",
            str(blob),
            "-H",
            "Content-Type: application/octet-stream",
            f"{location}{separator}digest={digest}",
        ]
    )
    pull = curl([*auth, f"{base}/blobs/{digest}"])
    return push, pull


def throughput(big_mib: int, rounds: int, work: Path) -> None:
    blob = work / "big.bin"
    with blob.open("wb") as out:
        for _ in range(big_mib):
            out.write(os.urandom(1 << 20))
    digest, _ = sha256_seconds(blob)
    hashes: list[float] = []
    ours: dict[str, list[float]] = {"push": [], "pull": []}
    ref: dict[str, list[float]] = {"push": [], "pull": []}
    for round_no in range(rounds):
        hashes.append(sha256_seconds(blob)[1])
        proc, endpoint = start_ecr_mock()
        try:
            push, pull = push_pull(endpoint, blob, digest, login(endpoint, "big"))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        ours["push"].append(push)
        ours["pull"].append(pull)
        refproc, refpoint = start_reference(work / f"ref{round_no}")
        try:
            push, pull = push_pull(refpoint, blob, digest, None)
        finally:
            refproc.terminate()
            refproc.wait(timeout=30)
            shutil.rmtree(work / f"ref{round_no}", ignore_errors=True)
        ref["push"].append(push)
        ref["pull"].append(pull)
    mb = (big_mib << 20) / 1e6
    med = statistics.median
    print(f"| {big_mib} MiB blob | MB/s (median of {rounds}) | ratio |")
    print("|---|---|---|")
    print(f"| sha256, one core | {mb / med(hashes):.0f} | |")
    print(
        f"| ecr-mock push (curl, monolithic) | {mb / med(ours['push']):.0f} | "
        f"{med(hashes) / med(ours['push']):.2f} of sha256 |"
    )
    print(f"| docker-registry push (curl, monolithic) | {mb / med(ref['push']):.0f} | |")
    print(
        f"| ecr-mock pull (curl) | {mb / med(ours['pull']):.0f} | "
        f"{med(ref['pull']) / med(ours['pull']):.2f} of docker-registry |"
    )
    print(f"| docker-registry pull (curl) | {mb / med(ref['pull']):.0f} | |")


def memory(total_mib: int) -> None:
    proc, endpoint = start_ecr_mock()
    try:
        user, password = login(endpoint, "mem")
        session = requests.Session()
        session.auth = (user, password)
        base = f"http://{endpoint}/v2/mem"
        session.get(f"http://{endpoint}/v2/", timeout=30)
        before = rss_mib(proc.pid)
        count = (total_mib << 20) // LAYER
        layers: list[dict[str, object]] = []
        images = 0
        for index in range(count):
            data = os.urandom(LAYER)
            digest = "sha256:" + hashlib.sha256(data).hexdigest()
            answer = session.post(f"{base}/blobs/uploads/?digest={digest}", data=data, timeout=60)
            answer.raise_for_status()
            layers.append(
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": digest,
                    "size": LAYER,
                }
            )
            if len(layers) == 16 or index == count - 1:
                config = json.dumps({"architecture": "amd64", "os": "linux", "n": index}).encode()
                cdigest = "sha256:" + hashlib.sha256(config).hexdigest()
                session.post(f"{base}/blobs/uploads/?digest={cdigest}", data=config, timeout=60)
                manifest = {
                    "schemaVersion": 2,
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {
                        "mediaType": "application/vnd.oci.image.config.v1+json",
                        "digest": cdigest,
                        "size": len(config),
                    },
                    "layers": layers,
                }
                answer = session.put(
                    f"{base}/manifests/v{images}",
                    data=json.dumps(manifest),
                    headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
                    timeout=60,
                )
                answer.raise_for_status()
                images += 1
                layers = []
        full = rss_mib(proc.pid)
        client = ecr(endpoint)
        ids = client.list_images(repositoryName="mem", maxResults=1000)["imageIds"]  # type: ignore[attr-defined]
        for start in range(0, len(ids), 100):
            client.batch_delete_image(repositoryName="mem", imageIds=ids[start : start + 100])  # type: ignore[attr-defined]
        client.delete_repository(repositoryName="mem", force=True)  # type: ignore[attr-defined]
        session.get(f"http://{endpoint}/v2/", timeout=30)
        after = rss_mib(proc.pid)
        print()
        print(
            f"| ecr-mock serve RSS (MiB), {total_mib} MiB pushed in 2 MiB layers, {images} images | MiB |"
        )
        print("|---|---|")
        print(f"| at start (after one request) | {before:.0f} |")
        print(f"| after the push | {full:.0f} |")
        print(f"| after deleting the images and the repository | {after:.0f} |")
        print(f"| growth kept after deletion | {after - before:.0f} |")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--big-mib", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--memory-mib", type=int, default=1024)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one round: it works")
    args = parser.parse_args()
    if args.smoke:
        args.big_mib, args.rounds, args.memory_mib = 1, 1, 2
    for tool in ("curl", "docker-registry"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed")
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print()
    work = Path(tempfile.mkdtemp(prefix="ecr-mock-bench-"))
    try:
        throughput(args.big_mib, args.rounds, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    memory(args.memory_mib)


if __name__ == "__main__":
    main()
