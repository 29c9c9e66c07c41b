"""The README's complete Python examples run as written (blocks without ``...`` placeholders)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def _has_placeholder(block: str) -> bool:
    """True when ``...`` stands for left-out code (outside comments)."""
    return any("..." in line.split("#", 1)[0] for line in block.splitlines())


COMPLETE = [block for block in BLOCKS if not _has_placeholder(block)]


def test_the_readme_has_complete_examples() -> None:
    assert len(COMPLETE) >= 2


@pytest.mark.parametrize("block", COMPLETE, ids=[f"block{i}" for i in range(len(COMPLETE))])
def test_readme_example_runs(block: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", block], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
