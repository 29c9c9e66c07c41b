"""Wildcard patterns (``*``, optionally ``?``) as regexes that never backtrack catastrophically."""

from __future__ import annotations

import re


def _literal(segment: str, question_mark: bool) -> str:
    return "".join("." if question_mark and c == "?" else re.escape(c) for c in segment)


def wildcard_source(pattern: str, *, question_mark: bool = False, group_prefix: str = "w") -> str:
    """Regex source matching (with ``fullmatch`` and ``re.DOTALL``) what ``pattern`` matches.

    ``*`` is any run of characters, ``?`` (when ``question_mark``) any one character, the rest
    is literal. A naive ``.*``-joined regex takes polynomial time of the star count's degree on
    a near miss (hours for ``*a*a*a*a*a*a*a*b`` on a 256-character name); here each segment
    between stars is found by a lazy lookahead and consumed through a backreference, which
    cannot be backtracked into (the leftmost match of a fixed-length segment is always safe),
    the trick CPython's ``fnmatch`` uses. ``group_prefix`` keeps group names unique when
    sources are concatenated.
    """
    pieces = pattern.split("*")
    out = [_literal(pieces[0], question_mark)]
    for index, segment in enumerate(pieces[1:-1], 1):
        if segment:
            name = f"{group_prefix}{index}"
            out.append(f"(?=(?P<{name}>.*?{_literal(segment, question_mark)}))(?P={name})")
    if len(pieces) > 1:
        out.append(".*" + _literal(pieces[-1], question_mark))
    return "".join(out)


def wildcard_fullmatch(pattern: str, value: str) -> bool:
    """Whether ``value`` matches ``pattern`` entirely (``*`` any run, the rest literal)."""
    return re.fullmatch(wildcard_source(pattern), value, re.DOTALL) is not None
