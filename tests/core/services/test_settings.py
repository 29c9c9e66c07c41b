"""The settings service: account settings and their defaults, pull-time update exclusions."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ecr_mock import Backend, Clock
from ecr_mock.domain.errors import (
    ExclusionAlreadyExists,
    ExclusionNotFound,
    InvalidParameter,
    LimitExceeded,
)
from ecr_mock.domain.models import Registry
from ecr_mock.services import settings

CI = "arn:aws:iam::123456789012:role/ci"


@pytest.mark.parametrize(
    ("name", "default", "other"),
    [
        ("BASIC_SCAN_TYPE_VERSION", "AWS_NATIVE", "CLAIR"),
        ("REGISTRY_POLICY_SCOPE", "V2", "V1"),
        ("BLOB_MOUNTING", "ENABLED", "DISABLED"),
    ],
)
def test_a_setting_reads_its_default_until_put(
    ecr_backend: Backend, reg: Registry, name: str, default: str, other: str
) -> None:
    assert settings.account_setting(ecr_backend, reg, name) == default
    assert settings.put_account_setting(ecr_backend, reg, name, other) == other
    assert settings.account_setting(ecr_backend, reg, name) == other
    assert ecr_backend.registry("210987654321").settings.get(name) is None


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("NO_SUCH_SETTING", "V1", "at 'name'"),
        ("BLOB_MOUNTING", "SOMETIMES", "enum value set for BLOB_MOUNTING: [ENABLED, DISABLED]"),
    ],
)
def test_unknown_names_and_values_are_refused_in_ecr_words(
    ecr_backend: Backend, reg: Registry, name: str, value: str, words: str
) -> None:
    with pytest.raises(InvalidParameter) as bad:
        settings.put_account_setting(ecr_backend, reg, name, value)
    assert words in bad.value.message
    assert reg.settings == {}


def test_exclusions_register_once_and_deregister(
    ecr_backend: Backend, ecr_clock: Clock, reg: Registry
) -> None:
    when = datetime(2026, 4, 5, 6, 7, tzinfo=timezone.utc)
    ecr_clock.freeze(when)
    assert settings.register_pull_time_exclusion(ecr_backend, reg, CI) == when
    assert reg.pull_time_update_exclusions == {CI: when}
    with pytest.raises(ExclusionAlreadyExists) as twice:
        settings.register_pull_time_exclusion(ecr_backend, reg, CI)
    assert twice.value.code == "ExclusionAlreadyExistsException"
    settings.deregister_pull_time_exclusion(ecr_backend, reg, CI)
    assert reg.pull_time_update_exclusions == {}
    with pytest.raises(ExclusionNotFound) as gone:
        settings.deregister_pull_time_exclusion(ecr_backend, reg, CI)
    assert gone.value.code == "ExclusionNotFoundException"


# "You can configure up to 100 exclusions per account." (Amazon ECR User Guide,
# "Pull-time update exclusions")
DOCUMENTED_MAX_PULL_TIME_EXCLUSIONS = 100


def test_exclusions_stop_at_the_limit(ecr_backend: Backend, reg: Registry) -> None:
    for i in range(DOCUMENTED_MAX_PULL_TIME_EXCLUSIONS):
        settings.register_pull_time_exclusion(
            ecr_backend, reg, f"arn:aws:iam::123456789012:role/r{i}"
        )
    assert len(reg.pull_time_update_exclusions) == DOCUMENTED_MAX_PULL_TIME_EXCLUSIONS
    with pytest.raises(LimitExceeded):
        settings.register_pull_time_exclusion(ecr_backend, reg, CI)
    assert CI not in reg.pull_time_update_exclusions


def test_readers_of_a_setting_share_its_default(ecr_backend: Backend, reg: Registry) -> None:
    assert settings.setting_value(reg, settings.BLOB_MOUNTING) == "ENABLED"
    assert settings.registry_policy_scope(reg) == "V2"
    assert settings.blob_mounting_enabled(reg)
    settings.put_account_setting(ecr_backend, reg, settings.BLOB_MOUNTING, "DISABLED")
    settings.put_account_setting(ecr_backend, reg, settings.REGISTRY_POLICY_SCOPE, "V1")
    assert not settings.blob_mounting_enabled(reg)
    assert settings.registry_policy_scope(reg) == "V1"
