"""Upload spools of a state directory: named files whose writeback starts while bytes arrive."""

from __future__ import annotations

import contextlib
import ctypes
import io
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

KICK_BYTES = 8 * 1024 * 1024
"""Start writing back to disk after this many new bytes, so the final fsync finds little left."""

_SYNC_FILE_RANGE_WRITE = 2


def _load_sync_file_range() -> Callable[[int, int, int], None] | None:
    """Linux's sync_file_range(SYNC_FILE_RANGE_WRITE): start writeback, do not wait."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function: Any = libc.sync_file_range
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    function.restype = ctypes.c_int

    def start_writeback(fd: int, offset: int, count: int) -> None:
        function(fd, offset, count, _SYNC_FILE_RANGE_WRITE)

    return start_writeback


_start_writeback = _load_sync_file_range()


class FileSpool(io.FileIO):
    """An upload's bytes in ``<state dir>/tmp/upload-<uuid>``; completing it is a rename.

    Removed when closed unless it was moved into the blob store first.
    """

    def __init__(self, directory: Path) -> None:
        self.durable_path = str(directory / f"upload-{uuid.uuid4().hex}")
        super().__init__(self.durable_path, "x+")
        self._kicked = 0
        self._written = 0

    def write(self, data: Any) -> int:
        """Append (uploads only append) and start writeback every :data:`KICK_BYTES`."""
        view = memoryview(data)
        total = 0
        while total < len(view):
            total += super().write(view[total:]) or 0
        self._written += total
        if _start_writeback is not None and self._written - self._kicked >= KICK_BYTES:
            _start_writeback(self.fileno(), self._kicked, self._written - self._kicked)
            self._kicked = self._written
        return total

    def close(self) -> None:
        """Close, and remove the file when it is still a half-finished upload."""
        if not self.closed:
            with contextlib.suppress(OSError):
                os.unlink(self.durable_path)
        super().close()
