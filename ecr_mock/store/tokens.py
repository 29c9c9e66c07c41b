"""Authorization tokens: unguessable passwords bound to a principal and a registry, expiring."""

from __future__ import annotations

import base64
import json
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from ecr_mock.domain.errors import TokenExpired, Unauthenticated
from ecr_mock.domain.models import Principal
from ecr_mock.store.clock import Clock

TOKEN_TTL = timedelta(hours=12)
ANONYMOUS_TTL = timedelta(hours=1)
"""How long an anonymous registry token (``/token`` without credentials) is honoured."""


@dataclass(frozen=True)
class Token:
    """An issued token: the password, who it speaks for, which registry, until when."""

    password: str
    principal: Principal
    account: str
    region: str
    issued_at: datetime
    expires_at: datetime

    @property
    def authorization_token(self) -> str:
        """base64 of ``AWS:<password>``, as GetAuthorizationToken returns it."""
        return base64.b64encode(f"AWS:{self.password}".encode()).decode()


class TokenStore:
    """Issues and checks tokens against the backend clock."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._tokens: dict[str, Token] = {}
        self._anonymous: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def issue(self, principal: Principal, account: str, region: str) -> Token:
        """A new token for ``principal`` on registry (account, region), valid 12 hours."""
        now = self._clock.now()
        expires = now + TOKEN_TTL
        payload = {
            "payload": secrets.token_urlsafe(48),
            "datakey": secrets.token_urlsafe(24),
            "version": "2",
            "type": "DATA_KEY",
            "expiration": int(expires.timestamp()),
        }
        password = base64.b64encode(json.dumps(payload).encode()).decode()
        token = Token(password, principal, account, region, now, expires)
        with self._lock:
            self._tokens[password] = token
        return token

    def issued(self) -> list[Token]:
        """Every token issued and not yet expired, oldest first."""
        now = self._clock.now()
        with self._lock:
            return [t for t in self._tokens.values() if t.expires_at > now]

    def restore(self, tokens: list[Token]) -> None:
        """Know ``tokens`` again (issued before a restart)."""
        with self._lock:
            for token in tokens:
                self._tokens[token.password] = token

    def clear(self, account: str | None = None) -> None:
        """Forget every token (or those issued for registries of ``account``)."""
        with self._lock:
            if account is None:
                self._tokens.clear()
            else:
                for password, token in list(self._tokens.items()):
                    if token.account == account:
                        del self._tokens[password]

    def find(self, password: str) -> Token | None:
        """The token for ``password`` whether expired or not (None when unknown)."""
        return self._tokens.get(password)

    def check(self, password: str) -> Token:
        """The token for ``password``; Unauthenticated when unknown, TokenExpired when expired."""
        token = self._tokens.get(password)
        if token is None:
            raise Unauthenticated("Not Authorized")
        if self._clock.now() >= token.expires_at:
            raise TokenExpired()
        return token

    def issue_anonymous(self) -> tuple[str, datetime]:
        """A new anonymous token (public pulls only) and when it expires."""
        now = self._clock.now()
        value = "anonymous." + secrets.token_urlsafe(32)
        with self._lock:
            for old, until in list(self._anonymous.items()):
                if until <= now:
                    del self._anonymous[old]
            self._anonymous[value] = now + ANONYMOUS_TTL
        return value, now + ANONYMOUS_TTL

    def check_anonymous(self, value: str) -> bool:
        """True for an anonymous token issued here and not yet expired."""
        until = self._anonymous.get(value)
        return until is not None and self._clock.now() < until

    def check_basic(self, username: str, password: str) -> Token:
        """Check HTTP Basic credentials: user ``AWS`` and a token's password."""
        if username != "AWS":
            raise Unauthenticated("Not Authorized")
        return self.check(password)
