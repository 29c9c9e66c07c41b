"""Registry signing rules and the signing status they imply for an image."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ecr_mock.domain.errors import InvalidParameter, SigningConfigurationNotFound
from ecr_mock.domain.models import Image, Registry, Repository
from ecr_mock.domain.wildcards import wildcard_fullmatch
from ecr_mock.services import referrers

if TYPE_CHECKING:
    from ecr_mock.store.state import Store

NOTATION_SIGNATURE = "application/vnd.cncf.notary.signature"
COSIGN_SIGNATURE = "application/vnd.dev.cosign.artifact.sig.v1+json"
SIGNATURE_TYPES = frozenset({NOTATION_SIGNATURE, COSIGN_SIGNATURE})
MAX_SIGNING_RULES = 10
MAX_SIGNING_FILTERS = 100

_PROFILE_RE = re.compile(
    r"^arn:aws(-[a-z]+)*:signer:[a-z0-9-]+:[0-9]{12}:\/signing-profiles\/[a-zA-Z0-9_]{2,}$"
)
_SIGNING_FILTER_RE = re.compile(
    r"^(?:[a-z0-9*]+(?:[._-][a-z0-9*]+)*/)*[a-z0-9*]+(?:[._-][a-z0-9*]+)*$"
)


# ----- signatures --------------------------------------------------------------------------------


def signatures(store: Store, repo: Repository, image: Image) -> list[Image]:
    """Notation or cosign signature manifests whose subject is ``image``."""
    return [
        r
        for r in referrers.referrers(store, repo, image.digest)
        if referrers.artifact_type(r) in SIGNATURE_TYPES
    ]


# ----- signing configuration ---------------------------------------------------------------------


def _invalid(detail: str) -> InvalidParameter:
    return InvalidParameter(
        f"Invalid parameter at 'signingConfiguration' failed to satisfy constraint: '{detail}'"
    )


def check_signing_configuration(config: Any) -> dict[str, Any]:
    """A validated, normalized ``SigningConfiguration``; InvalidParameter otherwise."""
    if not isinstance(config, dict) or not isinstance(config.get("rules"), list):
        raise _invalid("rules must not be null")
    rules = config["rules"]
    if len(rules) > MAX_SIGNING_RULES:
        raise _invalid(f"rules must have length less than or equal to {MAX_SIGNING_RULES}")
    normalized: list[dict[str, Any]] = []
    for rule in rules:
        if not isinstance(rule, dict):
            raise _invalid("rules members must be structures")
        profile = rule.get("signingProfileArn")
        if not isinstance(profile, str) or len(profile) > 200 or not _PROFILE_RE.fullmatch(profile):
            raise _invalid(
                f"signingProfileArn '{profile}' must satisfy regular expression pattern: "
                f"{_PROFILE_RE.pattern}"
            )
        kept: dict[str, Any] = {"signingProfileArn": profile}
        filters = rule.get("repositoryFilters")
        if filters is not None:
            if not isinstance(filters, list) or not 1 <= len(filters) <= MAX_SIGNING_FILTERS:
                raise _invalid(
                    f"repositoryFilters must have length between 1 and {MAX_SIGNING_FILTERS}"
                )
            items: list[dict[str, str]] = []
            for item in filters:
                if not isinstance(item, dict):
                    raise _invalid("repositoryFilters members must be structures")
                value = item.get("filter")
                if (
                    not isinstance(value, str)
                    or not 1 <= len(value) <= 256
                    or not _SIGNING_FILTER_RE.fullmatch(value)
                ):
                    raise _invalid(
                        f"filter '{value}' must satisfy regular expression pattern: "
                        f"{_SIGNING_FILTER_RE.pattern}"
                    )
                if item.get("filterType") != "WILDCARD_MATCH":
                    raise _invalid("filterType must satisfy enum value set: [WILDCARD_MATCH]")
                items.append({"filter": value, "filterType": "WILDCARD_MATCH"})
            kept["repositoryFilters"] = items
        normalized.append(kept)
    return {"rules": normalized}


def put_signing_configuration(store: Store, reg: Registry, config: Any) -> dict[str, Any]:
    """Validate and store the registry's signing configuration; returns what was stored."""
    checked = check_signing_configuration(config)
    with store.lock:
        reg.signing_configuration = checked
    return _copy(checked)


def get_signing_configuration(reg: Registry) -> dict[str, Any]:
    """The signing configuration; SigningConfigurationNotFound when none is set."""
    if reg.signing_configuration is None:
        raise SigningConfigurationNotFound(reg.account)
    return _copy(reg.signing_configuration)


def delete_signing_configuration(store: Store, reg: Registry) -> dict[str, Any]:
    """Remove the signing configuration and return it; SigningConfigurationNotFound if none."""
    with store.lock:
        found = get_signing_configuration(reg)
        reg.signing_configuration = None
    return found


def _copy(config: dict[str, Any]) -> dict[str, Any]:
    rules = []
    for rule in config.get("rules", []):
        copied: dict[str, Any] = {"signingProfileArn": rule["signingProfileArn"]}
        if "repositoryFilters" in rule:
            copied["repositoryFilters"] = [dict(f) for f in rule["repositoryFilters"]]
        rules.append(copied)
    return {"rules": rules}


def wildcard_match(pattern: str, name: str) -> bool:
    """``WILDCARD_MATCH``: ``*`` matches any sequence of characters; the rest literally."""
    return wildcard_fullmatch(pattern, name)


def signing_profiles(reg: Registry, repo: Repository) -> list[str]:
    """Signing profiles whose rules apply to ``repo`` (a rule without filters applies to all)."""
    config = reg.signing_configuration or {"rules": []}
    profiles: list[str] = []
    for rule in config["rules"]:
        filters = rule.get("repositoryFilters")
        if filters and not any(wildcard_match(f["filter"], repo.name) for f in filters):
            continue
        if rule["signingProfileArn"] not in profiles:
            profiles.append(rule["signingProfileArn"])
    return profiles


def signing_statuses(
    store: Store, reg: Registry, repo: Repository, image: Image
) -> list[dict[str, str]]:
    """DescribeImageSigningStatus: one status per signing profile whose rule covers ``repo``.

    The emulator does not sign. Per profile: ``COMPLETE`` when the image has a Notation or
    cosign signature referrer in the repository; otherwise ``FAILED`` when the image is not
    ACTIVE (archived images cannot be signed) or is itself a signature, else ``IN_PROGRESS``
    (waiting for a signature to be pushed). No matching rule: an empty list.
    """
    profiles = signing_profiles(reg, repo)
    if not profiles:
        return []
    signed = bool(signatures(store, repo, image))
    result: list[dict[str, str]] = []
    for profile in profiles:
        entry: dict[str, str] = {"signingProfileArn": profile}
        if signed:
            entry["status"] = "COMPLETE"
        elif image.status != "ACTIVE":
            entry.update(
                status="FAILED",
                failureCode="IMAGE_ARCHIVED",
                failureReason="The image is archived and cannot be signed.",
            )
        elif referrers.artifact_type(image) in SIGNATURE_TYPES:
            entry.update(
                status="FAILED",
                failureCode="UNSUPPORTED_ARTIFACT",
                failureReason="Signature artifacts are not signed.",
            )
        else:
            entry["status"] = "IN_PROGRESS"
        result.append(entry)
    return result
