"""Scanning operations: StartImageScan, findings, registry and repository scanning configuration."""

from __future__ import annotations

from typing import Any

from ecr_mock.domain.errors import RepositoryNotFound
from ecr_mock.protocols.ecr_api.dispatch import Context, Handler, Params, Result, paginate
from ecr_mock.services import images, repositories, scanning

FINDINGS_PAGE_DEFAULT = 100
FINDINGS_PAGE_MAX = 1000


def _image_id(params: Params, digest: str) -> dict[str, Any]:
    given = params.get("imageId") or {}
    doc: dict[str, Any] = {"imageDigest": digest}
    if given.get("imageTag"):
        doc["imageTag"] = given["imageTag"]
    return doc


def start_image_scan(ctx: Context, params: Params) -> Result:
    """StartImageScan: a basic scan, once per image per 24 hours; it completes at once."""
    reg = ctx.registry(params)
    repo = ctx.repository(params, reg)
    image_id = params.get("imageId") or {}
    image = images.find_image(
        ctx.backend, repo, digest=image_id.get("imageDigest"), tag=image_id.get("imageTag")
    )
    status = scanning.start_image_scan(ctx.backend, reg, repo, image)
    return {
        "registryId": repo.account,
        "repositoryName": repo.name,
        "imageId": _image_id(params, image.digest),
        "imageScanStatus": status,
    }


def describe_image_scan_findings(ctx: Context, params: Params) -> Result:
    """DescribeImageScanFindings: the last scan's findings, paginated (default 100, max 1000)."""
    reg = ctx.registry(params)
    repo = ctx.repository(params, reg)
    image_id = params.get("imageId") or {}
    tag = image_id.get("imageTag")
    image = images.find_image(ctx.backend, repo, digest=image_id.get("imageDigest"), tag=tag)
    report = scanning.scan_report(repo, image, tag, image_id=image_id)
    result: Result = {
        "registryId": repo.account,
        "repositoryName": repo.name,
        "imageId": _image_id(params, image.digest),
        "imageScanStatus": report.status,
    }
    if report.status.get("status") not in ("COMPLETE", "ACTIVE"):
        return result
    page, token = paginate(
        report.findings, params, default=FINDINGS_PAGE_DEFAULT, maximum=FINDINGS_PAGE_MAX
    )
    findings: dict[str, Any] = {
        "imageScanCompletedAt": report.completed_at,
        "vulnerabilitySourceUpdatedAt": report.source_updated_at,
        "findingSeverityCounts": report.severity_counts,
    }
    if report.scan_type == scanning.ENHANCED:
        findings["enhancedFindings"] = [
            scanning.enhanced_finding(repo, image, f, report.completed_at) for f in page
        ]
    else:
        findings["findings"] = page
    result["imageScanFindings"] = findings
    if token:
        result["nextToken"] = token
    return result


MISSING_REPOSITORY_REASON = "REPOSITORY_NOT_FOUND"
"""``failureReason`` of BatchGetRepositoryScanningConfiguration for a missing repository: the
code again, as moto's ECR tests expect (no observation of the real text says otherwise)."""


def put_registry_scanning_configuration(ctx: Context, params: Params) -> Result:
    """PutRegistryScanningConfiguration: BASIC or ENHANCED with up to two rules."""
    reg = ctx.backend.registry(ctx.account, ctx.region)
    stored = scanning.put_registry_scanning_configuration(
        ctx.backend, reg, params.get("scanType"), params.get("rules")
    )
    return {"registryScanningConfiguration": stored}


def get_registry_scanning_configuration(ctx: Context, params: Params) -> Result:
    """GetRegistryScanningConfiguration (default: BASIC with no rules)."""
    reg = ctx.backend.registry(ctx.account, ctx.region)
    return {
        "registryId": reg.account,
        "scanningConfiguration": scanning.registry_scanning_configuration(reg),
    }


def batch_get_repository_scanning_configuration(ctx: Context, params: Params) -> Result:
    """BatchGetRepositoryScanningConfiguration: each repository's effective scanning, failures
    for repositories that do not exist."""
    reg = ctx.backend.registry(ctx.account, ctx.region)
    configurations: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for name in params.get("repositoryNames") or []:
        try:
            repo = repositories.get_repository(ctx.backend, reg, name)
        except RepositoryNotFound:
            failures.append(
                {
                    "repositoryName": name,
                    "failureCode": "REPOSITORY_NOT_FOUND",
                    "failureReason": MISSING_REPOSITORY_REASON,
                }
            )
            continue
        configurations.append(scanning.repository_scanning_configuration(reg, repo))
    return {"scanningConfigurations": configurations, "failures": failures}


HANDLERS: dict[str, Handler] = {
    "BatchGetRepositoryScanningConfiguration": batch_get_repository_scanning_configuration,
    "DescribeImageScanFindings": describe_image_scan_findings,
    "GetRegistryScanningConfiguration": get_registry_scanning_configuration,
    "PutRegistryScanningConfiguration": put_registry_scanning_configuration,
    "StartImageScan": start_image_scan,
}
"""The ECR operations this module serves, by name."""
