"""Repository creation templates: their rules, storage per registry, and applying them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from ecr_mock.domain.errors import (
    InvalidParameter,
    InvalidTagParameter,
    LimitExceeded,
    RepositoryAlreadyExists,
    TemplateAlreadyExists,
    TemplateNotFound,
    TooManyTags,
)
from ecr_mock.domain.iam_policy import PolicyParseError, validate_repository_policy
from ecr_mock.domain.lifecycle_rules import parse_lifecycle_policy
from ecr_mock.domain.models import (
    MUTABLE,
    ROOT,
    CreationTemplate,
    Registry,
    Repository,
    TemplateSettings,
)
from ecr_mock.services.repositories import (
    check_resource_tags,
    check_tag_mutability,
    create_repository,
    get_repository,
    resolve_encryption,
)

if TYPE_CHECKING:
    from ecr_mock.store.state import Store

REPLICATION = "REPLICATION"
PULL_THROUGH_CACHE = "PULL_THROUGH_CACHE"
CREATE_ON_PUSH = "CREATE_ON_PUSH"
APPLIED_FOR = (REPLICATION, PULL_THROUGH_CACHE, CREATE_ON_PUSH)
MAX_TEMPLATES = 100
"""The model publishes no quota; the emulator caps templates per registry here."""
MAX_POLICY_CHARS = 10_240
MAX_LIFECYCLE_CHARS = 30_720
MAX_DESCRIPTION_CHARS = 256
ENCRYPTION_TYPES = ("AES256", "KMS", "KMS_DSSE")

PREFIX_RE = re.compile(
    r"([a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*/?|ROOT)"
)
ROLE_ARN_RE = re.compile(r"arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]+")
_KMS_KEY_RE = re.compile(r"arn:aws[a-z0-9-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-z0-9-]+")
_STORE = "repository_creation_templates"


def templates(reg: Registry) -> dict[str, CreationTemplate]:
    """The templates of a registry by prefix (created empty on first use)."""
    return reg.creation_templates


# ----- validation ------------------------------------------------------------------------------


def _invalid(where: str, detail: str) -> InvalidParameter:
    return InvalidParameter(
        f"Invalid parameter at '{where}' failed to satisfy constraint: '{detail}'"
    )


def check_prefix(prefix: str) -> None:
    """``ROOT`` or a repository namespace (1-256 characters of the repository name pattern)."""
    if not 1 <= len(prefix) <= 256 or PREFIX_RE.fullmatch(prefix) is None:
        raise _invalid("prefix", "Invalid repository creation template prefix")


def check_role_arn(arn: str, where: str = "customRoleArn") -> None:
    """An IAM role ARN, at most 2,048 characters."""
    if len(arn) > 2048 or ROLE_ARN_RE.fullmatch(arn) is None:
        raise _invalid(where, "Invalid role ARN")


def _check_settings(store: Store, settings: TemplateSettings) -> None:
    if settings.applied_for is not None:
        if not settings.applied_for:
            raise _invalid("appliedFor", "Member must have length greater than or equal to 1")
        for item in settings.applied_for:
            if item not in APPLIED_FOR:
                raise _invalid(
                    "appliedFor",
                    "Member must satisfy enum value set: [" + ", ".join(APPLIED_FOR) + "]",
                )
    if settings.description is not None and len(settings.description) > MAX_DESCRIPTION_CHARS:
        raise _invalid("description", "Member must have length less than or equal to 256")
    if settings.encryption is not None:
        kind = settings.encryption.get("encryptionType")
        key = settings.encryption.get("kmsKey")
        if kind not in ENCRYPTION_TYPES:
            raise _invalid(
                "encryptionType",
                "Member must satisfy enum value set: [" + ", ".join(ENCRYPTION_TYPES) + "]",
            )
        if key and kind == "AES256":
            raise _invalid(
                "encryptionConfiguration",
                "kmsKey can only be specified when encryptionType is KMS or KMS_DSSE",
            )
        if key and _KMS_KEY_RE.fullmatch(key) is None:
            raise _invalid("kmsKey", "Invalid KMS key ARN")
    if settings.tag_mutability is not None or settings.mutability_exclusions is not None:
        check_tag_mutability(settings.tag_mutability or MUTABLE, settings.mutability_exclusions)
    if settings.resource_tags is not None:
        # The template operations model neither InvalidTagParameterException nor
        # TooManyTagsException: a bad tag is an InvalidParameterException at 'resourceTags'.
        try:
            check_resource_tags(settings.resource_tags)
        except (InvalidTagParameter, TooManyTags) as exc:
            raise _invalid("resourceTags", exc.message) from None
    if settings.repository_policy:
        if len(settings.repository_policy) > MAX_POLICY_CHARS:
            raise _invalid(
                "repositoryPolicy", "Member must have length less than or equal to 10240"
            )
        try:
            validate_repository_policy(settings.repository_policy)
        except PolicyParseError:
            raise _invalid("PolicyText", "Invalid repository policy provided") from None
    if settings.lifecycle_policy:
        if len(settings.lifecycle_policy) > MAX_LIFECYCLE_CHARS:
            raise _invalid("lifecyclePolicy", "Member must have length less than or equal to 30720")
        parse_lifecycle_policy(settings.lifecycle_policy)
    if settings.custom_role_arn:
        check_role_arn(settings.custom_role_arn)


# ----- CRUD ------------------------------------------------------------------------------------


def create_template(
    store: Store, reg: Registry, prefix: str, settings: TemplateSettings
) -> CreationTemplate:
    """CreateRepositoryCreationTemplate: validate, then store under ``prefix``."""
    check_prefix(prefix)
    if settings.applied_for is None:
        raise _invalid("appliedFor", "Member must not be null")
    _check_settings(store, settings)
    now = store.now()
    template = CreationTemplate(
        prefix=prefix,
        applied_for=list(dict.fromkeys(settings.applied_for)),
        created_at=now,
        updated_at=now,
        description=settings.description,
        encryption=dict(settings.encryption or {"encryptionType": "AES256"}),
        resource_tags=dict(settings.resource_tags or {}),
        tag_mutability=settings.tag_mutability or MUTABLE,
        mutability_exclusions=[dict(f) for f in settings.mutability_exclusions or []],
        repository_policy=settings.repository_policy or None,
        lifecycle_policy=settings.lifecycle_policy or None,
        custom_role_arn=settings.custom_role_arn or None,
    )
    with store.lock:
        existing = templates(reg)
        if prefix in existing:
            raise TemplateAlreadyExists(prefix, reg.account)
        if len(existing) >= MAX_TEMPLATES:
            raise LimitExceeded(
                f"The maximum number of repository creation templates ({MAX_TEMPLATES}) in the "
                f"registry with id '{reg.account}' has been reached"
            )
        existing[prefix] = template
    return template


def get_template(reg: Registry, prefix: str) -> CreationTemplate:
    """The template of ``prefix``; TemplateNotFound otherwise."""
    found = templates(reg).get(prefix)
    if found is None:
        raise TemplateNotFound(prefix, reg.account)
    return found


def update_template(
    store: Store, reg: Registry, prefix: str, settings: TemplateSettings
) -> CreationTemplate:
    """UpdateRepositoryCreationTemplate: the given settings replace the stored ones."""
    check_prefix(prefix)
    with store.lock:
        current = get_template(reg, prefix)
    mutability = settings.tag_mutability or current.tag_mutability
    exclusions = settings.mutability_exclusions
    if settings.tag_mutability is None and exclusions is None:
        exclusions = current.mutability_exclusions or None
    _check_settings(
        store, replace(settings, tag_mutability=mutability, mutability_exclusions=exclusions)
    )
    with store.lock:
        template = get_template(reg, prefix)
        if settings.applied_for is not None:
            template.applied_for = list(dict.fromkeys(settings.applied_for))
        if settings.description is not None:
            template.description = settings.description
        if settings.encryption is not None:
            template.encryption = dict(settings.encryption)
        if settings.resource_tags is not None:
            template.resource_tags = dict(settings.resource_tags)
        if settings.tag_mutability is not None or settings.mutability_exclusions is not None:
            template.tag_mutability = mutability
            template.mutability_exclusions = [dict(f) for f in exclusions or []]
        if settings.repository_policy is not None:
            template.repository_policy = settings.repository_policy or None
        if settings.lifecycle_policy is not None:
            template.lifecycle_policy = settings.lifecycle_policy or None
        if settings.custom_role_arn is not None:
            template.custom_role_arn = settings.custom_role_arn or None
        template.updated_at = store.now()
    return template


def delete_template(store: Store, reg: Registry, prefix: str) -> CreationTemplate:
    """DeleteRepositoryCreationTemplate: remove and return the template."""
    with store.lock:
        template = get_template(reg, prefix)
        del templates(reg)[prefix]
    return template


def describe_templates(
    reg: Registry, prefixes: Iterable[str] | None = None
) -> list[CreationTemplate]:
    """The named templates that exist (all of them when ``prefixes`` is empty), by prefix."""
    existing = templates(reg)
    wanted = list(prefixes or [])
    if wanted:
        return [existing[p] for p in dict.fromkeys(wanted) if p in existing]
    return [existing[p] for p in sorted(existing)]


# ----- applying --------------------------------------------------------------------------------


def find_template(reg: Registry, name: str, applied_for: str) -> CreationTemplate | None:
    """The template ECR applies to a repository ``name`` it creates for ``applied_for``.

    The longest prefix whose namespace holds the name wins; ``ROOT`` is the fallback.
    """
    best: CreationTemplate | None = None
    root: CreationTemplate | None = None
    for template in templates(reg).values():
        if applied_for not in template.applied_for or not template.covers(name):
            continue
        if template.prefix == ROOT:
            root = template
        elif best is None or len(template.prefix.rstrip("/")) > len(best.prefix.rstrip("/")):
            best = template
    return best or root


def create_from_template(
    store: Store,
    reg: Registry,
    name: str,
    applied_for: str,
    template: CreationTemplate | None = None,
) -> Repository:
    """Create repository ``name`` the way ECR does on its own behalf.

    The matching template (or ``template``) gives tag mutability, encryption, resource tags,
    repository and lifecycle policies; without one the repository gets the defaults. When the
    repository appeared meanwhile (a concurrent creation) that repository is returned.
    """
    template = template or find_template(reg, name, applied_for)
    try:
        if template is None:
            repo = create_repository(store, reg, name)
        else:
            repo = create_repository(
                store,
                reg,
                name,
                tag_mutability=template.tag_mutability,
                mutability_exclusions=template.mutability_exclusions,
                encryption=resolve_encryption(store, reg, template.encryption),
                tags=template.resource_tags,
            )
    except RepositoryAlreadyExists:
        return get_repository(store, reg, name)
    with store.lock:
        if template is not None:
            repo.policy_text = template.repository_policy
            if template.lifecycle_policy:
                repo.lifecycle_policy_text = template.lifecycle_policy
                repo.lifecycle_updated_at = store.now()
    return repo


def create_on_push(store: Store, reg: Registry, name: str) -> Repository | None:
    """The repository a ``/v2/`` push to missing ``name`` creates, when a CREATE_ON_PUSH
    template covers the name; None otherwise (the push then fails with NAME_UNKNOWN)."""
    existing = reg.repositories.get(name)
    if existing is not None:
        return existing
    template = find_template(reg, name, CREATE_ON_PUSH)
    if template is None:
        return None
    return create_from_template(store, reg, name, CREATE_ON_PUSH, template)
