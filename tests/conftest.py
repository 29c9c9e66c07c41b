"""Suite-wide checks and fixtures: ECR API answers fit botocore's model; `/v2/` auth; own servers."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest

import ecr_mock.protocols.ecr_api.app
import ecr_mock.protocols.ecr_api.dispatch
import ecr_mock.runtime.intercept.botocore_hook
from ecr_mock import Backend
from ecr_mock.protocols.registry.app import basic_auth_headers
from ecr_mock.server import EcrMockServer
from tests.ecr_api.model_check import check_error, check_output

_ORIGINAL_ANSWER_CALL = ecr_mock.protocols.ecr_api.dispatch.answer_call
_PATCHED_MODULES = (
    "ecr_mock.protocols.ecr_api.dispatch",
    "ecr_mock.runtime.intercept.botocore_hook",
    "ecr_mock.protocols.ecr_api.app",
)


def _answer_problems(target: str, status: int, payload: bytes) -> list[str]:
    dispatch = ecr_mock.protocols.ecr_api.dispatch
    service, name = "ecr", ""
    for prefix, model in (
        (dispatch.TARGET_PREFIX, "ecr"),
        (dispatch.PUBLIC_TARGET_PREFIX, "ecr-public"),
    ):
        if target.startswith(prefix):
            service, name = model, target[len(prefix) :]
    try:
        doc = json.loads(payload or b"{}")
    except ValueError:
        return [f"{name or target!r} $: answer is not JSON: {payload[:80]!r}"]
    if status == 200:
        problems = check_output(name, doc, service)
    elif not isinstance(doc, dict) or not isinstance(doc.get("__type"), str):
        problems = [f"$: error answer (status {status}) without __type: {doc!r:.120}"]
    else:
        problems = check_error(name, doc["__type"], doc, service)
    return [f"{name or target!r} {problem}" for problem in problems]


def _modules_holding_answer_call() -> list[str]:
    names = set(_PATCHED_MODULES)
    for module_name, module in list(sys.modules.items()):
        if (
            module_name.startswith("tests.")
            and getattr(module, "answer_call", None) is _ORIGINAL_ANSWER_CALL
        ):
            names.add(module_name)
    return sorted(names)


@pytest.fixture(autouse=True)
def _ecr_answers_fit_the_model(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail the test if any ECR API answer it got breaks botocore's ECR model."""
    violations: list[str] = []

    def checked_answer_call(*args: Any, **kwargs: Any) -> Any:
        answer = _ORIGINAL_ANSWER_CALL(*args, **kwargs)
        target = kwargs["target"] if "target" in kwargs else args[1]
        if answer.fault is None or answer.fault.error is None:  # injected errors are chosen
            violations.extend(_answer_problems(str(target), answer.status, answer.body))
        return answer

    for module_name in _modules_holding_answer_call():
        monkeypatch.setattr(sys.modules[module_name], "answer_call", checked_answer_call)
    yield
    if violations:
        shown = "\n  ".join(dict.fromkeys(violations))
        pytest.fail(f"ECR API answers break botocore's ECR model:\n  {shown}", pytrace=False)


@pytest.fixture
def basic_auth(ecr_backend: Backend) -> dict[str, str]:
    """``Authorization`` headers of a fresh token for the default registry, as the account root."""
    return basic_auth_headers(ecr_backend)


@pytest.fixture
def own_server() -> Iterator[EcrMockServer]:
    """A server of the test's own over a fresh, empty ``Backend`` (no ``mock_ecr``): for the
    control API, the CLI and the fault routes, which act on the whole server."""
    with EcrMockServer(Backend()) as running:
        yield running


@pytest.fixture(autouse=True, scope="session")
def _servers_keep_token_keys_in_a_private_cache(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    """``ecr-mock serve`` processes keep their token key under a temporary cache directory,
    not in the user's ``~/.cache/ecr-mock``."""
    import os

    previous = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    if previous is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = previous
