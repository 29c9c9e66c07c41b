"""Keeping a state directory private: directories 0700 and files 0600, whatever the umask."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600


def make_private_directory(path: Path) -> None:
    """Make ``path`` (and missing parents inside it) a directory only its owner can use."""
    path.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    _tighten(path, DIRECTORY_MODE)


def create_private_file(path: Path) -> None:
    """Make sure ``path`` exists with mode 0600 (an existing file keeps its bytes)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    os.close(fd)
    _tighten(path, FILE_MODE)


def make_private(root: Path) -> int:
    """Remove group and other permissions from everything under ``root`` (a directory written
    by a version that left them); returns how many entries were changed."""
    changed = int(_tighten(root, DIRECTORY_MODE))
    for folder, directories, files in os.walk(root):
        for name in directories:
            changed += _tighten(Path(folder, name), DIRECTORY_MODE)
        for name in files:
            changed += _tighten(Path(folder, name), FILE_MODE)
    return changed


def _tighten(path: Path, mode: int) -> bool:
    with contextlib.suppress(OSError):
        found = os.lstat(path)
        if not stat.S_ISLNK(found.st_mode) and found.st_mode & 0o077:
            os.chmod(path, mode)
            return True
    return False
