"""The backend's clock: wall time plus an offset that tests move forward instead of sleeping."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone


class Clock:
    """A clock that follows real time (and freezegun/time-machine) plus a movable offset."""

    def __init__(self, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._offset = timedelta(0)
        self._frozen: datetime | None = None
        if start is not None:
            self.set(start)

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        frozen = self._frozen
        if frozen is not None:
            return frozen
        return datetime.now(timezone.utc) + self._offset

    def advance(self, delta: timedelta | float | None = None, **kwargs: float) -> datetime:
        """Move time forward by ``delta`` (seconds or timedelta) or ``timedelta(**kwargs)``."""
        step = _as_delta(delta) if delta is not None else timedelta(**kwargs)
        with self._lock:
            if self._frozen is not None:
                self._frozen += step
            else:
                self._offset += step
        return self.now()

    def set(self, when: datetime) -> None:
        """Jump to ``when`` and keep following real time from there."""
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        with self._lock:
            self._frozen = None
            self._offset = when - datetime.now(timezone.utc)

    def freeze(self, when: datetime | None = None) -> None:
        """Stop time at ``when`` (default: now) until :meth:`unfreeze`."""
        target = when or self.now()
        if target.tzinfo is None:
            target = target.replace(tzinfo=timezone.utc)
        with self._lock:
            self._frozen = target

    def state(self) -> tuple[timedelta, datetime | None]:
        """(offset from real time, frozen time or None): what a state directory keeps."""
        with self._lock:
            return self._offset, self._frozen

    def restore(self, offset: timedelta, frozen: datetime | None) -> None:
        """Take back a :meth:`state` saved earlier."""
        with self._lock:
            self._offset = offset
            self._frozen = frozen

    def reset(self) -> None:
        """Follow real time again: no offset, not frozen."""
        with self._lock:
            self._frozen = None
            self._offset = timedelta(0)

    def unfreeze(self) -> None:
        """Let time run again from where it was frozen."""
        with self._lock:
            if self._frozen is not None:
                self._offset = self._frozen - datetime.now(timezone.utc)
                self._frozen = None


def _as_delta(value: timedelta | float) -> timedelta:
    return value if isinstance(value, timedelta) else timedelta(seconds=value)
