"""Repositories: create, find, delete; tag mutability, encryption and resource tags."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from ecr_mock.domain import names
from ecr_mock.domain.errors import (
    InvalidParameter,
    InvalidTagParameter,
    KmsError,
    LimitExceeded,
    RepositoryAlreadyExists,
    RepositoryNotEmpty,
    RepositoryNotFound,
    TooManyTags,
)
from ecr_mock.domain.models import (
    IMMUTABLE,
    IMMUTABLE_WITH_EXCLUSION,
    MUTABLE,
    MUTABLE_WITH_EXCLUSION,
    Registry,
    Repository,
)
from ecr_mock.domain.names import RepositoryRef, check_repository_name, is_valid_repository_name
from ecr_mock.services import uploads
from ecr_mock.store.state import Store

MAX_REPOSITORIES = 100_000
MAX_RESOURCE_TAGS = 50
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256
MAX_EXCLUSION_FILTERS = 5
TAG_MUTABILITIES = (IMMUTABLE, MUTABLE, MUTABLE_WITH_EXCLUSION, IMMUTABLE_WITH_EXCLUSION)
"""In the order ECR lists them when refusing another value (not the model's order)."""
ENCRYPTION_TYPES = ("AES256", "KMS", "KMS_DSSE")
_EXCLUSION_FILTER_RE = re.compile(r"[0-9a-zA-Z._*-]{1,128}")
_KMS_ARN_RE = re.compile(r"arn:aws[a-z-]*:kms:(?P<region>[a-z0-9-]+):[0-9]{12}:.+")
_TAG_LENGTH_MESSAGE = (
    "An invalid parameter has been specified. Tag keys can have a maximum character length "
    f"of {MAX_TAG_KEY} characters, and tag values can have a maximum length of "
    f"{MAX_TAG_VALUE} characters."
)


def create_repository(
    store: Store,
    reg: Registry,
    name: str,
    *,
    tag_mutability: str = MUTABLE,
    mutability_exclusions: list[dict[str, str]] | None = None,
    scan_on_push: bool = False,
    encryption: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
) -> Repository:
    """Create a repository; RepositoryAlreadyExists when the name is taken."""
    check_repository_name(name)
    with store.lock:
        if name in reg.repositories:
            raise RepositoryAlreadyExists(name, reg.account)
        if len(reg.repositories) >= MAX_REPOSITORIES:
            raise LimitExceeded("The maximum number of repositories in the registry is reached")
        repo = Repository(
            name=name,
            account=reg.account,
            region=reg.region,
            created_at=store.now(),
            tag_mutability=tag_mutability,
            mutability_exclusions=list(mutability_exclusions or []),
            scan_on_push=scan_on_push,
            encryption=dict(encryption or {"encryptionType": "AES256"}),
            resource_tags=dict(tags or {}),
        )
        reg.repositories[name] = repo
    return repo


def get_repository(store: Store, reg: Registry, name: str) -> Repository:
    """The repository called ``name``; RepositoryNotFound otherwise."""
    repo = reg.repositories.get(name)
    if repo is None:
        raise RepositoryNotFound(name, reg.account)
    return repo


def delete_repository(store: Store, reg: Registry, name: str, force: bool = False) -> Repository:
    """Delete a repository; RepositoryNotEmpty unless empty or ``force``."""
    with store.lock:
        repo = get_repository(store, reg, name)
        if repo.images and not force:
            raise RepositoryNotEmpty(name, reg.account)
        del reg.repositories[name]
        uploads.end_uploads_of(store, reg, name)
        uploads.release_unreferenced_blobs(store, reg, repo.blobs)
    for image in list(repo.images.values()):
        store.emit("image-deleted", {"repository": repo, "image": image})
    return repo


def repository_by_arn(store: Store, arn: str, region: str) -> Repository:
    """The repository a resource ARN names, for a call made in ``region``.

    InvalidParameterException for anything but a repository ARN of that region, in ECR's
    words ``Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN'``
    (the text moto's ECR tests expect; "The ARN provided is invalid." is what ECS answers,
    boto/boto3#2774); RepositoryNotFoundException when it does not exist.
    """
    ref = names.parse_repository_arn(arn)
    if ref is None or ref.region != region or not is_valid_repository_name(ref.name):
        raise InvalidParameter(
            "Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN'"
        )
    reg = store.registry(ref.account, ref.region)
    return get_repository(store, reg, ref.name)


def repository_arn(account: str, region: str, name: str) -> str:
    """The ARN of repository ``name`` in registry (``account``, ``region``)."""
    return names.repository_arn(account, region, name)


def parse_repository_arn(arn: str) -> RepositoryRef | None:
    """The (account, region, name) a repository ARN names; None when ``arn`` is no such ARN."""
    return names.parse_repository_arn(arn)


def check_tag_mutability(
    mutability: str, filters: list[dict[str, str]] | None
) -> list[dict[str, str]]:
    """Validate a tag mutability and its exclusion filters; returns the filters to store.

    ``*_WITH_EXCLUSION`` needs 1-5 WILDCARD filters (ECR: "can't be null"); MUTABLE and
    IMMUTABLE take none (the "must be null" wording is this emulator's).
    """
    if mutability not in TAG_MUTABILITIES:
        raise InvalidParameter(
            "Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member "
            "must satisfy enum value set: [" + ", ".join(TAG_MUTABILITIES) + "]'"
        )
    where = "Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint"
    with_exclusion = mutability in (IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION)
    if with_exclusion and not filters:
        raise InvalidParameter(
            f"{where}: 'ImageTagMutabilityExclusionFilters can't be null when "
            f"imageTagMutability is set as {mutability}'"
        )
    if not with_exclusion:
        if filters is not None:
            raise InvalidParameter(
                f"{where}: 'ImageTagMutabilityExclusionFilters must be null when "
                f"imageTagMutability is set as {mutability}'"
            )
        return []
    kept: list[dict[str, str]] = []
    for item in filters or []:
        kind, value = item.get("filterType"), item.get("filter")
        if kind != "WILDCARD":
            raise InvalidParameter(
                f"{where}: 'Invalid value for 'filterType' in mutability exclusion filter: {kind}'"
            )
        if not isinstance(value, str) or not _EXCLUSION_FILTER_RE.fullmatch(value):
            raise InvalidParameter(
                f"{where}: 'Member must satisfy regular expression pattern: "
                "^[0-9a-zA-Z._*-]{1,128}$'"
            )
        kept.append({"filterType": kind, "filter": value})
    if len(kept) > MAX_EXCLUSION_FILTERS:
        raise InvalidParameter(
            f"{where}: 'Member must have length less than or equal to {MAX_EXCLUSION_FILTERS}'"
        )
    return kept


def set_scan_on_push(store: Store, repo: Repository, scan_on_push: bool) -> None:
    """PutImageScanningConfiguration: whether images pushed from now on are scanned."""
    with store.lock:
        repo.scan_on_push = scan_on_push


def set_tag_mutability(
    store: Store, repo: Repository, mutability: str, filters: list[dict[str, str]] | None
) -> None:
    """PutImageTagMutability: validate, then replace the setting and its filters."""
    kept = check_tag_mutability(mutability, filters)
    with store.lock:
        repo.tag_mutability = mutability
        repo.mutability_exclusions = kept


def resolve_encryption(
    store: Store, reg: Registry, config: Mapping[str, Any] | None
) -> dict[str, str]:
    """The ``encryptionConfiguration`` a new repository gets (AES256 by default).

    KMS/KMS_DSSE without ``kmsKey`` use the registry's AWS managed key (one stable
    ``arn:aws:kms:<region>:<account>:key/<uuid>`` per registry); a given key is echoed.
    """
    if not config:
        return {"encryptionType": "AES256"}
    kind = config.get("encryptionType")
    key = config.get("kmsKey")
    if kind not in ENCRYPTION_TYPES:
        raise InvalidParameter(
            "Invalid parameter at 'encryptionType' failed to satisfy constraint: 'Member must "
            "satisfy enum value set: [" + ", ".join(ENCRYPTION_TYPES) + "]'"
        )
    if kind == "AES256":
        if key is not None:
            raise InvalidParameter(
                "Invalid parameter at 'encryptionConfiguration' failed to satisfy constraint: "
                "'kmsKey can only be specified when encryptionType is KMS or KMS_DSSE'"
            )
        return {"encryptionType": kind}
    if key is None:
        with store.lock:
            if reg.aws_managed_kms_key is None:
                reg.aws_managed_kms_key = (
                    f"arn:aws:kms:{reg.region}:{reg.account}:key/{uuid.uuid4()}"
                )
            managed = reg.aws_managed_kms_key
        return {"encryptionType": str(kind), "kmsKey": managed}
    match = _KMS_ARN_RE.fullmatch(str(key))
    if match is not None and match["region"] != reg.region:
        raise KmsError(
            f"The KMS key '{key}' is not in the region of the repository ('{reg.region}')",
            kmsError="NotFoundException",
        )
    return {"encryptionType": str(kind), "kmsKey": str(key)}


def check_resource_tags(tags: Mapping[str, str], existing: Mapping[str, str] | None = None) -> None:
    """ECR's resource tag rules: keys 1-128, values 0-256, no ``aws:`` keys, at most 50."""
    for key, value in tags.items():
        if not 1 <= len(key) <= MAX_TAG_KEY or len(value) > MAX_TAG_VALUE:
            raise InvalidTagParameter(_TAG_LENGTH_MESSAGE)
        if key.lower().startswith("aws:"):
            raise InvalidTagParameter(
                "An invalid parameter has been specified. Tag keys prefixed with 'aws:' are "
                "reserved for use by AWS."
            )
    total = len(set(tags) | set(existing or {}))
    if total > MAX_RESOURCE_TAGS:
        raise TooManyTags(
            f"A resource can have at most {MAX_RESOURCE_TAGS} tags; the request would leave "
            f"{total} tags on it."
        )


def tag_repository(store: Store, repo: Repository, tags: Mapping[str, str]) -> None:
    """TagResource: add or overwrite tags (all or nothing)."""
    with store.lock:
        check_resource_tags(tags, repo.resource_tags)
        repo.resource_tags.update(tags)


def untag_repository(store: Store, repo: Repository, keys: Iterable[str]) -> None:
    """UntagResource: remove tags; absent keys are ignored, ``aws:`` keys refused."""
    keys = list(keys)
    for key in keys:
        if key.lower().startswith("aws:"):
            raise InvalidTagParameter(
                "An invalid parameter has been specified. Tag keys prefixed with 'aws:' are "
                "reserved for use by AWS."
            )
    with store.lock:
        for key in keys:
            repo.resource_tags.pop(key, None)
