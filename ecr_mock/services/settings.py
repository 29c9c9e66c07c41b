"""Account settings and their defaults, and pull-time update exclusions."""

from __future__ import annotations

from datetime import datetime

from ecr_mock.domain.errors import (
    ExclusionAlreadyExists,
    ExclusionNotFound,
    InvalidParameter,
    LimitExceeded,
)
from ecr_mock.domain.models import Registry
from ecr_mock.store.state import Store


def account_setting(store: Store, reg: Registry, name: str) -> str:
    """The value of account setting ``name`` (its default when never set)."""
    check_account_setting(name)
    return setting_value(reg, name)


def setting_value(reg: Registry, name: str) -> str:
    """The value of the known account setting ``name`` for ``reg`` (its default when never set)."""
    return reg.settings.get(name) or ACCOUNT_SETTING_DEFAULTS[name]


def registry_policy_scope(reg: Registry) -> str:
    """``V1`` or ``V2`` (the default): what the registry's policy may grant and governs."""
    return setting_value(reg, REGISTRY_POLICY_SCOPE)


def blob_mounting_enabled(reg: Registry) -> bool:
    """Whether cross-repository blob mounts are served (BLOB_MOUNTING, ENABLED by default)."""
    return setting_value(reg, BLOB_MOUNTING).upper() != "DISABLED"


def put_account_setting(store: Store, reg: Registry, name: str, value: str) -> str:
    """Set account setting ``name``; InvalidParameter for unknown names or values."""
    check_account_setting(name, value)
    with store.lock:
        reg.settings[name] = value
    return value


def register_pull_time_exclusion(store: Store, reg: Registry, principal_arn: str) -> datetime:
    """Stop recording pull times for ``principal_arn``; returns when the exclusion began."""
    with store.lock:
        if principal_arn in reg.pull_time_update_exclusions:
            raise ExclusionAlreadyExists(principal_arn, reg.account)
        if len(reg.pull_time_update_exclusions) >= MAX_PULL_TIME_EXCLUSIONS:
            raise LimitExceeded(
                "The maximum number of pull time update exclusions "
                f"({MAX_PULL_TIME_EXCLUSIONS}) in the registry has been reached"
            )
        created = store.now()
        reg.pull_time_update_exclusions[principal_arn] = created
    return created


def deregister_pull_time_exclusion(store: Store, reg: Registry, principal_arn: str) -> None:
    """Record pull times for ``principal_arn`` again; ExclusionNotFound when not excluded."""
    with store.lock:
        if principal_arn not in reg.pull_time_update_exclusions:
            raise ExclusionNotFound(principal_arn, reg.account)
        del reg.pull_time_update_exclusions[principal_arn]


REGISTRY_POLICY_SCOPE = "REGISTRY_POLICY_SCOPE"
"""The account setting (``PutAccountSetting``) choosing what the registry policy governs."""
BLOB_MOUNTING = "BLOB_MOUNTING"
"""The account setting turning cross-repository blob mounts on ``/v2/`` on or off."""
ACCOUNT_SETTING_VALUES: dict[str, tuple[str, ...]] = {
    "BASIC_SCAN_TYPE_VERSION": ("AWS_NATIVE", "CLAIR"),
    REGISTRY_POLICY_SCOPE: ("V1", "V2"),
    BLOB_MOUNTING: ("ENABLED", "DISABLED"),
}
ACCOUNT_SETTING_DEFAULTS: dict[str, str] = {
    "BASIC_SCAN_TYPE_VERSION": "AWS_NATIVE",
    REGISTRY_POLICY_SCOPE: "V2",
    BLOB_MOUNTING: "ENABLED",
}
"""What a registry that never called PutAccountSetting reports (and how the emulator acts)."""
MAX_PULL_TIME_EXCLUSIONS = 100


def check_account_setting(name: str, value: str | None = None) -> None:
    """InvalidParameter unless ``name`` (and ``value``, when given) is a known account setting."""
    allowed = ACCOUNT_SETTING_VALUES.get(name)
    if allowed is None:
        raise InvalidParameter(
            "Invalid parameter at 'name' failed to satisfy constraint: 'Member must satisfy enum "
            f"value set: [{', '.join(ACCOUNT_SETTING_VALUES)}]'"
        )
    if value is not None and value not in allowed:
        raise InvalidParameter(
            f"Invalid parameter at 'value' failed to satisfy constraint: 'Member must satisfy "
            f"enum value set for {name}: [{', '.join(allowed)}]'"
        )
