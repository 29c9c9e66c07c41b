"""The control routes for fault rules and the call record: ``/ecr-mock/faults``, ``/ecr-mock/calls``."""

from __future__ import annotations

from typing import Any

from ecr_mock.protocols.control import ControlError, ControlRequest, ControlResponse, ControlRoute
from ecr_mock.store.fault_rules import FaultRule, FaultRuleError

_CALL_FILTERS = ("operation", "repository", "surface", "status", "error_code")
_BAD_BODY = "The body must be a JSON object (a fault rule) or a list of them"


def list_faults(request: ControlRequest) -> ControlResponse:
    """``GET /ecr-mock/faults``: ``{"faults": [rule with its hits, ...]}``."""
    return ControlResponse(200, {"faults": [rule.to_dict() for rule in request.backend.faults]})


def add_faults(request: ControlRequest) -> ControlResponse:
    """``POST /ecr-mock/faults``: a rule, or a list of rules, added all or nothing.

    201 with the rule(s) and their ``id``; 400 naming the bad field and the valid values.
    """
    doc = request.json()
    rules = doc if isinstance(doc, list) else [doc]
    if not rules or not all(isinstance(rule, dict) for rule in rules):
        raise ControlError(400, "BadRequest", _BAD_BODY)
    added = []
    try:
        for rule in rules:
            added.append(request.backend.faults.add_rule(rule))
    except FaultRuleError as exc:
        for rule in added:
            rule.remove()
        raise ControlError(400, "BadRequest", str(exc), field=exc.field) from None
    docs = [rule.to_dict() for rule in added]
    return ControlResponse(201, docs if isinstance(doc, list) else docs[0])


def clear_faults(request: ControlRequest) -> ControlResponse:
    """``DELETE /ecr-mock/faults``: remove every rule."""
    request.backend.faults.clear()
    return ControlResponse(204)


def _rule(request: ControlRequest) -> FaultRule:
    """The rule the path names. Any id is reachable: percent-encoded (``a%2Fb``, as
    ``ecr_mock.testing.remote`` sends it) or as it is (``a/b``); a trailing ``/`` is optional unless
    the id itself ends with one."""
    rule_id = request.params["id"]
    faults = request.backend.faults
    rule = faults.get(rule_id)
    if rule is None and rule_id.endswith("/"):
        rule = faults.get(rule_id[:-1])
    if rule is None:
        raise ControlError(404, "NotFound", f"No fault rule with id {rule_id!r}")
    return rule


def get_fault(request: ControlRequest) -> ControlResponse:
    """``GET /ecr-mock/faults/<id>``: one rule."""
    return ControlResponse(200, _rule(request).to_dict())


def delete_fault(request: ControlRequest) -> ControlResponse:
    """``DELETE /ecr-mock/faults/<id>``: remove one rule."""
    _rule(request).remove()
    return ControlResponse(204)


def list_calls(request: ControlRequest) -> ControlResponse:
    """``GET /ecr-mock/calls``: ``{"calls": [...]}``, oldest first.

    Filtered by ``operation``, ``repository``, ``surface``, ``status``, ``error_code``;
    ``limit=N`` keeps the last N.
    """
    params = dict(request.query)
    unknown = sorted(set(params) - {*_CALL_FILTERS, "limit"})
    if unknown:
        raise ControlError.bad_field(
            unknown[0],
            f"Unknown filter(s) {', '.join(unknown)}; use {', '.join(_CALL_FILTERS)} or limit",
        )
    for number in ("status", "limit"):
        if number in params and not params[number].isdigit():
            raise ControlError.bad_field(
                number, f"{number} must be a non-negative integer; got {params[number]!r}"
            )
    filters: dict[str, Any] = {key: params[key] for key in _CALL_FILTERS if key in params}
    if "status" in filters:
        filters["status"] = int(filters["status"])
    calls = request.backend.calls.of(**filters)
    if "limit" in params:
        limit = int(params["limit"])
        calls = calls[len(calls) - limit :] if limit else []
    return ControlResponse(200, {"calls": [call.to_dict() for call in calls]})


def clear_calls(request: ControlRequest) -> ControlResponse:
    """``DELETE /ecr-mock/calls``: forget the record."""
    request.backend.calls.clear()
    return ControlResponse(204)


def fault_routes() -> list[ControlRoute]:
    """The fault and call-record routes, named ``faults``, ``fault`` and ``calls``."""
    return [
        ControlRoute(
            "faults",
            r"/ecr-mock/faults/?",
            {"GET": list_faults, "POST": add_faults, "DELETE": clear_faults},
        ),
        ControlRoute(
            "fault", r"/ecr-mock/faults/(?P<id>.+)", {"GET": get_fault, "DELETE": delete_fault}
        ),
        ControlRoute("calls", r"/ecr-mock/calls/?", {"GET": list_calls, "DELETE": clear_calls}),
    ]
