"""Validation of ECR JSON 1.1 request bodies against botocore's ECR service model."""

# How the real service answers, and the choices made here (evidence: error messages that
# users of the real ECR API quoted in public issue trackers, and moto's ECR sources):
#
# * Wrong JSON types fail while the body is deserialised, before any constraint is checked:
#   code ``SerializationException``, message in the style of the AWS Java stack, e.g.
#   ``NUMBER_VALUE can not be converted to a String`` or
#   ``Start of structure or map found where not expected.``.
# * The operations ECR has had for years (CreateRepository, PutImage, DescribeImages,
#   BatchGetImage, GetAuthorizationToken, ...) answer a model constraint violation with
#   ``InvalidParameterException`` and name only the first violation:
#   ``Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value
#   less than or equal to 1000'``, ``Invalid parameter at 'imageIds' failed to satisfy
#   constraint: 'Member must have length greater than or equal to 1'``, ``Invalid parameter at
#   'registryIds' failed to satisfy constraint: 'Member must satisfy constraint: [Member must
#   satisfy regular expression pattern: [0-9]{12}]'``. Those are the operations whose model
#   entry does not list ``ValidationException``.
# * ``repositoryName`` has ECR's own wording (no "Member"): ``... 'must have length greater
#   than or equal to 2'`` and ``... 'must satisfy regular expression '<regex>''``. The regex
#   quoted is the one the service prints; names are checked against the model's pattern,
#   which accepts a superset (``__`` and runs of ``-``), so every rejected name also fails
#   the quoted regex.
# * ``registryId`` has ECR's own wording too: ``Invalid parameter at 'registryId' failed to
#   satisfy constraint: 'must satisfy regular expression [0-9]{12}'`` (a real answer, request
#   id included, quoted in the README of github.com/icy/gDockerImageCheck for the registry id
#   ``1234``). moto's old ECR tests expected RepositoryNotFoundException naming the registry
#   id ``'123'``; the observed answer wins. The list ``registryIds`` keeps the generic form.
# * Enum values are listed as the service orders them, which is not always the model's order:
#   ``imageTagMutability`` reads ``[IMMUTABLE, MUTABLE, MUTABLE_WITH_EXCLUSION,
#   IMMUTABLE_WITH_EXCLUSION]`` (moto's ECR sources and tests, and captured ECR refusals quoted
#   by other emulators). Other enums keep the model's order (no observation says otherwise).
# * The operations whose model lists ``ValidationException`` (pull-through cache, creation
#   templates, registry scanning, signing, ...) get the generic AWS JSON answer, which is also
#   the default: ``ValidationException`` with every violation,
#   ``2 validation errors detected: Value 'x' at 'a' failed to satisfy constraint: ...; ...``.
# * Unknown members are ignored, as AWS JSON services do. JSON ``null`` counts as absent.
# * Member paths follow AWS: ``imageIds.1.member.imageTag`` (1-based list index); a list or
#   map of scalars is reported once, at the list, as ``Member must satisfy constraint: [...]``
#   / ``Map keys must satisfy constraint: [...]`` / ``Map value must satisfy constraint: [...]``.
# * Timestamps may be epoch numbers or ISO 8601 strings. Blobs must be strings (base64); their
#   length limits apply to the decoded size, computed from the text without decoding it, and
#   the handler that decodes them reports bad base64.
# * ECR rules the model does not carry: a resource tag key is 1-128 characters and a value at
#   most 256 (``InvalidTagParameterException``, or ``InvalidParameterException`` where the
#   operation does not model it), checked once the model constraints pass.
#   The tag count limit (50) depends on existing tags and is left to the domain.
#
# The model is read straight from botocore's data directory (gzip + json, ~3 ms, without
# importing botocore); ``botocore.loaders.Loader`` (~15 ms after a ~65 ms import) and
# ``Session.get_service_model`` (~25 ms after a ~110 ms import) are slower. The Loader is the
# fallback when the data file is not where botocore keeps it. Each operation's validator is
# compiled on first use (precompiled regexes, closures per shape) and cached.

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Sized
from datetime import datetime
from typing import Any

from ecr_mock.protocols.ecr_api.errors import ValidationError, _Mismatch
from ecr_mock.protocols.ecr_api.service_models import load_model

__all__ = ["ValidationError", "validate_input"]

ECR = "ecr"
ECR_PUBLIC = "ecr-public"

# The regex ECR prints for an invalid repositoryName (names are checked against the model).
_REPOSITORY_NAME_REGEX_QUOTED = "(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*"

_TAG_KEY_MAX = 128
_TAG_VALUE_MAX = 256
_TAG_MESSAGE = (
    "An invalid parameter has been specified. Tag keys can have a maximum character length "
    f"of {_TAG_KEY_MAX} characters, and tag values can have a maximum length of "
    f"{_TAG_VALUE_MAX} characters."
)

_ENUM_ORDER_SEEN: dict[frozenset[str], tuple[str, ...]] = {
    frozenset(order): order
    for order in [("IMMUTABLE", "MUTABLE", "MUTABLE_WITH_EXCLUSION", "IMMUTABLE_WITH_EXCLUSION")]
}
"""Enum value sets the service prints in an order other than the model's, keyed by the set."""
_REGISTRY_ID_MESSAGE = "must satisfy regular expression [0-9]{12}"

_NOT_NULL = "Member must not be null"
_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)


# A violation: member path, offending value (None when missing), constraint message.
_Violation = tuple[str, Any, str]
# A scalar check returns the constraint messages the value breaks; raises _Mismatch.
_Scalar = Callable[[Any], tuple[str, ...]]
# A container check appends violations for the value found at path; raises _Mismatch.
_Check = Callable[[Any, str, list[_Violation]], None]
# A service rule runs once the model constraints pass; raises ValidationError.
_Rule = Callable[[dict[str, Any]], None]

_NO_PROBLEMS: tuple[str, ...] = ()


def validate_input(operation: str, params: Any, service: str = ECR) -> None:
    """Raise ValidationError if ``params`` (the parsed JSON body) is not valid input for
    ``operation`` (e.g. ``"PutImage"``) as the model of ``service`` (botocore's name: ``ecr``,
    ``ecr-public``) defines it; return None otherwise.

    A body of ``None`` (empty request body) is read as ``{}``.
    """
    validator = _VALIDATORS.get((service, operation))
    if validator is None:
        validator = _compiler(service).operation(operation)
    validator(params)


# --------------------------------------------------------------------------- the model


_COMPILERS: dict[str, _Compiler] = {}
_COMPILER_LOCK = threading.Lock()
_VALIDATORS: dict[tuple[str, str], Callable[[Any], None]] = {}


def prime_model(description: Any, service: str = ECR) -> None:
    """Use an already loaded service description (e.g. the one a boto3 client holds).

    Saves reading and parsing the model file again in a process that has it in memory.
    """
    if service not in _COMPILERS and isinstance(description, dict) and "operations" in description:
        with _COMPILER_LOCK:
            if service not in _COMPILERS:
                _COMPILERS[service] = _Compiler(description, service)


def output_members(operation: str, service: str = ECR) -> tuple[str, ...]:
    """The member names of ``operation``'s output shape, in model order."""
    compiler = _compiler(service)
    output = compiler.operation_model(operation).get("output", {}).get("shape")
    return compiler.shape_members(output) if output else ()


def shape_members(shape: str, service: str = ECR) -> tuple[str, ...]:
    """The member names of structure ``shape``, in model order."""
    return _compiler(service).shape_members(shape)


def operation_names(service: str = ECR) -> tuple[str, ...]:
    """Every operation of the service's model, sorted."""
    return tuple(sorted(_compiler(service).operations))


def error_statuses(service: str = ECR) -> dict[str, int]:
    """Every error shape of the service's model and its HTTP status (500 for faults, else 400)."""
    statuses: dict[str, int] = {}
    for name, shape in _compiler(service).shapes.items():
        if shape.get("exception"):
            status = shape.get("error", {}).get("httpStatusCode")
            statuses[name] = int(status) if status else 500 if shape.get("fault") else 400
    return statuses


def _compiler(service: str = ECR) -> _Compiler:
    found = _COMPILERS.get(service)
    if found is None:
        with _COMPILER_LOCK:
            found = _COMPILERS.get(service)
            if found is None:
                found = _COMPILERS[service] = _Compiler(load_model(service), service)
    return found


# --------------------------------------------------------------------------- messages


def _java_text(value: Any) -> str:
    """Render a JSON value the way AWS's Java stack prints it in validation messages."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, list):
        return "[" + ", ".join(_java_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_java_text(v)}" for k, v in value.items()) + "}"
    return str(value)


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "BOOLEAN_VALUE"
    if isinstance(value, (int, float)):
        return "NUMBER_VALUE"
    if isinstance(value, str):
        return "STRING_VALUE"
    return "NULL_VALUE"


def _mismatch(value: Any, target: str) -> _Mismatch:
    """The deserialisation error for ``value`` where a ``target`` (e.g. "a String") belongs."""
    if isinstance(value, dict):
        return _Mismatch("Start of structure or map found where not expected.")
    if isinstance(value, list):
        return _Mismatch("Start of list found where not expected.")
    return _Mismatch(f"{_json_kind(value)} can not be converted to {target}")


def _size_check(shape: dict[str, Any], kind: type[Sized], kind_name: str) -> _Check:
    """The type and ``min``/``max`` length check of a list or map shape."""
    low: int | None = shape.get("min")
    high: int | None = shape.get("max")

    def check(value: Any, path: str, out: list[_Violation]) -> None:
        if type(value) is not kind:
            raise _mismatch(value, kind_name)
        for problem in _length_messages(len(value), low, high):
            out.append((path, value, problem))

    return check


def _length_messages(size: int, low: int | None, high: int | None) -> list[str]:
    messages = []
    if high is not None and size > high:
        messages.append(f"Member must have length less than or equal to {high}")
    if low is not None and size < low:
        messages.append(f"Member must have length greater than or equal to {low}")
    return messages


def _validation_exception(violations: list[_Violation]) -> ValidationError:
    count = len(violations)
    parts = []
    for path, value, message in violations:
        shown = "null" if value is None else f"'{_java_text(value)}'"
        parts.append(f"Value {shown} at '{path}' failed to satisfy constraint: {message}")
    noun = "error" if count == 1 else "errors"
    return ValidationError(
        "ValidationException", f"{count} validation {noun} detected: " + "; ".join(parts)
    )


def _invalid_parameter(violations: list[_Violation]) -> ValidationError:
    path, _value, message = violations[0]
    if path == "repositoryName":
        if message.startswith("Member must have length"):
            message = message[len("Member ") :]
        elif message.startswith("Member must satisfy regular expression pattern"):
            message = f"must satisfy regular expression '{_REPOSITORY_NAME_REGEX_QUOTED}'"
    elif path == "registryId" and message.startswith("Member must satisfy regular expression"):
        message = _REGISTRY_ID_MESSAGE
    return ValidationError(
        "InvalidParameterException",
        f"Invalid parameter at '{path}' failed to satisfy constraint: '{message}'",
    )


# --------------------------------------------------------------------------- compiling


def _item_problems(
    item: Any,
    scalar: _Scalar | None,
    container: _Check | None,
    path: str,
    out: list[_Violation],
) -> tuple[str, ...]:
    """Problems of one list or map item of scalar type; a structured item reports into ``out``."""
    if item is None:
        return (_NOT_NULL,)
    if scalar is not None:
        return scalar(item)
    if container is not None:
        container(item, path, out)
    return ()


class _Compiler:
    """Turns model shapes into cached check functions."""

    def __init__(self, model: dict[str, Any], service: str = ECR) -> None:
        self._service = service
        self._operations: dict[str, Any] = model["operations"]
        self._shapes: dict[str, Any] = model["shapes"]
        self._scalars: dict[str, _Scalar] = {}
        self._containers: dict[str, _Check] = {}
        self._lock = threading.Lock()

    @property
    def operations(self) -> dict[str, Any]:
        """The model's operations by name."""
        return self._operations

    @property
    def shapes(self) -> dict[str, Any]:
        """The model's shapes by name."""
        return self._shapes

    def operation_model(self, name: str) -> dict[str, Any]:
        """The raw model of operation ``name``."""
        found: dict[str, Any] = self._operations[name]
        return found

    def shape_members(self, name: str) -> tuple[str, ...]:
        """Member names of structure shape ``name``."""
        return tuple(self._shapes[name].get("members", {}))

    def operation(self, name: str) -> Callable[[Any], None]:
        with self._lock:
            found = _VALIDATORS.get((self._service, name))
            if found is None:
                found = self._build_operation(name)
                if name in self._operations:  # unknown names are not cached: no unbounded growth
                    _VALIDATORS[(self._service, name)] = found
            return found

    def _build_operation(self, name: str) -> Callable[[Any], None]:
        spec = self._operations.get(name)
        if spec is None:
            message = f"Operation {name} is not supported by this service."

            def unknown(params: Any) -> None:
                raise ValidationError("UnknownOperationException", message)

            return unknown
        errors = {error["shape"] for error in spec.get("errors", ())}
        report = _validation_exception if "ValidationException" in errors else _invalid_parameter
        input_ref = spec.get("input")
        check = self._container(input_ref["shape"]) if input_ref else None
        tag_code = (
            "InvalidTagParameterException"
            if "InvalidTagParameterException" in errors
            else "InvalidParameterException"
        )
        rules = self._rules(input_ref["shape"], tag_code) if input_ref else ()

        def validate(params: Any) -> None:
            if params is None:
                params = {}
            elif type(params) is not dict:
                raise ValidationError(
                    "SerializationException", str(_mismatch(params, "a Structure"))
                )
            if check is None:
                return
            violations: list[_Violation] = []
            try:
                check(params, "", violations)
            except _Mismatch as error:
                raise ValidationError("SerializationException", str(error)) from None
            if violations:
                raise report(violations)
            for rule in rules:
                rule(params)

        return validate

    # -- shapes

    def _is_scalar(self, shape_name: str) -> bool:
        return self._shapes[shape_name]["type"] not in ("structure", "list", "map")

    def _scalar(self, shape_name: str) -> _Scalar:
        found = self._scalars.get(shape_name)
        if found is None:
            found = self._build_scalar(self._shapes[shape_name])
            self._scalars[shape_name] = found
        return found

    def _container(self, shape_name: str) -> _Check:
        found = self._containers.get(shape_name)
        if found is None:
            # A forwarding stub first, so a recursive shape can refer to itself.
            cell: list[_Check] = []
            self._containers[shape_name] = lambda v, p, o: cell[0](v, p, o)
            found = self._build_container(shape_name)
            cell.append(found)
            self._containers[shape_name] = found
        return found

    def _build_scalar(self, shape: dict[str, Any]) -> _Scalar:
        kind = shape["type"]
        if kind == "string":
            return _string_check(shape)
        if kind == "integer":
            return _integer_check(shape, "an Integer", _INT32)
        if kind == "long":
            return _integer_check(shape, "a Long", _INT64)
        if kind in ("double", "float"):
            return _number_check(shape)
        if kind == "boolean":
            return _boolean_check
        if kind == "timestamp":
            return _timestamp_check
        if kind == "blob":
            return _blob_check(shape)
        return _any_check

    def _build_container(self, shape_name: str) -> _Check:
        shape = self._shapes[shape_name]
        kind = shape["type"]
        if kind == "structure":
            return self._structure_check(shape)
        if kind == "list":
            return self._list_check(shape)
        return self._map_check(shape)

    def _structure_check(self, shape: dict[str, Any]) -> _Check:
        required = set(shape.get("required", ()))
        members: list[tuple[str, bool, _Scalar | None, _Check | None]] = []
        for name, ref in shape.get("members", {}).items():
            target = ref["shape"]
            if self._is_scalar(target):
                members.append((name, name in required, self._scalar(target), None))
            else:
                members.append((name, name in required, None, self._container(target)))

        def check(value: Any, path: str, out: list[_Violation]) -> None:
            if type(value) is not dict:
                raise _mismatch(value, "a Structure")
            prefix = path + "." if path else ""
            for name, is_required, scalar, container in members:
                item = value.get(name)
                if item is None:
                    if is_required:
                        out.append((prefix + name, None, _NOT_NULL))
                    continue
                if scalar is not None:
                    problems = scalar(item)
                    if problems:
                        member_path = prefix + name
                        for problem in problems:
                            out.append((member_path, item, problem))
                elif container is not None:
                    container(item, prefix + name, out)

        return check

    def _item_check(self, shape_name: str) -> tuple[_Scalar | None, _Check | None]:
        """How a list member or map value of shape ``shape_name`` is checked."""
        if self._is_scalar(shape_name):
            return self._scalar(shape_name), None
        return None, self._container(shape_name)

    def _list_check(self, shape: dict[str, Any]) -> _Check:
        size_check = _size_check(shape, list, "a List")
        scalar, container = self._item_check(shape["member"]["shape"])

        def check(value: Any, path: str, out: list[_Violation]) -> None:
            size_check(value, path, out)
            bad: list[str] = []
            for index, item in enumerate(value, 1):
                problems = _item_problems(item, scalar, container, f"{path}.{index}.member", out)
                bad.extend(p for p in problems if p not in bad)
            if bad:
                out.append((path, value, f"Member must satisfy constraint: [{', '.join(bad)}]"))

        return check

    def _map_check(self, shape: dict[str, Any]) -> _Check:
        size_check = _size_check(shape, dict, "a Map")
        key_check = self._scalar(shape["key"]["shape"])
        scalar, container = self._item_check(shape["value"]["shape"])

        def check(value: Any, path: str, out: list[_Violation]) -> None:
            size_check(value, path, out)
            bad_keys: list[str] = []
            bad_values: list[str] = []
            for key, item in value.items():
                for problem in key_check(key):
                    if problem not in bad_keys:
                        bad_keys.append(problem)
                problems = _item_problems(item, scalar, container, f"{path}.{key}", out)
                bad_values.extend(p for p in problems if p not in bad_values)
            if bad_keys:
                out.append(
                    (path, value, f"Map keys must satisfy constraint: [{', '.join(bad_keys)}]")
                )
            if bad_values:
                out.append(
                    (path, value, f"Map value must satisfy constraint: [{', '.join(bad_values)}]")
                )

        return check

    # -- ECR rules the model does not carry

    def _rules(self, input_shape: str, tag_code: str) -> tuple[_Rule, ...]:
        members = self._shapes[input_shape].get("members", {})
        tag_members = tuple(
            name for name, ref in members.items() if ref["shape"] in ("TagList", "Tags")
        )
        if not tag_members:
            return ()

        def tags_rule(params: dict[str, Any]) -> None:
            for name in tag_members:
                tags = params.get(name)
                if isinstance(tags, dict):
                    pairs = list(tags.items())
                elif isinstance(tags, list):
                    pairs = [(t.get("Key"), t.get("Value")) for t in tags if isinstance(t, dict)]
                else:
                    continue
                for key, value in pairs:
                    if isinstance(key, str) and not 1 <= len(key) <= _TAG_KEY_MAX:
                        raise ValidationError(tag_code, _TAG_MESSAGE)
                    if isinstance(value, str) and len(value) > _TAG_VALUE_MAX:
                        raise ValidationError(tag_code, _TAG_MESSAGE)

        return (tags_rule,)


# --------------------------------------------------------------------------- scalar checks


_LINEAR_PATTERNS: dict[str, str] = {
    r"^[a-z0-9*](?:[._\-/a-z0-9*]?[a-z0-9*]+)*$": r"^[a-z0-9*]+(?:[._\-/][a-z0-9*]+)*$",
}
"""Model patterns that backtrack exponentially on a near miss (30 characters take hours),
mapped to patterns of the same language that match in linear time; messages quote the
model's text."""


def _string_check(shape: dict[str, Any]) -> _Scalar:
    low: int | None = shape.get("min")
    high: int | None = shape.get("max")
    pattern: str | None = shape.get("pattern")
    compiled = _LINEAR_PATTERNS.get(pattern, pattern) if pattern is not None else None
    matches = re.compile(compiled, re.ASCII).fullmatch if compiled is not None else None
    enum_values: list[str] | None = shape.get("enum")
    allowed = frozenset(enum_values) if enum_values is not None else None
    pattern_message = f"Member must satisfy regular expression pattern: {pattern}"
    shown = _ENUM_ORDER_SEEN.get(frozenset(enum_values or ()), tuple(enum_values or ()))
    enum_message = f"Member must satisfy enum value set: [{', '.join(shown)}]"
    low_bound = low if low is not None else 0
    high_bound = high if high is not None else math.inf

    def check(value: Any) -> tuple[str, ...]:
        if type(value) is not str and not isinstance(value, str):
            raise _mismatch(value, "a String")
        size = len(value)
        length_ok = low_bound <= size <= high_bound
        pattern_ok = matches is None or matches(value) is not None
        enum_ok = allowed is None or value in allowed
        if length_ok and pattern_ok and enum_ok:
            return _NO_PROBLEMS
        problems = [] if length_ok else _length_messages(size, low, high)
        if not pattern_ok:
            problems.append(pattern_message)
        if not enum_ok:
            problems.append(enum_message)
        return tuple(problems)

    return check


def _integer_check(shape: dict[str, Any], target: str, bounds: tuple[int, int]) -> _Scalar:
    low: int | None = shape.get("min")
    high: int | None = shape.get("max")
    low_bound = low if low is not None else bounds[0]
    high_bound = high if high is not None else bounds[1]
    type_low, type_high = bounds

    def check(value: Any) -> tuple[str, ...]:
        if type(value) is not int:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise _mismatch(value, target)
            if not math.isfinite(value):
                raise _mismatch(value, target)
            value = int(value)  # Jackson truncates a JSON float read as an integer
        if low_bound <= value <= high_bound:
            return _NO_PROBLEMS
        if not type_low <= value <= type_high:
            raise _mismatch(value, target)
        return _range_messages(value, low, high)

    return check


def _number_check(shape: dict[str, Any]) -> _Scalar:
    low: float | None = shape.get("min")
    high: float | None = shape.get("max")

    def check(value: Any) -> tuple[str, ...]:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _mismatch(value, "a Double")
        return _range_messages(value, low, high)

    return check


def _range_messages(value: float, low: float | None, high: float | None) -> tuple[str, ...]:
    """The model's ``min``/``max`` messages for a number out of range (high first, as ECR)."""
    problems = []
    if high is not None and value > high:
        problems.append(f"Member must have value less than or equal to {high}")
    if low is not None and value < low:
        problems.append(f"Member must have value greater than or equal to {low}")
    return tuple(problems)


def _boolean_check(value: Any) -> tuple[str, ...]:
    if value is True or value is False:
        return _NO_PROBLEMS
    raise _mismatch(value, "a Boolean")


def _timestamp_check(value: Any) -> tuple[str, ...]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if math.isfinite(value):
            return _NO_PROBLEMS
    elif isinstance(value, str):
        try:
            float(value)
            return _NO_PROBLEMS
        except ValueError:
            pass
        try:
            datetime.fromisoformat(value)
            return _NO_PROBLEMS
        except ValueError:
            pass
    raise _mismatch(value, "a Timestamp")


def _blob_check(shape: dict[str, Any]) -> _Scalar:
    low: int | None = shape.get("min")
    high: int | None = shape.get("max")

    def check(value: Any) -> tuple[str, ...]:
        if not isinstance(value, str):
            raise _mismatch(value, "a Blob")
        if low is None and high is None:
            return _NO_PROBLEMS
        size = len(value) * 3 // 4 - (
            2 if value.endswith("==") else 1 if value.endswith("=") else 0
        )
        return tuple(_length_messages(max(size, 0), low, high))

    return check


def _any_check(value: Any) -> tuple[str, ...]:
    return _NO_PROBLEMS
