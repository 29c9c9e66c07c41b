"""Benchmark of ``ecr-mock serve --state-dir`` against the in-memory server, in the same run.

Run by hand: ``python bench/bench_persistence.py [--big-mib 512] [--images 100]
[--skopeo-images 200] [--fsync batch] [--rounds 3]``.
Needs skopeo. Each round starts both servers as subprocesses on loopback (memory first, then a
fresh state directory) and measures, for each:

- one big layer pushed and pulled by ``skopeo copy --preserve-digests`` (MB/s);
- ``--skopeo-images`` images of one 64 KiB layer each, pushed by one ``skopeo copy`` each
  (images/s): every manifest commits its own small group of blobs;
- ``--images`` small images (config + one 16 KiB layer + manifest) pushed over ``/v2/`` by one
  ``requests`` session, then pulled back (manifest and blobs), in images per second: the cost
  of saving after every acknowledged request, with the state growing as it goes.
"""

from __future__ import annotations

import argparse
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

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_registry import ecr_login, free_port, make_layout, skopeo_copy, wait_port

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def start(state_dir: Path | None, fsync: str = "batch") -> tuple[subprocess.Popen[bytes], str]:
    """``ecr-mock serve`` on a free loopback port, with or without a state directory."""
    port = free_port()
    cmd = [sys.executable, "-m", "ecr_mock", "serve", "--port", str(port)]
    if state_dir is not None:
        cmd += ["--state-dir", str(state_dir), "--fsync", fsync]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    return proc, f"127.0.0.1:{port}"


def push_images(url: str, creds: str, count: int) -> tuple[float, list[str]]:
    """Seconds to push ``count`` small images over /v2/; their tags."""
    session = requests.Session()
    session.auth = tuple(creds.split(":", 1))  # type: ignore[assignment]
    tags = []
    began = time.perf_counter()
    for number in range(count):
        blobs = [
            json.dumps({"architecture": "amd64", "os": "linux", "n": number}).encode(),
            os.urandom(16 * 1024),
        ]
        descs = []
        for data in blobs:
            digest = "sha256:" + hashlib.sha256(data).hexdigest()
            started = session.post(f"{url}/v2/small/blobs/uploads/")
            location = started.headers["Location"]
            location = url + location if location.startswith("/") else location
            sep = "&" if "?" in location else "?"
            done = session.put(f"{location}{sep}digest={digest}", data=data)
            done.raise_for_status()
            descs.append({"digest": digest, "size": len(data)})
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **descs[0]},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", **descs[1]}],
            }
        )
        tag = f"t{number}"
        session.put(
            f"{url}/v2/small/manifests/{tag}",
            data=manifest,
            headers={"Content-Type": OCI_MANIFEST},
        ).raise_for_status()
        tags.append(tag)
    return time.perf_counter() - began, tags


def pull_images(url: str, creds: str, tags: list[str]) -> float:
    """Seconds to pull each image (manifest, config, layer) over /v2/."""
    session = requests.Session()
    session.auth = tuple(creds.split(":", 1))  # type: ignore[assignment]
    began = time.perf_counter()
    for tag in tags:
        got = session.get(f"{url}/v2/small/manifests/{tag}", headers={"Accept": OCI_MANIFEST})
        got.raise_for_status()
        doc = got.json()
        for desc in [doc["config"], *doc["layers"]]:
            session.get(f"{url}/v2/small/blobs/{desc['digest']}").raise_for_status()
    return time.perf_counter() - began


def skopeo_pushes(layouts: list[Path], endpoint: str, creds: str) -> float:
    """Seconds to push each layout by one ``skopeo copy``."""
    began = time.perf_counter()
    for number, layout in enumerate(layouts):
        skopeo_copy(f"oci:{layout}:bench", f"docker://{endpoint}/many:i{number}", creds, push=True)
    return time.perf_counter() - began


def run(
    big_mib: int, images: int, rounds: int, skopeo_images: int = 200, fsync: str = "batch"
) -> None:
    """Measure and print a markdown table."""
    work = Path(tempfile.mkdtemp(prefix="ecr-mock-bench-persist-"))
    try:
        big = work / "big"
        make_layout(big, [big_mib << 20])
        layouts = [work / f"small-{n}" for n in range(skopeo_images)]
        for layout in layouts:
            make_layout(layout, [64 * 1024])
        results: dict[str, dict[str, list[float]]] = {"memory": {}, "state-dir": {}}
        for round_no in range(rounds):
            for name in ("memory", "state-dir"):
                state = work / f"state{round_no}" if name == "state-dir" else None
                proc, endpoint = start(state, fsync)
                try:
                    creds = ecr_login(endpoint, ["big", "small", "many"])
                    push_big = skopeo_copy(
                        f"oci:{big}:bench", f"docker://{endpoint}/big:bench", creds, push=True
                    )
                    out = work / f"pull-{name}-{round_no}"
                    pull_big = skopeo_copy(
                        f"docker://{endpoint}/big:bench", f"oci:{out}:bench", creds, push=False
                    )
                    shutil.rmtree(out, ignore_errors=True)
                    push_skopeo = skopeo_pushes(layouts, endpoint, creds)
                    push_small, tags = push_images(f"http://{endpoint}", creds, images)
                    pull_small = pull_images(f"http://{endpoint}", creds, tags)
                finally:
                    proc.terminate()
                    proc.wait(timeout=60)
                if state is not None:
                    shutil.rmtree(state, ignore_errors=True)
                for key, value in (
                    ("push_big", push_big),
                    ("pull_big", pull_big),
                    ("push_skopeo", push_skopeo),
                    ("push_small", push_small),
                    ("pull_small", pull_small),
                ):
                    results[name].setdefault(key, []).append(value)
        med = {n: {k: statistics.median(v) for k, v in r.items()} for n, r in results.items()}
        mb = (big_mib << 20) / 1e6
        print(
            f"machine: {platform.platform()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}; {rounds} rounds, medians; --fsync {fsync}; load "
            f"average {os.getloadavg()[0]:.1f} at the end"
        )
        print()
        print(
            "| measure | in memory | --state-dir | ratio of medians | ratio per round "
            "(state-dir / memory, each round back to back) |"
        )
        print("|---|---|---|---|---|")
        rows = (
            ("push_big", f"one {big_mib} MiB layer, push throughput (MB/s)", mb, "{:.0f}"),
            ("pull_big", f"one {big_mib} MiB layer, pull throughput (MB/s)", mb, "{:.0f}"),
            (
                "push_skopeo",
                f"{skopeo_images} x 64 KiB images by skopeo, push (images/s)",
                skopeo_images,
                "{:.1f}",
            ),
            ("push_small", f"{images} small images over /v2/, push (images/s)", images, "{:.1f}"),
            ("pull_small", f"{images} small images over /v2/, pull (images/s)", images, "{:.1f}"),
        )
        for key, label, amount, fmt in rows:
            memory = amount / med["memory"][key]
            durable = amount / med["state-dir"][key]
            per_round = [
                m / d
                for m, d in zip(results["memory"][key], results["state-dir"][key], strict=True)
            ]
            print(
                f"| {label} | {fmt.format(memory)} | {fmt.format(durable)} | "
                f"{durable / memory:.2f} | {', '.join(f'{r:.2f}' for r in per_round)} |"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--big-mib", type=int, default=512)
    parser.add_argument("--skopeo-images", type=int, default=200)
    parser.add_argument("--fsync", choices=("always", "batch", "never"), default="batch")
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one round: it works")
    args = parser.parse_args()
    if args.smoke:
        args.big_mib, args.images, args.rounds = 1, 2, 1
    if shutil.which("skopeo") is None:
        sys.exit("skopeo is not installed")
    run(args.big_mib, args.images, args.rounds, args.skopeo_images, args.fsync)


if __name__ == "__main__":
    main()
