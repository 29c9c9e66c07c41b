"""Coming from moto: a PutImage refused because its layers were never uploaded warns once,
naming ``allow_missing_layers``; the ECR answer itself is unchanged."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError

from ecr_mock import mock_ecr
from ecr_mock.runtime.intercept import moto_hints
from ecr_mock.runtime.intercept.moto_hints import MissingLayersWarning
from tests.test_moto_compat import REGION, moto_style_manifest

PUBLIC_PREFIX = "SpencerFrontendService"


@pytest.fixture(autouse=True)
def fresh_hint(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("ECR_MOCK_ALLOW_MISSING_LAYERS", raising=False)
    moto_hints.reset()
    yield
    moto_hints.reset()


def refused_put(client: object, repo: str, tag: str) -> ClientError:
    with pytest.raises(ClientError) as caught:
        client.put_image(  # type: ignore[attr-defined]
            repositoryName=repo, imageManifest=json.dumps(moto_style_manifest(tag)), imageTag=tag
        )
    return caught.value


def test_first_refusal_warns_once_and_the_answer_stays_ecrs() -> None:
    with mock_ecr(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ecr = boto3.client("ecr", region_name=REGION)
        ecr.create_repository(repositoryName="app")
        first = refused_put(ecr, "app", "v1")
        second = refused_put(ecr, "app", "v2")
    for error in (first, second):
        assert error.response["Error"]["Code"] == "LayersNotFoundException"
        assert error.response["Error"]["Message"].startswith("Layers with digests '")
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    hints = [w for w in caught if issubclass(w.category, MissingLayersWarning)]
    assert len(hints) == 1
    assert "allow_missing_layers" in str(hints[0].message)
    assert "ECR_MOCK_ALLOW_MISSING_LAYERS" in str(hints[0].message)


def test_ecr_public_refusal_warns_too() -> None:
    with mock_ecr(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        public = boto3.client("ecr-public", region_name="us-east-1")
        public.create_repository(repositoryName="app")
        error = refused_put(public, "app", "v1")
    assert error.response["Error"]["Code"] == "LayersNotFoundException"
    assert [w.category for w in caught] == [MissingLayersWarning]


def test_no_warning_with_the_switch_on() -> None:
    with mock_ecr(allow_missing_layers=True), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ecr = boto3.client("ecr", region_name=REGION)
        ecr.create_repository(repositoryName="app")
        text = json.dumps(moto_style_manifest())
        ecr.put_image(repositoryName="app", imageManifest=text, imageTag="v1")
    assert not [w for w in caught if issubclass(w.category, MissingLayersWarning)]


def test_no_warning_for_other_refusals_or_a_fault_rule() -> None:
    with mock_ecr() as backend, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ecr = boto3.client("ecr", region_name=REGION)
        with pytest.raises(ClientError) as unknown:
            ecr.put_image(repositoryName="nope", imageManifest="{}", imageTag="v1")
        assert unknown.value.response["Error"]["Code"] == "RepositoryNotFoundException"
        ecr.create_repository(repositoryName="app")
        backend.faults.add_rule(
            {"operation": "PutImage", "error": "LayersNotFoundException", "times": 1}
        )
        faulted = refused_put(ecr, "app", "v1")
        assert faulted.response["Error"]["Code"] == "LayersNotFoundException"
        assert not [w for w in caught if issubclass(w.category, MissingLayersWarning)]
        refused_put(ecr, "app", "v2")  # the real refusal after the rule is spent
    assert [w.category for w in caught] == [MissingLayersWarning]
