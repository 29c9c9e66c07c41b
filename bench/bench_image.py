"""The official image: its size and the seconds from ``docker run`` to healthy (the image's
HEALTHCHECK), median of N runs. Run: ``DOCKER_HOST=... python bench/bench_image.py IMAGE [N]``
against a dockerd that holds IMAGE (built as tests/integration/test_image.py builds it).
Containers use the host's network (dockerd may run with --bridge=none)."""

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


def seconds_to_healthy(image: str) -> float:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    name = docker("run", "-d", "--network", "host", "-e", f"ECR_MOCK_PORT={port}", image)
    try:
        while True:
            state = json.loads(docker("inspect", name))[0]["State"]
            if state.get("Health", {}).get("Status") == "healthy":
                return time.monotonic() - started
            if not state["Running"]:
                raise RuntimeError(docker("logs", name))
            time.sleep(0.1)
    finally:
        docker("rm", "-f", "-v", name)


def main() -> None:
    image = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    size = int(docker("image", "inspect", "-f", "{{.Size}}", image))
    times = [seconds_to_healthy(image) for _ in range(runs)]
    print(f"image {image}: {size / 1e6:.0f} MB")
    print(
        f"docker run to healthy: median {statistics.median(times):.1f} s over {runs} runs "
        f"({', '.join(f'{t:.1f}' for t in times)})"
    )


if __name__ == "__main__":
    main()
