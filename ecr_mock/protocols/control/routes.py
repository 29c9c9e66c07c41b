"""The built-in control routes, from health and reset to findings, faults, calls and events."""

from __future__ import annotations

import math
import os
from typing import Any

from ecr_mock._version import __version__
from ecr_mock.domain.errors import EcrError
from ecr_mock.domain.names import account_problem, region_problem
from ecr_mock.protocols.control import ControlError, ControlRequest, ControlResponse, ControlRoute
from ecr_mock.protocols.control.events import events_route
from ecr_mock.protocols.control.fault_routes import fault_routes
from ecr_mock.protocols.control.findings import findings_route
from ecr_mock.protocols.control.seed_documents import parse_seed_text
from ecr_mock.services import admin
from ecr_mock.services.reclaim import layer_summary
from ecr_mock.services.reclaim import reclaim as reclaim_layers
from ecr_mock.services.seed import SeedError, apply_seed


def _optional_str(doc: dict[str, Any], name: str) -> str | None:
    value = doc.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ControlError.bad_field(name, f"'{name}' must be a non-empty string")
    return value


def _account(doc: dict[str, Any], name: str = "account_id") -> str | None:
    value = _optional_str(doc, name)
    problem = account_problem(value, name) if value is not None else None
    if problem is not None:
        raise ControlError.bad_field(name, problem)
    return value


def _region(doc: dict[str, Any], name: str = "region") -> str | None:
    value = _optional_str(doc, name)
    problem = region_problem(value, name) if value is not None else None
    if problem is not None:
        raise ControlError.bad_field(name, problem)
    return value


def _only(doc: dict[str, Any], *names: str) -> None:
    for key in doc:
        if key not in names:
            allowed = ", ".join(names) if names else "none"
            raise ControlError.bad_field(key, f"Unknown field '{key}'; the fields are: {allowed}")


def health(request: ControlRequest) -> ControlResponse:
    """``GET /ecr-mock/health``: ``{"status": "ok", "version": ...}``; no credentials needed."""

    return ControlResponse(200, {"status": "ok", "version": __version__})


def reset(request: ControlRequest) -> ControlResponse:
    """``POST /ecr-mock/reset``: empty all state, or one account's with ``{"account_id"}``."""
    doc = request.object()
    _only(doc, "account_id")
    request.backend.reset(_account(doc))
    return ControlResponse(200, {})


def get_clock(request: ControlRequest) -> ControlResponse:
    """``GET /ecr-mock/clock``: ``{"now": "<ISO 8601>"}``."""
    return ControlResponse(200, {"now": admin.iso(request.backend.clock.now())})


def post_clock(request: ControlRequest) -> ControlResponse:
    """``POST /ecr-mock/clock`` with ``{"advance_seconds": N}`` or ``{"now": "<ISO 8601>"}``."""
    doc = request.object()
    _only(doc, "advance_seconds", "now")
    if ("advance_seconds" in doc) == ("now" in doc):
        raise ControlError.bad_field(
            "advance_seconds", "Give exactly one of 'advance_seconds' (a number) or 'now'"
        )
    backend = request.backend
    if "advance_seconds" in doc:
        seconds = doc["advance_seconds"]
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, (int, float))
            or not math.isfinite(seconds)
            or seconds < 0
            or seconds > 1e11
        ):
            raise ControlError.bad_field(
                "advance_seconds", "'advance_seconds' must be a number of seconds, 0 or more"
            )
        now = admin.advance_clock(backend, float(seconds))
    else:
        text = doc["now"]
        try:
            when = admin.parse_time(text) if isinstance(text, str) else None
        except ValueError:
            when = None
        if when is None:
            raise ControlError.bad_field(
                "now", "'now' must be an ISO 8601 time such as 2030-01-01T00:00:00Z"
            )
        now = admin.set_clock(backend, when)
    return ControlResponse(200, {"now": admin.iso(now)})


def state(request: ControlRequest) -> ControlResponse:
    """``GET /ecr-mock/state``: registries, repositories, images; no blob bytes."""
    return ControlResponse(200, request.backend.state())


def seed(request: ControlRequest) -> ControlResponse:
    """``POST /ecr-mock/seed``: apply a seed document (JSON, or YAML with PyYAML installed)."""

    content_type = request.headers.get("Content-Type") or request.headers.get("content-type")
    try:
        doc = parse_seed_text(request.body, content_type or "")
        created = apply_seed(request.backend, doc, base_dir=os.getcwd())
    except SeedError as exc:
        raise ControlError(400, "InvalidSeed", exc.message, field=exc.path or "$") from None
    return ControlResponse(200, created)


def run_lifecycle(request: ControlRequest) -> ControlResponse:
    """``POST /ecr-mock/lifecycle/run``: apply lifecycle policies now (optionally one registry's
    or one repository's with ``account_id``, ``region``, ``repository``)."""
    doc = request.object()
    _only(doc, "account_id", "region", "repository")
    backend = request.backend
    account, region = _account(doc), _region(doc)
    name = _optional_str(doc, "repository")
    registry = repository = None
    if account or region or name:
        registry = backend.registries.get(
            (account or backend.default_account, region or backend.default_region)
        )
        if registry is None:
            return ControlResponse(200, {"actions": []})
    if name is not None and registry is not None:
        repository = registry.repositories.get(name)
        if repository is None:
            raise ControlError.bad_field("repository", f"No repository named {name!r}")
    actions = backend.apply_lifecycle_policies(registry, repository)

    reclaimed = reclaim_layers(backend, [registry] if registry is not None else None)
    return ControlResponse(
        200,
        {
            **reclaimed.document(),
            "actions": [
                {
                    "digest": action.digest,
                    "tags": list(action.tags),
                    "action": action.action,
                    "rulePriority": action.rule.priority,
                    "targetStorageClass": action.target_storage_class,
                }
                for action in actions
            ],
        },
    )


def get_reclaim(request: ControlRequest) -> ControlResponse:
    """``GET /ecr-mock/reclaim``: the grace period and each registry's layer figures."""

    backend = request.backend
    registries = sorted(backend.registries.values(), key=lambda r: (r.account, r.region))
    return ControlResponse(
        200,
        {
            "layerGraceSeconds": backend.layer_grace.total_seconds(),
            "registries": [
                {"account": reg.account, "region": reg.region, **layer_summary(backend, reg)}
                for reg in registries
            ],
        },
    )


def post_reclaim(request: ControlRequest) -> ControlResponse:
    """``POST /ecr-mock/reclaim``: reclaim now the layers past their grace period (all
    registries, or one with ``account_id`` and ``region``)."""

    doc = request.object()
    _only(doc, "account_id", "region")
    backend = request.backend
    account, region = _account(doc), _region(doc)
    registries = None
    if account or region:
        found = backend.registries.get(
            (account or backend.default_account, region or backend.default_region)
        )
        registries = [found] if found is not None else []
    return ControlResponse(200, reclaim_layers(backend, registries).document())


def tokens(request: ControlRequest) -> ControlResponse:
    """``POST /ecr-mock/tokens`` with ``{"principal_arn"}`` (and ``account_id``, ``region``):
    a registry password for that principal."""
    doc = request.object()
    _only(doc, "principal_arn", "account_id", "region")
    arn = _optional_str(doc, "principal_arn")
    if arn is None:
        raise ControlError.bad_field("principal_arn", "'principal_arn' is required")
    account, region = _account(doc), _region(doc)
    try:
        token = request.backend.issue_token(arn, account, region)
    except EcrError as exc:
        raise ControlError.bad_field("principal_arn", exc.message) from None
    return ControlResponse(
        200,
        {
            "username": "AWS",
            "password": token.password,
            "authorizationToken": token.authorization_token,
            "expiresAt": admin.iso(token.expires_at),
            "principalArn": token.principal.arn,
            "account": token.account,
            "region": token.region,
            "registry": request.backend.host(token.account, token.region),
        },
    )


def builtin_routes() -> list[ControlRoute]:
    """Every built-in route, named."""

    return [
        ControlRoute("health", r"/ecr-mock/health/?", {"GET": health}, open=True),
        ControlRoute("reset", r"/ecr-mock/reset/?", {"POST": reset}),
        ControlRoute("clock", r"/ecr-mock/clock/?", {"GET": get_clock, "POST": post_clock}),
        ControlRoute("state", r"/ecr-mock/state/?", {"GET": state}),
        ControlRoute("seed", r"/ecr-mock/seed/?", {"POST": seed}),
        ControlRoute("lifecycle_run", r"/ecr-mock/lifecycle/run/?", {"POST": run_lifecycle}),
        ControlRoute("tokens", r"/ecr-mock/tokens/?", {"POST": tokens}),
        ControlRoute("reclaim", r"/ecr-mock/reclaim/?", {"GET": get_reclaim, "POST": post_reclaim}),
        findings_route(),
        *fault_routes(),
        events_route(),
    ]
