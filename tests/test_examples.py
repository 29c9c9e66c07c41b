"""The programs in examples/: each function inside mock_ecr, and each script run as users run it."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from ecr_mock import mock_ecr

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
DIGEST = r"sha256:[0-9a-f]{64}"


def example(name: str) -> ModuleType:
    """Import ``examples/<name>.py`` the way the scripts import each other."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    return importlib.import_module(name)


def run_script(name: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


# ----- deploy_by_digest --------------------------------------------------------------------


def test_image_reference_pins_the_current_digest_of_a_tag(ecr_client: Any) -> None:
    push = example("push_with_layer_api").push_image
    reference = example("deploy_by_digest").image_reference
    ecr_client.create_repository(repositoryName="shop/api")
    first = push(ecr_client, "shop/api", "prod", {"app": b"one"})
    pinned_first = reference(ecr_client, "shop/api", "prod")
    second = push(ecr_client, "shop/api", "prod", {"app": b"two"})
    pinned_second = reference(ecr_client, "shop/api", "prod")
    uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/api"
    assert first != second
    assert pinned_first == f"{uri}@{first}"
    assert pinned_second == f"{uri}@{second}"


def test_image_reference_of_a_missing_tag_is_image_not_found(ecr_client: Any) -> None:
    reference = example("deploy_by_digest").image_reference
    ecr_client.create_repository(repositoryName="empty")
    with pytest.raises(ClientError) as caught:
        reference(ecr_client, "empty", "prod")
    assert caught.value.response["Error"]["Code"] == "ImageNotFoundException"


def test_deploy_by_digest_script_prints_two_pinned_references() -> None:
    lines = run_script("deploy_by_digest").splitlines()
    pattern = rf"deploy 123456789012\.dkr\.ecr\.us-west-2\.amazonaws\.com/shop/api@{DIGEST}"
    assert len(lines) == 2
    assert all(re.fullmatch(pattern, line) for line in lines), lines
    assert lines[0] != lines[1]


# ----- push_with_layer_api -----------------------------------------------------------------


def test_layer_api_push_is_described_with_its_digest_and_size(ecr_client: Any) -> None:
    module = example("push_with_layer_api")
    ecr_client.create_repository(repositoryName="demo/app")
    digest = module.push_image(ecr_client, "demo/app", "v1", {"app": b"hello"})
    (detail,) = ecr_client.describe_images(repositoryName="demo/app")["imageDetails"]
    layer, _ = module.build_layer({"app": b"hello"})
    assert detail["imageDigest"] == digest
    assert detail["imageTags"] == ["v1"]
    assert detail["imageSizeInBytes"] == len(layer)
    assert detail["imageManifestMediaType"] == module.OCI_MANIFEST


def test_layer_api_push_skips_blobs_the_repository_has(ecr_client: Any) -> None:
    module = example("push_with_layer_api")
    ecr_client.create_repository(repositoryName="demo/app")
    first = module.push_image(ecr_client, "demo/app", "a", {"app": b"same"})
    again = module.push_image(ecr_client, "demo/app", "b", {"app": b"same"})
    tags = ecr_client.describe_images(repositoryName="demo/app")["imageDetails"][0]["imageTags"]
    assert first == again
    assert sorted(tags) == ["a", "b"]


def test_push_with_layer_api_script_prints_uri_and_digest() -> None:
    out = run_script("push_with_layer_api").strip()
    assert re.fullmatch(
        rf"pushed 123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com/demo/app:v1 {DIGEST}", out
    )


# ----- push_and_pull_requests --------------------------------------------------------------


def test_requests_push_is_read_back_byte_for_byte_by_batch_get_image(ecr_client: Any) -> None:
    module = example("push_and_pull_requests")
    ecr_client.create_repository(repositoryName="tools/cli")
    pushed, manifest = module.push_image(ecr_client, "tools/cli", "1.0", b"layer bytes")
    digest, stored = module.read_back(ecr_client, "tools/cli", "1.0")
    assert digest == pushed
    assert stored == manifest
    listed = ecr_client.list_images(repositoryName="tools/cli")["imageIds"]
    assert listed == [{"imageDigest": pushed, "imageTag": "1.0"}]


def test_push_and_pull_requests_script_reports_same_bytes() -> None:
    lines = run_script("push_and_pull_requests").splitlines()
    assert re.fullmatch(rf"pushed ({DIGEST})", lines[0])
    assert lines[1] == f"stored {lines[0].split()[1]} same bytes"


# ----- cleanup_untagged --------------------------------------------------------------------


def test_cleanup_deletes_only_untagged_images(ecr_client: Any) -> None:
    push = example("push_with_layer_api").push_image
    cleanup = example("cleanup_untagged").delete_untagged
    ecr_client.create_repository(repositoryName="batch/worker")
    old = [push(ecr_client, "batch/worker", "latest", {"w": bytes([n])}) for n in range(3)]
    kept = push(ecr_client, "batch/worker", "stable", {"w": b"stable"})
    deleted = cleanup(ecr_client, "batch/worker")
    left = ecr_client.list_images(repositoryName="batch/worker")["imageIds"]
    assert sorted(deleted) == sorted(old[:2])
    assert sorted((i["imageDigest"], i["imageTag"]) for i in left) == sorted(
        [(old[2], "latest"), (kept, "stable")]
    )


def test_cleanup_of_a_clean_repository_deletes_nothing(ecr_client: Any) -> None:
    cleanup = example("cleanup_untagged").delete_untagged
    ecr_client.create_repository(repositoryName="clean")
    assert cleanup(ecr_client, "clean") == []


def test_cleanup_works_past_one_batch_delete_page(ecr_client: Any) -> None:
    module = example("cleanup_untagged")
    push = example("push_with_layer_api").push_image
    ecr_client.create_repository(repositoryName="many")
    count = module.BATCH_DELETE_LIMIT + 5
    digests = [push(ecr_client, "many", "t", {"n": str(n).encode()}) for n in range(count)]
    deleted = module.delete_untagged(ecr_client, "many")
    assert sorted(deleted) == sorted(digests[:-1])
    assert ecr_client.list_images(repositoryName="many")["imageIds"] == [
        {"imageDigest": digests[-1], "imageTag": "t"}
    ]


def test_cleanup_untagged_script_deletes_two_and_keeps_latest() -> None:
    lines = run_script("cleanup_untagged").splitlines()
    assert [line.split()[0] for line in lines] == ["deleted", "deleted", "left"]
    assert all(re.fullmatch(rf"deleted {DIGEST}", line) for line in lines[:2])
    assert lines[2] == "left ['latest']"


# ----- replicate_and_cache -------------------------------------------------------------------


def test_replication_copies_the_push_and_pull_through_caches_it() -> None:
    module = example("replicate_and_cache")
    with mock_ecr():
        east = boto3.client("ecr", region_name="us-east-1")
        west = boto3.client("ecr", region_name="us-west-2")
        digest, replica, statuses = module.replicate(east, west)
        assert replica == digest
        assert [(s["region"], s["status"]) for s in statuses] == [("us-west-2", "COMPLETE")]
        status, cached, names = module.pull_through(
            east, "123456789012.dkr.ecr.us-west-2.amazonaws.com"
        )
        assert (status, cached) == (200, digest)
        assert sorted(names) == ["mirror/prod/api", "prod/api"]
        again = east.describe_images(repositoryName="mirror/prod/api")["imageDetails"]
        assert [d["imageDigest"] for d in again] == [digest]


def test_replicate_and_cache_script_runs() -> None:
    lines = run_script("replicate_and_cache").splitlines()
    assert lines[1] == "replication: [('us-west-2', 'COMPLETE')]"
    assert re.fullmatch(rf"pull through mirror/: 200 {DIGEST}; repositories .*", lines[2]), lines


# ----- retry_and_lost_answers --------------------------------------------------------------


def test_publish_survives_throttles_and_a_lost_answer(ecr_client: Any) -> None:
    module = example("retry_and_lost_answers")
    from ecr_mock.runtime.intercept.botocore_hook import active_backend

    backend = active_backend()
    assert backend is not None
    client = boto3.client("ecr", region_name="us-east-1", config=module.RETRIES)
    client.create_repository(repositoryName="app")
    manifest = module.small_manifest(client, "app")
    backend.faults.add(operation="PutImage", error="ThrottlingException", times=2)
    backend.faults.add(
        operation="PutImage", error="ServerException", after_commit=True, skip=2, times=1
    )
    digest = module.publish(client, "app", manifest, "v1")
    codes = [c.error_code for c in backend.calls.of(operation="PutImage")]
    assert codes == [
        "ThrottlingException",
        "ThrottlingException",
        "ServerException",
        "ImageAlreadyExistsException",
    ]
    images = client.describe_images(repositoryName="app")["imageDetails"]
    assert [(i["imageDigest"], i["imageTags"]) for i in images] == [(digest, ["v1"])]


def test_publish_still_fails_on_errors_it_cannot_absorb(ecr_client: Any) -> None:
    module = example("retry_and_lost_answers")
    ecr_client.create_repository(repositoryName="app", imageTagMutability="IMMUTABLE")
    first = module.small_manifest(ecr_client, "app")
    module.publish(ecr_client, "app", first, "v1")
    other = first + "\n"  # another image (another digest) under the same immutable tag
    with pytest.raises(ClientError) as raised:
        module.publish(ecr_client, "app", other, "v1")
    assert raised.value.response["Error"]["Code"] == "ImageTagAlreadyExistsException"


def test_retry_and_lost_answers_script_prints_each_attempt() -> None:
    out = run_script("retry_and_lost_answers")
    assert out.splitlines()[:4] == [
        "PutImage -> 400 ThrottlingException",
        "PutImage -> 400 ThrottlingException",
        "PutImage -> 500 ServerException",
        "PutImage -> 400 ImageAlreadyExistsException",
    ]
    assert re.search(rf"published {DIGEST} once after 4 attempts", out)
