"""Cost of a saved change as the state grows, and the time to open a large state directory.

Run by hand: ``python bench/bench_save_cost.py [--sizes 100,2000,100000] [--calls 200]``.
For each size, ``ecr-mock serve --allow-missing-layers`` is started in memory and with a
``--state-dir`` holding that many images, both at once, and ``--calls`` PutImage calls to each
(each a new tag on an existing image, one change that must be saved before the answer) are
timed one by one, alternating between the two servers so that both see the same load. The in-memory server is filled over the API; the state directory is filled
in-process (the same rows a server writes) and then opened by the server, which times the
load. Also reported: the time ``Backend.open`` takes on the directory and the memory per image
after it (RSS growth divided by the images), against the same images pushed in memory.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_registry import free_port, wait_port

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def manifest(number: int) -> str:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": "sha256:" + f"{number:064x}",
                "size": 1000 + number % 1000,
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": "sha256:" + f"{number + 10**12:064x}",
                    "size": 30_000_000 + number,
                }
            ],
        }
    )


def start(state_dir: Path | None) -> tuple[subprocess.Popen[bytes], str, float]:
    """``ecr-mock serve`` on a free port; seconds until it answers."""
    port = free_port()
    cmd = [sys.executable, "-m", "ecr_mock", "serve", "--port", str(port)]
    cmd += ["--allow-missing-layers", "--quiet"]
    if state_dir is not None:
        cmd += ["--state-dir", str(state_dir)]
    began = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, timeout=600)
    return proc, f"http://127.0.0.1:{port}", time.perf_counter() - began


def client(endpoint: str) -> Any:
    return boto3.client(
        "ecr",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id="AKIAEXAMPLE",
        aws_secret_access_key="secret",
    )


def fill_over_api(endpoint: str, count: int) -> None:
    client(endpoint).create_repository(repositoryName="many")

    def part(start: int) -> None:
        ecr = client(endpoint)
        for number in range(start, count, 4):
            ecr.put_image(repositoryName="many", imageManifest=manifest(number))

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(part, range(4)))


def fill_in_process(path: Path, count: int) -> None:
    from ecr_mock import Backend

    backend = Backend.open(path)
    backend.allow_missing_layers = True
    reg = backend.registry()
    repo = backend.create_repository(reg, "many")
    for number in range(count):
        backend.put_image(reg, repo, manifest(number).encode())
        if number % 5000 == 4999:
            backend.save()
    backend.close()


def timed_tags(endpoint: str, calls: int, images: int) -> list[float]:
    """Seconds of each PutImage call adding a new tag to an existing image."""
    ecr = client(endpoint)
    ecr.describe_repositories()  # a warm connection
    times = []
    for call in range(calls):
        number = (call * 7919) % images
        began = time.perf_counter()
        ecr.put_image(repositoryName="many", imageManifest=manifest(number), imageTag=f"c{call}")
        times.append(time.perf_counter() - began)
    return times


RSS = (
    "import os\n"
    "def rss():\n"
    "    return int(open('/proc/self/statm').read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 1024\n"
)
"""A function ``rss()``: the resident set size of the process in KiB (Linux)."""


def open_cost(path: Path) -> tuple[float, float, float]:
    """Seconds ``Backend.open`` takes on ``path`` (in a fresh process; wall clock and CPU) and
    the RSS growth in KiB."""
    code = (
        "import sys, time, gc\n"
        "from ecr_mock import Backend\n"
        "import ecr_mock.store.persistence.statedir, ecr_mock.services.lifecycle\n"
        f"{RSS}"
        "gc.collect(); before = rss()\n"
        "t, c = time.perf_counter(), time.process_time()\n"
        "b = Backend.open(sys.argv[1], read_only=True)\n"
        "took, cpu = time.perf_counter() - t, time.process_time() - c\n"
        "gc.collect(); print(took, cpu, rss() - before)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[0]), float(out[1]), float(out[2])


def memory_cost(count: int) -> float:
    """RSS KiB growth of an in-memory backend given ``count`` images (fresh process)."""
    code = (
        "import sys, gc\n"
        f"{RSS}"
        "sys.path.insert(0, sys.argv[2])\n"
        "from bench_save_cost import manifest\n"
        "from ecr_mock import Backend\n"
        "b = Backend(allow_missing_layers=True); reg = b.registry()\n"
        "repo = b.create_repository(reg, 'many')\n"
        "docs = [manifest(n).encode() for n in range(int(sys.argv[1]))]\n"
        "gc.collect(); before = rss()\n"
        "for d in docs: b.put_image(reg, repo, bytes(d))\n"
        "del docs; gc.collect()\n"
        "print(rss() - before)\n"
    )
    here = str(Path(__file__).resolve().parent)
    out = subprocess.run(
        [sys.executable, "-c", code, str(count), here], capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[0])


def paired_tags(memory: str, durable: str, calls: int, images: int) -> tuple[list[float], ...]:
    """PutImage calls alternating between the two servers (so both see the same machine):
    seconds of each call on each, in call order."""
    clients = client(memory), client(durable)
    for ecr in clients:
        ecr.describe_repositories()  # warm connections
    times: tuple[list[float], list[float]] = ([], [])
    for call in range(calls):
        number = (call * 7919) % images
        for side, ecr in enumerate(clients if call % 2 == 0 else clients[::-1]):
            began = time.perf_counter()
            ecr.put_image(
                repositoryName="many", imageManifest=manifest(number), imageTag=f"c{call}"
            )
            times[side if call % 2 == 0 else 1 - side].append(time.perf_counter() - began)
    return times


def run(sizes: list[int], calls: int, memory_up_to: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="ecr-mock-bench-save-"))
    try:
        print(
            f"machine: {platform.platform()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}; load average {os.getloadavg()[0]:.2f} at the start"
        )
        print()
        print(
            "| images stored | in memory: ms per PutImage (median) | --state-dir: ms (median) | "
            "median of per-call ratios (state-dir / memory, calls alternating) | "
            "server start with the directory (s) |"
        )
        print("|---|---|---|---|---|")
        medians: dict[int, float] = {}
        for size in sizes:
            state = work / f"state-{size}"
            fill_in_process(state, size)
            durable_proc, durable, started = start(state)
            memory_proc = None
            try:
                if size <= memory_up_to:
                    memory_proc, memory, _ = start(None)
                    fill_over_api(memory, size)
                    on_memory, on_durable = paired_tags(memory, durable, calls, size)
                else:
                    on_memory, on_durable = [float("nan")], timed_tags(durable, calls, size)
            finally:
                for proc in (durable_proc, memory_proc):
                    if proc is not None:
                        proc.terminate()
                        proc.wait(timeout=120)
            m, d = statistics.median(on_memory), statistics.median(on_durable)
            medians[size] = d
            ratio = statistics.median(b / a for a, b in zip(on_memory, on_durable, strict=False))
            print(f"| {size:,} | {m * 1e3:.2f} | {d * 1e3:.2f} | {ratio:.2f} | {started:.2f} |")
        print()
        base = sizes[0]
        for size in sizes[1:]:
            print(
                f"- --state-dir median at {size:,} images / at {base:,}: "
                f"{medians[size] / medians[base]:.2f}"
            )
        print()
        print(
            "| images in the directory | Backend.open, wall (s) | Backend.open, CPU (s) | "
            "KiB per image after open | KiB per image pushed in memory |"
        )
        print("|---|---|---|---|---|")
        for size in sizes:
            took, cpu, grown = open_cost(work / f"state-{size}")
            in_memory = memory_cost(size)
            print(
                f"| {size:,} | {took:.2f} | {cpu:.2f} | {grown / size:.2f} | "
                f"{in_memory / size:.2f} |"
            )
        print()
        print(f"load average {os.getloadavg()[0]:.2f} at the end")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100,2000,100000")
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument(
        "--memory-up-to",
        type=int,
        default=10**9,
        help="measure the in-memory server only up to this many images (it is filled over the "
        "API, about a millisecond per image)",
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, few calls: it works")
    args = parser.parse_args()
    if args.smoke:
        args.sizes, args.calls = "20", 4
    gc.collect()
    run([int(s) for s in args.sizes.split(",")], args.calls, args.memory_up_to)


if __name__ == "__main__":
    main()
