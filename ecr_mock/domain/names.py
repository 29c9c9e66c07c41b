"""Names, ARNs, URIs and digests: their formats, parsing and validation."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ecr_mock.domain.errors import DigestInvalid, InvalidParameter

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"

REPOSITORY_NAME_RE = re.compile(
    r"(?:[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*"
)
IMAGE_TAG_RE = re.compile(r"[a-zA-Z0-9\-_.]{1,300}")
ACCOUNT_RE = re.compile(r"[0-9]{12}")
REGION_RE = re.compile(r"[a-z]{2}(?:-[a-z]+)+-[0-9]")
DIGEST_RE = re.compile(r"(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})")
ANY_DIGEST_RE = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")
REGISTRY_HOST_RE = re.compile(
    r"(?P<account>[0-9]{12})\.(?:dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?"
    r"|dkr-ecr(?:-fips)?\.(?P<dual_region>[a-z0-9-]+)\.on\.aws)"
)
"""A registry host: ``<account>.dkr.ecr.<region>.amazonaws.com``, its FIPS form
(``dkr.ecr-fips``) and the dual-stack ones (``<account>.dkr-ecr[-fips].<region>.on.aws``);
the region is ``region_of_registry_host(match)``."""


def account_problem(value: object, field: str = "account_id") -> str | None:
    """Why ``value`` is not an account id (a message naming ``field``), or None when it is.

    Every place that takes an account (control API, seeds, fault rules, the command line) asks
    this, so each refuses the same values with the same words.
    """
    if isinstance(value, str) and ACCOUNT_RE.fullmatch(value):
        return None
    return f"{field} must be a 12-digit account id; got {value!r}"


def region_problem(value: object, field: str = "region") -> str | None:
    """Why ``value`` is not a region name such as ``us-east-1`` (naming ``field``), or None."""
    if isinstance(value, str) and REGION_RE.fullmatch(value):
        return None
    return f"{field} must be a region name such as us-east-1; got {value!r}"


def region_of_registry_host(match: re.Match[str]) -> str:
    """The region named by a ``REGISTRY_HOST_RE`` match."""
    return match["region"] or match["dual_region"]


REPOSITORY_ARN_RE = re.compile(
    r"arn:aws[a-z-]*:ecr:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}):repository/(?P<name>.+)"
)


def registry_host(account: str, region: str) -> str:
    """``<account>.dkr.ecr.<region>.amazonaws.com``."""
    return f"{account}.dkr.ecr.{region}.amazonaws.com"


def repository_arn(account: str, region: str, name: str) -> str:
    """``arn:aws:ecr:<region>:<account>:repository/<name>``."""
    return f"arn:aws:ecr:{region}:{account}:repository/{name}"


@dataclass(frozen=True)
class RepositoryRef:
    """A repository addressed by ARN."""

    account: str
    region: str
    name: str


def parse_repository_arn(arn: str) -> RepositoryRef | None:
    """Split a repository ARN, or None when it is not one."""
    match = REPOSITORY_ARN_RE.fullmatch(arn)
    if not match:
        return None
    return RepositoryRef(match["account"], match["region"], match["name"])


def is_valid_repository_name(name: str) -> bool:
    """True for 2-256 characters matching ECR's repository name pattern."""
    return 2 <= len(name) <= 256 and REPOSITORY_NAME_RE.fullmatch(name) is not None


def check_repository_name(name: str) -> None:
    """Raise ECR's InvalidParameterException for a malformed repository name."""
    if not is_valid_repository_name(name):
        raise InvalidParameter(
            "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy "
            "regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''"
        )


def is_valid_tag(tag: str) -> bool:
    """True for an image tag of 1-300 characters from ``[a-zA-Z0-9-_.]``."""
    return IMAGE_TAG_RE.fullmatch(tag) is not None


def check_tag(tag: str) -> None:
    """Raise ECR's InvalidParameterException for a malformed image tag."""
    if not is_valid_tag(tag):
        raise InvalidParameter(
            "Invalid parameter at 'imageTag' failed to satisfy constraint: 'must satisfy regular "
            "expression '[a-zA-Z0-9-_.]+' and have length between 1 and 300'"
        )


def is_digest(value: str) -> bool:
    """True for a well-formed sha256 or sha512 digest."""
    return DIGEST_RE.fullmatch(value) is not None


def check_digest(value: str) -> None:
    """Raise DigestInvalid for anything but a well-formed sha256/sha512 digest."""
    if not is_digest(value):
        raise DigestInvalid(f"Invalid digest: '{value}'", digest=value)
