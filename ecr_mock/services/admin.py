"""State operations for tests and operators: reset, clock, state summary, tokens for a principal."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from ecr_mock.domain.errors import InvalidParameter
from ecr_mock.domain.models import Principal, Registry
from ecr_mock.domain.names import account_problem, region_problem

if TYPE_CHECKING:
    from ecr_mock.store.state import Store
    from ecr_mock.store.tokens import Token


def reset(store: Store, account_id: str | None = None) -> None:
    """Empty every registry (or only those of ``account_id``), with their tokens and events.

    Configuration stays: access keys, identity providers, strictness, the served endpoint.
    A full reset also puts the clock back on real time, forgets pending restores, and removes
    every fault rule and call record.
    """
    if account_id is not None and (problem := account_problem(account_id, "account_id")):
        raise InvalidParameter(problem)
    with store.lock:
        dropped = [key for key in store.registries if account_id is None or key[0] == account_id]
        for key in dropped:
            _discard_uploads(store.registries.pop(key))
        store.tokens.clear(account_id)
        if account_id is None:
            if store.event_log is not None:
                store.event_log.clear()
            store.clock.reset()
            store.pending_restores.clear()
            store.faults.clear()
            store.calls.clear()


def _discard_uploads(reg: Registry) -> None:
    for session in list(reg.uploads.values()):
        session.discard()
    reg.uploads.clear()


def summary(store: Store) -> dict[str, Any]:
    """What the backend holds, without blob bytes: registries, repositories, images."""
    with store.lock:
        registries = sorted(store.registries.values(), key=lambda r: (r.account, r.region))
        found: dict[str, Any] = {
            "now": iso(store.clock.now()),
            "registries": [_registry_summary(store, reg) for reg in registries],
        }
    state_dir = getattr(store, "state_dir", None)  # a Backend's (the Store has none)
    verifier = state_dir.verifier if state_dir is not None else None
    if verifier is not None and verifier.damaged:
        found["damaged"] = {"blobs": dict(verifier.damaged), "images": verifier.damaged_images()}
    return found


def _registry_summary(store: Store, reg: Registry) -> dict[str, Any]:
    repositories = []
    for repo in sorted(reg.repositories.values(), key=lambda r: r.name):
        images = [
            {
                "digest": image.digest,
                "tags": sorted(image.tags),
                "size": image.size,
                "mediaType": image.media_type,
                "pushedAt": iso(image.pushed_at),
                "status": image.status,
                "storageClass": image.storage_class,
            }
            for image in repo.images.values()
        ]
        repositories.append(
            {
                "name": repo.name,
                "uri": store.repository_uri(repo),
                "createdAt": iso(repo.created_at),
                "imageTagMutability": repo.tag_mutability,
                "scanOnPush": repo.scan_on_push,
                "hasRepositoryPolicy": repo.policy_text is not None,
                "hasLifecyclePolicy": repo.lifecycle_policy_text is not None,
                "images": images,
            }
        )
    from ecr_mock.services.reclaim import layer_summary

    return {
        "account": reg.account,
        "region": reg.region,
        "blobs": len(reg.blobs),
        **layer_summary(store, reg),
        "repositories": repositories,
    }


def iso(when: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``: ``2026-01-02T03:04:05.123456Z``."""
    return when.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    """An ISO 8601 time (``Z`` or an offset; naive means UTC); ValueError when malformed."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    when = datetime.fromisoformat(value)
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def advance_clock(store: Store, seconds: float) -> datetime:
    """Move the backend clock forward (never back) by ``seconds``; returns the new time."""
    if seconds < 0:
        raise InvalidParameter("advance_seconds must not be negative: the clock only moves forward")
    return store.clock.advance(timedelta(seconds=seconds))


def set_clock(store: Store, when: datetime) -> datetime:
    """Jump the backend clock to ``when`` (it keeps running from there); returns the new time."""
    store.clock.set(when)
    return store.clock.now()


def principal_from_arn(arn: str) -> Principal:
    """The principal an IAM ARN (root, user, role, assumed-role session) or account id names."""
    from ecr_mock.domain.iam_policy import IamPrincipal

    try:
        parsed = IamPrincipal.from_arn(arn)
    except ValueError:
        parsed = None
    if parsed is None or not parsed.account_id:
        raise InvalidParameter(
            f"principal_arn must be an IAM principal ARN (root, user, role or assumed-role "
            f"session) or an account id, got {arn!r}"
        )
    return Principal(arn=parsed.arn, account_id=parsed.account_id, kind=parsed.kind)


def issue_token(
    store: Store,
    principal_arn: str | None = None,
    account_id: str | None = None,
    region: str | None = None,
) -> Token:
    """A registry token for any principal (default: the account root), on (account, region).

    The registry decides what the token may do from its principal's policies, as for a
    GetAuthorizationToken token; the account defaults to the principal's.
    """
    if account_id is not None and (problem := account_problem(account_id, "account_id")):
        raise InvalidParameter(problem)
    if region is not None and (problem := region_problem(region, "region")):
        raise InvalidParameter(problem)
    if principal_arn is None:
        principal = Principal.root(account_id or store.default_account)
    else:
        principal = principal_from_arn(principal_arn)
    return store.tokens.issue(
        principal, account_id or principal.account_id, region or store.default_region
    )
