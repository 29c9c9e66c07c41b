"""Identities created through the server's IAM (moto's), kept in a state directory."""

from __future__ import annotations

import logging
import os
import pickle
import threading
import uuid
from pathlib import Path
from typing import Any

log = logging.getLogger("ecr_mock.state")

IAM_FILE = "iam.pickle"
"""Moto's IAM backends (users, groups, roles, policies, access keys) as pickled by moto's own
classes; read back only from a directory as private as the state itself (0600 in 0700)."""

_lock = threading.Lock()


def _backends() -> Any:
    from moto.iam.models import iam_backends

    return iam_backends


def save_identities(directory: Path) -> None:
    """Write every IAM backend moto holds into ``directory/iam.pickle`` (atomically)."""
    try:
        backends = _backends()
    except ImportError:  # moto is not installed: there is no IAM to keep
        return
    with _lock:
        data = pickle.dumps({a: dict(backends[a]) for a in list(backends.keys())})
        temporary = directory / f".{IAM_FILE}.{uuid.uuid4().hex}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, directory / IAM_FILE)


def restore_identities(directory: Path) -> int:
    """Put back the IAM backends ``directory`` keeps; returns how many accounts.

    A file this moto version cannot read is reported in the log and left as it is.
    """
    path = directory / IAM_FILE
    for leftover in directory.glob(f".{IAM_FILE}.*"):
        leftover.unlink(missing_ok=True)
    if not path.is_file():
        return 0
    try:
        from moto.iam.models import IAMBackend

        saved = pickle.loads(path.read_bytes())
        backends = _backends()
        count = 0
        for account, regions in saved.items():
            for region, backend in regions.items():
                if isinstance(backend, IAMBackend):
                    backends[account][region] = backend
            count += 1
    except Exception as exc:  # another moto version's classes, a damaged file
        log.warning("identities kept in %s cannot be read back (%r); IAM starts empty", path, exc)
        return 0
    return count
