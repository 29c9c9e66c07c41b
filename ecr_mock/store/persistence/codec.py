"""A generic JSON codec for the state: dataclasses field by field, containers, times, bytes."""

from __future__ import annotations

import base64
import dataclasses
import importlib
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

JsonValue = Any

_TAGS = ("$b", "$dt", "$td", "$t", "$set", "$fset", "$map", "$dc")


class Unencodable(TypeError):
    """A value of the state has a type the codec cannot write (a lock, a function, a socket)."""


class Undecodable(ValueError):
    """A stored document names a class that does not exist here or cannot be rebuilt."""


def encode(value: Any, skip: frozenset[type] = frozenset()) -> JsonValue:
    """``value`` as JSON-compatible data that :func:`decode` turns back into an equal value.

    Dataclass instances are written field by field with their class, so a field added to a
    model is written without any change here. Instances of the ``skip`` types raise
    :class:`Unencodable` (they are stored elsewhere, e.g. images inside a repository row).
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if type(value) in skip:
        raise Unencodable(f"{type(value).__name__} is stored on its own, not inside another value")
    if isinstance(value, bytes):
        return {"$b": base64.b64encode(value).decode("ascii")}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, timedelta):
        return {"$td": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, list):
        return [encode(item, skip) for item in value]
    if isinstance(value, tuple):
        return {"$t": [encode(item, skip) for item in value]}
    if isinstance(value, (set, frozenset)):
        items = [encode(item, skip) for item in value]
        items.sort(key=repr)
        return {"$set" if isinstance(value, set) else "$fset": items}
    if isinstance(value, MappingProxyType):  # a read-only view (shared empty annotations)
        value = dict(value)
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: encode(v, skip) for k, v in value.items()}
        return {"$map": [[encode(k, skip), encode(v, skip)] for k, v in value.items()]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"$dc": class_name(type(value)), "f": encode_fields(value, skip)}
    raise Unencodable(f"cannot store a value of type {type(value).__qualname__}")


def encode_fields(
    value: Any, skip: frozenset[type] = frozenset(), omit: frozenset[str] = frozenset()
) -> dict[str, JsonValue]:
    """The fields of dataclass instance ``value`` (but ``omit``), each encoded."""
    return {
        f.name: encode(getattr(value, f.name), skip)
        for f in dataclasses.fields(value)
        if f.name not in omit
    }


def class_name(cls: type) -> str:
    """``module:QualName`` of a class."""
    return f"{cls.__module__}:{cls.__qualname__}"


def decode(data: JsonValue) -> Any:
    """The value :func:`encode` wrote."""
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [decode(item) for item in data]
    if not isinstance(data, dict):
        raise Undecodable(f"unexpected stored value {data!r}")
    tag = next(iter(data), None) if len(data) in (1, 2) else None
    if tag in _TAGS:
        body = data[tag]
        if tag == "$b":
            return base64.b64decode(body)
        if tag == "$dt":
            return datetime.fromisoformat(body)
        if tag == "$td":
            return timedelta(days=body[0], seconds=body[1], microseconds=body[2])
        if tag == "$t":
            return tuple(decode(item) for item in body)
        if tag == "$set":
            return {decode(item) for item in body}
        if tag == "$fset":
            return frozenset(decode(item) for item in body)
        if tag == "$map":
            return {_hashable(decode(k)): decode(v) for k, v in body}
        return build(resolve_class(body), data["f"])
    return {k: decode(v) for k, v in data.items()}


def _hashable(key: Any) -> Any:
    return tuple(key) if isinstance(key, list) else key


def resolve_class(name: str) -> type:
    """The ecr_mock dataclass ``module:QualName`` names; Undecodable otherwise."""
    module_name, _, qualname = name.partition(":")
    if not (module_name == "ecr_mock" or module_name.startswith("ecr_mock.")):
        raise Undecodable(f"the state names a class outside ecr_mock: {name}")
    try:
        found: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        raise Undecodable(
            f"the state names {name}, which this version of ecr_mock does not have"
        ) from None
    if not (isinstance(found, type) and dataclasses.is_dataclass(found)):
        raise Undecodable(f"the state names {name}, which is not a dataclass")
    return found


def build(cls: type, stored: dict[str, JsonValue], **given: Any) -> Any:
    """An instance of dataclass ``cls`` from stored fields (decoded here) and ``given`` values.

    Fields the stored document lacks (added to the model since) take their defaults; stored
    fields the model no longer has are ignored.
    """
    values: dict[str, Any] = {}
    late: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name in given:
            value = given[f.name]
        elif f.name in stored:
            value = decode(stored[f.name])
        elif f.default is not dataclasses.MISSING:
            value = f.default
        elif f.default_factory is not dataclasses.MISSING:
            value = f.default_factory()
        else:
            raise Undecodable(f"the stored {cls.__qualname__} lacks its field {f.name!r}")
        (values if f.init else late)[f.name] = value
    instance = cls(**values)
    for name, value in late.items():
        object.__setattr__(instance, name, value)
    return instance
