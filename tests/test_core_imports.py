"""The core knows no transport: ecr_mock/core imports no HTTP, AWS SDK or mocking library."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "ecr_mock" / "core"
FORBIDDEN = ("werkzeug", "botocore", "boto3", "requests", "responses", "moto")


def _imported_modules(path: Path) -> set[str]:
    """Every absolute module a source file imports, at any depth (functions included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value)
    return names


def _forbidden(module: str) -> bool:
    return module.split(".")[0] in FORBIDDEN


CORE_FILES = sorted(CORE.rglob("*.py"))


def test_core_has_source_files() -> None:
    assert (CORE / "__init__.py") in CORE_FILES
    assert len(CORE_FILES) > 3


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_core_source_imports_no_transport_library(path: Path) -> None:
    offending = sorted(m for m in _imported_modules(path) if _forbidden(m))
    assert offending == []


def test_core_source_imports_only_stdlib_and_core() -> None:
    """A new third-party dependency of the core is a design decision, not an accident."""
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    outside: dict[str, list[str]] = {}
    for path in CORE_FILES:
        for module in _imported_modules(path):
            top = module.split(".")[0]
            if top not in stdlib and not module.startswith("ecr_mock.core"):
                outside.setdefault(str(path.relative_to(ROOT)), []).append(module)
    assert outside == {}


def test_importing_core_loads_no_transport_library() -> None:
    # The parent package is replaced by an empty stand-in so only the core's own imports count.
    code = f"""
import importlib, json, pkgutil, sys, types
parent = types.ModuleType("ecr_mock")
parent.__path__ = [{str(ROOT / "ecr_mock")!r}]
sys.modules["ecr_mock"] = parent
import ecr_mock.core
for info in pkgutil.walk_packages(ecr_mock.core.__path__, "ecr_mock.core."):
    importlib.import_module(info.name)
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {FORBIDDEN!r})))
"""
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
