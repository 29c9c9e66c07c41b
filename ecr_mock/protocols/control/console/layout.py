"""The console's page chrome and small formatters: sizes, times, digests, JSON, POST forms."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from ecr_mock._version import __version__
from ecr_mock.protocols.control.console.html import Markup, el, join, render_template
from ecr_mock.services.admin import iso

if TYPE_CHECKING:
    from ecr_mock.services.backend import Backend

__all__ = [
    "Page",
    "View",
    "image_url",
    "json_block",
    "post_form",
    "repository_url",
    "short_digest",
    "size",
    "when",
]

UI = "/ecr-mock/ui"


@dataclass
class View:
    """What a page handler gets: the backend, the query, the form, and the session's CSRF."""

    backend: Backend
    query: Mapping[str, str]
    csrf: str
    form: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Page:
    """A rendered page: title, body and status (and a notice shown above the body)."""

    title: str
    body: Markup
    status: int = 200
    notice: str | None = None


_NAV = (("Home", f"{UI}/"), ("Calls", f"{UI}/calls"), ("Faults", f"{UI}/faults"))


def document(page: Page, backend: Backend) -> bytes:
    """The whole HTML document of ``page``."""

    notice = (
        el("p", {"class": "notice", "role": "status"}, page.notice) if page.notice else Markup("")
    )
    nav = join(el("a", {"href": href}, label) for label, href in _NAV)
    return render_template(
        "page.html",
        title=join(page.title),
        nav=nav,
        notice=notice,
        body=page.body,
        version=join(__version__),
        now=join(iso(backend.clock.now())),
    ).encode()


def repository_url(account: str, region: str, name: str) -> str:
    """The repository page's path."""
    return f"{UI}/repositories/{account}/{region}/{quote(name)}"


def repository_crumbs(account: str, region: str, name: str) -> Markup:
    """The trail above a page of one repository: Home / the repository."""
    return el(
        "p",
        {"class": "crumbs"},
        el("a", {"href": f"{UI}/"}, "Home"),
        " / ",
        el("a", {"href": repository_url(account, region, name)}, name),
    )


def image_url(account: str, region: str, name: str, digest: str) -> str:
    """The image page's path."""
    return f"{UI}/images/{account}/{region}/{quote(name)}@{digest}"


def compare_url(account: str, region: str, name: str, base: str, other: str) -> str:
    """The compare page's path for two digests."""
    query = urlencode({"base": base, "other": other})
    return f"{UI}/compare/{account}/{region}/{quote(name)}?{query}"


def short_digest(digest: str) -> Markup:
    """The first 12 hex digits, with the full digest in a title and a copy button."""
    algorithm, _, hex_part = digest.partition(":")
    return el(
        "span",
        {"class": "digest"},
        el("code", {"title": digest}, f"{algorithm}:{hex_part[:12]}"),
        " ",
        el(
            "button",
            {"type": "button", "class": "copy", "data-copy": digest, "aria-label": "Copy digest"},
            "Copy",
        ),
    )


def size(n: int | None) -> str:
    """Bytes as ``12.3 MB`` (decimal units, as the ECR console shows them)."""
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"


def when(moment: datetime | None) -> Markup:
    """A time as ``<time>`` in UTC (``never`` for None)."""
    if moment is None:
        return el("span", {"class": "muted"}, "never")

    text = iso(moment)
    return el("time", {"datetime": text}, text[:19].replace("T", " ") + "Z")


def json_block(value: Any, label: str) -> Markup:
    """Formatted JSON in a scrollable block labelled ``label``."""
    text = json.dumps(value, indent=2, sort_keys=False, default=str)
    return el("pre", {"class": "json", "tabindex": "0", "aria-label": label}, el("code", {}, text))


def policy_block(text: str | None, label: str) -> Markup:
    """A stored policy as formatted JSON (or as stored when it is not JSON); ``none`` when absent."""
    if text is None:
        return el("p", {"class": "muted"}, "None set.")
    try:
        return json_block(json.loads(text), label)
    except ValueError:
        return el("pre", {"class": "json", "aria-label": label}, el("code", {}, text))


def post_form(
    view: View,
    action: str,
    label: str,
    fields: Mapping[str, str] | None = None,
    *,
    danger: bool = False,
) -> Markup:
    """A one-button POST form carrying the session's CSRF token and hidden ``fields``."""
    hidden = [el("input", {"type": "hidden", "name": "csrf", "value": view.csrf})]
    hidden.extend(
        el("input", {"type": "hidden", "name": name, "value": value})
        for name, value in (fields or {}).items()
    )
    button = el("button", {"type": "submit", "class": "danger" if danger else None}, label)
    return el("form", {"method": "post", "action": action, "class": "inline"}, hidden, button)


def csrf_input(view: View) -> Markup:
    """The hidden CSRF field of a form."""
    return el("input", {"type": "hidden", "name": "csrf", "value": view.csrf})


def table(
    caption: str, headings: Sequence[str], rows: Sequence[Sequence[object]], empty: str
) -> Markup:
    """A table with a caption and column headings; ``empty`` when there are no rows."""
    if not rows:
        return el("p", {"class": "muted"}, empty)
    head = el("thead", {}, el("tr", {}, (el("th", {"scope": "col"}, h) for h in headings)))
    body = el(
        "tbody",
        {},
        (
            el(
                "tr",
                {},
                (el("td", {"data-label": h}, cell) for h, cell in zip(headings, row, strict=True)),
            )
            for row in rows
        ),
    )
    return el(
        "div",
        {"class": "scroll"},
        el("table", {}, el("caption", {}, caption), head, body),
    )
