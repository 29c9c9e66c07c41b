"""The control API's scan findings route: ``/ecr-mock/findings/<account>/<region>/<repo>[@<digest>]``."""

from __future__ import annotations

from ecr_mock.domain.errors import EcrError
from ecr_mock.domain.names import account_problem, is_digest, region_problem
from ecr_mock.protocols.control import ControlError, ControlRequest, ControlResponse, ControlRoute
from ecr_mock.services.scanning import set_scan_findings

FINDINGS_PATTERN = (
    r"/ecr-mock/findings/(?P<account>[^/]+)/(?P<region>[^/]+)/"
    r"(?P<repository>[^@]+?)(?:@(?P<digest>[^/@]+))?/?"
)


def _target(request: ControlRequest) -> tuple[str, str, str, str | None]:
    params = request.params
    for field, problem in (
        ("account", account_problem(params["account"], "the account in the path")),
        ("region", region_problem(params["region"], "the region in the path")),
    ):
        if problem is not None:
            raise ControlError.bad_field(field, problem)
    digest = params.get("digest")
    if digest is not None and not is_digest(digest):
        raise ControlError(400, "BadRequest", f"Invalid digest in the path: {digest!r}", "digest")
    return params["account"], params["region"], params["repository"], digest


def put_findings(request: ControlRequest) -> ControlResponse:
    """``PUT``: a JSON list of ``{name, severity, description?, uri?, attributes?}``.

    Scans of that image (or of every image of the repository) report these findings, including
    scans already completed. 200 ``{"repository", "digest", "findings": <count>}``.
    """
    account, region, repository, digest = _target(request)
    findings = request.json()
    if not isinstance(findings, list):
        raise ControlError.bad_field("findings", "The body must be a JSON list of findings")
    try:
        set_scan_findings(request.backend, repository, findings, digest, account, region)
    except EcrError as exc:
        raise ControlError.bad_field("findings", exc.message) from None
    doc = {"repository": repository, "digest": digest, "findings": len(findings)}
    return ControlResponse(200, doc)


def get_findings(request: ControlRequest) -> ControlResponse:
    """``GET``: the findings set there, or 404 when none were set."""
    account, region, repository, digest = _target(request)
    table = request.backend.registry(account, region).scan_findings
    found = table.get(repository, {}).get(digest)
    if found is None:
        raise ControlError(404, "NotFound", "No findings were set for this image or repository")
    return ControlResponse(200, found)


def delete_findings(request: ControlRequest) -> ControlResponse:
    """``DELETE``: back to the built-in deterministic findings (204)."""
    account, region, repository, digest = _target(request)
    set_scan_findings(request.backend, repository, None, digest, account, region)
    return ControlResponse(204)


def findings_route() -> ControlRoute:
    """The named route ``findings``."""
    return ControlRoute(
        "findings",
        FINDINGS_PATTERN,
        {"PUT": put_findings, "GET": get_findings, "DELETE": delete_findings},
    )
