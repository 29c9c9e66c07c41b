"""Lifecycle policy previews: StartLifecyclePolicyPreview and GetLifecyclePolicyPreview."""

from __future__ import annotations

from typing import Any

from ecr_mock.domain.errors import InvalidParameter
from ecr_mock.protocols.ecr_api.dispatch import Context, Handler, Params, Result, paginate
from ecr_mock.services.lifecycle import (
    LifecyclePreview,
    PreviewResult,
    preview_results,
    start_preview,
)

PREVIEW_PAGE_DEFAULT = 100
PREVIEW_PAGE_MAX = 100


def start_lifecycle_policy_preview(ctx: Context, params: Params) -> Result:
    """StartLifecyclePolicyPreview: the given policy text, else the stored one; IN_PROGRESS."""
    ctx.backend.tick()
    repo = ctx.repository(params)
    preview = start_preview(ctx.backend, repo, params.get("lifecyclePolicyText"))
    return {
        "registryId": repo.account,
        "repositoryName": repo.name,
        "lifecyclePolicyText": preview.policy_text,
        "status": preview.status,
    }


def _result_json(result: PreviewResult) -> dict[str, Any]:
    action: dict[str, Any] = {"type": result.action}
    if result.target_storage_class:
        action["targetStorageClass"] = result.target_storage_class
    return {
        "imageTags": list(result.tags),
        "imageDigest": result.digest,
        "imagePushedAt": result.pushed_at,
        "action": action,
        "appliedRulePriority": result.rule_priority,
        "storageClass": result.storage_class,
    }


def _summary_json(preview: LifecyclePreview) -> dict[str, Any]:
    summary: dict[str, Any] = {"expiringImageTotalCount": preview.expiring}
    transitioning = preview.transitioning
    if transitioning:
        summary["transitioningImageTotalCounts"] = [
            {"targetStorageClass": target, "imageTotalCount": count}
            for target, count in sorted(transitioning.items())
        ]
    return summary


def get_lifecycle_policy_preview(ctx: Context, params: Params) -> Result:
    """GetLifecyclePolicyPreview: COMPLETE from the first call, results paginated (max 100).

    ``imageIds`` narrows the results to those images and cannot be combined with
    ``maxResults``/``nextToken``; ``filter.tagStatus`` keeps TAGGED, UNTAGGED or ANY images.
    The summary always counts the whole preview.
    """
    ctx.backend.tick()
    repo = ctx.repository(params)
    image_ids = params.get("imageIds")
    if image_ids and (params.get("maxResults") is not None or params.get("nextToken")):
        raise InvalidParameter(
            "Invalid parameter: maxResults and nextToken cannot be used with imageIds"
        )
    tag_status = (params.get("filter") or {}).get("tagStatus") or "ANY"
    selected = [(i.get("imageDigest"), i.get("imageTag")) for i in image_ids or ()]
    preview, results = preview_results(ctx.backend, repo, selected, tag_status)
    token: str | None = None
    if not image_ids:
        results, token = paginate(
            results, params, default=PREVIEW_PAGE_DEFAULT, maximum=PREVIEW_PAGE_MAX
        )
    response: Result = {
        "registryId": repo.account,
        "repositoryName": repo.name,
        "lifecyclePolicyText": preview.policy_text,
        "status": preview.status,
        "previewResults": [_result_json(r) for r in results],
        "summary": _summary_json(preview),
    }
    if token:
        response["nextToken"] = token
    return response


HANDLERS: dict[str, Handler] = {
    "GetLifecyclePolicyPreview": get_lifecycle_policy_preview,
    "StartLifecyclePolicyPreview": start_lifecycle_policy_preview,
}
"""The ECR operations this module serves, by name."""
