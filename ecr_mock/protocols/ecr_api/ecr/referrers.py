"""ListImageReferrers: the OCI 1.1 referrers of an image, as ``/v2/<name>/referrers`` lists them."""

from __future__ import annotations

from ecr_mock.protocols.ecr_api.dispatch import Context, Handler, Params, Result, paginate
from ecr_mock.services import referrers

REFERRERS_PAGE_DEFAULT = 20
REFERRERS_PAGE_MAX = 50


def list_image_referrers(ctx: Context, params: Params) -> Result:
    """ListImageReferrers: filter by artifact types and status (default ACTIVE), paginated
    (default 20, max 50). An unknown subject has no referrers."""
    repo = ctx.repository(params)
    subject = (params.get("subjectId") or {}).get("imageDigest", "")
    wanted = params.get("filter") or {}
    found = referrers.referrers(
        ctx.backend,
        repo,
        subject,
        artifact_types=wanted.get("artifactTypes"),
        status=wanted.get("artifactStatus") or "ACTIVE",
    )
    page, token = paginate(
        found, params, default=REFERRERS_PAGE_DEFAULT, maximum=REFERRERS_PAGE_MAX
    )
    result: Result = {"referrers": [referrers.referrer_json(image) for image in page]}
    if token:
        result["nextToken"] = token
    return result


HANDLERS: dict[str, Handler] = {
    "ListImageReferrers": list_image_referrers,
}
"""The ECR operations this module serves, by name."""
