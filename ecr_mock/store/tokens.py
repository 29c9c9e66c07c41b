"""Authorization tokens: signed passwords bound to a principal and a registry, expiring."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ecr_mock.domain.errors import TokenExpired, Unauthenticated, UnverifiableToken
from ecr_mock.domain.models import Principal
from ecr_mock.store.clock import Clock

TOKEN_TTL = timedelta(hours=12)
ANONYMOUS_TTL = timedelta(hours=1)
"""How long an anonymous registry token (``/token`` without credentials) is honoured."""

KEY_BYTES = 32
"""Length of a token key (HMAC-SHA256)."""

HELPER_CACHE = "~/.ecr/cache.json"
"""Where ``docker-credential-ecr-login`` keeps the tokens it got (reused until they expire)."""

_CACHE_LIMIT = 4096
"""Verified tokens kept by password so a token is checked once, not on every request."""


def key_id(key: bytes) -> str:
    """A short public name of a token key (tokens carry it; messages show it)."""
    return hashlib.sha256(b"ecr-mock token key\0" + key).hexdigest()[:12]


@dataclass(frozen=True)
class Token:
    """An issued token: the password, who it speaks for, which registry, until when."""

    password: str
    principal: Principal
    account: str
    region: str
    issued_at: datetime
    expires_at: datetime
    minted_ns: int = 0
    """Wall-clock nanoseconds at issue (a reset revokes tokens minted before it)."""

    @property
    def authorization_token(self) -> str:
        """base64 of ``AWS:<password>``, as GetAuthorizationToken returns it."""
        return base64.b64encode(f"AWS:{self.password}".encode()).decode()


class TokenStore:
    """Issues and checks tokens against the backend clock.

    A password carries its claims (principal, registry, expiry) and an HMAC-SHA256 over them
    made with the store's key, so whoever holds the key verifies a token without any record
    of it: a server that keeps its key across restarts honours the tokens it issued, and no
    password needs to be stored anywhere. The key is random (and forgotten) unless
    :meth:`use_key` gives one (``ecr-mock serve`` keeps one in a file).
    """

    def __init__(self, clock: Clock, key: bytes | None = None) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._key = key or secrets.token_bytes(KEY_BYTES)
        self._key_id = key_id(self._key)
        self._issued: dict[str, Token] = {}
        self._verified: dict[str, Token] = {}
        self._revoked: dict[str, int] = {}
        """Account (``*``: all) -> tokens minted before these wall-clock nanoseconds are void."""
        self._legacy_salt = secrets.token_bytes(16)
        self._legacy: dict[str, Token] = {}
        """Tokens restored from an older state directory (random passwords), by salted hash."""
        self._anonymous: dict[str, datetime] = {}

    # ----- the key ----------------------------------------------------------------------------

    @property
    def key_id(self) -> str:
        """The public name of the key tokens are signed with now."""
        return self._key_id

    def use_key(self, key: bytes) -> None:
        """Sign and verify with ``key`` from now on (tokens of the previous key stop working)."""
        with self._lock:
            self._key = key
            self._key_id = key_id(key)
            self._issued.clear()
            self._verified.clear()

    # ----- issuing ----------------------------------------------------------------------------

    def issue(self, principal: Principal, account: str, region: str) -> Token:
        """A new token for ``principal`` on registry (account, region), valid 12 hours."""
        now = self._clock.now()
        expires = now + TOKEN_TTL
        minted = time.time_ns()
        claims = {
            "k": self._key_id,
            "a": account,
            "r": region,
            "p": [principal.arn, principal.account_id, principal.kind, principal.tags],
            "i": now.isoformat(),
            "e": expires.isoformat(),
            "w": minted,
            "n": secrets.token_urlsafe(16),
        }
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        outer = {
            "payload": body,
            "datakey": _b64(self._mac(body)),
            "version": "2",
            "type": "DATA_KEY",
            "expiration": int(expires.timestamp()),
        }
        password = base64.b64encode(json.dumps(outer).encode()).decode()
        token = Token(password, principal, account, region, now, expires, minted)
        with self._lock:
            self._issued[password] = token
        return token

    def _mac(self, body: str) -> bytes:
        return hmac.new(self._key, body.encode(), hashlib.sha256).digest()

    def issued(self) -> list[Token]:
        """Every token issued by this process and not yet expired nor revoked, oldest first."""
        now = self._clock.now()
        with self._lock:
            tokens = list(self._issued.values())
        return [t for t in tokens if t.expires_at > now and self._why_revoked(t) is None]

    # ----- what a state directory keeps: revocations and older directories' tokens ----------

    def persisted(self) -> dict[str, Any]:
        """What must outlive a restart, holding no password: revocations, hashed old tokens."""
        now = self._clock.now()
        with self._lock:
            legacy = [
                {
                    "hash": digest,
                    "principal": [t.principal.arn, t.principal.account_id, t.principal.kind],
                    "tags": [list(pair) for pair in t.principal.tags],
                    "account": t.account,
                    "region": t.region,
                    "issued_at": t.issued_at.isoformat(),
                    "expires_at": t.expires_at.isoformat(),
                }
                for digest, t in self._legacy.items()
                if t.expires_at > now
            ]
            return {
                "version": 2,
                "revoked": dict(self._revoked),
                "salt": self._legacy_salt.hex(),
                "legacy": legacy,
            }

    def restore_persisted(self, doc: Any) -> bool:
        """Take back what :meth:`persisted` wrote, or an older directory's list of tokens with
        their passwords (kept from now on as salted hashes only). True when the stored form
        was the older one and should be written again."""
        if isinstance(doc, list):
            with self._lock:
                for token in doc:
                    if isinstance(token, Token):
                        self._legacy[self._legacy_hash(token.password)] = Token(
                            "", token.principal, token.account, token.region,
                            token.issued_at, token.expires_at,
                        )  # fmt: skip
            return True
        if not isinstance(doc, dict):
            return False
        with self._lock:
            self._revoked.update({str(k): int(v) for k, v in doc.get("revoked", {}).items()})
            salt = doc.get("salt")
            if isinstance(salt, str) and doc.get("legacy"):
                self._legacy_salt = bytes.fromhex(salt)
            for item in doc.get("legacy", []):
                arn, principal_account, kind = item["principal"]
                tags = tuple((str(k), str(v)) for k, v in item.get("tags", []))
                self._legacy[item["hash"]] = Token(
                    "",
                    Principal(arn=arn, account_id=principal_account, kind=kind, tags=tags),
                    item["account"],
                    item["region"],
                    datetime.fromisoformat(item["issued_at"]),
                    datetime.fromisoformat(item["expires_at"]),
                )
        return False

    def _legacy_hash(self, password: str) -> str:
        return hashlib.sha256(self._legacy_salt + password.encode()).hexdigest()

    # ----- revoking ---------------------------------------------------------------------------

    def clear(self, account: str | None = None) -> None:
        """Void every token issued so far (or those for registries of ``account``)."""
        now = time.time_ns()
        with self._lock:
            self._revoked[account or "*"] = now
            if account is None:
                self._issued.clear()
                self._verified.clear()
                self._legacy.clear()
                self._revoked = {"*": now}
                return
            for table in (self._issued, self._verified, self._legacy):
                for password, token in list(table.items()):
                    if token.account == account:
                        del table[password]

    def _why_revoked(self, token: Token) -> str | None:
        for scope in ("*", token.account):
            before = self._revoked.get(scope)
            if before is not None and token.minted_ns < before:
                where = "every account" if scope == "*" else f"account {scope}"
                return f"the state of {where} was reset after this token was issued"
        return None

    # ----- checking ---------------------------------------------------------------------------

    def find(self, password: str) -> Token | None:
        """The token for ``password`` whether expired or not (None when it does not verify)."""
        try:
            return self._verify(password)
        except Unauthenticated:
            return None

    def check(self, password: str) -> Token:
        """The token for ``password``; Unauthenticated (saying why) when it does not verify,
        TokenExpired when expired."""
        token = self._verify(password)
        if self._clock.now() >= token.expires_at:
            raise TokenExpired()
        return token

    def _verify(self, password: str) -> Token:
        token = self._issued.get(password) or self._verified.get(password)
        if token is None and self._legacy:
            token = self._legacy.get(self._legacy_hash(password))
        if token is None:
            token = self._decode(password)
            with self._lock:
                if len(self._verified) >= _CACHE_LIMIT:
                    self._verified.clear()
                self._verified[password] = token
        why = self._why_revoked(token)
        if why is not None:
            raise UnverifiableToken(f"Not Authorized: {why}; log in again")
        return token

    def _decode(self, password: str) -> Token:
        try:
            outer = json.loads(base64.b64decode(password, validate=True))
            body = outer["payload"]
            mac = _unb64(outer["datakey"])
            claims = json.loads(_unb64(body))
            kid = claims["k"]
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise UnverifiableToken(
                "Not Authorized: the password is not an authorization token ecr-mock issued"
            ) from None
        if kid != self._key_id:
            raise UnverifiableToken(stale_key_message(str(kid), self._key_id))
        if not hmac.compare_digest(mac, self._mac(body)):
            raise UnverifiableToken("Not Authorized: the token's signature does not verify")
        try:
            arn, principal_account, kind, tags = claims["p"]
            return Token(
                password,
                Principal(
                    arn=arn,
                    account_id=principal_account,
                    kind=kind,
                    tags=tuple((str(k), str(v)) for k, v in tags),
                ),
                claims["a"],
                claims["r"],
                datetime.fromisoformat(claims["i"]),
                datetime.fromisoformat(claims["e"]),
                int(claims["w"]),
            )
        except (ValueError, KeyError, TypeError):
            raise UnverifiableToken(
                "Not Authorized: the token's claims cannot be read"
            ) from None  # signed by this key, so not expected

    def check_basic(self, username: str, password: str) -> Token:
        """Check HTTP Basic credentials: user ``AWS`` and a token's password."""
        if username != "AWS":
            raise Unauthenticated("Not Authorized")
        return self.check(password)

    # ----- anonymous tokens (public pulls) ----------------------------------------------------

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


def stale_key_message(token_key: str, server_key: str) -> str:
    """Why a token signed with another key is refused, and where such a token is kept."""
    return (
        f"Not Authorized: this token was issued under token key {token_key}, and this server "
        f"signs with key {server_key} (the token comes from another ecr-mock run started with "
        f"--ephemeral-tokens, or from another server); a credential helper keeps such a token "
        f"in {HELPER_CACHE} until it expires: remove that file, or log in again"
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    if not isinstance(text, str):
        raise TypeError("not text")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
