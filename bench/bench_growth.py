"""Growth benchmark: a page of the catalog, tags/list, DescribeRepositories and ListImages at a
small and a large count (100 and 10,000 repositories or images), in one process.

Run by hand: ``python bench/bench_growth.py`` (``--smoke``: 1,000 against 100, a few calls).
Prints a markdown table of medians (ms) and the ratio large / small; rounds alternate between
the two sizes so a change of load hits both alike.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_api import fill

ACCOUNT, REGION = "123456789012", "us-east-1"
HOST = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"


class World:
    """A backend with ``count`` repositories and ``count`` images in repository ``big``."""

    def __init__(self, count: int) -> None:
        import boto3
        from werkzeug.test import Client

        from ecr_mock import mock_ecr
        from ecr_mock.protocols.registry.app import RegistryApp, basic_auth_headers

        self.mock = mock_ecr()
        self.backend = self.mock.__enter__()
        reg = self.backend.registry(ACCOUNT, REGION)
        fill(self.backend, "big", count)
        for i in range(count - 1):
            self.backend.create_repository(reg, f"repo-{i:06d}")
        self.client = Client(RegistryApp(self.backend))
        self.auth = basic_auth_headers(self.backend, ACCOUNT, REGION)
        self.ecr = boto3.client("ecr", region_name=REGION)
        self.middle = f"repo-{count // 2:06d}"

    def get(self, path: str, **query: Any) -> None:
        response = self.client.get(
            path, headers=self.auth, base_url=f"https://{HOST}", query_string=query
        )
        assert response.status_code == 200, response.get_data()

    def close(self) -> None:
        self.mock.__exit__(None, None, None)


MEASURES: dict[str, Callable[[World], Any]] = {
    "/v2/_catalog?n=100 (first page)": lambda w: w.get("/v2/_catalog", n=100),
    "/v2/_catalog?n=100&last=<middle>": lambda w: w.get("/v2/_catalog", n=100, last=w.middle),
    "/v2/big/tags/list?n=100": lambda w: w.get("/v2/big/tags/list", n=100),
    "DescribeRepositories(maxResults=100)": lambda w: w.ecr.describe_repositories(maxResults=100),
    "ListImages(maxResults=100)": lambda w: w.ecr.list_images(repositoryName="big", maxResults=100),
}


def timed_ms(func: Callable[[World], Any], world: World, calls: int) -> list[float]:
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        func(world)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> None:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "x")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "y")
    smoke = "--smoke" in sys.argv
    small, large = 100, (1_000 if smoke else 10_000)
    rounds, calls = (2, 3) if smoke else (8, 25)
    worlds = {small: World(small), large: World(large)}
    samples: dict[tuple[str, int], list[float]] = {}
    for _ in range(rounds):
        for name, func in MEASURES.items():
            for size, world in worlds.items():
                samples.setdefault((name, size), []).extend(timed_ms(func, world, calls))
    for world in worlds.values():
        world.close()
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print()
    print(f"| measure (median ms) | {small:,} | {large:,} | ratio |")
    print("|---|---|---|---|")
    for name in MEASURES:
        a = statistics.median(samples[(name, small)])
        b = statistics.median(samples[(name, large)])
        print(f"| {name} | {a:.3f} | {b:.3f} | {b / a:.2f} |")


if __name__ == "__main__":
    main()
