"""Forwarding recorded ECR events to moto's EventBridge while a moto mock is active."""

from __future__ import annotations

import contextlib
import json
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ecr_mock.services.backend import Backend

__all__ = ["MotoEventForwarder", "install", "moto_active"]

_NAME = "moto-eventbridge"


def moto_active() -> bool:
    """True when moto is already imported and one of its ``mock_aws`` mocks is running.

    moto is never imported here: a process that has not imported it has no mock running.
    """
    models = sys.modules.get("moto.core.models")
    mock_class = getattr(models, "MockAWS", None) if models is not None else None
    return bool(getattr(mock_class, "_nested_count", 0))


def _entry(event: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "Source": event["source"],
        "DetailType": event["detail-type"],
        "Detail": json.dumps(event["detail"]),
        "Resources": list(event.get("resources") or []),
    }
    with contextlib.suppress(KeyError, TypeError, ValueError):
        entry["Time"] = datetime.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=timezone.utc
        )
    return entry


class MotoEventForwarder:
    """An EventLog subscriber that puts each event on moto's default event bus.

    Only EventBridge is called (``boto3.client("events")`` in the event's region), so nothing
    comes back into ECR. When moto is not active the event is only kept in the log. Failures
    are recorded in :attr:`errors` and never reach the ECR call that caused the event.
    """

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.forwarded = 0
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any]) -> None:
        if not moto_active():
            return
        try:
            client = self._client(str(event.get("region") or "us-east-1"))
            client.put_events(Entries=[_entry(event)])
            self.forwarded += 1
        except Exception as exc:  # best effort, like ECR's own delivery
            self.errors.append(f"{type(exc).__name__}: {exc}")

    def _client(self, region: str) -> Any:
        # A client per moto activation would be safest, but moto patches botocore globally,
        # so a cached client keeps answering from moto while a mock is active.
        with self._lock:
            client = self._clients.get(region)
            if client is None:
                import boto3

                client = boto3.client("events", region_name=region)
                self._clients[region] = client
            return client


def install(backend: Backend) -> Callable[[], None]:
    """Forward ``backend.events`` to moto's EventBridge when moto is active; returns an undo.

    Installing twice on the same backend is harmless: the second call returns the first undo.
    """
    existing = backend.installed.get(_NAME)
    if existing is not None:
        return existing
    forwarder = MotoEventForwarder()
    unsubscribe = backend.events.subscribe(forwarder)

    def uninstall() -> None:
        unsubscribe()
        backend.installed.pop(_NAME, None)

    backend.installed[_NAME] = uninstall
    return uninstall
