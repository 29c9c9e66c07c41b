"""Environment variables for command options: ``--flag-name`` is also ``ECR_MOCK_FLAG_NAME``,
and a flag given on the command line wins over its variable."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

PREFIX = "ECR_MOCK_"
TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off", ""})


class _Unset:
    """The default of an option while its variable is looked at after parsing."""

    def __init__(self, default: Any) -> None:
        self.default = default


class _UnsetList(list[Any]):
    """The default of a repeatable option: the first flag given starts a fresh list (argparse
    copies the default before appending), so the variable is then left out."""

    def __init__(self, default: Any) -> None:
        super().__init__()
        self.default = default

    def __copy__(self) -> list[Any]:
        return []


class EnvArgumentParser(argparse.ArgumentParser):
    """A parser whose options marked by ``add_variables`` read their variables when parsing."""

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        apply(self, parsed)
        return parsed, extras


def variable(action: argparse.Action) -> str:
    """``ECR_MOCK_`` + the long flag's name in upper case, dashes as underscores."""
    long = next(o for o in action.option_strings if o.startswith("--"))
    return PREFIX + long[2:].upper().replace("-", "_")


def add_variables(parser: argparse.ArgumentParser, *, skip: frozenset[str] = frozenset()) -> None:
    """Give every option of ``parser`` (but ``--help``, hidden ones and ``skip``) its variable.

    The help text names the variable; ``apply`` fills in the values after parsing.
    """
    for action in parser._actions:
        if not action.option_strings or action.help == argparse.SUPPRESS:
            continue
        if isinstance(action, argparse._HelpAction) or action.dest in skip:
            continue
        name = variable(action)
        action.help = f"{action.help or ''} [env {name}]".strip()
        unset = _UnsetList if isinstance(action, argparse._AppendAction) else _Unset
        action.default = unset(action.default)


def apply(
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    environ: Mapping[str, str] | None = None,
) -> None:
    """Options not given on the command line take their variable's value, else their default.

    A bad value stops with ``parser.error`` naming the variable, as a bad flag would.
    """
    env = os.environ if environ is None else environ
    for action in parser._actions:
        current = getattr(args, action.dest, None)
        if not isinstance(current, (_Unset, _UnsetList)):
            continue
        name = variable(action)
        text = env.get(name)
        if text is None:
            setattr(args, action.dest, current.default)
            continue
        try:
            value = _convert(action, text)
        except (argparse.ArgumentTypeError, ValueError, TypeError) as exc:
            parser.error(f"{name}={text!r}: {exc}")
        setattr(args, action.dest, value)


def _convert(action: argparse.Action, text: str) -> Any:
    if isinstance(action, argparse._StoreTrueAction):
        value = text.strip().lower()
        if value in TRUE:
            return True
        if value in FALSE:
            return False
        raise ValueError("expected 1, true, yes, on, 0, false, no or off")
    convert: Callable[[str], Any] = action.type or str  # type: ignore[assignment]
    if isinstance(action, argparse._AppendAction):
        return [convert(item) for item in _items(text, json_values=convert.__name__ == "_fault")]
    value = convert(text)
    if action.choices is not None and value not in action.choices:
        raise ValueError(f"choose from {', '.join(map(str, action.choices))}")
    return value


def _items(text: str, *, json_values: bool) -> list[str]:
    """The values of a repeatable option: JSON values (an object or a list of them) for JSON
    options, else separated by commas or white space."""
    if json_values:
        doc = json.loads(text)
        return [json.dumps(item) for item in (doc if isinstance(doc, list) else [doc])]
    return [item for item in text.replace(",", " ").split() if item]
