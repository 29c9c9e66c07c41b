"""Tests for lifecycle policy validation and evaluation."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from ecr_mock.domain.errors import InvalidParameter
from ecr_mock.domain.lifecycle_rules import (
    LifecycleImage,
    LifecyclePolicyError,
    LifecycleRule,
    evaluate,
    parse_lifecycle_policy,
)

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)
PREFIX = (
    "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: "
    "'Lifecycle policy validation failure: "
)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def image(
    name: str,
    tags: tuple[str, ...] = (),
    pushed_days_ago: float = 1,
    **kwargs: Any,
) -> LifecycleImage:
    return LifecycleImage(
        digest=f"sha256:{name}", tags=tags, pushed_at=days_ago(pushed_days_ago), **kwargs
    )


def rule(
    priority: int = 1,
    *,
    tag_status: str = "untagged",
    count_type: str = "imageCountMoreThan",
    count_number: int = 1,
    action: dict[str, Any] | None = None,
    **selection_extra: Any,
) -> dict[str, Any]:
    selection: dict[str, Any] = {
        "tagStatus": tag_status,
        "countType": count_type,
        "countNumber": count_number,
    }
    if count_type != "imageCountMoreThan":
        selection["countUnit"] = "days"
    selection.update(selection_extra)
    return {
        "rulePriority": priority,
        "selection": selection,
        "action": action or {"type": "expire"},
    }


ARCHIVE_UNPULLED_90_DAYS = rule(
    1,
    tag_status="any",
    count_type="sinceImagePulled",
    count_number=90,
    action={"type": "transition", "targetStorageClass": "archive"},
)
"""AWS's example: archive any image not pulled for 90 days."""


def policy(*rules: dict[str, Any]) -> str:
    return json.dumps({"rules": list(rules)})


def run(text: str, images: list[LifecycleImage]) -> list[tuple[str, int, str]]:
    actions = evaluate(parse_lifecycle_policy(text), images, NOW)
    return [(a.digest.removeprefix("sha256:"), a.rule.priority, a.action) for a in actions]


def expired(text: str, images: list[LifecycleImage]) -> list[str]:
    return [digest for digest, _, _ in run(text, images)]


def error_detail(text: str) -> str:
    with pytest.raises(LifecyclePolicyError) as info:
        parse_lifecycle_policy(text)
    message = str(info.value)
    assert message.startswith(PREFIX)
    assert message.endswith("'")
    assert info.value.code == "InvalidParameterException"
    return message[len(PREFIX) : -1]


# --------------------------------------------------------------------------- parsing


def test_parse_returns_typed_rules_sorted_by_priority() -> None:
    text = policy(
        rule(
            5,
            tag_status="tagged",
            tagPrefixList=["prod", "v"],
            count_type="sinceImagePushed",
            count_number=14,
        ),
        {**rule(2), "description": "keep one untagged"},
    )
    rules = parse_lifecycle_policy(text)
    assert rules == [
        LifecycleRule(
            2,
            "keep one untagged",
            "untagged",
            (),
            (),
            "imageCountMoreThan",
            None,
            1,
            "expire",
            None,
            "standard",
        ),
        LifecycleRule(
            5,
            None,
            "tagged",
            ("prod", "v"),
            (),
            "sinceImagePushed",
            "days",
            14,
            "expire",
            None,
            "standard",
        ),
    ]


def test_parse_accepts_the_aws_archive_then_expire_example() -> None:
    text = policy(
        ARCHIVE_UNPULLED_90_DAYS,
        rule(
            2,
            tag_status="any",
            count_type="sinceImageTransitioned",
            count_number=365,
            storageClass="archive",
        ),
    )
    first, second = parse_lifecycle_policy(text)
    assert (first.action, first.target_storage_class, first.storage_class) == (
        "transition",
        "archive",
        "standard",
    )
    assert (second.action, second.count_type, second.storage_class) == (
        "expire",
        "sinceImageTransitioned",
        "archive",
    )


def test_parse_error_message_is_the_full_ecr_text() -> None:
    with pytest.raises(LifecyclePolicyError) as info:
        parse_lifecycle_policy("nope")
    assert str(info.value) == (
        "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: "
        "'Lifecycle policy validation failure: Could not map policyString into LifecyclePolicy.'"
    )
    assert info.value.detail == "Could not map policyString into LifecyclePolicy."
    assert isinstance(info.value, InvalidParameter)
    assert (info.value.code, info.value.status) == ("InvalidParameterException", 400)


def too_many_rules() -> str:
    return policy(*[rule(i, tag_status="tagged", tagPrefixList=[f"t{i}"]) for i in range(1, 52)])


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("not json", "Could not map policyString into LifecyclePolicy."),
        ("[]", "Could not map policyString into LifecyclePolicy."),
        ('{"no_rules": []}', 'object has missing required properties (["rules"])'),
        (
            '{"rules": [], "x": 1}',
            'object instance has properties which are not allowed by the schema: (["x"])',
        ),
        (
            '{"rules": {}}',
            'instance type (object) does not match any allowed primitive type (allowed: ["array"])',
        ),
        (
            '{"rules": []}',
            "array is too short: must have at least 1 elements but instance has 0 elements",
        ),
        (
            too_many_rules(),
            "array is too long: must have at most 50 elements but instance has 51 elements",
        ),
        (
            '{"rules": ["r"]}',
            'instance type (string) does not match any allowed primitive type (allowed: ["object"])',
        ),
    ],
    ids=[
        "not-json",
        "not-object",
        "no-rules",
        "unknown-top-field",
        "rules-not-array",
        "zero-rules",
        "fifty-one-rules",
        "rule-not-object",
    ],
)
def test_document_shape_errors(text: str, detail: str) -> None:
    assert error_detail(text) == detail


def without(mapping: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k != key}


BASE = rule(1)
SEL = BASE["selection"]


@pytest.mark.parametrize(
    ("bad_rule", "detail"),
    [
        (
            without(BASE, "rulePriority"),
            'object has missing required properties (["rulePriority"])',
        ),
        ({"rulePriority": 1}, 'object has missing required properties (["action", "selection"])'),
        (
            {**BASE, "extra": 1},
            'object instance has properties which are not allowed by the schema: (["extra"])',
        ),
        (
            {**BASE, "rulePriority": "1"},
            'instance type (string) does not match any allowed primitive type (allowed: ["integer"])',
        ),
        (
            {**BASE, "rulePriority": True},
            'instance type (boolean) does not match any allowed primitive type (allowed: ["integer"])',
        ),
        (
            {**BASE, "rulePriority": 1.5},
            'instance type (number) does not match any allowed primitive type (allowed: ["integer"])',
        ),
        (
            {**BASE, "rulePriority": 0},
            "numeric instance is lower than the required minimum (minimum: 1, found: 0)",
        ),
        (
            {**BASE, "rulePriority": 1000},
            "numeric instance is greater than the required maximum (maximum: 999, found: 1000)",
        ),
        (
            {**BASE, "description": 7},
            'instance type (integer) does not match any allowed primitive type (allowed: ["string"])',
        ),
        (
            {**BASE, "selection": without(SEL, "tagStatus")},
            'object has missing required properties (["tagStatus"])',
        ),
        (
            {**BASE, "selection": without(SEL, "countType")},
            'object has missing required properties (["countType"])',
        ),
        (
            {**BASE, "selection": without(SEL, "countNumber")},
            'object has missing required properties (["countNumber"])',
        ),
        (
            {**BASE, "selection": {**SEL, "colour": "red"}},
            'object instance has properties which are not allowed by the schema: (["colour"])',
        ),
        (
            {**BASE, "selection": {**SEL, "tagStatus": "all"}},
            'instance value (all) not found in enum :(possible values: ["any", "tagged", "untagged"])',
        ),
        (
            {**BASE, "selection": {**SEL, "storageClass": "cold"}},
            'instance value (cold) not found in enum :(possible values: ["archive", "standard"])',
        ),
        (
            {**BASE, "selection": {**SEL, "countType": "imageCountLessThan"}},
            "instance failed to match exactly one schema (matched 0 out of 2)",
        ),
        (
            {**BASE, "selection": {**SEL, "countUnit": "days"}},
            "instance failed to match exactly one schema (matched 0 out of 2)",
        ),
        (
            {**BASE, "selection": {**SEL, "countType": "sinceImagePushed"}},
            "instance failed to match exactly one schema (matched 0 out of 2)",
        ),
        (
            {**BASE, "selection": {**SEL, "countType": "sinceImagePushed", "countUnit": "hours"}},
            'instance value (hours) not found in enum :(possible values: ["days"])',
        ),
        (
            {**BASE, "selection": {**SEL, "countNumber": 0}},
            "numeric instance is lower than the required minimum (minimum: 1, found: 0)",
        ),
        (
            {**BASE, "selection": {**SEL, "countNumber": -3}},
            "numeric instance is lower than the required minimum (minimum: 1, found: -3)",
        ),
        (
            {**BASE, "selection": {**SEL, "countNumber": "5"}},
            'instance type (string) does not match any allowed primitive type (allowed: ["integer"])',
        ),
        ({**BASE, "action": {}}, 'object has missing required properties (["type"])'),
        (
            {**BASE, "action": {"type": "delete"}},
            'instance value (delete) not found in enum :(possible values: ["expire", "transition"])',
        ),
        (
            {**BASE, "action": {"type": "expire", "when": "now"}},
            'object instance has properties which are not allowed by the schema: (["when"])',
        ),
        (
            {**BASE, "action": {"type": "transition"}},
            'object has missing required properties (["targetStorageClass"])',
        ),
        (
            {**BASE, "action": {"type": "transition", "targetStorageClass": "glacier"}},
            'instance value (glacier) not found in enum :(possible values: ["archive"])',
        ),
        (
            {**BASE, "action": {"type": "expire", "targetStorageClass": "archive"}},
            "object instance has properties which are not allowed by the schema: "
            '(["targetStorageClass"])',
        ),
    ],
)
def test_rule_schema_errors(bad_rule: dict[str, Any], detail: str) -> None:
    assert error_detail(json.dumps({"rules": [bad_rule]})) == detail


@pytest.mark.parametrize(
    ("bad_rule", "detail"),
    [
        (
            rule(tag_status="tagged"),
            "Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED.",
        ),
        (
            rule(tag_status="tagged", tagPrefixList=["a"], tagPatternList=["b*"]),
            "Cannot specify both tagPrefixList and tagPatternList in the same rule.",
        ),
        (
            rule(tag_status="untagged", tagPrefixList=["a"]),
            "tagPrefixList and tagPatternList can only be specified when tagStatus=TAGGED.",
        ),
        (
            rule(tag_status="any", tagPatternList=["a*"]),
            "tagPrefixList and tagPatternList can only be specified when tagStatus=TAGGED.",
        ),
        (
            rule(tag_status="tagged", tagPrefixList=[]),
            "array is too short: must have at least 1 elements but instance has 0 elements",
        ),
        (
            rule(tag_status="tagged", tagPrefixList="prod"),
            'instance type (string) does not match any allowed primitive type (allowed: ["array"])',
        ),
        (
            rule(tag_status="tagged", tagPatternList=["ok*", 3]),
            'instance type (integer) does not match any allowed primitive type (allowed: ["string"])',
        ),
        (
            rule(tag_status="tagged", tagPatternList=["test*1*2*3*4*5*6"]),
            "Tag pattern test*1*2*3*4*5*6 contains more than 4 wildcards.",
        ),
        (
            rule(tag_status="any", count_type="sinceImagePulled", count_number=30),
            "countType=sinceImagePulled can only be used with a transition action.",
        ),
        (
            rule(
                tag_status="any",
                count_type="sinceImageTransitioned",
                count_number=90,
                storageClass="archive",
                action={"type": "transition", "targetStorageClass": "archive"},
            ),
            "countType=sinceImageTransitioned can only be used with an expire action.",
        ),
        (
            rule(tag_status="any", count_type="sinceImageTransitioned", count_number=90),
            "countType=sinceImageTransitioned requires storageClass=archive.",
        ),
        (
            rule(
                tag_status="any",
                count_type="sinceImageTransitioned",
                count_number=90,
                storageClass="standard",
            ),
            "countType=sinceImageTransitioned requires storageClass=archive.",
        ),
        (
            rule(
                tag_status="any",
                count_type="sinceImageTransitioned",
                count_number=89,
                storageClass="archive",
            ),
            "numeric instance is lower than the required minimum (minimum: 90, found: 89)",
        ),
        (
            rule(
                tag_status="any",
                count_type="sinceImagePushed",
                count_number=5,
                storageClass="archive",
            ),
            "storageClass=archive can only be used with countType=sinceImageTransitioned.",
        ),
    ],
    ids=[
        "tagged-without-list",
        "both-lists",
        "untagged-with-list",
        "any-with-list",
        "empty-list",
        "list-not-array",
        "list-item-not-string",
        "five-wildcards",
        "pulled-with-expire",
        "transitioned-with-transition",
        "transitioned-without-class",
        "transitioned-standard-class",
        "transitioned-under-90-days",
        "archive-class-pushed",
    ],
)
def test_selection_semantic_errors(bad_rule: dict[str, Any], detail: str) -> None:
    assert error_detail(policy(bad_rule)) == detail


def test_four_wildcards_per_pattern_are_allowed() -> None:
    (parsed,) = parse_lifecycle_policy(
        policy(rule(tag_status="tagged", tagPatternList=["*test*1*2*3", "test*1*2*3*"]))
    )
    assert parsed.tag_patterns == ("*test*1*2*3", "test*1*2*3*")


def test_duplicate_rule_priority_is_rejected() -> None:
    text = policy(
        rule(3, tag_status="tagged", tagPrefixList=["a"]),
        rule(3, tag_status="tagged", tagPrefixList=["b"]),
    )
    assert error_detail(text) == "Rule priority 3 is used by more than one rule."


def test_two_untagged_rules_in_one_storage_class_are_rejected() -> None:
    text = policy(rule(1), rule(2, count_type="sinceImagePushed", count_number=3))
    assert error_detail(text) == "Only one rule can select Untagged images per storage class."


def test_any_rule_must_have_the_highest_priority_number() -> None:
    text = policy(rule(1, tag_status="any"), rule(2, tag_status="tagged", tagPrefixList=["a"]))
    assert error_detail(text) == (
        "Rule for tagStatus=ANY must have the lowest priority per storage class."
    )


def test_two_any_rules_in_one_storage_class_are_rejected() -> None:
    text = policy(rule(1, tag_status="any"), rule(2, tag_status="any", count_number=3))
    assert error_detail(text) == (
        "Rule for tagStatus=ANY must have the lowest priority per storage class."
    )


def test_any_rule_ordering_is_checked_per_storage_class() -> None:
    text = policy(
        ARCHIVE_UNPULLED_90_DAYS,
        rule(
            2,
            tag_status="untagged",
            count_type="sinceImageTransitioned",
            count_number=90,
            storageClass="archive",
        ),
    )
    assert [r.priority for r in parse_lifecycle_policy(text)] == [1, 2]


# --------------------------------------------------------------------------- AWS user guide


def test_guide_keep_only_one_untagged_image() -> None:
    text = policy(rule(1, tag_status="untagged", count_number=1))
    images = [
        image("old", pushed_days_ago=3),
        image("mid", pushed_days_ago=2),
        image("new", pushed_days_ago=1),
        image("tagged", ("v1",), pushed_days_ago=5),
    ]
    assert expired(text, images) == ["old", "mid"]


@pytest.mark.parametrize(
    ("patterns", "days", "images", "expiring"),
    [
        pytest.param(
            ["prod*"],
            14,
            [
                image("old-prod", ("production-1",), pushed_days_ago=20),
                image("new-prod", ("prod",), pushed_days_ago=3),
                image("old-dev", ("dev",), pushed_days_ago=20),
                image("old-untagged", pushed_days_ago=20),
            ],
            ["old-prod"],
            id="guide-prod-pattern-older-than-14-days",
        ),
        pytest.param(
            ["alpha*", "beta*"],
            5,
            [
                image("A", ("alpha-1",), pushed_days_ago=12),
                image("B", ("beta-1",), pushed_days_ago=11),
                image("C", ("alpha-2", "beta-2"), pushed_days_ago=10),
                image("D", ("alpha-3",), pushed_days_ago=4),
                image("E", ("beta-3",), pushed_days_ago=3),
                image("F", ("alpha-4", "beta-4"), pushed_days_ago=2),
            ],
            ["C"],
            id="guide-several-patterns-in-one-rule-require-all",
        ),
        pytest.param(
            ["v1.*-rc"],
            1,
            [
                image("rc", ("v1.2-rc",), pushed_days_ago=5),
                image("final", ("v1.2",), pushed_days_ago=5),
                image("dotless", ("v1x2-rc",), pushed_days_ago=5),
            ],
            ["rc"],
            id="wildcard-in-the-middle-and-literal-dots",
        ),
    ],
)
def test_tag_pattern_rules_expire_matching_images_older_than_the_limit(
    patterns: list[str], days: int, images: list[LifecycleImage], expiring: list[str]
) -> None:
    text = policy(
        rule(
            1,
            tag_status="tagged",
            tagPatternList=patterns,
            count_type="sinceImagePushed",
            count_number=days,
        )
    )
    assert expired(text, images) == expiring


def multi_rule_repo() -> list[LifecycleImage]:
    return [
        image("A", ("beta-1", "prod-1"), pushed_days_ago=10),
        image("B", ("beta-2", "prod-2"), pushed_days_ago=9),
        image("C", ("beta-3",), pushed_days_ago=8),
    ]


@pytest.mark.parametrize("list_key", ["tagPatternList", "tagPrefixList"])
def test_guide_multiple_rules_example_a_prod_rule_first(list_key: str) -> None:
    first, second = (["prod*"], ["beta*"]) if list_key == "tagPatternList" else (["prod"], ["beta"])
    prod_rule = rule(1, tag_status="tagged")
    prod_rule["selection"][list_key] = first
    beta_rule = rule(2, tag_status="tagged")
    beta_rule["selection"][list_key] = second
    text = policy(prod_rule, beta_rule)
    # Rule 2 would take A and B, but both were seen by rule 1, which keeps B.
    assert run(text, multi_rule_repo()) == [("A", 1, "expire")]


def test_guide_multiple_rules_example_b_beta_rule_first() -> None:
    text = policy(
        rule(1, tag_status="tagged", tagPatternList=["beta*"]),
        rule(2, tag_status="tagged", tagPatternList=["prod*"]),
    )
    assert run(text, multi_rule_repo()) == [("A", 1, "expire"), ("B", 1, "expire")]


def test_guide_multiple_prefixes_in_one_rule_require_all_of_them() -> None:
    text = policy(rule(1, tag_status="tagged", tagPrefixList=["alpha", "beta"]))
    images = [
        image("A", ("alpha-1", "beta-1", "gamma-1"), pushed_days_ago=10),
        image("B", ("alpha-2", "beta-2"), pushed_days_ago=9),
        image("C", ("alpha-3", "beta-3", "gamma-2"), pushed_days_ago=8),
        image("D", ("alpha-4",), pushed_days_ago=1),
    ]
    assert expired(text, images) == ["A", "B"]


def test_guide_any_rule_keeps_only_the_newest_image() -> None:
    text = policy(rule(1, tag_status="any", count_number=1))
    images = [
        image("A", ("alpha-1",), pushed_days_ago=4),
        image("B", ("beta-1",), pushed_days_ago=3),
        image("C", (), pushed_days_ago=2),
        image("D", ("alpha-2",), pushed_days_ago=1),
    ]
    assert expired(text, images) == ["A", "B", "C"]


def test_guide_all_rule_types_combined() -> None:
    text = policy(
        rule(1, tag_status="tagged", tagPatternList=["alpha*"], count_number=1),
        rule(2, tag_status="untagged", count_type="sinceImagePushed", count_number=1),
        rule(3, tag_status="any", count_number=1),
    )
    images = [
        image("A", ("alpha-1", "beta-1"), pushed_days_ago=4),
        image("B", (), pushed_days_ago=3),
        image("C", ("alpha-2",), pushed_days_ago=2),
        image("D", ("git hash",), pushed_days_ago=1.01),
        image("E", (), pushed_days_ago=1),
    ]
    assert run(text, images) == [("A", 1, "expire"), ("B", 2, "expire"), ("D", 3, "expire")]


# --------------------------------------------------------------------------- claiming


def test_image_kept_by_a_higher_priority_rule_cannot_be_taken_by_a_lower_one() -> None:
    text = policy(
        rule(1, tag_status="tagged", tagPrefixList=["release"], count_number=10),
        rule(2, tag_status="any", count_type="sinceImagePushed", count_number=7),
    )
    images = [
        image("release-old", ("release-1",), pushed_days_ago=100),
        image("feature-old", ("feature-x",), pushed_days_ago=100),
        image("untagged-old", (), pushed_days_ago=100),
        image("feature-new", ("feature-y",), pushed_days_ago=2),
    ]
    assert run(text, images) == [("feature-old", 2, "expire"), ("untagged-old", 2, "expire")]


def test_claimed_images_still_count_towards_a_lower_rules_kept_number() -> None:
    text = policy(
        rule(1, tag_status="tagged", tagPrefixList=["prod"], count_number=5),
        rule(2, tag_status="any", count_number=2),
    )
    images = [
        image("dev-1", ("dev-1",), pushed_days_ago=5),
        image("dev-2", ("dev-2",), pushed_days_ago=4),
        image("prod-1", ("prod-1",), pushed_days_ago=2),
        image("prod-2", ("prod-2",), pushed_days_ago=1),
    ]
    # Rule 2 keeps the two newest (both prod, claimed by rule 1) and may act on the dev images.
    assert expired(text, images) == ["dev-1", "dev-2"]


def test_each_image_is_acted_on_by_at_most_one_rule() -> None:
    text = policy(
        rule(
            1,
            tag_status="tagged",
            tagPrefixList=["a"],
            count_type="sinceImagePushed",
            count_number=1,
        ),
        rule(
            2,
            tag_status="tagged",
            tagPrefixList=["ab"],
            count_type="sinceImagePushed",
            count_number=1,
        ),
    )
    images = [image("x", ("abc",), pushed_days_ago=10), image("y", ("abd",), pushed_days_ago=9)]
    assert run(text, images) == [("x", 1, "expire"), ("y", 1, "expire")]


def test_untagged_rule_ignores_tagged_images_and_tagged_rule_ignores_untagged() -> None:
    text = policy(
        rule(
            1,
            tag_status="tagged",
            tagPatternList=["*"],
            count_type="sinceImagePushed",
            count_number=30,
        ),
        rule(2, tag_status="untagged", count_type="sinceImagePushed", count_number=30),
    )
    images = [image("t", ("v1",), pushed_days_ago=40), image("u", (), pushed_days_ago=40)]
    assert run(text, images) == [("t", 1, "expire"), ("u", 2, "expire")]


def test_results_ordered_by_rule_priority_then_push_time() -> None:
    text = policy(
        rule(4, tag_status="untagged", count_type="sinceImagePushed", count_number=1),
        rule(
            2,
            tag_status="tagged",
            tagPrefixList=["v"],
            count_type="sinceImagePushed",
            count_number=1,
        ),
    )
    images = [
        image("u-new", (), pushed_days_ago=3),
        image("v-new", ("v2",), pushed_days_ago=3),
        image("u-old", (), pushed_days_ago=9),
        image("v-old", ("v1",), pushed_days_ago=9),
    ]
    assert expired(text, images) == ["v-old", "v-new", "u-old", "u-new"]


# --------------------------------------------------------------------------- manifest lists


def test_image_referenced_by_a_manifest_list_is_never_acted_on() -> None:
    text = policy(rule(1, tag_status="untagged", count_type="sinceImagePushed", count_number=1))
    images = [
        image("child", (), pushed_days_ago=30, referenced_by_index=True),
        image("orphan", (), pushed_days_ago=30),
    ]
    assert expired(text, images) == ["orphan"]


def test_referenced_image_is_still_claimed_by_its_rule() -> None:
    text = policy(
        rule(1, tag_status="untagged", count_type="sinceImagePushed", count_number=1),
        rule(2, tag_status="any", count_type="sinceImagePushed", count_number=1),
    )
    images = [image("child", (), pushed_days_ago=30, referenced_by_index=True)]
    assert expired(text, images) == []


# --------------------------------------------------------------------------- archive


ARCHIVE_POLICY = policy(
    ARCHIVE_UNPULLED_90_DAYS,
    rule(
        2,
        tag_status="any",
        count_type="sinceImageTransitioned",
        count_number=365,
        storageClass="archive",
    ),
)


def test_transition_moves_stale_standard_images_by_last_pull() -> None:
    images = [
        image("pulled-recently", pushed_days_ago=400, last_pulled_at=days_ago(10)),
        image("pulled-long-ago", pushed_days_ago=400, last_pulled_at=days_ago(100)),
        image("never-pulled-old", pushed_days_ago=100),
        image("never-pulled-new", pushed_days_ago=10),
    ]
    actions = evaluate(parse_lifecycle_policy(ARCHIVE_POLICY), images, NOW)
    assert [(a.digest, a.action, a.target_storage_class) for a in actions] == [
        ("sha256:pulled-long-ago", "transition", "archive"),
        ("sha256:never-pulled-old", "transition", "archive"),
    ]


def test_archived_images_are_not_transitioned_again_but_expire_after_transition_age() -> None:
    images = [
        image(
            "archived-long",
            pushed_days_ago=900,
            storage_class="ARCHIVE",
            transitioned_at=days_ago(400),
        ),
        image(
            "archived-recent",
            pushed_days_ago=900,
            storage_class="ARCHIVE",
            transitioned_at=days_ago(100),
        ),
        image("archived-no-time", pushed_days_ago=900, storage_class="ARCHIVE"),
    ]
    assert run(ARCHIVE_POLICY, images) == [("archived-long", 2, "expire")]


def test_standard_expire_rules_never_touch_archived_images() -> None:
    text = policy(rule(1, tag_status="any", count_type="sinceImagePushed", count_number=1))
    images = [
        image(
            "archived", pushed_days_ago=50, storage_class="ARCHIVE", transitioned_at=days_ago(40)
        ),
        image("standard", pushed_days_ago=50),
    ]
    assert expired(text, images) == ["standard"]


def test_standard_rule_does_not_claim_archived_images_for_archive_rules() -> None:
    text = policy(
        rule(1, tag_status="tagged", tagPrefixList=["keep"], count_number=100),
        rule(
            2,
            tag_status="tagged",
            tagPrefixList=["keep"],
            count_type="sinceImageTransitioned",
            count_number=90,
            storageClass="archive",
        ),
    )
    images = [
        image(
            "old",
            ("keep-1",),
            pushed_days_ago=500,
            storage_class="ARCHIVE",
            transitioned_at=days_ago(200),
        )
    ]
    assert run(text, images) == [("old", 2, "expire")]


def test_image_count_transition_archives_all_but_newest() -> None:
    text = policy(
        rule(
            1,
            tag_status="tagged",
            tagPrefixList=["v"],
            count_number=2,
            action={"type": "transition", "targetStorageClass": "archive"},
        )
    )
    images = [image(f"v{i}", (f"v{i}",), pushed_days_ago=10 - i) for i in range(5)]
    assert run(text, images) == [
        ("v0", 1, "transition"),
        ("v1", 1, "transition"),
        ("v2", 1, "transition"),
    ]


# --------------------------------------------------------------------------- date boundaries


@pytest.mark.parametrize(
    ("age", "acted_on"),
    [
        (timedelta(days=14), False),
        (timedelta(days=14, seconds=1), True),
        (timedelta(days=13, hours=23), False),
    ],
    ids=["exactly-14-days", "14-days-and-a-second", "just-under-14-days"],
)
def test_since_image_pushed_acts_only_when_strictly_older(age: timedelta, acted_on: bool) -> None:
    text = policy(rule(1, tag_status="untagged", count_type="sinceImagePushed", count_number=14))
    images = [LifecycleImage(digest="sha256:x", tags=(), pushed_at=NOW - age)]
    assert expired(text, images) == (["x"] if acted_on else [])


@pytest.mark.parametrize(("age_days", "acted_on"), [(90, False), (90.001, True)])
def test_since_image_pulled_boundary(age_days: float, acted_on: bool) -> None:
    images = [image("x", pushed_days_ago=500, last_pulled_at=days_ago(age_days))]
    assert expired(ARCHIVE_POLICY, images) == (["x"] if acted_on else [])


@pytest.mark.parametrize(("age_days", "acted_on"), [(365, False), (365.001, True)])
def test_since_image_transitioned_boundary(age_days: float, acted_on: bool) -> None:
    images = [
        image("x", pushed_days_ago=900, storage_class="ARCHIVE", transitioned_at=days_ago(age_days))
    ]
    assert expired(ARCHIVE_POLICY, images) == (["x"] if acted_on else [])


def test_image_count_exactly_at_the_limit_acts_on_nothing() -> None:
    text = policy(rule(1, tag_status="untagged", count_number=3))
    images = [image(str(i), pushed_days_ago=i) for i in range(1, 4)]
    assert expired(text, images) == []
