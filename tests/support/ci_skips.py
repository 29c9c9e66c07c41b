"""With ``CI=true``, a run fails on any skipped test that the allow-list does not name.

The allow-list (``tests/ci_allowed_skips.txt``, or the ``ci_allowed_skips`` ini value) holds one
node id per line, ending in ``*`` to cover every id it starts with; each entry needs a comment
line right above it saying why that skip is expected on a CI machine. ``tests/conftest.py``
takes the hooks from here.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

DEFAULT_ALLOW_LIST = "tests/ci_allowed_skips.txt"


class AllowListError(ValueError):
    """The allow-list file breaks its format."""


def read_allow_list(text: str) -> list[str]:
    """The patterns of an allow-list; AllowListError for an entry without a comment above."""
    patterns: list[str] = []
    previous = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line and not line.startswith("#"):
            if not previous.startswith("#"):
                raise AllowListError(f"line {number}: {line!r} has no comment above saying why")
            patterns.append(line)
        previous = line
    return patterns


def skip_reason(report: Any) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def unexpected_skips(reports: Iterable[Any], patterns: list[str]) -> list[str]:
    """``<node id>: <reason>`` of each skip no pattern covers."""
    found: list[str] = []
    for report in reports:
        nodeid = str(report.nodeid)
        if not any(fnmatch.fnmatchcase(nodeid, pattern) for pattern in patterns):
            found.append(f"{nodeid}: {skip_reason(report)}")
    return found


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "ci_allowed_skips",
        "the file of skips allowed when CI=true (relative to the root directory)",
        default=DEFAULT_ALLOW_LIST,
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("CI", "").lower() != "true":
        return
    config = session.config
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    path = Path(config.rootpath, str(config.getini("ci_allowed_skips")))
    patterns = read_allow_list(path.read_text()) if path.exists() else []
    unexpected = unexpected_skips(reporter.stats.get("skipped", []), patterns)
    if not unexpected:
        return
    reporter.ensure_newline()
    reporter.write_sep("=", f"{len(unexpected)} skip(s) not in {path.name} (CI=true)", red=True)
    for line in unexpected:
        reporter.write_line(line)
    if session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
