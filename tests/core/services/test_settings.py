"""The settings service: account settings and the defaults every reader shares."""

from __future__ import annotations

from ecr_mock.core.services import Store, settings


def test_setting_defaults_are_read_from_one_table() -> None:
    store = Store()
    reg = store.registry()
    assert settings.setting_value(reg, settings.BLOB_MOUNTING) == "ENABLED"
    assert settings.registry_policy_scope(reg) == "V2"
    assert settings.blob_mounting_enabled(reg)
    settings.put_account_setting(store, reg, settings.BLOB_MOUNTING, "DISABLED")
    settings.put_account_setting(store, reg, settings.REGISTRY_POLICY_SCOPE, "V1")
    assert not settings.blob_mounting_enabled(reg)
    assert settings.registry_policy_scope(reg) == "V1"
    assert settings.account_setting(store, reg, settings.REGISTRY_POLICY_SCOPE) == "V1"
