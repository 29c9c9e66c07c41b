"""CI=true fails a run on a skip the allow-list does not name, and prints why it was skipped."""

from __future__ import annotations

import pytest

from tests.support import ci_skips
from tests.support.ci_skips import AllowListError, read_allow_list

TESTS = """
import pytest

def test_runs():
    pass

def test_needs_a_binary():
    pytest.skip("frobnicate is not installed")
"""


def _run(pytester: pytest.Pytester, allowed: str, ci: str | None) -> pytest.RunResult:
    pytester.makepyfile(test_sample=TESTS)
    pytester.makefile(".txt", allowed=allowed)
    pytester.makeini("[pytest]\nci_allowed_skips = allowed.txt\n")
    if ci is None:
        pytester._monkeypatch.delenv("CI", raising=False)
    else:
        pytester._monkeypatch.setenv("CI", ci)
    return pytester.runpytest_subprocess("-p", "no:ecr_mock", "-p", "tests.support.ci_skips", "-rs")


@pytest.fixture
def importable(pytester: pytest.Pytester, request: pytest.FixtureRequest) -> pytest.Pytester:
    pytester._monkeypatch.setenv("PYTHONPATH", str(request.config.rootpath))
    return pytester


def test_an_unlisted_skip_fails_a_ci_run_and_names_it(importable: pytest.Pytester) -> None:
    result = _run(importable, "", "true")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*1 skip(s) not in allowed.txt (CI=true)*",
            "test_sample.py::test_needs_a_binary: Skipped: frobnicate is not installed",
        ]
    )


def test_a_listed_skip_passes_a_ci_run(importable: pytest.Pytester) -> None:
    allowed = "# frobnicate has no package for CI machines\ntest_sample.py::test_needs_*\n"
    result = _run(importable, allowed, "true")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["SKIPPED*frobnicate is not installed"])


def test_outside_ci_a_skip_is_only_reported(importable: pytest.Pytester) -> None:
    result = _run(importable, "", None)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.no_fnmatch_line("*not in allowed.txt*")


def test_an_allowed_skip_without_a_reason_is_refused() -> None:
    with pytest.raises(AllowListError, match="line 1"):
        read_allow_list("tests/test_x.py::test_y\n")
    assert read_allow_list("# why\ntests/test_x.py::test_y\n\n") == ["tests/test_x.py::test_y"]


def test_the_suites_allow_list_reads(request: pytest.FixtureRequest) -> None:
    text = (request.config.rootpath / "tests" / "ci_allowed_skips.txt").read_text()
    for pattern in read_allow_list(text):
        assert pattern.startswith("tests/"), pattern


def test_the_suites_conftest_takes_the_hooks(request: pytest.FixtureRequest) -> None:
    root_conftest = request.config.rootpath / "tests" / "conftest.py"
    [plugin] = [
        p
        for p in request.config.pluginmanager.get_plugins()
        if getattr(p, "__file__", None) == str(root_conftest)
    ]
    assert plugin.pytest_sessionfinish is ci_skips.pytest_sessionfinish
    assert plugin.pytest_addoption is ci_skips.pytest_addoption
