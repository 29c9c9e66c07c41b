"""The web console at ``/ecr-mock/ui/``: one control route, access, CSRF, pages and actions."""

from __future__ import annotations

import re
from collections.abc import Callable
from importlib import resources
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote, urlencode

from ecr_mock.domain.errors import EcrError, ItemFailure
from ecr_mock.protocols.control import ControlRequest, ControlResponse, ControlRoute
from ecr_mock.protocols.control.console.access import (
    UI_PREFIX,
    Session,
    Sessions,
    bearer_ok,
    same_origin,
    token_ok,
)
from ecr_mock.protocols.control.console.compare import compare_page
from ecr_mock.protocols.control.console.html import el, join
from ecr_mock.protocols.control.console.layout import (
    UI,
    Page,
    View,
    document,
    image_url,
    repository_url,
)
from ecr_mock.protocols.control.console.pages import (
    calls_page,
    calls_rows,
    fault_rule_from_form,
    faults_page,
    home_page,
)
from ecr_mock.protocols.control.console.repository import (
    NotFound,
    find_repository,
    image_page,
    repository_page,
)
from ecr_mock.services import admin, images, scanning
from ecr_mock.store.fault_rules import FaultRuleError

if TYPE_CHECKING:
    from ecr_mock.protocols.control import ControlRouter

__all__ = ["Console", "console_route"]

_STATIC = {
    "console.css": "text/css; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
_SECURITY_HEADERS = {
    # Nothing from another host, no inline script or style, no framing, forms post here only.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
_DONE = {
    "clock": "The clock moved forward.",
    "lifecycle": "Lifecycle policy applied: {n} image(s) expired or transitioned.",
    "scan": "Scan complete.",
    "deleted": "Image deleted.",
    "fault-added": "Fault rule {n} added.",
    "fault-removed": "Fault rule removed.",
}
MAX_ADVANCE_SECONDS = 10 * 365 * 86_400
_SHOWN_COUNT = re.compile(r"[A-Za-z0-9._-]{1,64}")
"""What a notice repeats from its query (a count or a rule id)."""


class Console:
    """The console of one control router: its access rule (token, loopback) and sessions."""

    def __init__(self, router: ControlRouter) -> None:
        self._router = router
        self.sessions = Sessions()

    def route(self) -> ControlRoute:
        """The named control route ``console`` (open: the console checks access itself)."""
        return ControlRoute(
            "console",
            r"/ecr-mock/ui(?P<rest>/.*)?",
            {"GET": self.handle, "POST": self.handle},
            open=True,
        )

    # ----- access ---------------------------------------------------------------------

    def handle(self, request: ControlRequest) -> ControlResponse:
        """Answer one console request (never raises)."""
        rest = request.params.get("rest")
        if rest is None:
            return _redirect(UI_PREFIX)
        if rest.startswith("/static/"):
            return _static(rest[len("/static/") :])
        token = self._router.token
        if token is None and not self._router.loopback:
            return _page(
                request,
                Page(
                    "Closed",
                    el("h1", {}, "The console is closed")
                    + el(
                        "p",
                        {},
                        "This server listens on an address other machines can reach and has no "
                        "control token. Start it with --control-token TOKEN to open the console "
                        "with that token.",
                    ),
                    status=403,
                ),
            )
        session = self.sessions.current(token, request.headers)
        if token is not None and session is None:
            if bearer_ok(token, request.headers):
                session = self.sessions.start(token)
            elif rest == "/login":
                return self._login(request, token)
            elif request.method == "POST":
                return _page(request, _login_page(None, rest, "Log in first."), status=401)
            else:
                target = rest + (f"?{urlencode(request.query)}" if request.query else "")
                return _redirect(f"{UI}/login?" + urlencode({"next": UI + target}))
        if session is None:  # open on loopback: a session only for CSRF
            session = self.sessions.start(token)
        form: dict[str, str] = {}
        if request.method == "POST":
            form = dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
            if not same_origin(request.headers) or not self.sessions.csrf_ok(
                session, form.get("csrf")
            ):
                return _page(
                    request,
                    Page(
                        "Refused",
                        el("h1", {}, "Refused: the form's CSRF token is missing or stale")
                        + el(
                            "p",
                            {},
                            el("a", {"href": UI_PREFIX}, "Reload the console"),
                            " and try again.",
                        ),
                        status=403,
                    ),
                    session,
                )
        view = View(request.backend, request.query, session.csrf, form)
        try:
            answer = self._dispatch(request.method, rest, view)
        except NotFound as exc:
            answer = Page(
                "Not found", el("h1", {}, "Not found") + el("p", {}, str(exc)), status=404
            )
        if isinstance(answer, ControlResponse):
            if session.new:
                answer.headers["Set-Cookie"] = session.set_cookie_header()
            return answer
        return _page(request, answer, session)

    def _login(self, request: ControlRequest, token: str) -> ControlResponse:
        target = request.query.get("next", UI_PREFIX)
        if request.method != "POST":
            return _page(request, _login_page(None, target))
        form = dict(parse_qsl(request.body.decode("utf-8", "replace")))
        target = form.get("next", UI_PREFIX)
        if not same_origin(request.headers) or not token_ok(token, form.get("token")):
            return _page(request, _login_page("That is not the control token.", target), status=401)
        session = self.sessions.start(token)
        answer = _redirect(target if _inside(target) else UI_PREFIX)
        answer.headers["Set-Cookie"] = session.set_cookie_header()
        return answer

    # ----- pages and actions ----------------------------------------------------------

    def _dispatch(self, method: str, rest: str, view: View) -> Page | ControlResponse:
        if method == "POST":
            action = _ACTIONS.get(rest)
            if action is None:
                raise NotFound(f"No console action {rest}")
            return action(view)
        for pattern, render in _PAGES:
            found = pattern.fullmatch(rest)
            if found is not None:
                return render(view, **found.groupdict())
        raise NotFound(f"No console page {rest}")


_WHERE = r"(?P<account>[0-9]{12})/(?P<region>[a-z0-9-]+)/(?P<name>[^@]+?)"


def _home(view: View) -> Page:
    return _with_notice(home_page(view), view)


def _calls(view: View) -> Page:
    return calls_page(view)


def _call_rows(view: View) -> ControlResponse:
    return _html(200, calls_rows(view).encode())


def _faults(view: View) -> Page:
    return _with_notice(faults_page(view), view)


def _logged_in(view: View) -> ControlResponse:
    return _redirect(UI_PREFIX)


def _repository(view: View, account: str, region: str, name: str) -> Page:
    return _with_notice(repository_page(view, account, region, name), view)


def _image(view: View, account: str, region: str, name: str, digest: str) -> Page:
    return _with_notice(image_page(view, account, region, name, digest), view)


_PAGES: list[tuple[re.Pattern[str], Callable[..., Page | ControlResponse]]] = [
    (re.compile(path), render)
    for path, render in (
        (r"/", _home),
        (r"/calls", _calls),
        (r"/calls/rows", _call_rows),
        (r"/faults", _faults),
        (r"/login", _logged_in),
        (rf"/repositories/{_WHERE}/?", _repository),
        (rf"/images/{_WHERE}@(?P<digest>[a-z0-9]+:[a-f0-9]+)", _image),
        (rf"/compare/{_WHERE}/?", compare_page),
    )
]
"""The pages (GET): a path pattern under /ecr-mock/ui and the function that renders it."""


def _inside(target: str) -> bool:
    return target.startswith(UI_PREFIX) and "//" not in target and "\\" not in target


def _with_notice(page: Page, view: View) -> Page:
    done = _DONE.get(view.query.get("done", ""))
    if done is not None:
        count = view.query.get("n", "")
        page.notice = done.format(n=count if _SHOWN_COUNT.fullmatch(count) else "")
    return page


def _login_page(error: str | None, target: str, note: str | None = None) -> Page:
    form = el(
        "form",
        {"method": "post", "action": f"{UI}/login", "class": "login"},
        el("input", {"type": "hidden", "name": "next", "value": target}),
        el(
            "label",
            {},
            "Control token",
            el(
                "input",
                {
                    "type": "password",
                    "name": "token",
                    "autocomplete": "current-password",
                    "required": True,
                },
            ),
        ),
        el("button", {"type": "submit"}, "Open the console"),
    )
    body = join(
        [
            el("h1", {}, "Log in"),
            el(
                "p",
                {},
                note or "This server wants its control token (the one given to --control-token).",
            ),
            el("p", {"class": "error", "role": "alert"}, error) if error else None,
            form,
        ]
    )
    return Page("Log in", body, status=401 if error else 200)


# ----- actions: each calls the service the ECR API and the control API use --------------


def _done(target: str, code: str, n: object = "") -> ControlResponse:
    sep = "&" if "?" in target else "?"
    return _redirect(f"{target}{sep}" + urlencode({"done": code, "n": str(n)}))


def _target_repository(view: View) -> tuple[str, str, str]:
    form = view.form
    return form.get("account", ""), form.get("region", ""), form.get("repository", "")


def _clock(view: View) -> Page | ControlResponse:
    try:
        seconds = float(view.form.get("advance_seconds", ""))
    except ValueError:
        seconds = -1
    if not 0 <= seconds <= MAX_ADVANCE_SECONDS:
        page = home_page(view)
        page.notice, page.status = "The clock moves forward by a number of seconds only.", 400
        return page
    admin.advance_clock(view.backend, seconds)
    return _done(UI_PREFIX, "clock")


def _lifecycle(view: View) -> Page | ControlResponse:
    account, region, name = _target_repository(view)
    reg, repo = find_repository(view.backend, account, region, name)
    actions = view.backend.apply_lifecycle_policies(reg, repo)
    return _done(repository_url(account, region, name), "lifecycle", len(actions))


def _refused(view: View, reason: str) -> Page:
    account, region, name = _target_repository(view)
    page = repository_page(view, account, region, name)
    page.notice, page.status = f"Refused: {reason}", 409
    return page


def _scan(view: View) -> Page | ControlResponse:
    account, region, name = _target_repository(view)
    reg, repo = find_repository(view.backend, account, region, name)
    image = repo.images.get(view.form.get("digest", ""))
    if image is None:
        raise NotFound("No such image in this repository")
    try:
        scanning.start_image_scan(view.backend, reg, repo, image)
    except EcrError as exc:
        return _refused(view, f"{exc.code}: {exc.message}")
    return _done(image_url(account, region, name, image.digest), "scan")


def _delete_image(view: View) -> Page | ControlResponse:
    account, region, name = _target_repository(view)
    _, repo = find_repository(view.backend, account, region, name)
    digest = view.form.get("digest", "")
    if digest not in repo.images:
        raise NotFound("No such image in this repository")
    try:
        images.delete_image_id(view.backend, repo, digest, None)
    except ItemFailure as exc:
        return _refused(view, f"{exc.failure_code}: {exc.message}")
    return _done(repository_url(account, region, name), "deleted")


def _add_fault(view: View) -> Page | ControlResponse:
    try:
        rule = view.backend.faults.add_rule(fault_rule_from_form(view.form))
    except (FaultRuleError, ValueError) as exc:
        return faults_page(view, error=str(exc))
    return _done(f"{UI}/faults", "fault-added", rule.id)


def _remove_fault(view: View) -> Page | ControlResponse:
    view.backend.faults.remove(view.form.get("id", ""))
    return _done(f"{UI}/faults", "fault-removed")


_ACTIONS: dict[str, Callable[[View], Page | ControlResponse]] = {
    "/clock": _clock,
    "/actions/lifecycle": _lifecycle,
    "/actions/scan": _scan,
    "/actions/delete-image": _delete_image,
    "/faults": _add_fault,
    "/faults/remove": _remove_fault,
}


# ----- responses -------------------------------------------------------------------------


def _html(status: int, body: bytes) -> ControlResponse:
    headers = {**_SECURITY_HEADERS, "Cache-Control": "no-store"}
    return ControlResponse(
        status, headers=headers, content=body, content_type="text/html; charset=utf-8"
    )


def _page(
    request: ControlRequest, page: Page, session: Session | None = None, status: int | None = None
) -> ControlResponse:
    answer = _html(status or page.status, document(page, request.backend))
    if session is not None and session.new:
        answer.headers["Set-Cookie"] = session.set_cookie_header()
    return answer


def _redirect(location: str) -> ControlResponse:
    return ControlResponse(
        303,
        headers={"Location": quote(location, safe="/:@?&=%+-._~"), "Cache-Control": "no-store"},
        content=b"",
        content_type="text/plain; charset=utf-8",
    )


def _static(name: str) -> ControlResponse:
    kind = _STATIC.get(name)
    if kind is None:
        return ControlResponse(
            404, content=b"Not found\n", content_type="text/plain; charset=utf-8"
        )
    data = resources.files(__package__).joinpath("static", name).read_bytes()
    headers = {"Cache-Control": "max-age=300", "X-Content-Type-Options": "nosniff"}
    return ControlResponse(200, headers=headers, content=data, content_type=kind)


def console_route(router: ControlRouter) -> ControlRoute:
    """The console's control route for ``router`` (which holds the token and loopback rule)."""
    return Console(router).route()
