"""A generic JSON codec for the state: dataclasses field by field (each under a stable type name),
containers, times, bytes."""

from __future__ import annotations

import base64
import dataclasses
import importlib
from collections.abc import Mapping
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from ecr_mock.domain.manifests import Descriptor, Manifest
from ecr_mock.domain.models import (
    Backfill,
    BackfillResult,
    CreationTemplate,
    Destination,
    Image,
    LifecyclePreview,
    Planned,
    PreviewResult,
    Principal,
    PublicRegistryInfo,
    PullThroughRule,
    Registry,
    Repository,
    RepositoryCatalog,
    TemplateSettings,
)
from ecr_mock.store.errors import Undecodable, Unencodable
from ecr_mock.store.tokens import Token

JsonValue = Any

_TAGS = ("$b", "$dt", "$td", "$t", "$set", "$fset", "$map", "$dc")

PERSISTED_TYPES: Mapping[str, type] = {
    cls.__name__: cls
    for cls in (
        Backfill,
        BackfillResult,
        CreationTemplate,
        Descriptor,
        Destination,
        Image,
        LifecyclePreview,
        Manifest,
        Planned,
        PreviewResult,
        Principal,
        PublicRegistryInfo,
        PullThroughRule,
        Registry,
        Repository,
        RepositoryCatalog,
        TemplateSettings,
        Token,
    )
}
"""Every class the state holds, by the stable name documents store it under. The name stays when
the class moves to another module; a renamed class keeps its old name here (and in ALIASES)."""

_STABLE_NAMES = {cls: name for name, cls in PERSISTED_TYPES.items()}

_FIRST_HOMES = {
    "ecr_mock.core.manifests": ("Descriptor", "Manifest"),
    "ecr_mock.core.models": (
        "Image",
        "Principal",
        "PublicRegistryInfo",
        "Registry",
        "Repository",
        "RepositoryCatalog",
    ),
    "ecr_mock.core.tokens": ("Token",),
    "ecr_mock.core.services.lifecycle": ("LifecyclePreview", "PreviewResult"),
    "ecr_mock.core.lifecycle_runner": ("LifecyclePreview", "PreviewResult"),
    "ecr_mock.core.services.pull_through": ("PullThroughRule",),
    "ecr_mock.core.pull_through": ("PullThroughRule",),
    "ecr_mock.core.services.templates": ("CreationTemplate", "TemplateSettings"),
    "ecr_mock.core.templates": ("CreationTemplate", "TemplateSettings"),
    "ecr_mock.core.services.replication": ("Destination",),
    "ecr_mock.core.replication": ("Destination",),
    "ecr_mock.core.services.replication_backfill": ("Backfill", "BackfillResult", "Planned"),
    "ecr_mock.core.replication_backfill": ("Backfill", "BackfillResult", "Planned"),
}
ALIASES: Mapping[str, str] = {
    f"{module}:{name}": name for module, names in _FIRST_HOMES.items() for name in names
}
"""``module:QualName`` strings earlier versions wrote, to the stable name of the same class."""


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
        return {"$dc": type_name(type(value)), "f": encode_fields(value, skip)}
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


def type_name(cls: type) -> str:
    """The name documents store ``cls`` under: its stable name when it is a persisted type
    (:data:`PERSISTED_TYPES`), else ``module:QualName``."""
    return _STABLE_NAMES.get(cls) or f"{cls.__module__}:{cls.__qualname__}"


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
    """The dataclass a stored type name names: a stable name, an earlier version's
    ``module:QualName`` (:data:`ALIASES`) or an ecr_mock ``module:QualName``; Undecodable
    otherwise."""
    found_type = PERSISTED_TYPES.get(ALIASES.get(name, name))
    if found_type is not None:
        return found_type
    if ":" not in name:
        raise Undecodable(f"the state names {name}, which this version of ecr_mock does not have")
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
