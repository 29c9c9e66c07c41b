"""IAM policy documents: parsing, validation and AWS-style allow/deny evaluation."""

from __future__ import annotations

import functools
import ipaddress
import json
import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from ecr_mock.domain.input_errors import PolicyParseError
from ecr_mock.domain.wildcards import wildcard_source

__all__ = [
    "MANAGED_POLICIES",
    "AuthzRequest",
    "Condition",
    "Decision",
    "DecisionReason",
    "IamPrincipal",
    "Policy",
    "PolicyParseError",
    "PrincipalKind",
    "Statement",
    "evaluate",
    "parse_policy",
    "validate_registry_policy",
    "validate_repository_policy",
]

Effect = Literal["Allow", "Deny"]
PrincipalKind = Literal["root", "user", "role", "assumed-role", "service"]
DecisionReason = Literal[
    "explicit_deny", "allowed", "implicit_deny", "no_resource_policy_cross_account"
]
PolicyKind = Literal["identity", "resource"]
Qualifier = Literal["ForAnyValue", "ForAllValues"]


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Condition:
    """One (operator, key) pair of a Condition block; its values are ORed."""

    operator: str  # as written, e.g. "ForAnyValue:StringLikeIfExists"
    base: str  # e.g. "StringLike"
    qualifier: Qualifier | None
    if_exists: bool
    key: str  # lower-cased: condition keys are case-insensitive
    values: tuple[str, ...]


@dataclass(frozen=True)
class Statement:
    """One policy statement; ``None`` for an element means it was absent."""

    effect: Effect
    actions: tuple[str, ...]
    actions_negated: bool = False  # NotAction
    resources: tuple[str, ...] | None = None
    resources_negated: bool = False  # NotResource
    principals: tuple[tuple[str, str], ...] | None = None  # (type, value); ("*", "*") for "*"
    principals_negated: bool = False  # NotPrincipal
    conditions: tuple[Condition, ...] = ()
    sid: str | None = None


@dataclass(frozen=True)
class Policy:
    """A parsed policy document."""

    statements: tuple[Statement, ...]
    version: str | None = None
    id: str | None = None

    @property
    def variables_enabled(self) -> bool:
        """Policy variables (``${aws:username}``) only work in version 2012-10-17."""
        return self.version == "2012-10-17"


@dataclass(frozen=True)
class IamPrincipal:
    """The caller of a request.

    ``arn`` is the caller's ARN; for a service principal it is the service
    name (``replication.ecr.amazonaws.com``) and ``account_id`` may be empty.
    ``role_arn`` is, for an assumed-role session, the role it comes from.
    """

    arn: str
    account_id: str
    kind: PrincipalKind
    role_arn: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def for_root(cls, account_id: str, partition: str = "aws") -> IamPrincipal:
        return cls(f"arn:{partition}:iam::{account_id}:root", account_id, "root")

    @classmethod
    def for_service(cls, service: str) -> IamPrincipal:
        return cls(service, "", "service")

    @classmethod
    def from_arn(
        cls,
        arn: str,
        *,
        role_arn: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> IamPrincipal:
        """Build a principal from an IAM/STS ARN, an account id or a service name."""
        tags = dict(tags or {})
        if _ACCOUNT_RE.fullmatch(arn):
            return cls(f"arn:aws:iam::{arn}:root", arn, "root", tags=tags)
        if _SERVICE_RE.fullmatch(arn):
            return cls(arn, "", "service", tags=tags)
        match = _IAM_ARN_RE.fullmatch(arn)
        if match is None:
            raise ValueError(f"not an IAM principal ARN: {arn}")
        partition, service, account, resource = match.group(
            "partition", "service", "account", "resource"
        )
        if service == "iam" and resource == "root":
            return cls(arn, account, "root", tags=tags)
        if service == "iam" and resource.startswith("user/"):
            return cls(arn, account, "user", tags=tags)
        if service == "iam" and resource.startswith("role/"):
            return cls(arn, account, "role", tags=tags)
        session = _SESSION_RESOURCE_RE.fullmatch(resource)
        if service == "sts" and session is not None:
            role = role_arn or f"arn:{partition}:iam::{account}:role/{session.group('role')}"
            return cls(arn, account, "assumed-role", role_arn=role, tags=tags)
        raise ValueError(f"not an IAM principal ARN: {arn}")


@dataclass(frozen=True)
class AuthzRequest:
    """One action a principal wants to perform on one resource.

    ``resource_account`` defaults to the account field of ``resource``.
    ``context`` holds condition keys (any case); the evaluator adds
    aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType, aws:username,
    aws:PrincipalIsAWSService, aws:PrincipalServiceName and aws:PrincipalTag/*
    where ``context`` does not already hold them.
    """

    action: str
    resource: str
    principal: IamPrincipal
    resource_account: str = ""
    context: Mapping[str, str | list[str]] = field(default_factory=dict)

    @property
    def effective_resource_account(self) -> str:
        if self.resource_account:
            return self.resource_account
        parts = self.resource.split(":", 5)
        return parts[4] if len(parts) == 6 else ""


@dataclass(frozen=True)
class Decision:
    """The outcome of :func:`evaluate`; ``denied_by`` says which kind of policy denied."""

    allowed: bool
    reason: DecisionReason
    denied_by: PolicyKind | None = None
    sid: str | None = None  # the Sid of the statement that explicitly denied

    def denial_message(self, request: AuthzRequest, *, with_reason: bool = True) -> str:
        """The AWS wording of this denial ('' when the request was allowed)."""
        if self.allowed:
            return ""
        text = (
            f"User: {request.principal.arn} is not authorized to perform: "
            f"{request.action} on resource: {request.resource}"
        )
        if not with_reason:
            return text
        if self.reason == "explicit_deny":
            where = "a resource-based" if self.denied_by == "resource" else "an identity-based"
            return f"{text} with an explicit deny in {where} policy"
        if self.reason == "no_resource_policy_cross_account":
            return f"{text} because no resource-based policy allows the {request.action} action"
        return f"{text} because no identity-based policy allows the {request.action} action"


# --------------------------------------------------------------------------- patterns

_PARTITION = r"aws[a-z-]*"
_ACCOUNT_RE = re.compile(r"\d{12}")
_SERVICE_RE = re.compile(r"[a-z0-9][a-z0-9.-]*\.amazonaws\.com(\.cn)?")
_IAM_ARN_RE = re.compile(
    rf"arn:(?P<partition>{_PARTITION}):(?P<service>iam|sts)::(?P<account>\d{{12}}):"
    r"(?P<resource>.+)"
)
_SESSION_RESOURCE_RE = re.compile(r"assumed-role/(?P<role>[\w+=,.@-]+)/[\w+=,.@-]+")
_ROOT_ARN_RE = re.compile(rf"arn:{_PARTITION}:iam::(?P<account>\d{{12}}):root")
_WELL_FORMED_AWS_PRINCIPAL = re.compile(
    rf"\*|\d{{12}}|arn:{_PARTITION}:iam::\d{{12}}:"
    r"(root|(user|role)(/[\w+=,.@-]+)+)"
    rf"|arn:{_PARTITION}:sts::\d{{12}}:assumed-role/[\w+=,.@-]+/[\w+=,.@-]+"
)
_ROLE_ARN_RE = re.compile(
    rf"arn:{_PARTITION}:iam::(?P<account>\d{{12}}):role/(?:[\w+=,.@-]+/)*(?P<name>[\w+=,.@-]+)"
)
_ACTION_RE = re.compile(r"\*|[A-Za-z0-9-]+:[A-Za-z0-9*?]+")
_REGISTRY_RESOURCE_RE = re.compile(rf"\*|arn:{_PARTITION}:ecr:[^:]*:[^:]*:repository/.+")
_VARIABLE_RE = re.compile(r"\$\{\s*([^,}']+?)\s*(?:,\s*'([^']*)'\s*)?\}")
_SPECIAL_VARIABLES = {"*": "*", "?": "?", "$": "$"}


@functools.lru_cache(maxsize=4096)
def _glob_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(_glob_source(pattern), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _glob_source(pattern: str, group_prefix: str = "w") -> str:
    return wildcard_source(pattern, question_mark=True, group_prefix=group_prefix)


def _glob_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    if pattern == "*":
        return True
    return _glob_regex(pattern, ignore_case).fullmatch(value) is not None


# --------------------------------------------------------------------------- context

ContextValues = dict[str, tuple[str, ...]]


class _Vars:
    """Resolves ``${key}`` policy variables against the request context."""

    def __init__(self, context: ContextValues, enabled: bool) -> None:
        self.context = context
        self.enabled = enabled

    def _lookup(self, name: str, default: str | None) -> str | None:
        if name in _SPECIAL_VARIABLES:
            return _SPECIAL_VARIABLES[name]
        values = self.context.get(name.lower())
        if values is not None and len(values) == 1:
            return values[0]
        return default

    def resolve(self, value: str) -> str | None:
        """``value`` with variables replaced; None when a variable has no value."""
        if not self.enabled or "${" not in value:
            return value
        missing = False

        def substitute(match: re.Match[str]) -> str:
            nonlocal missing
            found = self._lookup(match.group(1), match.group(2))
            if found is None:
                missing = True
                return ""
            return found

        resolved = _VARIABLE_RE.sub(substitute, value)
        return None if missing else resolved

    def pattern(self, value: str, *, ignore_case: bool) -> re.Pattern[str] | None:
        """A wildcard pattern; substituted variable values match literally."""
        if not self.enabled or "${" not in value:
            return _glob_regex(value, ignore_case)
        parts: list[str] = []
        last = 0
        for match in _VARIABLE_RE.finditer(value):
            parts.append(_glob_source(value[last : match.start()], f"w{len(parts)}_"))
            found = self._lookup(match.group(1), match.group(2))
            if found is None:
                return None
            parts.append(re.escape(found))
            last = match.end()
        parts.append(_glob_source(value[last:], f"w{len(parts)}_"))
        return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _principal_type(principal: IamPrincipal) -> str:
    return {
        "root": "Account",
        "user": "User",
        "role": "AssumedRole",
        "assumed-role": "AssumedRole",
        "service": "AWSService",
    }[principal.kind]


def _build_context(request: AuthzRequest) -> ContextValues:
    principal = request.principal
    context: ContextValues = {}
    if principal.kind == "assumed-role" and principal.role_arn:
        context["aws:principalarn"] = (principal.role_arn,)
    else:
        context["aws:principalarn"] = (principal.arn,)
    if principal.account_id:
        context["aws:principalaccount"] = (principal.account_id,)
    context["aws:principaltype"] = (_principal_type(principal),)
    is_service = principal.kind == "service"
    context["aws:principalisawsservice"] = ("true" if is_service else "false",)
    if is_service:
        context["aws:principalservicename"] = (principal.arn,)
    if principal.kind == "user":
        context["aws:username"] = (principal.arn.rsplit("/", 1)[-1],)
    for tag_key, tag_value in principal.tags.items():
        context[f"aws:principaltag/{tag_key.lower()}"] = (tag_value,)
    for key, value in request.context.items():
        context[key.lower()] = (value,) if isinstance(value, str) else tuple(value)
    return context


# --------------------------------------------------------------------------- operators

_Predicate = Callable[[str], bool]
_Builder = Callable[[str, _Vars], _Predicate | None]


def _parse_number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


_EPOCH_RE = re.compile(r"-?\d+(\.\d+)?")


def _parse_date(text: str) -> datetime | None:
    text = text.strip()
    try:
        if _EPOCH_RE.fullmatch(text):
            return datetime.fromtimestamp(float(text), tz=timezone.utc)
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        moment = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _parse_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def _string_equals(ignore_case: bool) -> _Builder:
    def build(value: str, variables: _Vars) -> _Predicate | None:
        wanted = variables.resolve(value)
        if wanted is None:
            return None
        if ignore_case:
            folded = wanted.casefold()
            return lambda candidate: candidate.casefold() == folded
        return lambda candidate: candidate == wanted

    return build


def _string_like(value: str, variables: _Vars) -> _Predicate | None:
    regex = variables.pattern(value, ignore_case=False)
    if regex is None:
        return None
    return lambda candidate: regex.fullmatch(candidate) is not None


def _arn_like(value: str, variables: _Vars) -> _Predicate | None:
    """ArnEquals and ArnLike: each of the six colon-separated parts matched on its own."""
    wanted = variables.resolve(value)
    if wanted is None:
        return None
    pattern_parts = wanted.split(":", 5)

    def predicate(candidate: str) -> bool:
        parts = candidate.split(":", 5)
        return len(parts) == len(pattern_parts) == 6 and all(
            _glob_match(p, c) for p, c in zip(pattern_parts, parts, strict=True)
        )

    return predicate


def _numeric(compare: Callable[[float, float], bool]) -> _Builder:
    def build(value: str, variables: _Vars) -> _Predicate | None:
        wanted = _parse_number(value)
        if wanted is None:
            return None

        def predicate(candidate: str) -> bool:
            number = _parse_number(candidate)
            return number is not None and compare(number, wanted)

        return predicate

    return build


def _date(compare: Callable[[datetime, datetime], bool]) -> _Builder:
    def build(value: str, variables: _Vars) -> _Predicate | None:
        wanted = _parse_date(value)
        if wanted is None:
            return None

        def predicate(candidate: str) -> bool:
            moment = _parse_date(candidate)
            return moment is not None and compare(moment, wanted)

        return predicate

    return build


def _bool(value: str, variables: _Vars) -> _Predicate | None:
    wanted = value.strip().lower()
    return lambda candidate: candidate.strip().lower() == wanted


def _ip_address(value: str, variables: _Vars) -> _Predicate | None:
    network = _parse_network(value)
    if network is None:
        return None

    def predicate(candidate: str) -> bool:
        try:
            return ipaddress.ip_address(candidate.strip()) in network
        except ValueError:
            return False

    return predicate


def _check_number(value: str) -> bool:
    return _parse_number(value) is not None


def _check_date(value: str) -> bool:
    return _parse_date(value) is not None


def _check_bool(value: str) -> bool:
    return value.strip().lower() in ("true", "false")


def _check_network(value: str) -> bool:
    return _parse_network(value) is not None


@dataclass(frozen=True)
class _Operator:
    build: _Builder  # policy value -> predicate on one context value
    negated: bool = False  # a Not operator: true when no policy value matches
    check: Callable[[str], bool] | None = None  # validates a policy value at parse time


def _family(
    positive: str, negative: str, build: _Builder, check: Callable[[str], bool] | None = None
) -> dict[str, _Operator]:
    return {positive: _Operator(build, False, check), negative: _Operator(build, True, check)}


_COMPARISONS: dict[str, tuple[Callable[[Any, Any], bool], bool]] = {
    "Equals": (operator.eq, False),
    "NotEquals": (operator.eq, True),
    "LessThan": (operator.lt, False),
    "LessThanEquals": (operator.le, False),
    "GreaterThan": (operator.gt, False),
    "GreaterThanEquals": (operator.ge, False),
}


def _ordered(
    prefix: str,
    builder: Callable[[Callable[[Any, Any], bool]], _Builder],
    check: Callable[[str], bool],
) -> dict[str, _Operator]:
    """The Equals/NotEquals/LessThan/... operators of the Numeric or Date family."""
    return {
        prefix + suffix: _Operator(builder(compare), negated, check)
        for suffix, (compare, negated) in _COMPARISONS.items()
    }


_OPERATORS: dict[str, _Operator] = {
    **_family("StringEquals", "StringNotEquals", _string_equals(ignore_case=False)),
    **_family(
        "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", _string_equals(ignore_case=True)
    ),
    **_family("StringLike", "StringNotLike", _string_like),
    **_family("ArnEquals", "ArnNotEquals", _arn_like),
    **_family("ArnLike", "ArnNotLike", _arn_like),
    **_ordered("Numeric", _numeric, _check_number),
    **_ordered("Date", _date, _check_date),
    "Bool": _Operator(_bool, False, _check_bool),
    **_family("IpAddress", "NotIpAddress", _ip_address, _check_network),
    "Null": _Operator(_bool, False, _check_bool),  # evaluated by _null_holds
}


def _null_holds(condition: Condition, present: bool) -> bool:
    """``Null: true`` holds when the key is absent, ``Null: false`` when present."""
    return any((value.strip().lower() == "true") != present for value in condition.values)


def _condition_holds(condition: Condition, context: ContextValues, variables: _Vars) -> bool:
    candidates = context.get(condition.key, ())
    if condition.base == "Null":
        return _null_holds(condition, bool(candidates))
    spec = _OPERATORS[condition.base]
    if not candidates:
        if condition.qualifier == "ForAllValues":
            return True
        if condition.qualifier == "ForAnyValue":
            return False
        # AWS: a missing key fails a condition, except that a negated operator
        # ("the key is not X") holds; IfExists makes any operator hold.
        return condition.if_exists or spec.negated
    predicates = [
        predicate
        for value in condition.values
        if (predicate := spec.build(value, variables)) is not None
    ]

    def satisfied(candidate: str) -> bool:
        hit = any(predicate(candidate) for predicate in predicates)
        return not hit if spec.negated else hit

    if condition.qualifier == "ForAllValues":
        return all(satisfied(candidate) for candidate in candidates)
    if condition.qualifier is None and spec.negated:
        return all(satisfied(candidate) for candidate in candidates)
    return any(satisfied(candidate) for candidate in candidates)


# --------------------------------------------------------------------------- parsing

_STATEMENT_KEYS = frozenset(
    {
        "Sid",
        "Effect",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Principal",
        "NotPrincipal",
        "Condition",
    }
)
_PRINCIPAL_TYPES = frozenset({"AWS", "Service", "Federated", "CanonicalUser"})
_VERSIONS = frozenset({"2012-10-17", "2008-10-17"})


def _string_list(value: object, element: str, *, allow_empty: bool = False) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        if not value and not allow_empty:
            raise PolicyParseError(f"{element} must not be an empty list")
        return tuple(value)
    raise PolicyParseError(f"{element} must be a string or a list of strings")


def _parse_actions(value: object, element: str) -> tuple[str, ...]:
    actions = _string_list(value, element)
    for action in actions:
        if not _ACTION_RE.fullmatch(action):
            raise PolicyParseError(f"invalid action in {element}: {action!r}")
    return actions


def _parse_principals(value: object, element: str) -> tuple[tuple[str, str], ...]:
    if value == "*":
        return (("*", "*"),)
    if not isinstance(value, dict) or not value:
        raise PolicyParseError(f'{element} must be "*" or a non-empty object')
    principals: list[tuple[str, str]] = []
    for kind, ids in value.items():
        if kind not in _PRINCIPAL_TYPES:
            raise PolicyParseError(f"unknown principal type in {element}: {kind!r}")
        principals.extend((kind, ident) for ident in _string_list(ids, f"{element}.{kind}"))
    return tuple(principals)


def _condition_values(value: object, where: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    values: list[str] = []
    for item in items:
        if isinstance(item, bool):
            values.append("true" if item else "false")
        elif isinstance(item, (str, int, float)):
            values.append(str(item))
        else:
            raise PolicyParseError(f"condition values of {where} must be strings, numbers or bools")
    return tuple(values)


def _split_operator(name: str) -> tuple[Qualifier | None, str, bool]:
    qualifier: Qualifier | None = None
    base = name
    for prefix in ("ForAnyValue", "ForAllValues"):
        if base.startswith(prefix + ":"):
            qualifier = "ForAnyValue" if prefix == "ForAnyValue" else "ForAllValues"
            base = base[len(prefix) + 1 :]
    if_exists = base.endswith("IfExists")
    if if_exists:
        base = base[: -len("IfExists")]
    if base not in _OPERATORS:
        raise PolicyParseError(f"unknown condition operator: {name!r}")
    return qualifier, base, if_exists


def _parse_conditions(value: object) -> tuple[Condition, ...]:
    if not isinstance(value, dict):
        raise PolicyParseError("Condition must be an object")
    conditions: list[Condition] = []
    for name, block in value.items():
        qualifier, base, if_exists = _split_operator(name)
        if not isinstance(block, dict) or not block:
            raise PolicyParseError(f"condition operator {name} must map keys to values")
        check = _OPERATORS[base].check
        for key, raw in block.items():
            values = _condition_values(raw, f"{name}.{key}")
            for item in values:
                if check is not None and "${" not in item and not check(item):
                    raise PolicyParseError(f"invalid value for {name} {key}: {item!r}")
            conditions.append(Condition(name, base, qualifier, if_exists, key.lower(), values))
    return tuple(conditions)


def _parse_statement(raw: object) -> Statement:
    if not isinstance(raw, dict):
        raise PolicyParseError("each Statement must be an object")
    unknown = sorted(set(raw) - _STATEMENT_KEYS)
    if unknown:
        raise PolicyParseError(f"unknown statement element: {unknown[0]}")
    for first, second in (
        ("Action", "NotAction"),
        ("Resource", "NotResource"),
        ("Principal", "NotPrincipal"),
    ):
        if first in raw and second in raw:
            raise PolicyParseError(f"a statement cannot have both {first} and {second}")
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise PolicyParseError("Sid must be a string")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyParseError(f"Effect must be Allow or Deny, not {effect!r}")
    if "Action" in raw:
        actions, actions_negated = _parse_actions(raw["Action"], "Action"), False
    elif "NotAction" in raw:
        actions, actions_negated = _parse_actions(raw["NotAction"], "NotAction"), True
    else:
        raise PolicyParseError("a statement needs Action or NotAction")
    resources: tuple[str, ...] | None = None
    resources_negated = "NotResource" in raw
    if "Resource" in raw or resources_negated:
        element = "NotResource" if resources_negated else "Resource"
        resources = _string_list(raw[element], element)
    principals: tuple[tuple[str, str], ...] | None = None
    principals_negated = "NotPrincipal" in raw
    if "Principal" in raw or principals_negated:
        element = "NotPrincipal" if principals_negated else "Principal"
        principals = _parse_principals(raw[element], element)
    conditions = _parse_conditions(raw["Condition"]) if "Condition" in raw else ()
    return Statement(
        effect="Allow" if effect == "Allow" else "Deny",
        actions=actions,
        actions_negated=actions_negated,
        resources=resources,
        resources_negated=resources_negated,
        principals=principals,
        principals_negated=principals_negated,
        conditions=conditions,
        sid=sid,
    )


def parse_policy(text: str) -> Policy:
    """Parse and structurally validate a policy document (JSON text)."""
    try:
        document = json.loads(text)
    except (ValueError, TypeError, RecursionError) as error:
        raise PolicyParseError(f"policy is not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise PolicyParseError("policy must be a JSON object")
    unknown = sorted(set(document) - {"Version", "Id", "Statement"})
    if unknown:
        raise PolicyParseError(f"unknown policy element: {unknown[0]}")
    version = document.get("Version")
    if version is not None and version not in _VERSIONS:
        raise PolicyParseError(f"unsupported Version: {version!r}")
    policy_id = document.get("Id")
    if policy_id is not None and not isinstance(policy_id, str):
        raise PolicyParseError("Id must be a string")
    if "Statement" not in document:
        raise PolicyParseError("policy has no Statement")
    raw_statements = document["Statement"]
    if isinstance(raw_statements, dict):
        raw_statements = [raw_statements]
    if not isinstance(raw_statements, list) or not raw_statements:
        raise PolicyParseError("Statement must be an object or a non-empty list of objects")
    statements = tuple(_parse_statement(raw) for raw in raw_statements)
    return Policy(statements=statements, version=version, id=policy_id)


def _check_resource_policy_principals(policy: Policy) -> None:
    for statement in policy.statements:
        if statement.principals is None:
            raise PolicyParseError("every statement needs Principal or NotPrincipal")
        for kind, ident in statement.principals:
            if kind == "*":
                continue
            if kind == "AWS" and _WELL_FORMED_AWS_PRINCIPAL.fullmatch(ident):
                continue
            if kind == "Service" and _SERVICE_RE.fullmatch(ident):
                continue
            raise PolicyParseError(f"invalid principal: {{{kind!r}: {ident!r}}}")


def validate_repository_policy(text: str) -> Policy:
    """Parse a repository policy: Principal required, no Resource/NotResource."""
    policy = parse_policy(text)
    for statement in policy.statements:
        if statement.resources is not None:
            raise PolicyParseError("a repository policy cannot have Resource or NotResource")
    _check_resource_policy_principals(policy)
    return policy


def validate_registry_policy(text: str) -> Policy:
    """Parse a registry policy: Principal required; Resource names ECR repositories."""
    policy = parse_policy(text)
    for statement in policy.statements:
        for resource in statement.resources or ():
            if not _REGISTRY_RESOURCE_RE.fullmatch(resource):
                raise PolicyParseError(f"invalid registry policy resource: {resource!r}")
    _check_resource_policy_principals(policy)
    return policy


# --------------------------------------------------------------------------- evaluation


def _session_of_role(role_arn: str, principal: IamPrincipal) -> bool:
    """Whether ``principal`` is an assumed-role session of ``role_arn``."""
    if principal.kind != "assumed-role":
        return False
    if principal.role_arn is not None:
        return principal.role_arn == role_arn
    role = _ROLE_ARN_RE.fullmatch(role_arn)
    session = _IAM_ARN_RE.fullmatch(principal.arn)
    if role is None or session is None:
        return False
    session_resource = _SESSION_RESOURCE_RE.fullmatch(session.group("resource"))
    return (
        session_resource is not None
        and role.group("account") == principal.account_id
        and role.group("name") == session_resource.group("role")
    )


def _principal_matches(kind: str, ident: str, principal: IamPrincipal) -> bool:
    if kind == "*" or (kind == "AWS" and ident == "*"):
        return True
    if kind == "Service":
        return principal.kind == "service" and principal.arn == ident
    if kind != "AWS" or principal.kind == "service":
        return False
    if _ACCOUNT_RE.fullmatch(ident):
        return principal.account_id == ident
    root = _ROOT_ARN_RE.fullmatch(ident)
    if root is not None:
        return principal.account_id == root.group("account")
    return ident == principal.arn or _session_of_role(ident, principal)


def _statement_applies(
    statement: Statement,
    request: AuthzRequest,
    context: ContextValues,
    variables: _Vars,
    check_principal: bool,
) -> bool:
    action_hit = any(
        _glob_match(pattern, request.action, ignore_case=True) for pattern in statement.actions
    )
    if action_hit == statement.actions_negated:
        return False
    if statement.resources is not None:
        resource_hit = False
        for pattern in statement.resources:
            regex = variables.pattern(pattern, ignore_case=False)
            if regex is not None and regex.fullmatch(request.resource) is not None:
                resource_hit = True
                break
        if resource_hit == statement.resources_negated:
            return False
    if check_principal:
        if statement.principals is None:
            return False
        principal_hit = any(
            _principal_matches(kind, ident, request.principal)
            for kind, ident in statement.principals
        )
        if principal_hit == statement.principals_negated:
            return False
    return all(
        _condition_holds(condition, context, variables) for condition in statement.conditions
    )


@dataclass(frozen=True)
class _Scan:
    allowed: bool = False
    deny_sid: str | None = None
    denied: bool = False


def _scan(
    policies: Sequence[Policy],
    request: AuthzRequest,
    context: ContextValues,
    check_principal: bool,
) -> _Scan:
    allowed = False
    for policy in policies:
        variables = _Vars(context, policy.variables_enabled)
        for statement in policy.statements:
            if not _statement_applies(statement, request, context, variables, check_principal):
                continue
            if statement.effect == "Deny":
                return _Scan(allowed=allowed, deny_sid=statement.sid, denied=True)
            allowed = True
    return _Scan(allowed=allowed)


def evaluate(
    request: AuthzRequest,
    identity_policies: Sequence[Policy],
    resource_policies: Sequence[Policy],
) -> Decision:
    """Decide a request the way AWS does.

    An explicit Deny anywhere wins. In the resource's own account an Allow in
    an identity policy or in a resource policy suffices; across accounts both
    are needed. Identity policies do not apply to an account root (it has an
    implicit identity allow) nor to a service principal (which needs a
    resource policy allow).
    """
    principal = request.principal
    context = _build_context(request)
    uses_identity = principal.kind not in ("root", "service")
    identity = _scan(identity_policies, request, context, False) if uses_identity else _Scan()
    if identity.denied:
        return Decision(False, "explicit_deny", "identity", identity.deny_sid)
    resource = _scan(resource_policies, request, context, True)
    if resource.denied:
        return Decision(False, "explicit_deny", "resource", resource.deny_sid)
    identity_allows = identity.allowed or principal.kind == "root"
    same_account = (
        principal.kind != "service" and principal.account_id == request.effective_resource_account
    )
    if same_account:
        if identity_allows or resource.allowed:
            return Decision(True, "allowed")
        return Decision(False, "implicit_deny")
    if not resource.allowed:
        return Decision(False, "no_resource_policy_cross_account")
    if identity_allows or principal.kind == "service":
        return Decision(True, "allowed")
    return Decision(False, "implicit_deny")


# --------------------------------------------------------------------------- managed policies

_READ_ONLY_ACTIONS = (
    "ecr:GetAuthorizationToken",
    "ecr:BatchCheckLayerAvailability",
    "ecr:GetDownloadUrlForLayer",
    "ecr:GetRepositoryPolicy",
    "ecr:DescribeRepositories",
    "ecr:ListImages",
    "ecr:DescribeImages",
    "ecr:BatchGetImage",
    "ecr:GetLifecyclePolicy",
    "ecr:GetLifecyclePolicyPreview",
    "ecr:ListTagsForResource",
    "ecr:DescribeImageScanFindings",
)
"""The actions of AmazonEC2ContainerRegistryReadOnly; PowerUser adds :data:`_PUSH_ACTIONS`."""

_PUSH_ACTIONS = (
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
)

_MANAGED_DOCUMENTS: dict[str, dict[str, object]] = {
    "AmazonEC2ContainerRegistryFullAccess": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["ecr:*", "cloudtrail:LookupEvents"],
                "Resource": "*",
            },
            {
                "Effect": "Allow",
                "Action": ["iam:CreateServiceLinkedRole"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"iam:AWSServiceName": ["replication.ecr.amazonaws.com"]}
                },
            },
        ],
    },
    "AmazonEC2ContainerRegistryPowerUser": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [*_READ_ONLY_ACTIONS, *_PUSH_ACTIONS],
                "Resource": "*",
            }
        ],
    },
    "AmazonEC2ContainerRegistryReadOnly": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": list(_READ_ONLY_ACTIONS),
                "Resource": "*",
            }
        ],
    },
    "AmazonEC2ContainerRegistryPullOnly": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "ecr:GetAuthorizationToken",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchImportUpstreamImage",
                ],
                "Resource": "*",
            }
        ],
    },
}

MANAGED_POLICIES: dict[str, str] = {
    name: json.dumps(document, indent=4) for name, document in _MANAGED_DOCUMENTS.items()
}
"""JSON documents of the AWS managed ECR policies, by policy name (as moto ships them)."""
