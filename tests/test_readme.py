"""The README's complete Python examples run as written and print what the README shows.

Convention: a complete example (no ``...`` placeholder) that prints is followed at once by a
```` ```text ```` block holding its output; ``<word>`` there stands for a part that varies
(an id, a date). An example that prints without such a block, or whose block differs from what
it prints, fails; so does one that shows output and prints none.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
EXAMPLE = re.compile(r"```python\n(.*?)```(?:\n\n```text\n(.*?)```)?", flags=re.DOTALL)
BLOCKS = [(m[1], m[2]) for m in EXAMPLE.finditer(README.read_text())]


def _has_placeholder(block: str) -> bool:
    """True when ``...`` stands for left-out code (outside comments)."""
    return any("..." in line.split("#", 1)[0] for line in block.splitlines())


def _pattern(shown: str) -> re.Pattern[str]:
    """The README's output as a pattern: literal text, ``<word>`` matching any text."""
    parts = re.split(r"<[a-z][a-z0-9 _-]*>", shown)
    return re.compile(".+?".join(re.escape(part) for part in parts), flags=re.DOTALL)


COMPLETE = [(code, shown) for code, shown in BLOCKS if not _has_placeholder(code)]


def test_the_readme_has_complete_examples_and_shows_output() -> None:
    assert len(COMPLETE) >= 2
    assert any(shown for _, shown in COMPLETE)


@pytest.mark.parametrize(
    ("block", "shown"), COMPLETE, ids=[f"block{i}" for i in range(len(COMPLETE))]
)
def test_readme_example_prints_what_the_readme_shows(block: str, shown: str | None) -> None:
    result = subprocess.run(
        [sys.executable, "-c", block], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    if shown is None:
        assert result.stdout == "", "an example that prints is followed by a ```text block"
    else:
        assert _pattern(shown).fullmatch(result.stdout), (result.stdout, shown)


@pytest.mark.parametrize(
    ("shown", "printed", "matches"),
    [
        ("['kept']\n", "['kept']\n", True),
        ("['kept']\n", "[]\n", False),
        ("public.ecr.aws/<alias>/tools/cli\n", "public.ecr.aws/a1b2c3d4/tools/cli\n", True),
        ("public.ecr.aws/<alias>/tools/cli\n", "public.ecr.aws/a1b2c3d4/tools\n", False),
    ],
)
def test_shown_output_compares_literally_but_for_placeholders(
    shown: str, printed: str, matches: bool
) -> None:
    assert bool(_pattern(shown).fullmatch(printed)) is matches
