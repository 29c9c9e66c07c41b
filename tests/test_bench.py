"""Every bench script runs end to end in its ``--smoke`` mode (tiny sizes, seconds); the
figures it prints are not looked at. A script whose external binary is missing skips."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted(
    path
    for path in (ROOT / "bench").glob("*.py")
    # needs the image built and a dockerd holding it: tests/integration/test_image.py runs
    # ``bench_image.py --smoke`` against the image it builds
    if path.stem != "bench_image"
)
MISSING = re.compile(r"^(\S+) is not installed$", flags=re.MULTILINE)


def test_there_are_bench_scripts() -> None:
    assert len(SCRIPTS) >= 9


@pytest.mark.parametrize("script", SCRIPTS, ids=[path.stem for path in SCRIPTS])
def test_bench_script_runs_in_smoke_mode(script: Path, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "bench")]),
        "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "TMPDIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, str(script), "--smoke"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    missing = MISSING.search(result.stderr)
    if result.returncode != 0 and missing is not None:
        pytest.skip(f"{missing[1]} is not installed (.ci/run installs it)")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip(), "a bench script prints its figures"
