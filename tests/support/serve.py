"""Starting ``ecr-mock serve`` as a process on port 0: the bound URL from its banner, then a
readiness wait on ``/ecr-mock/health``."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import requests

URL_RE = re.compile(r"at (https?://[^ ]+:[0-9]+) ")


@dataclass
class Served:
    """A running ``ecr-mock serve``: its process, URL, ``host:port`` and banner lines."""

    process: subprocess.Popen[str]
    url: str
    lines: list[str] = field(default_factory=list)

    @property
    def endpoint(self) -> str:
        return self.url.split("://", 1)[1]

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


def start_serve(argv: Sequence[str], env: Mapping[str, str], timeout: float = 60) -> Served:
    """Run ``argv`` (an ``ecr-mock serve`` command line with ``--port 0``), read the address it
    bound from its banner and wait until ``/ecr-mock/health`` answers 200."""
    process = subprocess.Popen(
        list(argv),
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    lines = [process.stdout.readline() for _ in range(3)]
    match = URL_RE.search(lines[0])
    if match is None:
        process.kill()
        raise AssertionError(f"no address in {lines!r}: {process.stderr.read()}")
    url = match[1]
    deadline = time.monotonic() + timeout
    while True:  # readiness wait, not a timing assertion
        try:
            if requests.get(f"{url}/ecr-mock/health", timeout=2).status_code == 200:
                return Served(process, url, lines)
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise AssertionError(f"{url}/ecr-mock/health never answered: {process.stderr.read()}")
        time.sleep(0.05)
