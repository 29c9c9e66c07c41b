"""The faults service: parsing rules against a catalog, and which requests they fault."""

from __future__ import annotations

from typing import Any

import pytest

from ecr_mock.store.fault_rules import (
    FaultCatalog,
    FaultRequest,
    FaultRuleError,
    FaultRules,
    parse_rule,
)

CATALOG = FaultCatalog(
    api_operations=frozenset({"PutImage", "ListImages"}),
    api_errors={"ServerException": 500, "ThrottlingException": 400},
    registry_routes=frozenset({"blob.get", "manifest.put"}),
    registry_errors={"BLOB_UNKNOWN": 404, "TOOMANYREQUESTS": 429},
)
PUT = FaultRequest("api", "PutImage", "team/app", "123456789012", "us-east-1")


def rules() -> FaultRules:
    return FaultRules(lambda: lambda: CATALOG)


def test_a_rule_surface_follows_its_operation_or_error() -> None:
    assert parse_rule({"operation": "PutImage", "delay_ms": 5}, CATALOG).surface == "api"
    assert parse_rule({"operation": "blob.get", "error": "BLOB_UNKNOWN"}, CATALOG).surface == (
        "registry"
    )


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ({"operation": "Nope", "delay_ms": 1}, "PutImage"),
        ({"error": "NoSuchError"}, "ServerException"),
        ({"colour": "red", "error": "ServerException"}, "colour"),
        ({"operation": "PutImage"}, "error"),
    ],
)
def test_invalid_rules_name_what_is_valid(rule: dict[str, Any], words: str) -> None:
    with pytest.raises(FaultRuleError) as bad:
        parse_rule(rule, CATALOG)
    assert words in str(bad.value)


def test_no_catalog_means_no_rules() -> None:
    bare = FaultRules(lambda: None)
    with pytest.raises(FaultRuleError, match="serves no surface"):
        bare.add(error="ServerException")
    assert len(bare) == 0


def test_the_first_erring_rule_decides_and_delays_add_up() -> None:
    faults = rules()
    slow = faults.add(operation="PutImage", delay_ms=10)
    failing = faults.add(repository="team/*", error="ThrottlingException")
    faults.add(region="eu-west-1", error="ServerException")
    fault = faults.evaluate(PUT)
    assert fault is not None
    assert fault.rule_ids == (slow.id, failing.id)
    assert (fault.error, fault.status, fault.message) == (
        "ThrottlingException",
        400,
        "Rate exceeded",
    )
    assert fault.delay_ms == 10
    assert faults.evaluate(FaultRequest("api", "ListImages", "other")) is None


def test_skip_every_and_times_choose_the_matches_that_fire() -> None:
    faults = rules()
    rule = faults.add(operation="PutImage", error="ServerException", skip=1, every=2, times=2)
    fired = [faults.evaluate(PUT) is not None for _ in range(8)]
    assert fired == [False, False, True, False, True, False, False, False]
    assert (rule.hits, rule.matches, rule.spent) == (2, 8, True)


def test_a_seeded_probability_repeats() -> None:
    runs = []
    for _ in range(2):
        faults = rules()
        faults.add(error="ServerException", probability=0.5, seed=3)
        runs.append([faults.evaluate(PUT) is not None for _ in range(30)])
    assert runs[0] == runs[1]
    assert 0 < sum(runs[0]) < 30


def test_ids_are_unique_and_rules_leave_with_their_context() -> None:
    faults = rules()
    named = faults.add(error="ServerException", id="mine")
    with pytest.raises(FaultRuleError, match="already exists"):
        faults.add(error="ServerException", id="mine")
    with faults.add(error="ServerException") as scoped:
        assert faults.get(scoped.id) is scoped
    assert [rule.id for rule in faults] == ["mine"]
    assert faults.remove(named.id) and not faults.remove(named.id)


def test_a_registry_fault_gets_its_oci_status_and_a_cut() -> None:
    faults = rules()
    faults.add(operation="blob.get", error="BLOB_UNKNOWN", message="gone")
    faults.add(operation="blob.get", disconnect_after_bytes=100)
    faults.add(operation="blob.get", disconnect_after_bytes=10)
    fault = faults.evaluate(FaultRequest("registry", "blob.get", "app"))
    assert fault is not None
    assert (fault.error, fault.status, fault.message) == ("BLOB_UNKNOWN", 404, "gone")
    assert fault.disconnect_after_bytes == 10
    assert fault.to_dict()["status"] == 404
