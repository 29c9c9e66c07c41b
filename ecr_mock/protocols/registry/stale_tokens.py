"""Telling the operator once per client why its registry token is refused."""

from __future__ import annotations

import logging
import threading

_REMEMBERED = 4096
"""Clients remembered as told; past this, the memory starts afresh (a few lines repeat)."""


class OncePerClient:
    """Logs a refused token's reason once per client address and reason."""

    def __init__(self, log: logging.Logger) -> None:
        self._log = log
        self._told: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def warn_once(self, client: object, reason: str) -> bool:
        """Log ``reason`` for ``client`` unless already done; True when logged now."""
        key = (str(client or "unknown client"), reason)
        with self._lock:
            if key in self._told:
                return False
            if len(self._told) >= _REMEMBERED:
                self._told.clear()
            self._told.add(key)
        self._log.warning("registry token from %s refused: %s", key[0], reason)
        return True
