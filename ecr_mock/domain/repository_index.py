"""The repositories of a registry by name, with their names kept sorted for paging."""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from ecr_mock.domain.models import Repository

__all__ = ["RepositoryIndex", "sorted_names"]

_V = TypeVar("_V")


class RepositoryIndex(dict[str, "Repository"]):
    """A dict of repositories by name that also keeps the names sorted.

    A page of ``/v2/_catalog`` then costs a bisection and a slice, not a sort of every name.
    Every way a dict changes keeps the order (set, delete, pop, setdefault, update, clear).
    """

    __slots__ = ("_names",)

    def __init__(self, items: Mapping[str, Repository] | Iterable[Any] = (), **kw: Any) -> None:
        super().__init__(items, **kw)
        self._names: list[str] = sorted(self)

    @property
    def names(self) -> list[str]:
        """The names in sorted order (the index itself: do not change it)."""
        return self._names

    def __setitem__(self, key: str, value: Repository) -> None:
        if key not in self:
            insort(self._names, key)
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self._forget(key)

    def _forget(self, key: str) -> None:
        at = bisect_left(self._names, key)
        if at < len(self._names) and self._names[at] == key:
            del self._names[at]

    def pop(self, key: str, *default: Any) -> Any:
        present = key in self
        value = super().pop(key, *default)
        if present:
            self._forget(key)
        return value

    def popitem(self) -> tuple[str, Repository]:
        key, value = super().popitem()
        self._forget(key)
        return key, value

    def setdefault(self, key: str, default: Repository) -> Repository:
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, *args: Any, **kw: Any) -> None:
        for key, value in dict(*args, **kw).items():
            self[key] = value

    def clear(self) -> None:
        super().clear()
        self._names.clear()

    def __ior__(self, other: Any) -> RepositoryIndex:  # type: ignore[override,misc]
        self.update(other)
        return self

    def __reduce__(self) -> Any:
        return (RepositoryIndex, (dict(self),))


def sorted_names(repositories: Mapping[str, _V]) -> list[str]:
    """The names of ``repositories`` sorted: the kept index, or a sort of a plain mapping."""
    if isinstance(repositories, RepositoryIndex):
        return repositories.names
    return sorted(repositories)
