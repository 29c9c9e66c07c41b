"""ECR's EventBridge events (image actions, scans, lifecycle actions) recorded from backend events."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

from ecr_mock.domain.lifecycle_rules import LifecycleAction
from ecr_mock.domain.models import Image, Repository
from ecr_mock.domain.ports import EventListener
from ecr_mock.store.clock import Clock


class EventSource(Protocol):
    """What an :class:`EventLog` listens to: a store's event bus and clock."""

    listeners: list[EventListener]
    clock: Clock


__all__ = [
    "IMAGE_ACTION",
    "IMAGE_SCAN",
    "LIFECYCLE_ACTION",
    "EventLog",
    "Subscriber",
    "image_action_event",
    "image_scan_event",
    "lifecycle_action_event",
]

IMAGE_ACTION = "ECR Image Action"
IMAGE_SCAN = "ECR Image Scan"
LIFECYCLE_ACTION = "ECR Lifecycle Policy Action"
SOURCE = "aws.ecr"
MAX_EVENTS = 10_000
"""The log keeps the newest events up to this many."""

Event = dict[str, Any]
Subscriber = Callable[[Event], None]


def _iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _envelope(
    detail_type: str,
    repo: Repository,
    when: datetime,
    detail: dict[str, Any],
    resources: list[str],
    event_id: str | None = None,
) -> Event:
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": SOURCE,
        "account": repo.account,
        "time": _iso(when),
        "region": repo.region,
        "resources": resources,
        "detail": detail,
    }


def _action_event(
    account: str,
    region: str,
    name: str,
    digest: str,
    action_type: str,
    tag: str | None,
    when: datetime,
    event_id: str | None = None,
) -> Event:
    detail: dict[str, Any] = {
        "result": "SUCCESS",
        "repository-name": name,
        "image-digest": digest,
        "action-type": action_type,
    }
    if tag:
        detail["image-tag"] = tag
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": IMAGE_ACTION,
        "source": SOURCE,
        "account": account,
        "time": _iso(when),
        "region": region,
        "resources": [],
        "detail": detail,
    }


def image_action_event(
    repo: Repository, image: Image, action_type: str, tag: str | None, when: datetime
) -> Event:
    """``ECR Image Action``: ``action-type`` PUSH or DELETE, ``image-tag`` when there is one."""
    return _action_event(repo.account, repo.region, repo.name, image.digest, action_type, tag, when)


@dataclass(frozen=True, slots=True)
class _ImageAction:
    """An ``ECR Image Action`` kept in a few fields; the event is built when it is read."""

    number: int
    account: str
    region: str
    name: str
    digest: str
    action_type: str
    tag: str | None
    when: datetime

    def event(self, id_base: int) -> Event:
        event_id = str(uuid.UUID(int=(id_base + self.number) % (1 << 128)))
        return _action_event(
            self.account,
            self.region,
            self.name,
            self.digest,
            self.action_type,
            self.tag,
            self.when,
            event_id,
        )


def _severity_counts(summary: Any) -> dict[str, int]:
    if not isinstance(summary, dict):
        return {}
    counts = summary.get("findingSeverityCounts", summary)
    if not isinstance(counts, dict):
        return {}
    return {str(k): int(v) for k, v in counts.items() if isinstance(v, int) and v > 0}


def image_scan_event(
    repo: Repository, image: Image, findings_summary: Any, when: datetime, status: str = "COMPLETE"
) -> Event:
    """``ECR Image Scan`` (basic scanning): severities with a count only, the image's tags."""
    detail = {
        "scan-status": status,
        "repository-name": repo.name,
        "finding-severity-counts": _severity_counts(findings_summary),
        "image-digest": image.digest,
        "image-tags": list(image.tags),
    }
    return _envelope(IMAGE_SCAN, repo, when, detail, [repo.arn])


def lifecycle_action_event(repo: Repository, action: LifecycleAction, when: datetime) -> Event:
    """``ECR Lifecycle Policy Action``: one image expired or transitioned by one rule.

    AWS names this event but its published samples were not available to copy; the detail
    follows the other ECR events' kebab-case style: ``result``, ``repository-name``,
    ``image-digest``, ``image-tags``, ``action-type`` (EXPIRE / TRANSITION),
    ``rule-priority``, ``image-pushed-at`` and, for transitions, ``target-storage-class``.
    """
    detail: dict[str, Any] = {
        "result": "SUCCESS",
        "repository-name": repo.name,
        "image-digest": action.digest,
        "image-tags": list(action.tags),
        "action-type": action.action.upper(),
        "rule-priority": action.rule.priority,
        "image-pushed-at": _iso(action.pushed_at),
    }
    if action.target_storage_class:
        detail["target-storage-class"] = action.target_storage_class.upper()
    return _envelope(LIFECYCLE_ACTION, repo, when, detail, [repo.arn])


class EventLog:
    """The events a backend has produced, oldest first, shaped like ECR's EventBridge events.

    :meth:`install` adds :meth:`on_backend_event` to ``Store.listeners``; it turns
    ``image-pushed`` / ``image-deleted`` into ``ECR Image Action`` (PUSH / DELETE),
    ``scan-completed`` (detail ``repository``, ``image``, ``findings_summary``) into
    ``ECR Image Scan`` and ``lifecycle-action`` (``repository``, ``image``, ``action``) into
    ``ECR Lifecycle Policy Action``; other kinds are ignored. Subscribers (e.g. the moto
    EventBridge forwarder) receive each recorded event; a failing subscriber is skipped.
    """

    def __init__(self, max_events: int = MAX_EVENTS, backend: EventSource | None = None) -> None:
        self.max_events = max_events
        self._events: list[Event | _ImageAction] = []
        """Image actions (most events) are kept compact and built on read; the rest as built."""
        self._id_base = uuid.uuid4().int
        self._count = 0
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()
        self._backend: EventSource | None = backend
        """Whose clock times the events (set by :meth:`install` too)."""

    def install(self, backend: EventSource) -> EventLog:
        """Listen to ``backend`` (harmless when already listening); returns self."""
        self._backend = backend
        if self.on_backend_event not in backend.listeners:
            # first, so an event another listener emits while handling one is recorded after it
            backend.listeners.insert(0, self.on_backend_event)
        return self

    def _now(self) -> datetime:
        if self._backend is not None:
            return self._backend.clock.now()
        return datetime.now(timezone.utc)

    def on_backend_event(self, kind: str, detail: dict[str, Any]) -> None:
        """A ``Store.listeners`` callback: record the ECR event ``kind`` stands for."""
        repo = detail.get("repository")
        image = detail.get("image")
        if not isinstance(repo, Repository) or not isinstance(image, Image):
            return
        if repo.is_public:  # ECR Public sends no EventBridge events
            return
        # a new image's push event shares the push's own time (one datetime, not two)
        new_push = kind == "image-pushed" and detail.get("new")
        when = image.pushed_at if new_push else self._now()
        if kind == "image-pushed":
            tag = detail.get("tag")
            self._record_action(repo, image, "PUSH", tag if tag else None, when)
        elif kind == "image-deleted":
            tag = image.tags[0] if image.tags else None
            self._record_action(repo, image, "DELETE", tag, when)
        elif kind == "scan-completed":
            self.record(image_scan_event(repo, image, detail.get("findings_summary"), when))
        elif kind == "lifecycle-action":
            action = detail.get("action")
            if isinstance(action, LifecycleAction):
                self.record(lifecycle_action_event(repo, action, when))

    def _record_action(
        self, repo: Repository, image: Image, action_type: str, tag: str | None, when: datetime
    ) -> None:
        with self._lock:
            self._count += 1
            compact = _ImageAction(
                self._count,
                repo.account,
                repo.region,
                repo.name,
                image.digest,
                action_type,
                tag,
                when,
            )
            if not self._subscribers:
                self._keep(compact)
                return
        self.record(compact.event(self._id_base))

    def _keep(self, event: Event | _ImageAction) -> None:
        self._events.append(event)
        overflow = len(self._events) - self.max_events
        if overflow > 0:
            del self._events[:overflow]

    def record(self, event: Event) -> None:
        """Keep ``event`` and hand it to every subscriber."""
        with self._lock:
            self._keep(event)
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            try:
                subscriber(event)
            except Exception:  # delivery is best effort, as ECR's is
                continue

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call ``subscriber`` with each new event; returns a function that unsubscribes."""
        with self._lock:
            if subscriber not in self._subscribers:
                self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._lock:
                if subscriber in self._subscribers:
                    self._subscribers.remove(subscriber)

        return unsubscribe

    def all(self) -> list[Event]:
        """Every recorded event, oldest first."""
        with self._lock:
            kept = list(self._events)
        base = self._id_base
        return [e.event(base) if isinstance(e, _ImageAction) else e for e in kept]

    def of_type(self, detail_type: str) -> list[Event]:
        """The recorded events whose ``detail-type`` is ``detail_type``."""
        return [e for e in self.all() if e["detail-type"] == detail_type]

    def clear(self) -> None:
        """Forget every recorded event."""
        with self._lock:
            self._events.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._events)
