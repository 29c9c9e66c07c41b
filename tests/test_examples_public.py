"""examples/publish_public_image.py: its functions inside mock_ecr, and the script as users run it."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests

from ecr_mock.services.public import default_alias
from tests.test_examples import DIGEST, example, run_script


def test_published_image_is_described_and_pulled_anonymously(ecr_public_client: Any) -> None:
    module = example("publish_public_image")
    uri, digest = module.publish(ecr_public_client, "tools/cli", "1.0", b"files")
    assert uri == f"public.ecr.aws/{default_alias('123456789012')}/tools/cli"
    (detail,) = ecr_public_client.describe_images(repositoryName="tools/cli")["imageDetails"]
    assert detail["imageDigest"] == digest
    assert detail["imageTags"] == ["1.0"]
    assert module.anonymous_pull(uri, "1.0") == (digest, b"files")


def test_publishing_without_the_token_is_refused(ecr_public_client: Any) -> None:
    module = example("publish_public_image")
    uri = ecr_public_client.create_repository(repositoryName="app")["repository"]["repositoryUri"]
    path = uri.split("/", 1)[1]
    refused = requests.post(f"https://public.ecr.aws/v2/{path}/blobs/uploads/")
    assert refused.status_code == 401
    with pytest.raises(requests.HTTPError):
        module.push_blob(requests.Session(), path, b"x")


def test_publish_public_image_script_reports_same_bytes() -> None:
    lines = run_script("publish_public_image").splitlines()
    published = re.fullmatch(
        rf"published public\.ecr\.aws/[a-z0-9]+/tools/cli:1\.0 ({DIGEST})", lines[0]
    )
    assert published is not None, lines
    assert lines[1] == f"pulled anonymously {published[1]} same bytes"
