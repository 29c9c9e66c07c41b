"""The public API: ``ecr_mock.__all__`` names what users import, each importable from ecr_mock."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import ecr_mock

ROOT = Path(__file__).resolve().parent.parent

PUBLIC = [
    "Backend",
    "Clock",
    "EcrError",
    "EcrMockServer",
    "FaultRuleError",
    "Principal",
    "RemoteEcrMock",
    "SeedError",
    "StateDirError",
    "StaticIdentities",
    "add_ecr_managed_policies",
    "mock_ecr",
    "serve_backend",
    "set_scan_findings",
]


def test_all_is_exactly_the_public_names_and_sorted() -> None:
    assert ecr_mock.__all__ == PUBLIC
    assert ecr_mock.__all__ == sorted(ecr_mock.__all__)


@pytest.mark.parametrize("name", PUBLIC)
def test_each_public_name_imports_from_the_package(name: str) -> None:
    value = getattr(ecr_mock, name)
    assert value.__name__ == name
    # the same object as at the module that defines it
    assert getattr(importlib.import_module(value.__module__), name) is value


def test_star_import_gives_the_public_names() -> None:
    namespace: dict[str, object] = {}
    exec("from ecr_mock import *", namespace)
    assert sorted(k for k in namespace if not k.startswith("__")) == PUBLIC


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        ecr_mock.Nope  # noqa: B018


def _loaded_after(code: str) -> list[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout))


def test_importing_the_package_is_light_and_moto_free() -> None:
    loaded = _loaded_after("import ecr_mock")
    assert [m for m in loaded if m.split(".")[0] in {"moto", "boto3", "botocore"}] == []
    assert [m for m in loaded if m.startswith("ecr_mock.")] == [
        "ecr_mock._moved",
        "ecr_mock._version",
    ]


def test_importing_the_mock_does_not_import_moto() -> None:
    loaded = _loaded_after("from ecr_mock import mock_ecr")
    assert [m for m in loaded if m.split(".")[0] == "moto"] == []


def test_the_remote_client_needs_only_the_standard_library() -> None:
    before = set(_loaded_after("pass"))
    loaded = set(_loaded_after("from ecr_mock import RemoteEcrMock")) - before
    third_party = {m.split(".")[0] for m in loaded} - set(sys.stdlib_module_names)
    assert third_party == {"ecr_mock"}
