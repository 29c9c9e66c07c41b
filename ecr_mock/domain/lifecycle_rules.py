"""Amazon ECR lifecycle policies: validating policy text and choosing the images rules act on."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ecr_mock.domain.errors import (
    LifecyclePolicyError,
)
from ecr_mock.domain.wildcards import wildcard_source

__all__ = [
    "MAX_RULES",
    "LifecycleAction",
    "LifecycleImage",
    "LifecyclePolicyError",
    "LifecycleRule",
    "evaluate",
    "parse_lifecycle_policy",
]

MAX_RULES = 50
MAX_RULE_PRIORITY = 999
MAX_WILDCARDS = 4
MIN_ARCHIVE_DAYS = 90

TAG_STATUSES = ("any", "tagged", "untagged")
COUNT_TYPES = (
    "imageCountMoreThan",
    "sinceImagePushed",
    "sinceImagePulled",
    "sinceImageTransitioned",
)
SINCE_COUNT_TYPES = frozenset(COUNT_TYPES[1:])
COUNT_UNITS = ("days",)
ACTION_TYPES = ("expire", "transition")
TARGET_STORAGE_CLASSES = ("archive",)
STORAGE_CLASSES = ("archive", "standard")

_TOP_REQUIRED = frozenset({"rules"})
_RULE_REQUIRED = frozenset({"rulePriority", "selection", "action"})
_RULE_ALLOWED = _RULE_REQUIRED | {"description"}
_SELECTION_REQUIRED = frozenset({"tagStatus", "countType", "countNumber"})
_SELECTION_ALLOWED = _SELECTION_REQUIRED | {
    "tagPrefixList",
    "tagPatternList",
    "storageClass",
    "countUnit",
}
_ACTION_ALLOWED = frozenset({"type", "targetStorageClass"})


@dataclass(frozen=True)
class LifecycleRule:
    """One validated rule; ``storage_class`` is the selection's class (``standard``/``archive``)."""

    priority: int
    description: str | None
    tag_status: str
    tag_prefixes: tuple[str, ...]
    tag_patterns: tuple[str, ...]
    count_type: str
    count_unit: str | None
    count_number: int
    action: str
    target_storage_class: str | None
    storage_class: str = "standard"


@dataclass(frozen=True)
class LifecycleImage:
    """What evaluation needs to know about one image in the repository."""

    digest: str
    tags: tuple[str, ...]
    pushed_at: datetime
    last_pulled_at: datetime | None = None
    transitioned_at: datetime | None = None
    storage_class: str = "STANDARD"
    referenced_by_index: bool = False


@dataclass(frozen=True)
class LifecycleAction:
    """One image a rule expires or transitions."""

    digest: str
    tags: tuple[str, ...]
    pushed_at: datetime
    rule: LifecycleRule
    action: str
    target_storage_class: str | None


# --------------------------------------------------------------------------- validation


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _names(values: Sequence[str] | frozenset[str] | set[str]) -> str:
    return json.dumps(sorted(values))


def _expect_type(value: Any, expected: str) -> None:
    if _json_type(value) != expected:
        raise LifecyclePolicyError(
            f"instance type ({_json_type(value)}) does not match any allowed primitive type "
            f'(allowed: ["{expected}"])'
        )


def _check_members(obj: dict[str, Any], required: frozenset[str], allowed: frozenset[str]) -> None:
    missing = required - obj.keys()
    if missing:
        raise LifecyclePolicyError(f"object has missing required properties ({_names(missing)})")
    extra = obj.keys() - allowed
    if extra:
        raise LifecyclePolicyError(
            f"object instance has properties which are not allowed by the schema: ({_names(extra)})"
        )


def _check_enum(value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise LifecyclePolicyError(
            f"instance value ({value}) not found in enum :(possible values: {_names(allowed)})"
        )


def _check_minimum(value: int, minimum: int) -> None:
    if value < minimum:
        raise LifecyclePolicyError(
            f"numeric instance is lower than the required minimum (minimum: {minimum}, found: {value})"
        )


def _check_maximum(value: int, maximum: int) -> None:
    if value > maximum:
        raise LifecyclePolicyError(
            "numeric instance is greater than the required maximum "
            f"(maximum: {maximum}, found: {value})"
        )


def _string_list(value: Any) -> tuple[str, ...]:
    _expect_type(value, "array")
    if not value:
        raise LifecyclePolicyError(
            "array is too short: must have at least 1 elements but instance has 0 elements"
        )
    for item in value:
        _expect_type(item, "string")
    return tuple(value)


def _parse_action(action: Any) -> tuple[str, str | None]:
    _expect_type(action, "object")
    _check_members(action, frozenset({"type"}), _ACTION_ALLOWED)
    action_type = action["type"]
    _expect_type(action_type, "string")
    _check_enum(action_type, ACTION_TYPES)
    if action_type == "expire":
        if "targetStorageClass" in action:
            raise LifecyclePolicyError(
                "object instance has properties which are not allowed by the schema: "
                '(["targetStorageClass"])'
            )
        return action_type, None
    if "targetStorageClass" not in action:
        raise LifecyclePolicyError(
            'object has missing required properties (["targetStorageClass"])'
        )
    target = action["targetStorageClass"]
    _expect_type(target, "string")
    _check_enum(target, TARGET_STORAGE_CLASSES)
    return action_type, str(target)


def _parse_rule(rule: Any) -> LifecycleRule:
    _expect_type(rule, "object")
    _check_members(rule, _RULE_REQUIRED, _RULE_ALLOWED)

    priority = rule["rulePriority"]
    _expect_type(priority, "integer")
    _check_minimum(priority, 1)
    _check_maximum(priority, MAX_RULE_PRIORITY)

    description = rule.get("description")
    if description is not None:
        _expect_type(description, "string")

    selection = rule["selection"]
    _expect_type(selection, "object")
    _check_members(selection, _SELECTION_REQUIRED, _SELECTION_ALLOWED)

    tag_status = selection["tagStatus"]
    _expect_type(tag_status, "string")
    _check_enum(tag_status, TAG_STATUSES)

    storage_class = selection.get("storageClass", "standard")
    _expect_type(storage_class, "string")
    _check_enum(storage_class, STORAGE_CLASSES)

    count_type = selection["countType"]
    if count_type not in COUNT_TYPES:
        raise LifecyclePolicyError(
            "instance failed to match exactly one schema (matched 0 out of 2)"
        )
    count_unit = selection.get("countUnit")
    if count_unit is not None:
        _expect_type(count_unit, "string")
        _check_enum(count_unit, COUNT_UNITS)
    if (count_unit is None) == (count_type in SINCE_COUNT_TYPES):
        raise LifecyclePolicyError(
            "instance failed to match exactly one schema (matched 0 out of 2)"
        )

    count_number = selection["countNumber"]
    _expect_type(count_number, "integer")
    _check_minimum(count_number, 1)

    action_type, target = _parse_action(rule["action"])

    prefixes: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    if "tagPrefixList" in selection:
        prefixes = _string_list(selection["tagPrefixList"])
    if "tagPatternList" in selection:
        patterns = _string_list(selection["tagPatternList"])
    if tag_status == "tagged":
        if not prefixes and not patterns:
            raise LifecyclePolicyError(
                "Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED."
            )
        if prefixes and patterns:
            raise LifecyclePolicyError(
                "Cannot specify both tagPrefixList and tagPatternList in the same rule."
            )
    elif prefixes or patterns:
        raise LifecyclePolicyError(
            "tagPrefixList and tagPatternList can only be specified when tagStatus=TAGGED."
        )
    for pattern in patterns:
        if pattern.count("*") > MAX_WILDCARDS:
            raise LifecyclePolicyError(
                f"Tag pattern {pattern} contains more than {MAX_WILDCARDS} wildcards."
            )

    if count_type == "sinceImagePulled" and action_type != "transition":
        raise LifecyclePolicyError(
            "countType=sinceImagePulled can only be used with a transition action."
        )
    if count_type == "sinceImageTransitioned":
        if action_type != "expire":
            raise LifecyclePolicyError(
                "countType=sinceImageTransitioned can only be used with an expire action."
            )
        if storage_class != "archive":
            raise LifecyclePolicyError(
                "countType=sinceImageTransitioned requires storageClass=archive."
            )
        _check_minimum(count_number, MIN_ARCHIVE_DAYS)
    elif storage_class == "archive":
        raise LifecyclePolicyError(
            "storageClass=archive can only be used with countType=sinceImageTransitioned."
        )

    return LifecycleRule(
        priority=priority,
        description=description,
        tag_status=tag_status,
        tag_prefixes=prefixes,
        tag_patterns=patterns,
        count_type=count_type,
        count_unit=count_unit,
        count_number=count_number,
        action=action_type,
        target_storage_class=target,
        storage_class=storage_class,
    )


def _check_rule_set(rules: Sequence[LifecycleRule]) -> None:
    seen: set[int] = set()
    for rule in rules:
        if rule.priority in seen:
            raise LifecyclePolicyError(
                f"Rule priority {rule.priority} is used by more than one rule."
            )
        seen.add(rule.priority)
    for storage_class in STORAGE_CLASSES:
        same_class = [rule for rule in rules if rule.storage_class == storage_class]
        if sum(rule.tag_status == "untagged" for rule in same_class) > 1:
            raise LifecyclePolicyError(
                "Only one rule can select Untagged images per storage class."
            )
        if not same_class:
            continue
        last = max(rule.priority for rule in same_class)
        if any(rule.tag_status == "any" and rule.priority != last for rule in same_class):
            raise LifecyclePolicyError(
                "Rule for tagStatus=ANY must have the lowest priority per storage class."
            )


def parse_lifecycle_policy(text: str) -> list[LifecycleRule]:
    """Validate lifecycle policy JSON and return its rules, lowest ``rulePriority`` first.

    Every failure raises :class:`LifecyclePolicyError`, whose message is
    ``Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint:
    'Lifecycle policy validation failure: <detail>'``. Checks run in this order and
    the first failure wins:

    1. The text is JSON and its top level is an object, else
       ``Could not map policyString into LifecyclePolicy.``
    2. Objects carry their required members and no others (schema style):
       ``object has missing required properties (["rules"])`` and
       ``object instance has properties which are not allowed by the schema: (["x"])``.
       Top level: ``rules``. Rule: ``rulePriority``, ``selection``, ``action``
       (``description`` optional). Selection: ``tagStatus``, ``countType``,
       ``countNumber`` (``tagPrefixList``, ``tagPatternList``, ``storageClass``,
       ``countUnit`` optional). Action: ``type`` (``targetStorageClass`` required
       for ``transition``, not allowed for ``expire``).
    3. Members have their JSON types (integers exclude booleans and floats):
       ``instance type (string) does not match any allowed primitive type (allowed: ["integer"])``.
    4. ``rules`` holds 1..50 rules (``array is too short: ...`` / ``array is too long: ...``).
    5. ``rulePriority`` is 1..999 (``numeric instance is lower than the required minimum
       (minimum: 1, found: 0)`` / ``... greater than the required maximum ...``).
    6. ``tagStatus`` is ``tagged``/``untagged``/``any``; ``storageClass`` is
       ``standard``/``archive``; ``countUnit`` is ``days``; ``action.type`` is
       ``expire``/``transition``; ``targetStorageClass`` is ``archive``
       (``instance value (x) not found in enum :(possible values: [...])``).
    7. ``countType`` is ``imageCountMoreThan``, ``sinceImagePushed``,
       ``sinceImagePulled`` or ``sinceImageTransitioned``; ``countUnit`` must be
       present for the ``since*`` types and absent for ``imageCountMoreThan``; either
       failure reads ``instance failed to match exactly one schema (matched 0 out of 2)``.
    8. ``countNumber`` >= 1; for ``sinceImageTransitioned`` >= 90 (archived images
       have a 90-day minimum storage duration).
    9. ``tagged`` needs ``tagPrefixList`` or ``tagPatternList``
       (``Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED.``), not
       both; ``untagged`` and ``any`` take neither. Lists hold at least one string;
       each pattern has at most 4 ``*`` wildcards.
    10. ``sinceImagePulled`` only with ``transition``; ``sinceImageTransitioned`` only
        with ``expire`` and ``storageClass: archive``; ``storageClass: archive`` only
        with ``sinceImageTransitioned``.
    11. ``rulePriority`` values are unique.
    12. Per storage class: at most one rule selects ``untagged`` images
        (``Only one rule can select Untagged images per storage class.``), and a rule
        with ``tagStatus: any`` has the highest ``rulePriority`` of that class's rules
        (``Rule for tagStatus=ANY must have the lowest priority per storage class.``).
        Both are per storage class: AWS's own archive example pairs an ``any``
        transition rule with an ``any`` archive-expiry rule.

    Texts taken from real ECR responses (via moto and user reports): items 1, 2, 3,
    5, 6, 7, 8 (minimum 1), 9 (the TAGGED text) and 12. The remaining details are this
    module's wording. Not enforced: AWS's note that "the set of all rules selecting a
    specific storage class must contain a unique set of prefixes" (its exact scope is
    undocumented).
    """
    try:
        document = json.loads(text)
    except (TypeError, ValueError, RecursionError):
        document = None
    if not isinstance(document, dict):
        raise LifecyclePolicyError("Could not map policyString into LifecyclePolicy.")
    _check_members(document, _TOP_REQUIRED, _TOP_REQUIRED)
    raw_rules = document["rules"]
    _expect_type(raw_rules, "array")
    if not raw_rules:
        raise LifecyclePolicyError(
            "array is too short: must have at least 1 elements but instance has 0 elements"
        )
    if len(raw_rules) > MAX_RULES:
        raise LifecyclePolicyError(
            f"array is too long: must have at most {MAX_RULES} elements "
            f"but instance has {len(raw_rules)} elements"
        )
    rules = [_parse_rule(raw) for raw in raw_rules]
    _check_rule_set(rules)
    return sorted(rules, key=lambda rule: rule.priority)


# --------------------------------------------------------------------------- evaluation


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(wildcard_source(pattern), re.DOTALL)


def _tags_match(rule: LifecycleRule, tags: tuple[str, ...]) -> bool:
    if rule.tag_status == "any":
        return True
    if rule.tag_status == "untagged":
        return not tags
    if not tags:
        return False
    if rule.tag_patterns:
        regexes = [_pattern_regex(pattern) for pattern in rule.tag_patterns]
        return all(any(regex.fullmatch(tag) for tag in tags) for regex in regexes)
    return all(any(tag.startswith(prefix) for tag in tags) for prefix in rule.tag_prefixes)


def _matches(rule: LifecycleRule, image: LifecycleImage) -> bool:
    return image.storage_class.lower() == rule.storage_class and _tags_match(rule, image.tags)


def _newest_first(image: LifecycleImage) -> tuple[datetime, str]:
    return image.pushed_at, image.digest


def _age_reference(rule: LifecycleRule, image: LifecycleImage) -> datetime | None:
    if rule.count_type == "sinceImagePushed":
        return image.pushed_at
    if rule.count_type == "sinceImagePulled":
        return image.last_pulled_at or image.pushed_at
    return image.transitioned_at


def _selected(
    rule: LifecycleRule, matched: list[LifecycleImage], now: datetime
) -> list[LifecycleImage]:
    if rule.count_type == "imageCountMoreThan":
        newest = sorted(matched, key=_newest_first, reverse=True)
        return newest[rule.count_number :]
    limit = timedelta(days=rule.count_number)
    chosen = []
    for image in matched:
        reference = _age_reference(rule, image)
        if reference is not None and now - reference > limit:
            chosen.append(image)
    return chosen


def evaluate(
    rules: Sequence[LifecycleRule], images: Sequence[LifecycleImage], now: datetime
) -> list[LifecycleAction]:
    """Return the actions a lifecycle policy takes on ``images`` at ``now``, as ECR applies them.

    Rules are taken lowest ``rulePriority`` first. A rule *matches* an image when the
    image's storage class equals the rule's ``storageClass`` (default ``standard``)
    and its tags fit ``tagStatus``: ``any`` fits all, ``untagged`` fits images with no
    tag, ``tagged`` fits images where every prefix (or pattern) in the list matches at
    least one of the image's tags. The rule's count criterion is computed over all
    matched images, including ones claimed by earlier rules:
    ``imageCountMoreThan N`` keeps the newest N by push time and selects the rest;
    ``sinceImagePushed``/``sinceImagePulled``/``sinceImageTransitioned N`` select
    images whose push time / last pull (push time if never pulled) / last
    transition is strictly more than N days before ``now`` (an archived image with no
    transition time is never selected). Selected images not claimed by an earlier
    rule and not referenced by a manifest list or index are acted on; then every
    matched image becomes claimed, so later rules can count it but never act on it.
    Actions are ordered by rule priority, then push time (oldest first), then digest.
    """
    claimed: set[str] = set()
    actions: list[LifecycleAction] = []
    for rule in sorted(rules, key=lambda r: r.priority):
        matched = [image for image in images if _matches(rule, image)]
        chosen = [
            image
            for image in _selected(rule, matched, now)
            if image.digest not in claimed and not image.referenced_by_index
        ]
        for image in sorted(chosen, key=_newest_first):
            actions.append(
                LifecycleAction(
                    digest=image.digest,
                    tags=image.tags,
                    pushed_at=image.pushed_at,
                    rule=rule,
                    action=rule.action,
                    target_storage_class=rule.target_storage_class,
                )
            )
        claimed.update(image.digest for image in matched)
    return actions
