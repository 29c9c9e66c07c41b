"""Fault rules: which requests fail, how and when, for both surfaces; matching only, no I/O."""

from __future__ import annotations

import fnmatch
import itertools
import random
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ecr_mock.domain.names import account_problem, region_problem
from ecr_mock.store.errors import FaultRuleError

__all__ = [
    "Fault",
    "FaultCatalog",
    "FaultRequest",
    "FaultRule",
    "FaultRuleError",
    "FaultRules",
]

SURFACES = ("api", "registry")
SERVICES = ("ecr", "ecr-public")
MATCH_FIELDS = ("surface", "service", "operation", "repository", "account_id", "region")
EFFECT_FIELDS = ("error", "status", "message", "delay_ms", "disconnect_after_bytes", "after_commit")
WHEN_FIELDS = ("times", "skip", "every", "probability", "seed")
RULE_FIELDS = ("id", *MATCH_FIELDS, *EFFECT_FIELDS, *WHEN_FIELDS)
"""Every key a rule may have (keyword arguments in Python, keys in JSON)."""


_MAX_DELAY_MS = 600_000
_THROTTLING = frozenset({"ThrottlingException", "TOOMANYREQUESTS"})


@dataclass(frozen=True)
class FaultCatalog:
    """The names a rule may use: operations and error codes (with their HTTP status) per surface."""

    api_operations: frozenset[str]
    api_errors: Mapping[str, int]
    registry_routes: frozenset[str]
    registry_errors: Mapping[str, int]

    def operations(self, surface: str) -> frozenset[str]:
        """The operation (API) or route (registry) names of ``surface``."""
        return self.api_operations if surface == "api" else self.registry_routes

    def errors(self, surface: str) -> Mapping[str, int]:
        """The error codes of ``surface`` and their default HTTP status."""
        return self.api_errors if surface == "api" else self.registry_errors


@dataclass(frozen=True)
class FaultRequest:
    """What a rule is matched against: one request on one surface."""

    surface: str
    operation: str | None
    repository: str | None = None
    account_id: str | None = None
    region: str | None = None
    service: str | None = None
    """``ecr`` or ``ecr-public``: the API called, or the registry addressed (None: neither)."""


@dataclass(kw_only=True)
class FaultEffects:
    """What a fault does: an error answer, a delay, a cut after some bytes, commit first."""

    error: str | None = None
    status: int | None = None
    message: str | None = None
    delay_ms: float = 0
    disconnect_after_bytes: int | None = None
    after_commit: bool = False


@dataclass(kw_only=True)
class Fault(FaultEffects):
    """What goes wrong with one request: the combined effects of the rules that fired."""

    rule_ids: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (for call records)."""
        doc: dict[str, Any] = {"rules": list(self.rule_ids)}
        if self.error is not None:
            doc.update(error=self.error, status=self.status, after_commit=self.after_commit)
        if self.delay_ms:
            doc["delay_ms"] = self.delay_ms
        if self.disconnect_after_bytes is not None:
            doc["disconnect_after_bytes"] = self.disconnect_after_bytes
        return doc


@dataclass(eq=False, kw_only=True)
class FaultRule(FaultEffects):
    """One rule: what it matches, what it does, when it fires, and how often it has (``hits``).

    Works as a context manager: the rule is removed on exit.
    """

    id: str
    surface: str | None = None
    service: str | None = None
    operation: str | None = None
    repository: str | None = None
    account_id: str | None = None
    region: str | None = None
    times: int | None = None
    skip: int = 0
    every: int = 1
    probability: float | None = None
    seed: int | str | None = None
    hits: int = 0
    """How many requests this rule has applied to."""
    matches: int = 0
    """How many requests matched its fields (fired or not)."""
    _owner: FaultRules | None = field(default=None, repr=False)
    _random: random.Random = field(default_factory=random.Random, repr=False)

    @property
    def spent(self) -> bool:
        """True once ``times`` hits have happened."""
        return self.times is not None and self.hits >= self.times

    def remove(self) -> None:
        """Stop applying this rule (harmless when already removed)."""
        if self._owner is not None:
            self._owner.remove(self.id)

    def __enter__(self) -> FaultRule:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.remove()

    def to_dict(self) -> dict[str, Any]:
        """The rule as JSON: its fields (unset ones left out), ``hits``, ``matches``, ``spent``."""
        doc: dict[str, Any] = {"id": self.id}
        for name in RULE_FIELDS[1:]:
            value = getattr(self, name)
            if value is None or (name in ("skip", "delay_ms") and value == 0):
                continue
            if (name == "every" and value == 1) or (name == "after_commit" and not value):
                continue
            doc[name] = value
        doc.update(hits=self.hits, matches=self.matches, spent=self.spent)
        return doc

    def _matches(self, request: FaultRequest) -> bool:
        if self.surface is not None and request.surface != self.surface:
            return False
        if self.service is not None and request.service != self.service:
            return False
        if self.operation is not None and request.operation != self.operation:
            return False
        if self.repository is not None and (
            request.repository is None
            or not fnmatch.fnmatchcase(request.repository, self.repository)
        ):
            return False
        if self.account_id is not None and request.account_id != self.account_id:
            return False
        return self.region is None or request.region == self.region

    def _fires(self, request: FaultRequest) -> bool:
        """Count a match and say whether the rule applies to it (callers hold the set's lock)."""
        if not self._matches(request):
            return False
        self.matches += 1
        if self.spent:
            return False
        position = self.matches - self.skip
        if position <= 0 or position % self.every != 0:
            return False
        if self.probability is not None and self._random.random() >= self.probability:
            return False
        self.hits += 1
        return True


class FaultRules:
    """The fault rules of one backend: ``add(**rule)``, ``remove(id)``, ``clear()``, iteration.

    ``catalog()`` gives the function supplying the valid operation, route and error names
    (None while the backend serves no surface); it is asked on each :meth:`add`.
    """

    def __init__(self, catalog: Callable[[], Callable[[], FaultCatalog] | None]) -> None:
        self.catalog = catalog
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    # ----- the set -------------------------------------------------------------------------

    def add(self, **rule: Any) -> FaultRule:
        """Add a rule (see the README's rule table); returns it. FaultRuleError when invalid."""
        return self.add_rule(rule)

    def add_rule(self, rule: Mapping[str, Any]) -> FaultRule:
        """Add a rule given as a mapping (a JSON object); returns it."""
        parsed = parse_rule(rule, self._catalog())
        with self._lock:
            if parsed.id:
                if any(existing.id == parsed.id for existing in self._rules):
                    raise FaultRuleError(f"A fault rule with id {parsed.id!r} already exists")
            else:
                taken = {existing.id for existing in self._rules}
                parsed.id = next(i for i in (f"fault-{n}" for n in self._ids) if i not in taken)
            parsed._owner = self
            self._rules.append(parsed)
        return parsed

    def _catalog(self) -> FaultCatalog:
        source = self.catalog()
        if source is None:
            raise FaultRuleError(
                "This backend serves no surface yet: use it through mock_ecr, EcrMockServer or "
                "ecr_mock.testing.faults.attach(backend) before adding fault rules"
            )
        return source()

    def get(self, rule_id: str) -> FaultRule | None:
        """The rule with this id, if it is in the set."""
        with self._lock:
            return next((rule for rule in self._rules if rule.id == rule_id), None)

    def remove(self, rule_id: str) -> bool:
        """Remove the rule with this id; True if it was there."""
        with self._lock:
            for index, rule in enumerate(self._rules):
                if rule.id == rule_id:
                    del self._rules[index]
                    return True
        return False

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules.clear()

    def __iter__(self) -> Iterator[FaultRule]:
        with self._lock:
            return iter(list(self._rules))

    def __len__(self) -> int:
        return len(self._rules)

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"<FaultRules {[rule.id for rule in self]}>"

    # ----- applying ------------------------------------------------------------------------

    def evaluate(self, request: FaultRequest) -> Fault | None:
        """The fault to apply to ``request`` (None for none); counts matches and hits.

        Every rule sees every request; the delays of the rules that fire add up, the first
        firing rule with an error decides the error, the smallest ``disconnect_after_bytes``
        wins.
        """
        if not self._rules:
            return None
        with self._lock:
            fired = [rule for rule in self._rules if rule._fires(request)]
        if not fired:
            return None
        erring = next((rule for rule in fired if rule.error is not None), None)
        cuts = [r.disconnect_after_bytes for r in fired if r.disconnect_after_bytes is not None]
        status = None
        message = None
        if erring is not None and erring.error is not None:
            status = erring.status or self._catalog().errors(request.surface).get(erring.error, 500)
            message = erring.message or _default_message(erring.error, erring.id)
        return Fault(
            rule_ids=tuple(rule.id for rule in fired),
            error=erring.error if erring is not None else None,
            status=status,
            message=message,
            delay_ms=sum(rule.delay_ms for rule in fired),
            disconnect_after_bytes=min(cuts) if cuts else None,
            after_commit=erring.after_commit if erring is not None else False,
        )


def _default_message(code: str, rule_id: str) -> str:
    if code in _THROTTLING:
        return "Rate exceeded"
    return f"Injected by fault rule {rule_id}"


# ----- validation ------------------------------------------------------------------------------


def _listing(names: Any) -> str:
    return ", ".join(sorted(names))


def parse_rule(rule: Mapping[str, Any], catalog: FaultCatalog) -> FaultRule:
    """A checked FaultRule from a mapping; FaultRuleError naming the field and the valid values."""
    if not isinstance(rule, Mapping):
        raise FaultRuleError("A fault rule is an object of fields: " + _listing(RULE_FIELDS))
    unknown = sorted(str(key) for key in rule if key not in RULE_FIELDS)
    if unknown:
        raise FaultRuleError(
            f"Unknown fault rule field(s) {', '.join(unknown)}; the fields are: "
            + ", ".join(RULE_FIELDS)
        )
    get = rule.get
    rule_id = _optional(get("id"), str, "id")
    surface = _optional(get("surface"), str, "surface")
    if surface is not None and surface not in SURFACES:
        raise FaultRuleError(f"surface must be one of: {', '.join(SURFACES)}; got {surface!r}")
    service = _optional(get("service"), str, "service")
    if service is not None and service not in SERVICES:
        raise FaultRuleError(f"service must be one of: {', '.join(SERVICES)}; got {service!r}")
    operation = _optional(get("operation"), str, "operation")
    error = _optional(get("error"), str, "error")
    surface = _surface_of(surface, operation, error, catalog)
    repository = _optional(get("repository"), str, "repository")
    account_id = _optional(get("account_id"), str, "account_id")
    if account_id is not None and (problem := account_problem(account_id, "account_id")):
        raise FaultRuleError(problem, "account_id")
    region = _optional(get("region"), str, "region")
    if region is not None and (problem := region_problem(region, "region")):
        raise FaultRuleError(problem, "region")
    status = _optional_int(get("status"), "status", 100, 599)
    message = _optional(get("message"), str, "message")
    if (status is not None or message is not None) and error is None:
        raise FaultRuleError("status and message need an error")
    delay_ms = _number(get("delay_ms"), "delay_ms", 0, _MAX_DELAY_MS)
    disconnect = _optional_int(get("disconnect_after_bytes"), "disconnect_after_bytes", 0, None)
    after_commit = _optional(get("after_commit"), bool, "after_commit") or False
    if after_commit and error is None:
        raise FaultRuleError("after_commit needs an error: the answer the client gets instead")
    if error is None and not delay_ms and disconnect is None:
        raise FaultRuleError(
            "A fault rule needs an effect: error, delay_ms or disconnect_after_bytes"
        )
    times = _optional_int(get("times"), "times", 1, None)
    skip = _optional_int(get("skip"), "skip", 0, None) or 0
    every = _optional_int(get("every"), "every", 1, None) or 1
    probability = get("probability")
    if probability is not None:
        probability = _number(probability, "probability", 0, 1)
    seed = get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, str))):
        raise FaultRuleError(f"seed must be an integer or a string; got {seed!r}")
    return FaultRule(
        id=rule_id or "",
        surface=surface,
        service=service,
        operation=operation,
        repository=repository,
        account_id=account_id,
        region=region,
        error=error,
        status=status,
        message=message,
        delay_ms=delay_ms,
        disconnect_after_bytes=disconnect,
        after_commit=after_commit,
        times=times,
        skip=skip,
        every=every,
        probability=probability,
        seed=seed,
        _random=random.Random(seed),
    )


def _surface_of(
    surface: str | None, operation: str | None, error: str | None, catalog: FaultCatalog
) -> str | None:
    """The surface a rule applies to: given, or implied by its operation or error name."""
    candidates = [surface] if surface is not None else list(SURFACES)
    if operation is not None:
        fitting = [s for s in candidates if operation in catalog.operations(s)]
        if not fitting:
            raise FaultRuleError(_unknown("operation", operation, candidates, catalog.operations))
        candidates = fitting
    if error is not None:
        fitting = [s for s in candidates if error in catalog.errors(s)]
        if not fitting:
            raise FaultRuleError(_unknown("error", error, candidates, catalog.errors))
        candidates = fitting
    return candidates[0] if len(candidates) == 1 else None


def _unknown(what: str, value: str, surfaces: list[str], names: Callable[[str], Any]) -> str:
    kinds = {"api": "ECR operations", "registry": "registry routes"}
    if what == "error":
        kinds = {"api": "ECR error codes", "registry": "OCI error codes"}
    parts = [f"{kinds[s]}: {_listing(names(s))}" for s in surfaces]
    return f"Unknown {what} {value!r}; valid {'; '.join(parts)}"


def _optional(value: Any, kind: type, name: str) -> Any:
    if value is None:
        return None
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise FaultRuleError(f"{name} must be a {kind.__name__}; got {value!r}")
    return value


def _optional_int(value: Any, name: str, low: int, high: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise FaultRuleError(f"{name} must be an integer; got {value!r}")
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise FaultRuleError(f"{name} must be {bounds}; got {value}")
    return value


def _number(value: Any, name: str, low: float, high: float) -> float:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FaultRuleError(f"{name} must be a number; got {value!r}")
    if not low <= value <= high:
        raise FaultRuleError(f"{name} must be between {low} and {high}; got {value}")
    return value
