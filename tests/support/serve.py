"""``ecr-mock serve`` and the AWS CLI as processes: a clean environment, start-up on port 0 (the
bound URL read from the banner, then a readiness wait on ``/ecr-mock/health``) and shutdown."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
URL_RE = re.compile(r"at (https?://[^ ]+:[0-9]+) ")


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """An environment with fake credentials and no user AWS configuration."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_") and key != "PYTHONPATH"
    }
    env.update(
        AWS_ACCESS_KEY_ID="AKIAIOSFODNN7EXAMPLE",
        AWS_SECRET_ACCESS_KEY="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(tmp_path / "aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def run(args: list[str], env: dict[str, str], stdin: str | None = None) -> Any:
    """``args`` run to the end, output captured as text."""
    return subprocess.run(
        args, env=env, input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


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


def serve_process(argv: Sequence[str], env: Mapping[str, str], timeout: float = 60) -> Served:
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


def start_serve(
    tmp_path: Path,
    *args: str,
    command: list[str] | None = None,
    extra_env: dict[str, str] | None = None,
) -> Any:
    """Start ``ecr-mock serve`` and wait until it is healthy; returns (process, url, banner)."""
    argv = (command or [sys.executable, "-m", "ecr_mock"]) + ["serve", *args]
    served = serve_process(argv, clean_env(tmp_path, **(extra_env or {})))
    return served.process, served.url, served.lines


def stop_serve(process: Any, sig: int = signal.SIGINT) -> tuple[int, str]:
    """Signal ``process`` and wait for it; returns its exit code and the rest of its output."""
    process.send_signal(sig)
    out, _ = process.communicate(timeout=30)
    return process.returncode, out
