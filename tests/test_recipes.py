"""The recipes in examples/ (compose, GitHub Actions) name only variables ``ecr-mock serve``
reads and the steps the README describes."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

from ecr_mock.cli import build_parser
from ecr_mock.cli_env import variable

ROOT = Path(__file__).resolve().parent.parent


def serve_variables() -> set[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {
        variable(a)
        for a in sub.choices["serve"]._actions
        if a.option_strings and a.dest != "help" and a.help != argparse.SUPPRESS
    }


def load(name: str) -> Any:
    return yaml.safe_load((ROOT / "examples" / name).read_text())


def test_compose_builds_the_image_and_sets_only_known_variables() -> None:
    ecr = load("compose.yaml")["services"]["ecr"]
    assert (ROOT / "examples" / ecr["build"]["context"] / "Dockerfile").is_file()
    assert set(ecr["environment"]) <= serve_variables()
    assert any(v.endswith(":/var/lib/ecr-mock") for v in ecr["volumes"])


def test_github_actions_logs_in_through_the_endpoint_variable() -> None:
    job = load("github-actions.yml")["jobs"]["push-and-pull"]
    assert set(job["services"]["ecr"]["env"]) <= serve_variables()
    assert job["env"]["AWS_ENDPOINT_URL_ECR"] == "http://127.0.0.1:5000"
    uses = [step.get("uses", "") for step in job["steps"]]
    assert any(u.startswith("aws-actions/amazon-ecr-login@") for u in uses)
    runs = " ".join(step.get("run", "") for step in job["steps"])
    assert "docker push" in runs and "docker pull" in runs
