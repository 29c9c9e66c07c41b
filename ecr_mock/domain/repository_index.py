"""Dicts keyed by name that keep their names sorted for paging: repositories, tags."""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

__all__ = ["NameIndex", "RepositoryIndex", "sorted_names"]

_V = TypeVar("_V")


class NameIndex(dict[str, _V]):
    """A dict by name that also keeps the names sorted.

    A page of ``/v2/_catalog`` or ``tags/list`` then costs a bisection and a slice, not a sort
    of every name. Every way a dict changes keeps the order (set, delete, pop, setdefault,
    update, clear).
    """

    __slots__ = ("_names",)

    def __init__(self, items: Mapping[str, _V] | Iterable[Any] = (), **kw: Any) -> None:
        super().__init__(items, **kw)
        self._names: list[str] = sorted(self)

    @property
    def names(self) -> list[str]:
        """The names in sorted order (the index itself: do not change it)."""
        return self._names

    def __setitem__(self, key: str, value: _V) -> None:
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

    def popitem(self) -> tuple[str, _V]:
        key, value = super().popitem()
        self._forget(key)
        return key, value

    def setdefault(self, key: str, default: _V) -> _V:
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, *args: Any, **kw: Any) -> None:
        for key, value in dict(*args, **kw).items():
            self[key] = value

    def clear(self) -> None:
        super().clear()
        self._names.clear()

    def __ior__(self, other: Any) -> NameIndex[_V]:  # type: ignore[override,misc]
        self.update(other)
        return self

    def __reduce__(self) -> Any:
        return (type(self), (dict(self),))


RepositoryIndex = NameIndex
"""A registry's repositories by name."""


def sorted_names(repositories: Mapping[str, _V]) -> list[str]:
    """The names of ``repositories`` sorted: the kept index, or a sort of a plain mapping."""
    if isinstance(repositories, NameIndex):
        return repositories.names
    return sorted(repositories)
