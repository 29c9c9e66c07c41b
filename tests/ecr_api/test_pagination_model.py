"""Every paginated ECR operation pages as botocore's model documents: limits, defaults, tokens."""

from __future__ import annotations

import html
import json
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import botocore
import pytest

from ecr_mock.services import scanning
from ecr_mock.services.backend import Backend
from tests.ecr_api.helpers import call, config_blob, image_manifest, upload_layer
from tests.ecr_api.model_check import service_model

REPO = "team/paged"

pytestmark = pytest.mark.ecr_seed({"repositories": [{"name": REPO}]})
ACCOUNT = "123456789012"
SMALL_PAGE = 7
BACKFILL_DESTINATION = {"region": "eu-west-1", "registryId": ACCOUNT}
_MODEL_DIR = os.path.join(os.path.dirname(botocore.__file__), "data", "ecr", "2015-09-21")
with open(os.path.join(_MODEL_DIR, "paginators-1.json"), encoding="utf-8") as _file:
    PAGINATORS: dict[str, dict[str, Any]] = json.load(_file)["pagination"]


def documented_limits(operation: str) -> tuple[int, int]:
    """(default, maximum) of ``maxResults`` as the member's documentation states them."""
    op_model = service_model().operation_model(operation)
    member = op_model.input_shape.members[PAGINATORS[operation]["limit_key"]]
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", member.documentation)))
    maximum = re.search(r"between 1 and (\d+)", text)
    default = re.search(r"returns up to (\d+) results", text)
    if maximum is None or default is None:
        raise LookupError(f"{operation}: no limits in the documentation: {text!r}")
    if int(maximum.group(1)) != member.metadata.get("max") or member.metadata.get("min") != 1:
        raise LookupError(f"{operation}: documentation and shape limits disagree")
    return int(default.group(1)), int(maximum.group(1))


@dataclass
class Setup:
    """What a paginated operation needs: the request members and the items it must return."""

    params: dict[str, Any]
    expected: list[str]
    item_id: Callable[[dict[str, Any]], str]


def _images(client: Any, backend: Backend, count: int) -> list[str]:
    config, layer = config_blob("paged"), b"shared layer bytes"
    upload_layer(client, REPO, config)
    upload_layer(client, REPO, layer)
    reg = backend.registry()
    repo = reg.repositories[REPO]
    return [
        backend.put_image(
            reg,
            repo,
            image_manifest(config, [layer], extra={"annotations": {"n": str(i)}}).encode(),
        ).digest
        for i in range(count)
    ]


def _list_images(client: Any, backend: Backend, count: int) -> Setup:
    digests = _images(client, backend, count)
    return Setup({"repositoryName": REPO}, digests, lambda item: item["imageDigest"])


def _repositories(client: Any, backend: Backend, count: int) -> Setup:
    names = [REPO] + [f"team/repo-{i:04d}" for i in range(count - 1)]
    for name in names[1:]:
        client.create_repository(repositoryName=name)
    return Setup({}, names, lambda item: item["repositoryName"])


def _scan_findings(client: Any, backend: Backend, count: int) -> Setup:
    names = [f"CVE-2026-{i:05d}" for i in range(count)]
    scanning.set_scan_findings(backend, REPO, [{"name": n, "severity": "LOW"} for n in names])
    digest = _images(client, backend, 1)[0]
    image_id = {"imageDigest": digest}
    client.start_image_scan(repositoryName=REPO, imageId=image_id)
    client.get_waiter("image_scan_complete").wait(
        repositoryName=REPO, imageId=image_id, WaiterConfig={"Delay": 1, "MaxAttempts": 3}
    )
    return Setup({"repositoryName": REPO, "imageId": image_id}, names, lambda item: item["name"])


def _lifecycle_preview(client: Any, backend: Backend, count: int) -> Setup:
    digests = _images(client, backend, count + 1)
    rule = {
        "rulePriority": 1,
        "selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 1},
        "action": {"type": "expire"},
    }
    client.start_lifecycle_policy_preview(
        repositoryName=REPO, lifecyclePolicyText=json.dumps({"rules": [rule]})
    )
    client.get_waiter("lifecycle_policy_preview_complete").wait(
        repositoryName=REPO, WaiterConfig={"Delay": 1, "MaxAttempts": 3}
    )
    kept = client.describe_images(repositoryName=REPO, maxResults=1000)["imageDetails"]
    newest = max(kept, key=lambda d: (d["imagePushedAt"], d["imageDigest"]))["imageDigest"]
    expected = [d for d in digests if d != newest]
    return Setup({"repositoryName": REPO}, expected, lambda item: item["imageDigest"])


def _pull_through_rules(client: Any, backend: Backend, count: int) -> Setup:
    prefixes = [f"k8s-{i:03d}" for i in range(count)]
    for prefix in prefixes:
        client.create_pull_through_cache_rule(
            ecrRepositoryPrefix=prefix, upstreamRegistryUrl="registry.k8s.io"
        )
    return Setup({}, prefixes, lambda item: item["ecrRepositoryPrefix"])


def _creation_templates(client: Any, backend: Backend, count: int) -> Setup:
    prefixes = [f"prod-{i:03d}" for i in range(count)]
    for prefix in prefixes:
        client.create_repository_creation_template(prefix=prefix, appliedFor=["CREATE_ON_PUSH"])
    return Setup({}, prefixes, lambda item: item["prefix"])


def _finished_backfill(client: Any) -> str:
    """Start a backfill to eu-west-1 and poll it until it ends; returns its id."""
    backfill_id: str = client.start_replication_backfill(destination=BACKFILL_DESTINATION)[
        "replicationBackfillId"
    ]
    for _ in range(5):
        answer = client.describe_replication_backfill_results(replicationBackfillId=backfill_id)
        if answer["status"] in ("COMPLETE", "FAILED", "STOPPED"):
            return backfill_id
    raise AssertionError(f"backfill {backfill_id} did not end")


def _replicate_to_eu(client: Any) -> None:
    client.put_replication_configuration(
        replicationConfiguration={"rules": [{"destinations": [BACKFILL_DESTINATION]}]}
    )


def _backfill_results(client: Any, backend: Backend, count: int) -> Setup:
    digests = _images(client, backend, count)  # pushed before replication is configured
    _replicate_to_eu(client)
    params = {"replicationBackfillId": _finished_backfill(client)}
    return Setup(params, digests, lambda item: item["imageId"]["imageDigest"])


def _backfills(client: Any, backend: Backend, count: int) -> Setup:
    _replicate_to_eu(client)
    ids = [_finished_backfill(client) for _ in range(count)]
    return Setup({}, ids, lambda item: item["replicationBackfillId"])


# operation -> (setup, how many items the emulator's quotas allow at most)
SETUPS: dict[str, tuple[Callable[[Any, Backend, int], Setup], int | None]] = {
    "ListImages": (_list_images, None),
    "DescribeImages": (_list_images, None),
    "DescribeRepositories": (_repositories, None),
    "DescribeImageScanFindings": (_scan_findings, None),
    "GetLifecyclePolicyPreview": (_lifecycle_preview, None),
    "DescribePullThroughCacheRules": (_pull_through_rules, 50),  # 50 rules per registry
    "DescribeRepositoryCreationTemplates": (_creation_templates, 100),
    "DescribeReplicationBackfillResults": (_backfill_results, None),
    "ListReplicationBackfills": (_backfills, None),
}


def test_every_paginator_in_the_model_is_covered() -> None:
    assert sorted(SETUPS) == sorted(PAGINATORS)


def _prepare(client: Any, backend: Backend, operation: str) -> tuple[Setup, int, int]:
    default, maximum = documented_limits(operation)
    setup, quota = SETUPS[operation]
    count = default + default // 2 + 1
    if quota is not None:
        count = min(count, quota)
    return setup(client, backend, count), default, maximum


def _items(operation: str, page: dict[str, Any]) -> list[dict[str, Any]]:
    keys = PAGINATORS[operation]["result_key"]
    found: list[dict[str, Any]] = []
    for key in [keys] if isinstance(keys, str) else keys:
        value: Any = page
        for part in key.split("."):
            value = value.get(part, {}) if isinstance(value, dict) else {}
        found.extend(value or [])
    return found


def _method(operation: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()


@pytest.mark.parametrize("operation", sorted(PAGINATORS))
def test_small_pages_return_every_item_exactly_once(
    ecr_client: Any, ecr_backend: Backend, operation: str
) -> None:
    setup, _, _ = _prepare(ecr_client, ecr_backend, operation)
    paginator = ecr_client.get_paginator(_method(operation))
    pages = list(paginator.paginate(**setup.params, PaginationConfig={"PageSize": SMALL_PAGE}))
    seen = [setup.item_id(item) for page in pages for item in _items(operation, page)]
    assert sorted(seen) == sorted(setup.expected)
    assert len(seen) == len(set(seen))
    assert [len(_items(operation, page)) for page in pages[:-1]] == [SMALL_PAGE] * (len(pages) - 1)
    assert len(pages) == math.ceil(len(setup.expected) / SMALL_PAGE)
    assert "nextToken" not in pages[-1]


@pytest.mark.parametrize("operation", sorted(PAGINATORS))
def test_default_page_is_the_documented_size_and_tokens_walk_the_rest(
    ecr_client: Any, ecr_backend: Backend, operation: str
) -> None:
    setup, default, _ = _prepare(ecr_client, ecr_backend, operation)
    total = len(setup.expected)
    status, first = call(ecr_backend, operation, setup.params)
    assert status == 200
    assert len(_items(operation, first)) == min(total, default)
    assert ("nextToken" in first) == (total > default)

    pages = list(ecr_client.get_paginator(_method(operation)).paginate(**setup.params))
    seen = [setup.item_id(item) for page in pages for item in _items(operation, page)]
    assert sorted(seen) == sorted(setup.expected)
    assert len(seen) == len(set(seen))
    assert len(pages) == math.ceil(total / default)


@pytest.mark.parametrize("operation", sorted(PAGINATORS))
def test_max_results_accepts_the_documented_range_only(
    ecr_client: Any, ecr_backend: Backend, operation: str
) -> None:
    setup, _, maximum = _prepare(ecr_client, ecr_backend, operation)
    status, page = call(ecr_backend, operation, {**setup.params, "maxResults": maximum})
    assert status == 200
    assert len(_items(operation, page)) == min(len(setup.expected), maximum)
    for bad in (0, maximum + 1):
        status, body = call(ecr_backend, operation, {**setup.params, "maxResults": bad})
        assert status == 400
        assert body["__type"] in ("InvalidParameterException", "ValidationException")
        assert "maxResults" in body["message"]


@pytest.mark.parametrize("operation", sorted(PAGINATORS))
def test_a_malformed_next_token_is_an_invalid_parameter(
    ecr_client: Any, ecr_backend: Backend, operation: str
) -> None:
    setup, _, _ = _prepare(ecr_client, ecr_backend, operation)
    status, body = call(ecr_backend, operation, {**setup.params, "nextToken": "not-a-token"})
    assert status == 400
    assert body["__type"] == "InvalidParameterException"
