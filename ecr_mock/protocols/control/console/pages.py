"""The console's home page, call record and fault rules pages."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

from ecr_mock.protocols.control.console.html import Markup, el
from ecr_mock.protocols.control.console.layout import (
    UI,
    Page,
    View,
    csrf_input,
    post_form,
    repository_url,
    size,
    table,
)
from ecr_mock.services.admin import iso

__all__ = [
    "ADVANCES",
    "calls_page",
    "calls_rows",
    "fault_rule_from_form",
    "faults_page",
    "home_page",
]

ADVANCES = (("1 hour", 3600), ("1 day", 86_400), ("7 days", 604_800), ("30 days", 2_592_000))
"""The clock's advance buttons: label and seconds."""

CALL_FILTERS = ("operation", "repository", "status")
CALLS_SHOWN = 200


def home_page(view: View) -> Page:
    """Every registry with its counts and bytes, its repositories, and the clock."""
    backend = view.backend
    with backend.lock:
        registries = sorted(backend.registries.values(), key=lambda r: (r.account, r.region))
        summary = []
        for reg in registries:
            repos = sorted(reg.repositories.values(), key=lambda r: r.name)
            stored = sum(blob.size for blob in reg.blobs.values())
            rows = [
                [
                    el(
                        "a", {"href": repository_url(reg.account, reg.region, repo.name)}, repo.name
                    ),
                    len(repo.images),
                    len(repo.tags),
                    repo.tag_mutability,
                    "yes" if repo.lifecycle_policy_text else "no",
                ]
                for repo in repos
            ]
            images = sum(len(repo.images) for repo in repos)
            summary.append((reg.account, reg.region, len(repos), images, stored, rows))
    now = backend.clock.now()
    clock = el(
        "section",
        {"aria-labelledby": "clock-h"},
        el("h2", {"id": "clock-h"}, "Clock"),
        el("p", {}, "The emulator's time: ", el("strong", {"id": "clock-now"}, iso(now)), "."),
        el(
            "div",
            {"class": "buttons"},
            (
                post_form(view, f"{UI}/clock", f"Advance {label}", {"advance_seconds": str(secs)})
                for label, secs in ADVANCES
            ),
        ),
    )
    overview = table(
        "Registries",
        ["Account", "Region", "Repositories", "Images", "Stored bytes"],
        [
            [a, r, n, i, el("span", {"title": f"{b} bytes"}, size(b))]
            for a, r, n, i, b, _ in summary
        ],
        "No registry holds anything yet: create a repository or push an image.",
    )
    sections = [
        el(
            "section",
            {"aria-labelledby": f"reg-{account}-{region}"},
            el("h2", {"id": f"reg-{account}-{region}"}, f"Registry {account} · {region}"),
            table(
                f"Repositories of {account} in {region}",
                ["Repository", "Images", "Tags", "Tag mutability", "Lifecycle policy"],
                rows,
                "No repositories.",
            ),
        )
        for account, region, _, _, _, rows in summary
    ]
    links = el(
        "ul",
        {"class": "links"},
        el("li", {}, el("a", {"href": f"{UI}/calls"}, "The call record")),
        el("li", {}, el("a", {"href": f"{UI}/faults"}, "Fault rules")),
        el("li", {}, el("a", {"href": "/ecr-mock/health"}, "Health (JSON)")),
    )
    body = Markup(
        el("h1", {}, "ecr-mock")
        + el(
            "section", {"aria-labelledby": "reg-h"}, el("h2", {"id": "reg-h"}, "Overview"), overview
        )
        + clock
        + Markup("".join(sections))
        + el("section", {"aria-labelledby": "more-h"}, el("h2", {"id": "more-h"}, "More"), links)
    )
    return Page("Home", body)


def _call_filters(query: Mapping[str, str]) -> dict[str, Any]:
    filters: dict[str, Any] = {}
    for key in CALL_FILTERS:
        value = (query.get(key) or "").strip()
        if value:
            filters[key] = int(value) if key == "status" and value.isdigit() else value
    return filters


def calls_rows(view: View) -> Markup:
    """The rows of the call record table, newest first, as the filters in the query keep."""
    filters = _call_filters(view.query)
    # A status that is not a number matches nothing.
    bad_status = isinstance(filters.get("status"), str)
    calls = [] if bad_status else view.backend.calls.of(**filters)
    calls = list(reversed(calls[-CALLS_SHOWN:]))
    rows = []
    for call in calls:
        at = datetime.fromtimestamp(call.time, timezone.utc).strftime("%H:%M:%S")
        status_class = "bad" if call.status >= 400 else "good"
        rows.append(
            el(
                "tr",
                {},
                el("td", {"data-label": "Time (UTC)"}, el("time", {}, at)),
                el("td", {"data-label": "Surface"}, call.surface),
                el("td", {"data-label": "Operation"}, call.operation or "-"),
                el("td", {"data-label": "Repository"}, call.repository or "-"),
                el(
                    "td", {"data-label": "Status"}, el("span", {"class": status_class}, call.status)
                ),
                el("td", {"data-label": "Error"}, call.error_code or ""),
                el("td", {"data-label": "Caller"}, call.principal or ""),
                el("td", {"data-label": "ms"}, f"{call.duration_ms:.1f}"),
            )
        )
    if not rows:
        return el("tr", {}, el("td", {"colspan": "8", "class": "muted"}, "No calls match."))
    return Markup("".join(rows))


def calls_page(view: View) -> Page:
    """The call record, newest first, filtered by operation, repository and status."""
    filters = {key: view.query.get(key, "") for key in CALL_FILTERS}
    fields = [
        el(
            "label",
            {},
            label,
            el("input", {"name": key, "value": filters[key], "type": kind, "inputmode": mode}),
        )
        for key, label, kind, mode in (
            ("operation", "Operation", "text", None),
            ("repository", "Repository", "text", None),
            ("status", "Status", "text", "numeric"),
        )
    ]
    form = el(
        "form",
        {"method": "get", "action": f"{UI}/calls", "class": "filters", "role": "search"},
        fields,
        el("button", {"type": "submit"}, "Filter"),
    )
    headings = ["Time (UTC)", "Surface", "Operation", "Repository", "Status", "Error", "Caller"]
    head = el(
        "thead",
        {},
        el("tr", {}, (el("th", {"scope": "col"}, h) for h in [*headings, "ms"])),
    )
    source = f"{UI}/calls/rows?" + urlencode({k: v for k, v in filters.items() if v})
    body = Markup(
        el("h1", {}, "Call record")
        + el(
            "p",
            {},
            f"Every ECR API and /v2/ request, newest first (the last {CALLS_SHOWN}). "
            "The table refreshes by itself every 2 seconds.",
        )
        + form
        + el(
            "div",
            {"class": "scroll"},
            el(
                "table",
                {"id": "calls"},
                el("caption", {}, "Calls"),
                head,
                el(
                    "tbody",
                    {"data-refresh": source, "aria-live": "polite", "id": "call-rows"},
                    calls_rows(view),
                ),
            ),
        )
    )
    return Page("Calls", body)


_FAULT_FIELDS = (
    ("operation", "Operation or route", "text", "PutImage, manifest.put ..."),
    ("repository", "Repository (wildcards * and ?)", "text", ""),
    ("error", "Error code", "text", "ThrottlingException"),
    ("status", "HTTP status", "number", ""),
    ("message", "Message", "text", ""),
    ("delay_ms", "Delay (ms)", "number", ""),
    ("times", "Times (then spent)", "number", ""),
    ("probability", "Probability (0 to 1)", "text", ""),
)
_NUMBERS = {"status": int, "delay_ms": float, "times": int, "probability": float}


def fault_rule_from_form(form: Mapping[str, str]) -> dict[str, Any]:
    """A fault rule document from the add form's fields (empty fields left out).

    ValueError names a field that is not a number; the fault service checks the rest.
    """
    rule: dict[str, Any] = {}
    for name, _, _, _ in _FAULT_FIELDS:
        value = (form.get(name) or "").strip()
        if not value:
            continue
        kind = _NUMBERS.get(name)
        if kind is None:
            rule[name] = value
            continue
        try:
            number = kind(value)
        except ValueError:
            raise ValueError(f"{name} must be a number; got {value!r}") from None
        rule[name] = int(number) if kind is float and float(number).is_integer() else number
    return rule


def faults_page(view: View, error: str | None = None) -> Page:
    """The fault rules with their hits, a form to add one, and a remove button on each."""
    rules = [rule.to_dict() for rule in view.backend.faults]
    rows = []
    for doc in rules:
        rule_id = str(doc["id"])
        shown = {k: v for k, v in doc.items() if k not in ("id", "hits", "matches", "spent")}
        rows.append(
            [
                el("code", {}, rule_id),
                el("code", {}, json.dumps(shown, sort_keys=True)),
                doc.get("hits", 0),
                "spent" if doc.get("spent") else "active",
                post_form(view, f"{UI}/faults/remove", "Remove", {"id": rule_id}, danger=True),
            ]
        )
    inputs = [
        el(
            "label",
            {},
            label,
            el(
                "input",
                {
                    "name": name,
                    "type": kind,
                    "placeholder": hint or None,
                    "value": view.form.get(name) if error else None,
                    "step": "any" if kind == "number" else None,
                },
            ),
        )
        for name, label, kind, hint in _FAULT_FIELDS
    ]
    add = el(
        "form",
        {"method": "post", "action": f"{UI}/faults", "class": "grid", "id": "add-fault"},
        csrf_input(view),
        inputs,
        el("button", {"type": "submit"}, "Add rule"),
    )
    problem = el("p", {"class": "error", "role": "alert"}, error) if error else Markup("")
    body = Markup(
        el("h1", {}, "Fault rules")
        + el(
            "p",
            {},
            "Rules make chosen requests fail, stall or disconnect. A rule needs an effect: "
            "an error code, a delay or a disconnect.",
        )
        + table(
            "Fault rules",
            ["Id", "Rule", "Hits", "State", "Action"],
            rows,
            "No fault rules are set.",
        )
        + el("h2", {}, "Add a rule")
        + problem
        + add
    )
    return Page("Faults", body, status=400 if error else 200)
