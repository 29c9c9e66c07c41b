"""Image scanning: registry scanning rules, scans (manual and on push), deterministic findings."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ecr_mock.domain.errors import (
    EcrError,
    ImageArchived,
    InvalidParameter,
    LimitExceeded,
    ScanNotFound,
    UnsupportedImageType,
)
from ecr_mock.domain.findings import (
    built_in_findings,
)
from ecr_mock.domain.manifests import DOCKER_CONFIG, OCI_CONFIG
from ecr_mock.domain.models import Image, Registry, Repository
from ecr_mock.domain.wildcards import wildcard_fullmatch

if TYPE_CHECKING:
    from ecr_mock.store.state import Store

BASIC = "BASIC"
ENHANCED = "ENHANCED"
SCAN_TYPES = (BASIC, ENHANCED)
SCAN_ON_PUSH = "SCAN_ON_PUSH"
CONTINUOUS_SCAN = "CONTINUOUS_SCAN"
MANUAL = "MANUAL"
SCAN_FREQUENCIES = (SCAN_ON_PUSH, CONTINUOUS_SCAN, MANUAL)
RULE_FREQUENCIES = {BASIC: (SCAN_ON_PUSH,), ENHANCED: (SCAN_ON_PUSH, CONTINUOUS_SCAN)}
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNDEFINED")
MAX_RULES = 2
MAX_FILTERS = 100
SCAN_INTERVAL = timedelta(hours=24)
"""A basic scan can be started once per image per 24 hours (scans on push included)."""


COMPLETE_DESCRIPTION = "The scan was completed successfully."
CONTINUOUS_DESCRIPTION = "Continuous scan is selected for image."
UNSUPPORTED_DESCRIPTION = "The image is of a type that cannot be scanned."
LIMIT_MESSAGE = "The scan quota per image has been exceeded. Wait and try again."

_FILTER_PATTERN = r"^[a-z0-9*](?:[._\-/a-z0-9*]?[a-z0-9*]+)*$"
"""The model's pattern, as messages quote it (it backtracks exponentially when matched)."""
_FILTER_RE = re.compile(r"^[a-z0-9*]+(?:[._\-/][a-z0-9*]+)*$")
"""The same language as :data:`_FILTER_PATTERN`, matched in linear time."""
_SCANNABLE_CONFIGS = frozenset({DOCKER_CONFIG, OCI_CONFIG})

# ----- the built-in catalogue of findings ----------------------------------------------------


# ----- findings set by tests ------------------------------------------------------------------


def normalize_findings(findings: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Findings given as ``{name, severity, description?, uri?, attributes?}`` in the
    ``ImageScanFinding`` shape; ``attributes`` may be a mapping or a list of ``{key, value}``.
    InvalidParameter when one is malformed."""
    out: list[dict[str, Any]] = []
    for index, raw in enumerate(findings):
        if not isinstance(raw, Mapping):
            raise InvalidParameter(f"Finding {index} must be an object")
        name = raw.get("name")
        severity = raw.get("severity")
        if not isinstance(name, str) or not name:
            raise InvalidParameter(f"Finding {index} needs a non-empty 'name'")
        if severity not in SEVERITIES:
            raise InvalidParameter(
                f"Finding {index} has severity {severity!r}; expected one of "
                f"{', '.join(SEVERITIES)}"
            )
        finding: dict[str, Any] = {"name": name, "severity": severity}
        for key in ("description", "uri"):
            value = raw.get(key)
            if value is not None:
                if not isinstance(value, str):
                    raise InvalidParameter(f"Finding {index}: '{key}' must be a string")
                finding[key] = value
        finding["attributes"] = _attributes(raw.get("attributes"), index)
        out.append(finding)
    return out


def _attributes(raw: Any, index: int) -> list[dict[str, str]]:
    if raw is None:
        return []
    if isinstance(raw, Mapping):
        pairs = list(raw.items())
    elif isinstance(raw, list):
        pairs = []
        for item in raw:
            if not isinstance(item, Mapping) or "key" not in item:
                raise InvalidParameter(f"Finding {index}: each attribute needs a 'key'")
            pairs.append((item["key"], item.get("value")))
    else:
        raise InvalidParameter(f"Finding {index}: 'attributes' must be a mapping or a list")
    result: list[dict[str, str]] = []
    for key, value in pairs:
        if not isinstance(key, str) or not 1 <= len(key) <= 128:
            raise InvalidParameter(f"Finding {index}: attribute keys are 1-128 characters")
        attribute: dict[str, str] = {"key": key}
        if value is not None:
            text = str(value)
            if not 1 <= len(text) <= 256:
                raise InvalidParameter(f"Finding {index}: attribute values are 1-256 characters")
            attribute["value"] = text
        result.append(attribute)
    return result


def set_scan_findings(
    store: Store,
    repository_name: str,
    findings: Iterable[Mapping[str, Any]] | None,
    digest: str | None = None,
    account: str | None = None,
    region: str | None = None,
) -> None:
    """Make scans of ``digest`` (or of every image of the repository) report ``findings``.

    Applies to later scans and rewrites the results of scans already completed, so a test can
    set findings before or after pushing. ``findings=None`` goes back to the built-in ones.
    The repository need not exist yet.
    """
    normalized = None if findings is None else normalize_findings(findings)
    reg = store.registry(account, region)
    with store.lock:
        per_repo = reg.scan_findings.setdefault(repository_name, {})
        if normalized is None:
            per_repo.pop(digest, None)
        else:
            per_repo[digest] = normalized
        repo = reg.repositories.get(repository_name)
        if repo is None:
            return
        for image in repo.images.values():
            state = image.scan
            if state is None or state.get("status") not in ("COMPLETE", "ACTIVE"):
                continue
            if digest is not None and image.digest != digest:
                continue
            state["findings"] = findings_for(reg, repo, image)
            image.scan_summary = _summary(state)


def findings_for(reg: Registry, repo: Repository, image: Image) -> list[dict[str, Any]]:
    """What a scan of ``image`` finds: set for the image, else for the repository, else the
    built-in deterministic choice."""
    per_repo = reg.scan_findings.get(repo.name, {})
    chosen = per_repo.get(image.digest)
    if chosen is None:
        chosen = per_repo.get(None)
    if chosen is None:
        chosen = built_in_findings(image.digest)
    return [dict(f, attributes=[dict(a) for a in f.get("attributes", [])]) for f in chosen]


# ----- registry scanning configuration ---------------------------------------------------------


def filter_matches(pattern: str, repository_name: str) -> bool:
    """ECR's scanning filter match: without ``*`` the filter matches names containing it; with
    ``*`` the whole name must match, each ``*`` standing for zero or more characters."""
    if "*" not in pattern:
        return pattern in repository_name
    return wildcard_fullmatch(pattern, repository_name)


def _rule_error(detail: str) -> InvalidParameter:
    return InvalidParameter(
        f"Invalid parameter at 'rules' failed to satisfy constraint: '{detail}'"
    )


def check_scanning_configuration(
    scan_type: str | None, rules: list[dict[str, Any]] | None
) -> dict[str, Any]:
    """A validated, normalized registry scanning configuration; InvalidParameter otherwise.

    Beyond the model (at most 2 rules, 100 filters each, the filter pattern and enums): BASIC
    rules may only be SCAN_ON_PUSH, ENHANCED rules SCAN_ON_PUSH or CONTINUOUS_SCAN, and no two
    rules share a scan frequency.
    """
    kind = scan_type or BASIC
    if kind not in SCAN_TYPES:
        raise InvalidParameter(
            "Invalid parameter at 'scanType' failed to satisfy constraint: 'Member must satisfy "
            f"enum value set: [{', '.join(SCAN_TYPES)}]'"
        )
    given = rules or []
    if not isinstance(given, list):
        raise _rule_error("Member must be a list")
    if len(given) > MAX_RULES:
        raise _rule_error(f"Member must have length less than or equal to {MAX_RULES}")
    normalized: list[dict[str, Any]] = []
    seen: set[str] = set()
    for rule in given:
        if not isinstance(rule, dict):
            raise _rule_error("Member must be a structure")
        frequency = rule.get("scanFrequency")
        if frequency not in SCAN_FREQUENCIES:
            raise _rule_error(
                "Member must satisfy enum value set for scanFrequency: "
                f"[{', '.join(SCAN_FREQUENCIES)}]"
            )
        if frequency not in RULE_FREQUENCIES[kind]:
            raise _rule_error(
                f"Scan frequency {frequency} is not supported for scan type {kind}; supported: "
                f"{', '.join(RULE_FREQUENCIES[kind])}"
            )
        if frequency in seen:
            raise _rule_error(f"Only one rule can have scan frequency {frequency}")
        seen.add(frequency)
        filters = rule.get("repositoryFilters")
        if not isinstance(filters, list):
            raise _rule_error("repositoryFilters must not be null")
        if len(filters) > MAX_FILTERS:
            raise _rule_error(
                f"repositoryFilters must have length less than or equal to {MAX_FILTERS}"
            )
        kept: list[dict[str, str]] = []
        for item in filters:
            if not isinstance(item, dict):
                raise _rule_error("repositoryFilters members must be structures")
            value = item.get("filter")
            if not isinstance(value, str) or not 1 <= len(value) <= 255:
                raise _rule_error("filter must have length between 1 and 255")
            if not _FILTER_RE.fullmatch(value):
                raise _rule_error(
                    f"filter '{value}' must satisfy regular expression pattern: {_FILTER_PATTERN}"
                )
            if item.get("filterType") != "WILDCARD":
                raise _rule_error("filterType must satisfy enum value set: [WILDCARD]")
            kept.append({"filter": value, "filterType": "WILDCARD"})
        normalized.append({"scanFrequency": frequency, "repositoryFilters": kept})
    return {"scanType": kind, "rules": normalized}


def put_registry_scanning_configuration(
    store: Store, reg: Registry, scan_type: str | None, rules: list[dict[str, Any]] | None
) -> dict[str, Any]:
    """Validate and store the registry's scanning configuration; returns what was stored."""
    config = check_scanning_configuration(scan_type, rules)
    with store.lock:
        reg.scanning_configuration = config
    return _copy_configuration(config)


def registry_scanning_configuration(reg: Registry) -> dict[str, Any]:
    """The registry scanning configuration (default: BASIC, no rules)."""
    return _copy_configuration(reg.scanning_configuration)


def _copy_configuration(config: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "scanType": config.get("scanType", BASIC),
        "rules": [
            {
                "scanFrequency": rule["scanFrequency"],
                "repositoryFilters": [dict(f) for f in rule.get("repositoryFilters", [])],
            }
            for rule in config.get("rules", [])
        ],
    }


def repository_scanning(reg: Registry, repo: Repository) -> tuple[str, list[dict[str, str]]]:
    """(scan frequency, filters that matched) for ``repo`` under the registry's rules.

    CONTINUOUS_SCAN wins over SCAN_ON_PUSH (ECR's rule for overlapping ENHANCED filters). Under
    BASIC, the repository's own ``scanOnPush`` also gives SCAN_ON_PUSH. Otherwise MANUAL.
    """
    config = reg.scanning_configuration
    matched: dict[str, list[dict[str, str]]] = {}
    for rule in config.get("rules", []):
        hits = [
            dict(f)
            for f in rule.get("repositoryFilters", [])
            if filter_matches(f.get("filter", ""), repo.name)
        ]
        if hits:
            matched[rule["scanFrequency"]] = hits
    for frequency in (CONTINUOUS_SCAN, SCAN_ON_PUSH):
        if frequency in matched:
            return frequency, matched[frequency]
    if config.get("scanType", BASIC) == BASIC and repo.scan_on_push:
        return SCAN_ON_PUSH, []
    return MANUAL, []


def repository_scanning_configuration(reg: Registry, repo: Repository) -> dict[str, Any]:
    """The ``RepositoryScanningConfiguration`` shape of BatchGetRepositoryScanningConfiguration.

    ``scanOnPush`` is the repository's own setting, whatever the registry rules make of it: a
    real answer for a repository under an ENHANCED ``*`` CONTINUOUS_SCAN rule reads
    ``scanFrequency: CONTINUOUS_SCAN, scanOnPush: false`` ("the value of ScanOnPush will
    continue with the previous state", turbot/steampipe-plugin-aws#1716), and moto's ECR tests
    expect ``false`` under ENHANCED CONTINUOUS_SCAN and SCAN_ON_PUSH rules and a BASIC
    SCAN_ON_PUSH rule alike.
    """
    frequency, filters = repository_scanning(reg, repo)
    return {
        "repositoryArn": repo.arn,
        "repositoryName": repo.name,
        "scanOnPush": repo.scan_on_push,
        "scanFrequency": frequency,
        "appliedScanFilters": filters,
    }


# ----- scans ---------------------------------------------------------------------------------


def is_scannable(image: Image) -> bool:
    """Only container images (not indexes, not other artifacts) can be scanned."""
    parsed = image.parsed
    return not parsed.is_index and parsed.artifact_media_type in _SCANNABLE_CONFIGS


def _image_label(image: Image, tag: str | None) -> str:
    return f"{{imageDigest:'{image.digest}', imageTag:'{tag or 'null'}'}}"


def start_image_scan(store: Store, reg: Registry, repo: Repository, image: Image) -> dict[str, str]:
    """StartImageScan: scan ``image`` now; returns the ``imageScanStatus`` the call answers.

    The scan completes at once (the call reports IN_PROGRESS; the next read reports COMPLETE).
    Refused: archived images (ImageArchived), images that cannot be scanned
    (UnsupportedImageType), a second scan within 24 hours on the backend clock (LimitExceeded),
    and registries on ENHANCED scanning, where Amazon Inspector scans (InvalidParameter).
    """
    if not image.pullable():
        raise ImageArchived(image.digest)
    if reg.scanning_configuration.get("scanType", BASIC) == ENHANCED:
        raise InvalidParameter(
            "Invalid parameter at 'scanType' failed to satisfy constraint: 'StartImageScan "
            "starts basic scans only; the registry is configured for ENHANCED scanning'"
        )
    if not is_scannable(image):
        raise UnsupportedImageType(UNSUPPORTED_DESCRIPTION)
    with store.lock:
        state = image.scan
        now = store.now()
        if state is not None and now - state["startedAt"] < SCAN_INTERVAL:
            raise LimitExceeded(LIMIT_MESSAGE)
        run_scan(store, reg, repo, image, BASIC, MANUAL)
    return {"status": "IN_PROGRESS"}


def run_scan(
    store: Store,
    reg: Registry,
    repo: Repository,
    image: Image,
    scan_type: str,
    frequency: str,
) -> dict[str, Any]:
    """Scan ``image`` now and record the result on the image; emits "scan-completed"."""
    now = store.now()
    state: dict[str, Any] = {
        "scanType": scan_type,
        "frequency": frequency,
        "startedAt": now,
        "completedAt": now,
        "vulnerabilitySourceUpdatedAt": now.replace(hour=0, minute=0, second=0, microsecond=0),
    }
    if not is_scannable(image):
        state["status"] = "UNSUPPORTED_IMAGE"
        state["findings"] = []
        with store.lock:
            image.scan = state
            image.scan_status = {
                "status": "UNSUPPORTED_IMAGE",
                "description": UNSUPPORTED_DESCRIPTION,
            }
            image.scan_summary = None
        return state
    continuous = scan_type == ENHANCED and frequency == CONTINUOUS_SCAN
    state["status"] = "ACTIVE" if continuous else "COMPLETE"
    state["findings"] = findings_for(reg, repo, image)
    summary = _summary(state)
    with store.lock:
        image.scan = state
        image.scan_status = {
            "status": state["status"],
            "description": CONTINUOUS_DESCRIPTION if continuous else COMPLETE_DESCRIPTION,
        }
        image.scan_summary = summary
    store.emit(
        "scan-completed",
        {"repository": repo, "image": image, "findings_summary": dict(summary)},
    )
    return state


def severity_counts(findings: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """``findingSeverityCounts``: how many findings of each severity (zero counts left out)."""
    counts: dict[str, int] = {}
    for finding in findings:
        severity = str(finding.get("severity", "UNDEFINED"))
        counts[severity] = counts.get(severity, 0) + 1
    return {s: counts[s] for s in SEVERITIES if s in counts}


def _summary(state: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "imageScanCompletedAt": state["completedAt"],
        "vulnerabilitySourceUpdatedAt": state["vulnerabilitySourceUpdatedAt"],
        "findingSeverityCounts": severity_counts(state["findings"]),
    }


def _order(finding: Mapping[str, Any]) -> tuple[int, str]:
    severity = finding.get("severity", "UNDEFINED")
    rank = SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)
    return rank, str(finding.get("name", ""))


@dataclass(frozen=True)
class ScanReport:
    """The last scan of an image, ready for DescribeImageScanFindings."""

    status: dict[str, str]
    scan_type: str
    completed_at: datetime
    source_updated_at: datetime
    findings: list[dict[str, Any]]
    """Basic findings (``ImageScanFinding``), most severe first; enhanced ones are derived."""

    @property
    def severity_counts(self) -> dict[str, int]:
        """``findingSeverityCounts``."""
        return severity_counts(self.findings)


def scan_report(
    repo: Repository,
    image: Image,
    tag: str | None = None,
    *,
    image_id: Mapping[str, str] | None = None,
) -> ScanReport:
    """The last scan of ``image``; ScanNotFound when it was never scanned.

    ScanNotFound names the image as the request's ``image_id`` did (``imageDigest:'null'``
    when asked by tag), as moto's ECR tests expect and as ImageNotFound does.
    """
    state = image.scan
    if state is None:
        label = (
            _image_label(image, tag)
            if image_id is None
            else f"{{imageDigest:'{image_id.get('imageDigest') or 'null'}', "
            f"imageTag:'{image_id.get('imageTag') or 'null'}'}}"
        )
        raise ScanNotFound(
            f"Image scan does not exist for the image with '{label}' in the "
            f"repository with name '{repo.name}' in the registry with id '{repo.account}'"
        )
    return ScanReport(
        status=dict(image.scan_status or {"status": state["status"]}),
        scan_type=state["scanType"],
        completed_at=state["completedAt"],
        source_updated_at=state["vulnerabilitySourceUpdatedAt"],
        findings=sorted(state["findings"], key=_order),
    )


def enhanced_finding(
    repo: Repository, image: Image, finding: Mapping[str, Any], observed: datetime
) -> dict[str, Any]:
    """An ``EnhancedImageScanFinding`` (Amazon Inspector shape) for a basic finding."""
    attributes = {a["key"]: a.get("value", "") for a in finding.get("attributes", [])}
    package = attributes.get("package_name", "unknown")
    version = attributes.get("package_version", "unknown")
    score_text = attributes.get("CVSS3_SCORE") or attributes.get("CVSS2_SCORE") or "0"
    try:
        score = float(score_text)
    except ValueError:
        score = 0.0
    vector = attributes.get("CVSS3_VECTOR") or attributes.get("CVSS2_VECTOR") or ""
    name = str(finding["name"])
    severity = str(finding.get("severity", "UNDEFINED"))
    finding_id = hashlib.sha256(f"{image.digest}/{name}/{package}".encode()).hexdigest()[:32]
    layer = image.parsed.layers[0].digest if image.parsed.layers else image.digest
    uri = str(finding.get("uri") or f"https://nvd.nist.gov/vuln/detail/{name}")
    return {
        "awsAccountId": repo.account,
        "description": str(finding.get("description", name)),
        "findingArn": f"arn:aws:inspector2:{repo.region}:{repo.account}:finding/{finding_id}",
        "firstObservedAt": observed,
        "lastObservedAt": observed,
        "updatedAt": observed,
        "packageVulnerabilityDetails": {
            "cvss": [
                {
                    "baseScore": score,
                    "scoringVector": vector,
                    "source": "NVD",
                    "version": "3.1" if "CVSS3_SCORE" in attributes else "2.0",
                }
            ],
            "referenceUrls": [uri],
            "relatedVulnerabilities": [],
            "source": "NVD",
            "sourceUrl": uri,
            "vendorSeverity": severity,
            "vulnerabilityId": name,
            "vulnerablePackages": [
                {
                    "name": package,
                    "version": version,
                    "packageManager": "OS",
                    "sourceLayerHash": layer,
                }
            ],
        },
        "remediation": {
            "recommendation": {"text": f"Upgrade {package} to a version that fixes {name}."}
        },
        "resources": [
            {
                "id": f"{repo.arn}/{image.digest}",
                "type": "AWS_ECR_CONTAINER_IMAGE",
                "tags": {},
                "details": {
                    "awsEcrContainerImage": {
                        "imageHash": image.digest,
                        "imageTags": list(image.tags),
                        "pushedAt": image.pushed_at,
                        "registry": repo.account,
                        "repositoryName": repo.name,
                    }
                },
            }
        ],
        "score": score,
        "severity": severity,
        "status": "ACTIVE",
        "title": f"{name} - {package}",
        "type": "PACKAGE_VULNERABILITY",
        "fixAvailable": "YES" if score >= 7.0 else "NO",
        "exploitAvailable": "NO",
    }


class ScanOnPush:
    """Store listener: scans each newly pushed image whose repository scans on push."""

    def __init__(self, store: Store) -> None:
        self.backend = store

    def __call__(self, kind: str, detail: dict[str, Any]) -> None:
        """React to "image-pushed" events of new images."""
        if kind != "image-pushed" or not detail.get("new"):
            return
        repo = detail.get("repository")
        image = detail.get("image")
        if not isinstance(repo, Repository) or not isinstance(image, Image):
            return
        reg = self.backend.registry(repo.account, repo.region)
        frequency, _ = repository_scanning(reg, repo)
        if frequency == MANUAL:
            return
        scan_type = reg.scanning_configuration.get("scanType", BASIC)
        try:
            run_scan(self.backend, reg, repo, image, scan_type, frequency)
        except EcrError:
            return
