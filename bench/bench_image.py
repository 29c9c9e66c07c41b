"""The official image: its size and the seconds from ``docker run`` to healthy (the image's
HEALTHCHECK), median of N runs. Run: ``DOCKER_HOST=... python bench/bench_image.py IMAGE [N]``
against a dockerd that holds IMAGE (built as tests/integration/test_image.py builds it).
Containers use the host's network (dockerd may run with --bridge=none). ``--smoke IMAGE``
makes one run; tests/integration/test_image.py runs it against the image it builds."""

from __future__ import annotations

import json
import socket
import statistics
import subprocess
import sys
import time


def docker(*args: str) -> str:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, check=True, timeout=300
    ).stdout.strip()


def seconds_to_healthy(image: str) -> tuple[float, float]:
    """(seconds from ``docker run`` to healthy, of which after ``docker run`` returned)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    name = docker("run", "-d", "--network", "host", "-e", f"ECR_MOCK_PORT={port}", image)
    running = time.monotonic()
    try:
        while True:
            state = json.loads(docker("inspect", name))[0]["State"]
            if state.get("Health", {}).get("Status") == "healthy":
                now = time.monotonic()
                return now - started, now - running
            if not state["Running"]:
                raise RuntimeError(docker("logs", name))
            time.sleep(0.1)
    finally:
        docker("rm", "-f", "-v", name)


def main() -> None:
    args = sys.argv[1:]
    smoke = "--smoke" in args
    args = [a for a in args if a != "--smoke"]
    if not args:
        sys.exit("usage: bench_image.py [--smoke] IMAGE [RUNS] (with DOCKER_HOST of its dockerd)")
    image = args[0]
    runs = 1 if smoke else int(args[1]) if len(args) > 1 else 5
    size = int(docker("image", "inspect", "-f", "{{.Size}}", image))
    measured = [seconds_to_healthy(image) for _ in range(runs)]
    total = statistics.median(m[0] for m in measured)
    after = statistics.median(m[1] for m in measured)
    print(f"image {image}: {size / 1e6:.0f} MB")
    print(f"docker run to healthy: median {total:.1f} s over {runs} runs")
    print(f"  of which after docker run returned (the container made): {after:.1f} s")


if __name__ == "__main__":
    main()
