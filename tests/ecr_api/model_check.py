"""Checks ECR and ECR Public API wire responses (JSON before botocore parses it) against the
botocore model of their service."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, ServiceModel, Shape, StructureShape

# Errors any AWS JSON service may answer, whatever the operation's model lists.
COMMON_ERRORS = frozenset(
    {
        "AccessDeniedException",
        "ValidationException",
        "UnrecognizedClientException",
        "ThrottlingException",
        "SerializationException",
        "UnknownOperationException",
        "InvalidSignatureException",
        "ExpiredTokenException",
    }
)

# Errors the real service answers for an operation although the model does not list them there.
# Each entry says why it is allowed; keep this empty unless the service really does it.
EXTRA_ERRORS: dict[str, frozenset[str]] = {}


@functools.cache
def service_model(service: str = "ecr") -> ServiceModel:
    """botocore's model of ``service`` (``ecr``, ``ecr-public``): the ground truth."""
    return botocore.session.get_session().get_service_model(service)


def check_output(operation_name: str, response: Any, service: str = "ecr") -> list[str]:
    """Problems of ``response`` (a successful call's JSON) against the operation's output shape.

    Each problem reads ``<path>: <what is wrong>``; an empty list means the response is valid.
    """
    model = service_model(service)
    if operation_name not in model.operation_names:
        return [f"$: {operation_name!r} is not an {service} operation"]
    shape = model.operation_model(operation_name).output_shape
    if shape is None:
        return [] if response in ({}, None) else ["$: the operation has no output but got one"]
    problems: list[str] = []
    _check(shape, response, "$", problems)
    return problems


def check_error(
    operation_name: str, code: str, body: Mapping[str, Any] | None = None, service: str = "ecr"
) -> list[str]:
    """Problems of an error answer: its code must be modelled for the operation (or common).

    With ``body`` (the error JSON), its members other than ``__type`` and ``message`` must be
    members of the error's shape, with the right types.
    """
    model = service_model(service)
    allowed = set(COMMON_ERRORS) | set(EXTRA_ERRORS.get(operation_name, ()))
    if operation_name in model.operation_names:
        allowed |= {shape.name for shape in model.operation_model(operation_name).error_shapes}
    problems: list[str] = []
    if code not in allowed:
        problems.append(
            f"$.__type: error {code!r} is not modelled for {operation_name or '<no operation>'}"
            f" (allowed: {', '.join(sorted(allowed))})"
        )
    if body is not None:
        error_shape = _error_shape(code, service)
        if not isinstance(body.get("message", ""), str):
            problems.append("$.message: expected a string")
        extra = {k: v for k, v in body.items() if k not in ("__type", "message")}
        if error_shape is None:
            problems.extend(f"$.{key}: not a member of error {code}" for key in extra)
        else:
            for key, value in extra.items():
                member = error_shape.members.get(key)
                if member is None:
                    problems.append(f"$.{key}: not a member of error shape {code}")
                else:
                    _check(member, value, f"$.{key}", problems)
    return problems


def _error_shape(code: str, service: str = "ecr") -> StructureShape | None:
    model = service_model(service)
    if code not in model.shape_names:
        return None
    shape = model.shape_for(code)
    return shape if isinstance(shape, StructureShape) else None


def _check(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    kind = shape.type_name
    if value is None:
        problems.append(f"{path}: null where {shape.name} ({kind}) expected; omit it instead")
        return
    if isinstance(shape, StructureShape):
        _check_structure(shape, value, path, problems)
    elif isinstance(shape, ListShape):
        if not isinstance(value, list):
            problems.append(f"{path}: expected a list ({shape.name}), got {type(value).__name__}")
            return
        # No length check: list shapes are shared with inputs and their bounds are input
        # constraints. BatchDeleteImage answers ``imageIds: []`` when every id failed (min 1;
        # moto's ecr/models.py batch_delete_image does the same), and ListImages answers up to
        # maxResults ids, documented "between 1 and 1000" (ImageIdentifierList max is 100).
        for index, item in enumerate(value):
            _check(shape.member, item, f"{path}[{index}]", problems)
    elif isinstance(shape, MapShape):
        if not isinstance(value, dict):
            problems.append(f"{path}: expected a map ({shape.name}), got {type(value).__name__}")
            return
        for key, item in value.items():
            _check(shape.key, key, f"{path}<key {key!r}>", problems)
            _check(shape.value, item, f"{path}[{key!r}]", problems)
    elif kind == "string":
        _check_string(shape, value, path, problems)
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{path}: expected an integer ({shape.name}), got {value!r}")
            return
        _check_range(shape, value, path, problems)
    elif kind in ("double", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append(f"{path}: expected a number ({shape.name}), got {value!r}")
            return
        _check_range(shape, value, path, problems)
    elif kind == "boolean":
        if not isinstance(value, bool):
            problems.append(f"{path}: expected a boolean ({shape.name}), got {value!r}")
    elif kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append(
                f"{path}: expected a timestamp as epoch seconds ({shape.name}), got {value!r}"
            )
    elif kind == "blob":
        if not isinstance(value, str) or not _is_base64(value):
            problems.append(f"{path}: expected base64 text ({shape.name}), got {value!r:.60}")
    else:
        problems.append(f"{path}: shape type {kind!r} is unknown to the checker")


def _check_structure(shape: StructureShape, value: Any, path: str, problems: list[str]) -> None:
    if not isinstance(value, dict):
        problems.append(f"{path}: expected a structure ({shape.name}), got {type(value).__name__}")
        return
    for key, item in value.items():
        member = shape.members.get(key)
        if member is None:
            problems.append(f"{path}.{key}: not a member of {shape.name}")
            continue
        _check(member, item, f"{path}.{key}", problems)
    for key in shape.required_members:
        if key not in value:
            problems.append(f"{path}.{key}: required member of {shape.name} is missing")


def _check_string(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    if not isinstance(value, str):
        problems.append(f"{path}: expected a string ({shape.name}), got {value!r}")
        return
    enum = shape.metadata.get("enum")
    if enum and value not in enum:
        problems.append(f"{path}: {value!r} is not one of {shape.name} {enum}")
    _check_length(shape, len(value), path, problems, "characters")
    pattern = _pattern(shape.metadata.get("pattern"))
    if pattern is not None and not pattern.fullmatch(value):
        problems.append(f"{path}: {value!r:.80} does not match {shape.name} pattern")


def _check_length(shape: Shape, size: int, path: str, problems: list[str], unit: str) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and size < low:
        problems.append(f"{path}: {size} {unit}, {shape.name} needs at least {low}")
    if high is not None and size > high:
        problems.append(f"{path}: {size} {unit}, {shape.name} allows at most {high}")


def _check_range(shape: Shape, value: float, path: str, problems: list[str]) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and value < low:
        problems.append(f"{path}: {value} below the minimum {low} of {shape.name}")
    if high is not None and value > high:
        problems.append(f"{path}: {value} above the maximum {high} of {shape.name}")


@functools.cache
def _pattern(text: str | None) -> re.Pattern[str] | None:
    if not text:
        return None
    try:
        return re.compile(text)
    except re.error:
        return None


_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


def _is_base64(text: str) -> bool:
    return len(text) % 4 == 0 and _BASE64.fullmatch(text) is not None
