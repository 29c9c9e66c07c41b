"""Every import path the README ever documented still imports, warning with the new path."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

DOCUMENTED = [
    # (old module, name, module that holds it now)
    ("ecr_mock.core.access", "StaticIdentities", "ecr_mock.services.access"),
    ("ecr_mock.core.services.access", "StaticIdentities", "ecr_mock.services.access"),
    ("ecr_mock.core.scanning", "set_scan_findings", "ecr_mock.services.scanning"),
    ("ecr_mock.core.services.scanning", "set_scan_findings", "ecr_mock.services.scanning"),
    (
        "ecr_mock.intercept.moto_iam",
        "add_ecr_managed_policies",
        "ecr_mock.runtime.providers.moto_iam",
    ),
    (
        "ecr_mock.providers.moto_iam",
        "add_ecr_managed_policies",
        "ecr_mock.runtime.providers.moto_iam",
    ),
    ("ecr_mock.remote", "RemoteEcrMock", "ecr_mock.testing.remote"),
]


def _import_fresh(old: str, name: str) -> tuple[object, list[str]]:
    """``from old import name`` in a new interpreter: (repr of the value, warnings shown)."""
    code = (
        "import warnings\n"
        "warnings.simplefilter('always')\n"
        f"from {old} import {name} as value\n"
        "print(value.__module__ + '.' + value.__qualname__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip(), [line for line in result.stderr.splitlines() if "Warning" in line]


@pytest.mark.parametrize(("old", "name", "new"), DOCUMENTED, ids=[d[0] for d in DOCUMENTED])
def test_a_documented_path_imports_and_warns_with_the_new_one(
    old: str, name: str, new: str
) -> None:
    found, warned = _import_fresh(old, name)
    assert found == f"{new}.{name}"
    assert any(
        f"DeprecationWarning: {old} is deprecated: import from " in line and new in line
        for line in warned
    ), warned
    # The warning names the line that imported the old path, not the import machinery.
    assert all(line.startswith("<string>:3:") for line in warned), warned


@pytest.mark.parametrize(("old", "name", "new"), DOCUMENTED, ids=[d[0] for d in DOCUMENTED])
def test_the_old_path_is_the_same_module_object(old: str, name: str, new: str) -> None:
    with pytest.warns(DeprecationWarning, match=new.replace(".", r"\.")):
        sys.modules.pop(old, None)
        module = importlib.import_module(old)
    assert module is importlib.import_module(new)
    assert getattr(module, name) is getattr(importlib.import_module(new), name)
    assert module.__spec__ is not None and module.__spec__.name == new


def test_the_documented_server_path_imports_and_warns_with_the_new_one() -> None:
    found, warned = _import_fresh("ecr_mock.server", "serve_backend")
    assert found == "ecr_mock.runtime.http.server.serve_backend"
    assert len(warned) == 1, warned
    assert warned[0].startswith("<string>:3: DeprecationWarning: ecr_mock.server.serve_backend")
    assert "import from ecr_mock.runtime.http instead" in warned[0]


def test_names_of_the_old_core_package_forward_to_the_package() -> None:
    import ecr_mock

    with pytest.warns(DeprecationWarning, match=r"ecr_mock\.core\.Backend is deprecated"):
        from ecr_mock.core import Backend  # type: ignore[attr-defined]
    assert Backend is ecr_mock.Backend


def test_an_unknown_old_path_still_fails_to_import() -> None:
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("ecr_mock.core.no_such_module")
