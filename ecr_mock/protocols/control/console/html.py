"""Escaping-safe HTML building for the console: every value is escaped unless it is ``Markup``."""

from __future__ import annotations

import html
import string
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources

__all__ = ["Markup", "el", "escape", "join", "render_template"]


class Markup(str):
    """Text that is already HTML (built by :func:`el` or :func:`escape`); never escaped again."""

    __slots__ = ()

    def __add__(self, other: str) -> Markup:
        """Markup joined with more Markup, or with text (escaped)."""
        return Markup(str.__add__(self, escape(other)))


def escape(value: object) -> Markup:
    """``value`` as HTML text: ``&<>"'`` escaped unless it is already Markup."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape(str(value), quote=True))


def join(children: object) -> Markup:
    """Children (text, Markup, numbers, None, nested iterables) as one piece of Markup."""
    if children is None or children is False:
        return Markup("")
    if isinstance(children, str):  # Markup included
        return escape(children)
    if isinstance(children, Iterable):
        return Markup("".join(join(child) for child in children))
    return escape(children)


_VOID = frozenset({"br", "hr", "img", "input", "link", "meta"})


def el(tag: str, attrs: Mapping[str, object] | None = None, *children: object) -> Markup:
    """``<tag attrs>children</tag>``; attribute values and text are escaped.

    An attribute whose value is None or False is left out; True writes it bare (``disabled``).
    ``class_`` stands for ``class``. Tag and attribute names are the code's, never data.
    """
    parts = [f"<{tag}"]
    for name, value in (attrs or {}).items():
        if value is None or value is False:
            continue
        key = name.rstrip("_").replace("_", "-")
        if value is True:
            parts.append(f" {key}")
        else:
            parts.append(f' {key}="{escape(value)}"')
    parts.append(">")
    if tag in _VOID:
        return Markup("".join(parts))
    return Markup("".join(parts) + join(children) + f"</{tag}>")


@cache
def _template(name: str) -> string.Template:
    text = resources.files(__package__).joinpath("templates", name).read_text(encoding="utf-8")
    return string.Template(text)


def render_template(name: str, **values: Markup) -> Markup:
    """The package template ``name`` with ``$names`` filled; every value must be Markup."""
    for key, value in values.items():
        if not isinstance(value, Markup):
            raise TypeError(f"template value {key!r} must be Markup, not {type(value).__name__}")
    return Markup(_template(name).substitute(values))
