"""Scanning through boto3: StartImageScan, findings, waiter, registry and repository config."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ecr_mock.domain.blobs import Blob
from ecr_mock.domain.manifests import OCI_CONFIG, OCI_INDEX, OCI_MANIFEST
from ecr_mock.domain.models import Image
from ecr_mock.services import scanning
from ecr_mock.services.backend import Backend
from tests.ecr_api.helpers import error

REGION = "us-east-1"

pytestmark = pytest.mark.frozen_at(datetime(2026, 3, 1, 12, 30, tzinfo=timezone.utc))


def push(
    backend: Backend,
    repo_name: str,
    tag: str | None,
    seed: bytes = b"x",
    *,
    config_type: str = OCI_CONFIG,
) -> Image:
    reg = backend.registry(None, REGION)
    repo = reg.repositories.get(repo_name) or backend.create_repository(reg, repo_name)
    config = Blob.from_bytes(b'{"os":"linux","seed":"' + seed + b'"}')
    layer = Blob.from_bytes(b"layer " + seed)
    backend.store_blob(reg, repo, config)
    backend.store_blob(reg, repo, layer)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": config_type, "digest": config.digest, "size": config.size},
        "layers": [
            {"mediaType": "application/octet-stream", "digest": layer.digest, "size": layer.size}
        ],
    }
    return backend.put_image(reg, repo, json.dumps(manifest).encode(), tag=tag)


def message(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Message"])


def test_describe_findings_before_any_scan_is_scan_not_found(
    ecr_backend: Backend, ecr_client: Any
) -> None:
    image = push(ecr_backend, "repo", "v1")
    with pytest.raises(ClientError) as exc:
        ecr_client.describe_image_scan_findings(repositoryName="repo", imageId={"imageTag": "v1"})
    assert error(exc)[0] == "ScanNotFoundException"
    assert "{imageDigest:'null', imageTag:'v1'}" in message(exc)  # the imageId as asked
    assert image.digest not in message(exc)


def test_start_scan_reports_in_progress_then_waiter_and_findings_complete(
    ecr_backend: Backend, ecr_client: Any
) -> None:
    image = push(ecr_backend, "repo", "v1")
    started = ecr_client.start_image_scan(repositoryName="repo", imageId={"imageTag": "v1"})
    assert started["imageScanStatus"]["status"] == "IN_PROGRESS"
    assert started["imageId"] == {"imageDigest": image.digest, "imageTag": "v1"}
    ecr_client.get_waiter("image_scan_complete").wait(
        repositoryName="repo", imageId={"imageTag": "v1"}, WaiterConfig={"Delay": 1}
    )
    found = ecr_client.describe_image_scan_findings(
        repositoryName="repo", imageId={"imageTag": "v1"}
    )
    assert found["imageScanStatus"]["status"] == "COMPLETE"
    expected = scanning.built_in_findings(image.digest)
    body = found["imageScanFindings"]
    assert sorted(f["name"] for f in body.get("findings", [])) == sorted(
        f["name"] for f in expected
    )
    assert body["findingSeverityCounts"] == scanning.severity_counts(expected)
    assert body["imageScanCompletedAt"] == ecr_backend.now()
    assert body["vulnerabilitySourceUpdatedAt"] == datetime(2026, 3, 1, tzinfo=timezone.utc)
    described = ecr_client.describe_images(repositoryName="repo")["imageDetails"][0]
    assert described["imageScanStatus"]["status"] == "COMPLETE"
    assert (
        described["imageScanFindingsSummary"]["findingSeverityCounts"]
        == body["findingSeverityCounts"]
    )


def test_second_scan_within_24_hours_is_limit_exceeded(
    ecr_backend: Backend, ecr_client: Any
) -> None:
    push(ecr_backend, "repo", "v1")
    ecr_client.start_image_scan(repositoryName="repo", imageId={"imageTag": "v1"})
    ecr_backend.clock.advance(hours=12)
    with pytest.raises(ClientError) as exc:
        ecr_client.start_image_scan(repositoryName="repo", imageId={"imageTag": "v1"})
    assert error(exc)[0] == "LimitExceededException"
    assert message(exc) == "The scan quota per image has been exceeded. Wait and try again."
    ecr_backend.clock.advance(hours=12)
    again = ecr_client.start_image_scan(repositoryName="repo", imageId={"imageTag": "v1"})
    assert again["imageScanStatus"]["status"] == "IN_PROGRESS"


def test_scan_on_push_counts_against_the_daily_limit(ecr_backend: Backend, ecr_client: Any) -> None:
    ecr_client.create_repository(
        repositoryName="auto", imageScanningConfiguration={"scanOnPush": True}
    )
    push(ecr_backend, "auto", "v1")
    found = ecr_client.describe_image_scan_findings(
        repositoryName="auto", imageId={"imageTag": "v1"}
    )
    assert found["imageScanStatus"]["status"] == "COMPLETE"
    with pytest.raises(ClientError) as exc:
        ecr_client.start_image_scan(repositoryName="auto", imageId={"imageTag": "v1"})
    assert error(exc)[0] == "LimitExceededException"


def test_start_scan_of_missing_image_and_repository(ecr_backend: Backend, ecr_client: Any) -> None:
    push(ecr_backend, "repo", "v1")
    with pytest.raises(ClientError) as exc:
        ecr_client.start_image_scan(repositoryName="repo", imageId={"imageTag": "nope"})
    assert error(exc)[0] == "ImageNotFoundException"
    with pytest.raises(ClientError) as exc:
        ecr_client.start_image_scan(repositoryName="absent", imageId={"imageTag": "v1"})
    assert error(exc)[0] == "RepositoryNotFoundException"


def test_start_scan_of_archived_image_is_refused(ecr_backend: Backend, ecr_client: Any) -> None:
    image = push(ecr_backend, "repo", "v1")
    image.status = "ARCHIVED"
    image.storage_class = "ARCHIVE"
    with pytest.raises(ClientError) as exc:
        ecr_client.start_image_scan(repositoryName="repo", imageId={"imageTag": "v1"})
    assert error(exc)[0] == "ImageArchivedException"
    assert image.scan_status is None


def test_start_scan_of_an_index_is_unsupported(ecr_backend: Backend, ecr_client: Any) -> None:
    child = push(ecr_backend, "repo", "child")
    reg = ecr_backend.registry(None, REGION)
    repo = reg.repositories["repo"]
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": child.digest, "size": len(child.manifest)}
        ],
    }
    ecr_backend.put_image(reg, repo, json.dumps(index).encode(), tag="multi")
    with pytest.raises(ClientError) as exc:
        ecr_client.start_image_scan(repositoryName="repo", imageId={"imageTag": "multi"})
    assert error(exc)[0] == "UnsupportedImageTypeException"


def test_findings_paginate_with_max_results_and_paginator(
    ecr_backend: Backend, ecr_client: Any
) -> None:
    findings = [{"name": f"CVE-2024-{i:04d}", "severity": "MEDIUM"} for i in range(7)]
    scanning.set_scan_findings(ecr_backend, "repo", findings, region=REGION)
    push(ecr_backend, "repo", "v1")
    ecr_client.start_image_scan(repositoryName="repo", imageId={"imageTag": "v1"})
    first = ecr_client.describe_image_scan_findings(
        repositoryName="repo", imageId={"imageTag": "v1"}, maxResults=3
    )
    assert len(first["imageScanFindings"]["findings"]) == 3
    assert first["imageScanFindings"]["findingSeverityCounts"] == {"MEDIUM": 7}
    pages = ecr_client.get_paginator("describe_image_scan_findings").paginate(
        repositoryName="repo", imageId={"imageTag": "v1"}, PaginationConfig={"PageSize": 3}
    )
    names = [f["name"] for page in pages for f in page["imageScanFindings"]["findings"]]
    assert names == [f["name"] for f in findings]


def test_enhanced_scan_on_push_returns_enhanced_findings(
    ecr_backend: Backend, ecr_client: Any
) -> None:
    ecr_client.put_registry_scanning_configuration(
        scanType="ENHANCED",
        rules=[
            {
                "scanFrequency": "SCAN_ON_PUSH",
                "repositoryFilters": [{"filter": "*", "filterType": "WILDCARD"}],
            }
        ],
    )
    scanning.set_scan_findings(
        ecr_backend,
        "svc",
        [
            {
                "name": "CVE-2023-4911",
                "severity": "HIGH",
                "attributes": {
                    "package_name": "glibc",
                    "package_version": "2.36",
                    "CVSS2_SCORE": "7.8",
                },
            }
        ],
        region=REGION,
    )
    image = push(ecr_backend, "svc", "v1")
    found = ecr_client.describe_image_scan_findings(
        repositoryName="svc", imageId={"imageTag": "v1"}
    )
    body = found["imageScanFindings"]
    assert "findings" not in body
    (enhanced,) = body["enhancedFindings"]
    assert enhanced["packageVulnerabilityDetails"]["vulnerabilityId"] == "CVE-2023-4911"
    assert enhanced["packageVulnerabilityDetails"]["vulnerablePackages"][0]["name"] == "glibc"
    assert enhanced["resources"][0]["details"]["awsEcrContainerImage"]["imageHash"] == image.digest
    assert enhanced["score"] == 7.8
    assert body["findingSeverityCounts"] == {"HIGH": 1}


def test_enhanced_continuous_scan_reports_active(ecr_backend: Backend, ecr_client: Any) -> None:
    ecr_client.put_registry_scanning_configuration(
        scanType="ENHANCED",
        rules=[
            {
                "scanFrequency": "CONTINUOUS_SCAN",
                "repositoryFilters": [{"filter": "prod", "filterType": "WILDCARD"}],
            }
        ],
    )
    push(ecr_backend, "repo-prod", "v1")
    found = ecr_client.describe_image_scan_findings(
        repositoryName="repo-prod", imageId={"imageTag": "v1"}
    )
    assert found["imageScanStatus"]["status"] == "ACTIVE"


def test_registry_scanning_configuration_round_trips_and_defaults(ecr_client: Any) -> None:
    default = ecr_client.get_registry_scanning_configuration()
    assert default["registryId"] == "123456789012"
    assert default["scanningConfiguration"] == {"scanType": "BASIC", "rules": []}
    rules = [
        {
            "scanFrequency": "CONTINUOUS_SCAN",
            "repositoryFilters": [{"filter": "prod*", "filterType": "WILDCARD"}],
        },
        {
            "scanFrequency": "SCAN_ON_PUSH",
            "repositoryFilters": [{"filter": "*", "filterType": "WILDCARD"}],
        },
    ]
    put = ecr_client.put_registry_scanning_configuration(scanType="ENHANCED", rules=rules)
    assert put["registryScanningConfiguration"] == {"scanType": "ENHANCED", "rules": rules}
    got = ecr_client.get_registry_scanning_configuration()["scanningConfiguration"]
    assert got == {"scanType": "ENHANCED", "rules": rules}


@pytest.mark.parametrize(
    ("kwargs", "error_code", "fragment"),
    [
        (
            {
                "scanType": "BASIC",
                "rules": [{"scanFrequency": "CONTINUOUS_SCAN", "repositoryFilters": []}],
            },
            "InvalidParameterException",
            "not supported for scan type BASIC",
        ),
        (
            {
                "scanType": "ENHANCED",
                "rules": [{"scanFrequency": "MANUAL", "repositoryFilters": []}],
            },
            "InvalidParameterException",
            "not supported for scan type ENHANCED",
        ),
        (
            {
                "scanType": "ENHANCED",
                "rules": [
                    {"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": []},
                    {"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": []},
                ],
            },
            "InvalidParameterException",
            "Only one rule",
        ),
        ({"scanType": "DEEP"}, "ValidationException", "enum value set: [BASIC, ENHANCED]"),
        (
            {
                "scanType": "BASIC",
                "rules": [
                    {
                        "scanFrequency": "SCAN_ON_PUSH",
                        "repositoryFilters": [{"filter": "Bad Name", "filterType": "WILDCARD"}],
                    }
                ],
            },
            "ValidationException",
            "regular expression pattern",
        ),
        (
            {
                "scanType": "BASIC",
                "rules": [
                    {
                        "scanFrequency": "SCAN_ON_PUSH",
                        "repositoryFilters": [{"filter": "a", "filterType": "PREFIX"}],
                    }
                ],
            },
            "ValidationException",
            "enum value set: [WILDCARD]",
        ),
        (
            {
                "scanType": "ENHANCED",
                "rules": [{"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": []}] * 3,
            },
            "ValidationException",
            "length less than or equal to 2",
        ),
    ],
)
def test_bad_registry_scanning_configuration_is_refused_and_changes_nothing(
    ecr_client: Any, kwargs: dict[str, Any], error_code: str, fragment: str
) -> None:
    before_rules = [
        {
            "scanFrequency": "SCAN_ON_PUSH",
            "repositoryFilters": [{"filter": "keep", "filterType": "WILDCARD"}],
        }
    ]
    ecr_client.put_registry_scanning_configuration(scanType="BASIC", rules=before_rules)
    with pytest.raises(ClientError) as exc:
        ecr_client.put_registry_scanning_configuration(**kwargs)
    assert error(exc)[0] == error_code
    assert fragment in message(exc)
    after = ecr_client.get_registry_scanning_configuration()["scanningConfiguration"]
    assert after == {"scanType": "BASIC", "rules": before_rules}


def test_batch_get_repository_scanning_configuration_reports_rules_and_failures(
    ecr_client: Any,
) -> None:
    ecr_client.create_repository(repositoryName="prod-api")
    ecr_client.create_repository(repositoryName="dev-api")
    ecr_client.create_repository(
        repositoryName="flagged", imageScanningConfiguration={"scanOnPush": True}
    )
    ecr_client.put_registry_scanning_configuration(
        scanType="BASIC",
        rules=[
            {
                "scanFrequency": "SCAN_ON_PUSH",
                "repositoryFilters": [{"filter": "prod*", "filterType": "WILDCARD"}],
            }
        ],
    )
    answer = ecr_client.batch_get_repository_scanning_configuration(
        repositoryNames=["prod-api", "dev-api", "flagged", "missing"]
    )
    by_name = {c["repositoryName"]: c for c in answer["scanningConfigurations"]}
    assert by_name["prod-api"]["scanFrequency"] == "SCAN_ON_PUSH"
    assert by_name["prod-api"]["scanOnPush"] is False  # the repository's own setting
    assert by_name["prod-api"]["appliedScanFilters"] == [
        {"filter": "prod*", "filterType": "WILDCARD"}
    ]
    assert by_name["prod-api"]["repositoryArn"].endswith(":repository/prod-api")
    assert by_name["dev-api"]["scanFrequency"] == "MANUAL"
    assert by_name["dev-api"]["scanOnPush"] is False
    assert by_name["flagged"]["scanFrequency"] == "SCAN_ON_PUSH"
    assert by_name["flagged"]["scanOnPush"] is True
    assert answer["failures"] == [
        {
            "repositoryName": "missing",
            "failureCode": "REPOSITORY_NOT_FOUND",
            "failureReason": "REPOSITORY_NOT_FOUND",
        }
    ]


def test_start_scan_on_enhanced_registry_is_refused(ecr_backend: Backend, ecr_client: Any) -> None:
    push(ecr_backend, "repo", "v1")
    ecr_client.put_registry_scanning_configuration(scanType="ENHANCED", rules=[])
    with pytest.raises(ClientError) as exc:
        ecr_client.start_image_scan(repositoryName="repo", imageId={"imageTag": "v1"})
    assert error(exc)[0] == "InvalidParameterException"
