"""Who may use the console: the control API's access rule, a session cookie and CSRF tokens.

The rule is the control API's: with a control token every page wants it (asked once by a form,
then kept in a session cookie, or sent as ``Authorization: Bearer``); without one the console is
open on a loopback address and closed elsewhere. Every session has a cookie (HttpOnly,
SameSite=Strict, path ``/ecr-mock/ui/``) signed by a key of this process and the token, and a
CSRF token derived from it that every POST form carries.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlsplit

__all__ = ["COOKIE_NAME", "UI_PREFIX", "Session", "Sessions"]

UI_PREFIX = "/ecr-mock/ui/"
COOKIE_NAME = "ecr_mock_console"


@dataclass(frozen=True)
class Session:
    """A browser's session: its id, whether it is new (the cookie must be set) and its CSRF."""

    id: str
    new: bool
    csrf: str
    cookie: str
    """The cookie value (``<id>.<signature>``)."""

    def set_cookie_header(self) -> str:
        """The ``Set-Cookie`` value that keeps this session."""
        return f"{COOKIE_NAME}={self.cookie}; Path={UI_PREFIX}; HttpOnly; SameSite=Strict"


class Sessions:
    """Signs and checks session cookies and CSRF tokens with a key made at start-up.

    The key mixes a random secret with the control token, so cookies stop working when the
    server restarts (a new secret) or its token changes.
    """

    def __init__(self) -> None:
        self._secret = secrets.token_bytes(32)

    def _sign(self, token: str | None, purpose: str, value: str) -> str:
        key = self._secret + hashlib.sha256((token or "").encode()).digest()
        return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()

    def _session(self, token: str | None, sid: str, new: bool) -> Session:
        signature = self._sign(token, "session", sid)
        return Session(sid, new, self._sign(token, "csrf", sid), f"{sid}.{signature}")

    def current(self, token: str | None, headers: Mapping[str, str]) -> Session | None:
        """The session the request's cookie proves, or None."""
        value = _cookie(headers)
        if value is None:
            return None
        sid, _, signature = value.partition(".")
        if not sid or not hmac.compare_digest(signature, self._sign(token, "session", sid)):
            return None
        return self._session(token, sid, new=False)

    def start(self, token: str | None) -> Session:
        """A new session (its cookie still to be sent)."""
        return self._session(token, secrets.token_urlsafe(18), new=True)

    @staticmethod
    def csrf_ok(session: Session, sent: str | None) -> bool:
        """Whether a POST's ``csrf`` field is this session's."""
        return sent is not None and hmac.compare_digest(sent.encode(), session.csrf.encode())


def _cookie(headers: Mapping[str, str]) -> str | None:
    raw = headers.get("Cookie") or headers.get("cookie")
    if not raw:
        return None
    jar = SimpleCookie()
    try:
        jar.load(raw)
    except CookieError:
        return None
    morsel = jar.get(COOKIE_NAME)
    return morsel.value if morsel is not None else None


def bearer_ok(token: str, headers: Mapping[str, str]) -> bool:
    """Whether the request carries ``Authorization: Bearer <token>``."""
    sent = headers.get("Authorization") or headers.get("authorization") or ""
    scheme, _, value = sent.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        value.strip().encode(), token.encode()
    )


def token_ok(token: str, sent: str | None) -> bool:
    """Whether a login form's token is the control token."""
    return sent is not None and hmac.compare_digest(sent.strip().encode(), token.encode())


def same_origin(headers: Mapping[str, str]) -> bool:
    """False when the request names an ``Origin`` other than the host it was sent to."""
    origin = headers.get("Origin") or headers.get("origin")
    if not origin or origin == "null":
        return origin != "null"
    host = headers.get("Host") or headers.get("host") or ""
    return urlsplit(origin).netloc.lower() == host.lower()
