"""A client for a running server's control API (``/ecr-mock/``), on the standard library alone.

Usage::

    from ecr_mock.testing.remote import RemoteEcrMock

    remote = RemoteEcrMock("http://127.0.0.1:5000")   # token="..." for --control-token
    remote.wait_until_healthy()
    remote.reset()
    remote.seed("seed.yaml")                          # or a dict
    remote.clock.advance(hours=13)
    login = remote.issue_token("arn:aws:iam::123456789012:user/ci")
    remote.state()["registries"]

The methods mirror the in-process backend's (``reset``, ``state``, ``seed``, ``issue_token``,
``clock.now/advance/set``, ``faults.add/clear``, ``calls.of/operations/errors``,
``events.all/of_type``), so a test can use either.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, urlencode

from ecr_mock.store.calls import Call, CallQueries
from ecr_mock.testing.errors import ControlAPIError

__all__ = [
    "ControlAPIError",
    "RemoteCalls",
    "RemoteClock",
    "RemoteEcrMock",
    "RemoteEvents",
    "RemoteFaultRule",
    "RemoteFaults",
    "RemoteToken",
]


class RemoteToken:
    """A registry token issued by the server: what ``docker login`` and skopeo take."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.username: str = doc["username"]
        self.password: str = doc["password"]
        self.registry: str = doc.get("registry", "")
        self.principal_arn: str = doc.get("principalArn", "")
        self.expires_at: datetime = _parse_time(doc["expiresAt"])

    @property
    def creds(self) -> str:
        """``AWS:<password>``, the form of ``skopeo --creds``."""
        return f"{self.username}:{self.password}"


def _parse_time(text: str) -> datetime:
    value = text[:-1] + "+00:00" if text.endswith("Z") else text
    return datetime.fromisoformat(value)


class RemoteClock:
    """The server's clock, shaped like :class:`ecr_mock.Clock` (``now``, ``advance``, ``set``)."""

    def __init__(self, remote: RemoteEcrMock) -> None:
        self._remote = remote

    def now(self) -> datetime:
        """The server clock's time."""
        return _parse_time(self._remote.call("GET", "clock")["now"])

    def advance(self, delta: timedelta | float | None = None, **kwargs: float) -> datetime:
        """Move the server clock forward by ``delta`` (seconds or timedelta) or ``**kwargs``."""
        if delta is None:
            step = timedelta(**kwargs)
        elif isinstance(delta, timedelta):
            step = delta
        else:
            step = timedelta(seconds=delta)
        doc = self._remote.call("POST", "clock", {"advance_seconds": step.total_seconds()})
        return _parse_time(doc["now"])

    def set(self, when: datetime) -> None:
        """Jump the server clock to ``when`` (it keeps running from there)."""
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        self._remote.call("POST", "clock", {"now": when.isoformat()})


class RemoteFaultRule:
    """A fault rule on the server: its ``id``, its fields as sent back, ``hits`` read fresh.

    ``remove()`` (or leaving a ``with`` block) deletes it on the server.
    """

    def __init__(self, remote: RemoteEcrMock, doc: dict[str, Any]) -> None:
        self._remote = remote
        self.id = str(doc["id"])
        self.doc = doc
        """The rule as the server last answered it."""

    def to_dict(self) -> dict[str, Any]:
        """The rule now, with its ``hits`` and ``matches`` counts."""
        self.doc = self._remote.call("GET", f"faults/{quote(self.id, safe='')}")
        return self.doc

    @property
    def hits(self) -> int:
        """How many requests this rule has applied to (asked of the server)."""
        return int(self.to_dict()["hits"])

    @property
    def matches(self) -> int:
        """How many requests matched the rule's fields (asked of the server)."""
        return int(self.to_dict()["matches"])

    def remove(self) -> None:
        """Delete the rule on the server (harmless when it is gone already)."""
        try:
            self._remote.call("DELETE", f"faults/{quote(self.id, safe='')}")
        except ControlAPIError as exc:
            if exc.status != 404:
                raise

    def __enter__(self) -> RemoteFaultRule:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.remove()

    def __repr__(self) -> str:
        return f"<RemoteFaultRule {self.id} {self.doc}>"


class RemoteFaults:
    """The server's fault rules: ``add(**rule)``, ``add_rule(doc)``, ``get``, ``remove``,
    ``clear()``, iteration; the same vocabulary as ``backend.faults``."""

    def __init__(self, remote: RemoteEcrMock) -> None:
        self._remote = remote

    def add(self, **rule: Any) -> RemoteFaultRule:
        """Add a rule; ControlAPIError (400, naming the bad field) when it is invalid."""
        return self.add_rule(rule)

    def add_rule(self, rule: dict[str, Any]) -> RemoteFaultRule:
        """Add a rule given as a dict."""
        return RemoteFaultRule(self._remote, self._remote.call("POST", "faults", rule))

    def get(self, rule_id: str) -> RemoteFaultRule | None:
        """The rule with ``rule_id``, or None."""
        try:
            doc = self._remote.call("GET", f"faults/{quote(rule_id, safe='')}")
        except ControlAPIError as exc:
            if exc.status == 404:
                return None
            raise
        return RemoteFaultRule(self._remote, doc)

    def remove(self, rule_id: str) -> None:
        """Delete one rule (harmless when it is gone)."""
        RemoteFaultRule(self._remote, {"id": rule_id}).remove()

    def clear(self) -> None:
        """Delete every rule."""
        self._remote.call("DELETE", "faults")

    def _all(self) -> list[RemoteFaultRule]:
        docs = self._remote.call("GET", "faults")["faults"]
        return [RemoteFaultRule(self._remote, doc) for doc in docs]

    def __iter__(self) -> Iterator[RemoteFaultRule]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


class RemoteCalls(CallQueries):
    """The server's call record: ``of(...)``, ``operations()``, ``errors()``, ``[-1]``,
    ``len()``, ``clear()``; the records are :class:`ecr_mock.store.calls.Call`."""

    def __init__(self, remote: RemoteEcrMock) -> None:
        self._remote = remote

    def snapshot(self) -> list[Call]:
        """The server's records now, oldest first."""
        return [Call(**doc) for doc in self._remote.call("GET", "calls")["calls"]]

    def clear(self) -> None:
        """Forget every record."""
        self._remote.call("DELETE", "calls")

    def __len__(self) -> int:
        return len(self.snapshot())


class RemoteEvents:
    """The ECR events the server recorded: ``all()``, ``of_type(detail_type)``, ``clear()``."""

    def __init__(self, remote: RemoteEcrMock) -> None:
        self._remote = remote

    def all(self) -> list[dict[str, Any]]:
        """Every event kept, oldest first (EventBridge-shaped dicts)."""
        events: list[dict[str, Any]] = self._remote.call("GET", "events")["events"]
        return events

    def of_type(self, detail_type: str) -> list[dict[str, Any]]:
        """The events of one ``detail-type``."""
        query = urlencode({"detail_type": detail_type})
        events: list[dict[str, Any]] = self._remote.call("GET", f"events?{query}")["events"]
        return events

    def clear(self) -> None:
        """Forget the events recorded so far."""
        self._remote.call("DELETE", "events")

    def __len__(self) -> int:
        return len(self.all())


class RemoteEcrMock:
    """The control API of the server at ``url`` (``http://HOST:PORT``)."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 60.0) -> None:
        self.url = url.rstrip("/")
        self.token = token if token is not None else os.environ.get("ECR_MOCK_CONTROL_TOKEN")
        self.timeout = timeout
        self.clock = RemoteClock(self)
        self.faults = RemoteFaults(self)
        """The server's fault rules (``/ecr-mock/faults``)."""
        self.calls = RemoteCalls(self)
        """The server's call record (``/ecr-mock/calls``)."""
        self.events = RemoteEvents(self)
        """The ECR events the server recorded (``/ecr-mock/events``)."""
        self._defaults: tuple[str, str] | None = None

    @property
    def endpoint(self) -> str:
        """``HOST:PORT`` of the server (the registry host for docker and skopeo)."""
        return self.url.split("://", 1)[-1].split("/", 1)[0]

    @property
    def host(self) -> str:
        """The server's host name or address."""
        return self.endpoint.rsplit(":", 1)[0].strip("[]")

    @property
    def port(self) -> int:
        """The server's port."""
        head, _, port = self.endpoint.rpartition(":")
        if head and port.isdigit():
            return int(port)
        return 443 if self.url.startswith("https:") else 80

    def defaults(self) -> tuple[str, str]:
        """The server's default (account, region): its ``--account-id`` and ``--region``."""
        if self._defaults is None:
            with urllib.request.urlopen(f"{self.url}/", timeout=self.timeout) as response:
                doc = json.loads(response.read())
            self._defaults = (str(doc["account"]), str(doc["region"]))
        return self._defaults

    def call(
        self, method: str, route: str, body: Any = None, content_type: str = "application/json"
    ) -> Any:
        """Call ``/ecr-mock/<route>``; the JSON answer, or ControlAPIError."""
        data: bytes | None = None
        headers = {"Accept": "application/json"}
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = content_type
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(
            f"{self.url}/ecr-mock/{route}", data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload = response.read()
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                doc = json.loads(raw)
            except ValueError:
                doc = {"message": raw.decode("utf-8", "replace")}
            raise ControlAPIError(
                exc.code,
                str(doc.get("code", "Error")),
                str(doc.get("message", "")),
                doc.get("field"),
            ) from None
        return json.loads(payload) if payload else None

    # ----- the operations -------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """``{"status": "ok", "version": ...}``."""
        result: dict[str, Any] = self.call("GET", "health")
        return result

    def wait_until_healthy(self, timeout: float = 30.0) -> dict[str, Any]:
        """Poll ``health`` until the server answers (TimeoutError after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.health()
            except (OSError, ControlAPIError):
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"no healthy ecr-mock server at {self.url}") from None
                time.sleep(0.05)

    def reset(self, account_id: str | None = None) -> None:
        """Empty all state, or one account's."""
        self.call("POST", "reset", {"account_id": account_id} if account_id else {})

    def state(self) -> dict[str, Any]:
        """The server's state summary: registries, repositories, images."""
        result: dict[str, Any] = self.call("GET", "state")
        return result

    def seed(self, doc: dict[str, Any] | str | os.PathLike[str]) -> dict[str, Any]:
        """Apply a seed document (a dict, or a local JSON/YAML file sent as it is).

        Image paths in the document are read by the server, on its own file system.
        """
        if isinstance(doc, (str, os.PathLike)):
            name = os.fspath(doc)
            with open(name, "rb") as handle:
                data = handle.read()
            kind = (
                "application/yaml"
                if name.lower().endswith((".yaml", ".yml"))
                else "application/json"
            )
            result: dict[str, Any] = self.call("POST", "seed", data, content_type=kind)
            return result
        result = self.call("POST", "seed", doc)
        return result

    def apply_lifecycle_policies(
        self,
        account_id: str | None = None,
        region: str | None = None,
        repository: str | None = None,
    ) -> list[dict[str, Any]]:
        """Apply lifecycle policies now; the actions taken."""
        body = {
            key: value
            for key, value in (
                ("account_id", account_id),
                ("region", region),
                ("repository", repository),
            )
            if value is not None
        }
        actions: list[dict[str, Any]] = self.call("POST", "lifecycle/run", body)["actions"]
        return actions

    def reclaim_layers(self) -> dict[str, int]:
        """Reclaim now the layers no image references whose grace period passed:
        ``{"reclaimedLayers", "reclaimedBytes"}``."""
        done: dict[str, int] = self.call("POST", "reclaim", {})
        return done

    def issue_token(
        self,
        principal_arn: str | None = None,
        account_id: str | None = None,
        region: str | None = None,
    ) -> RemoteToken:
        """A registry password for ``principal_arn`` (any IAM principal; default the root of
        the server's account)."""
        if principal_arn is None:
            principal_arn = f"arn:aws:iam::{account_id or self.defaults()[0]}:root"
        body = {"principal_arn": principal_arn}
        if account_id:
            body["account_id"] = account_id
        if region:
            body["region"] = region
        return RemoteToken(self.call("POST", "tokens", body))

    def set_scan_findings(
        self,
        account_id: str,
        region: str,
        repository: str,
        findings: list[dict[str, Any]] | None,
        digest: str | None = None,
    ) -> None:
        """Fix the findings scans report (None: back to the built-in ones)."""
        route = f"findings/{account_id}/{region}/{repository}" + (f"@{digest}" if digest else "")
        if findings is None:
            self.call("DELETE", route)
        else:
            self.call("PUT", route, findings)
