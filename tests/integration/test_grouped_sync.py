"""kill -9 while groups of blob files are being synced: the directory opens with every
acknowledged push, for each ``--fsync`` mode."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import threading
from pathlib import Path

import pytest
import requests

from tests.integration.test_persistence_server import (
    Served,
    check_invariants,
    push_v2,
    registry_session,
    serve,
)


class Pushers:
    """Four clients pushing images of several layers (some large) until stopped."""

    def __init__(self, served: Served, prefix: str, rng: random.Random) -> None:
        self.served = served
        self.prefix = prefix
        self.rng = rng
        self.acknowledged: dict[str, str] = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.started = threading.Barrier(5)
        self.threads = [threading.Thread(target=self.push, args=(n,)) for n in range(4)]

    def push(self, worker: int) -> None:
        session = registry_session(self.served)
        count = 0
        while not self.stop.is_set():
            tag = f"{self.prefix}-w{worker}-{count}"
            # A manifest commits a group of blob files, synced together while the other
            # pushers keep writing theirs.
            with self.lock:
                size = self.rng.choice((3000, 700_000, 5 * 1024 * 1024 + 3))
            layers = [os.urandom(size), os.urandom(2000 + worker), os.urandom(1000 + worker)]
            try:
                digest, _ = push_v2(session, self.served.url, "crash", tag, layers)
            except (requests.RequestException, AssertionError):
                break
            with self.lock:
                self.acknowledged[tag] = digest
            if count == 0:
                with contextlib.suppress(threading.BrokenBarrierError):
                    self.started.wait(timeout=120)
            count += 1
        if count == 0:
            self.started.abort()

    def __enter__(self) -> Pushers:
        for thread in self.threads:
            thread.start()
        with contextlib.suppress(threading.BrokenBarrierError):
            self.started.wait(timeout=120)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=120)


@pytest.mark.parametrize("mode", ["batch", "never", "always"])
def test_kill_9_during_grouped_syncs_loses_nothing_acknowledged(tmp_path: Path, mode: str) -> None:
    state_dir = tmp_path / "state"
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    acknowledged: dict[str, str] = {}
    for round_number in range(3):
        served = serve(state_dir, "--fsync", mode)
        try:
            if round_number == 0:
                served.client().create_repository(repositoryName="crash")
            with Pushers(served, f"r{round_number}", rng) as pushers:
                # Every pusher has had a push acknowledged; the kill lands at a random point
                # of the pushes that follow (uploads, grouped syncs, commits).
                pushers.stop.wait(rng.uniform(0.0, 1.0))
                served.process.kill()
                served.process.wait(timeout=30)
        finally:
            served.stop(signal.SIGKILL)
        acknowledged.update(pushers.acknowledged)
        held = check_invariants(state_dir, acknowledged)
        assert held >= len(acknowledged), f"seed {seed}"
    assert len(acknowledged) >= 12, f"seed {seed}"
