"""The token key file: where a server keeps the key its registry tokens are signed with."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from ecr_mock.store.errors import TokenKeyDamaged, TokenKeyError
from ecr_mock.store.tokens import KEY_BYTES

__all__ = [
    "KEY_FILE",
    "TokenKeyDamaged",
    "TokenKeyError",
    "cache_directory",
    "load_or_create_key",
    "read_key",
]

KEY_FILE = "token.key"
"""The key's file name inside the directory that keeps it (state, CA or cache directory)."""


def cache_directory() -> Path:
    """The per-user directory a server without a state or CA directory keeps its key in:
    ``$XDG_CACHE_HOME/ecr-mock`` (default ``~/.cache/ecr-mock``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ecr-mock"


def read_key(directory: str | os.PathLike[str]) -> bytes | None:
    """The key kept in ``directory`` (None when there is none); changes nothing."""
    path = Path(directory) / KEY_FILE
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeError) as exc:
        raise TokenKeyError(f"cannot read the token key {path}: {exc}") from None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise TokenKeyDamaged(
            f"the token key {path} is damaged (expected {KEY_BYTES * 2} hex digits); "
            f"remove it to make a new one (tokens issued under it stop working)"
        )
    return key


def load_or_create_key(directory: str | os.PathLike[str]) -> bytes:
    """The key kept in ``directory``, made (mode 0600, directory 0700) when there is none.

    Two servers starting at once agree on one key: the file appears whole, by a hard link,
    and the one that loses the race reads the winner's.
    """
    folder = Path(directory)
    found = read_key(folder)
    if found is not None:
        _tighten(folder / KEY_FILE, 0o600)
        return found
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise TokenKeyError(f"cannot make {folder} for the token key: {exc}") from None
    key = secrets.token_bytes(KEY_BYTES)
    temporary = folder / f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, key.hex().encode() + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        with contextlib.suppress(FileExistsError):  # another server made it: use theirs
            os.link(temporary, folder / KEY_FILE)
    except OSError as exc:
        raise TokenKeyError(f"cannot write the token key {folder / KEY_FILE}: {exc}") from None
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()
    made = read_key(folder)
    if made is None:  # pragma: no cover - removed right after being made
        raise TokenKeyError(f"the token key {folder / KEY_FILE} vanished while being made")
    return made


def _tighten(path: Path, mode: int) -> None:
    """Remove group and other permissions from ``path`` (a file or directory we own)."""
    with contextlib.suppress(OSError):
        if os.stat(path).st_mode & 0o077:
            os.chmod(path, mode)
