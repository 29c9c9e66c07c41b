"""Registry replication: rules, copying pushed images into destination registries, statuses."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ecr_mock.domain.errors import EcrError, InvalidParameter, LayersNotFound
from ecr_mock.domain.iam_policy import (
    AuthzRequest,
    IamPrincipal,
    PolicyParseError,
    evaluate,
    parse_policy,
)
from ecr_mock.domain.models import Destination, Image, Registry, Repository
from ecr_mock.domain.names import repository_arn
from ecr_mock.services.images import delete_manifest, put_image, untag
from ecr_mock.services.templates import REPLICATION, create_from_template
from ecr_mock.services.uploads import release_unreferenced_blobs, store_blob

if TYPE_CHECKING:
    from ecr_mock.store.state import Store

MAX_RULES = 25
MAX_DESTINATIONS = 25
"""Unique destinations across all rules of a registry (ECR service quota)."""
MAX_FILTERS = 100
FILTER_TYPES = ("PREFIX_MATCH",)
IN_PROGRESS = "IN_PROGRESS"
COMPLETE = "COMPLETE"
FAILED = "FAILED"


_REGION_RE = re.compile(r"[0-9a-z-]{2,25}")
_ACCOUNT_RE = re.compile(r"[0-9]{12}")
_FILTER_RE = re.compile(r"(?:[a-z0-9]+(?:[._-][a-z0-9]*)*/)*[a-z0-9]*(?:[._-][a-z0-9]*)*")
_local = threading.local()


SAME_REGISTRY = "Replication destination cannot be the same as the source registry"
"""ECR's text for a destination equal to the source registry, as moto's ECR tests expect it
(nothing after it: no region or registry id)."""


def _invalid(detail: str) -> InvalidParameter:
    return InvalidParameter(
        f"Invalid parameter at 'replicationConfiguration' failed to satisfy constraint: '{detail}'"
    )


def check_rules(reg: Registry, rules: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Validate ``rules`` as PutReplicationConfiguration does; returns the rules to store."""
    kept: list[dict[str, Any]] = []
    unique: set[Destination] = set()
    for rule in rules:
        destinations: list[dict[str, str]] = []
        for item in rule.get("destinations") or []:
            region, registry_id = str(item.get("region", "")), str(item.get("registryId", ""))
            if not _REGION_RE.fullmatch(region):
                raise _invalid(f"Invalid destination region '{region}'")
            if not _ACCOUNT_RE.fullmatch(registry_id):
                raise _invalid(f"Invalid destination registry id '{registry_id}'")
            if region == reg.region and registry_id == reg.account:
                raise _invalid(SAME_REGISTRY)
            unique.add(Destination(registry_id, region))
            destinations.append({"region": region, "registryId": registry_id})
        stored: dict[str, Any] = {"destinations": destinations}
        filters = rule.get("repositoryFilters")
        if filters is not None:
            if not 1 <= len(filters) <= MAX_FILTERS:
                raise _invalid(f"A rule must have between 1 and {MAX_FILTERS} repository filters")
            checked: list[dict[str, str]] = []
            for item in filters:
                value, kind = str(item.get("filter", "")), item.get("filterType")
                if kind not in FILTER_TYPES:
                    raise _invalid("Repository filter type must be PREFIX_MATCH")
                if not 2 <= len(value) <= 256 or _FILTER_RE.fullmatch(value) is None:
                    raise _invalid(f"Invalid repository filter '{value}'")
                checked.append({"filter": value, "filterType": str(kind)})
            stored["repositoryFilters"] = checked
        delete_replication = rule.get("deleteReplication")
        if delete_replication is not None:
            if not isinstance(delete_replication, bool):
                raise _invalid("deleteReplication must be a boolean")
            stored["deleteReplication"] = delete_replication
        kept.append(stored)
    if len(kept) > MAX_RULES:
        raise _invalid(f"The replication configuration can have at most {MAX_RULES} rules")
    if len(unique) > MAX_DESTINATIONS:
        raise _invalid(
            f"The replication configuration can have at most {MAX_DESTINATIONS} unique "
            "destinations across all rules"
        )
    return kept


def put_replication_configuration(
    store: Store, reg: Registry, rules: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """PutReplicationConfiguration: validate and replace the registry's rules."""
    kept = check_rules(reg, rules)
    install(store)
    with store.lock:
        reg.replication_rules = kept
    return [dict(rule) for rule in kept]


def replication_configuration(reg: Registry) -> dict[str, Any]:
    """The ``ReplicationConfiguration`` shape of DescribeRegistry."""
    return {"rules": [dict(rule) for rule in reg.replication_rules]}


def destinations_for(reg: Registry, repository_name: str) -> list[Destination]:
    """Where a push to ``repository_name`` goes: every matching rule's destinations, in order."""
    found: dict[Destination, None] = {}
    for rule in reg.replication_rules:
        filters = rule.get("repositoryFilters")
        if filters and not any(repository_name.startswith(f["filter"]) for f in filters):
            continue
        for item in rule.get("destinations") or []:
            dest = Destination(item["registryId"], item["region"])
            if (dest.registry_id, dest.region) != (reg.account, reg.region):
                found[dest] = None
    return list(found)


# ----- copying ---------------------------------------------------------------------------------


@contextmanager
def suppressed() -> Iterator[None]:
    """Within this block pushes made by this thread are not replicated (replicas, cache fills)."""
    previous = getattr(_local, "active", False)
    _local.active = True
    try:
        yield
    finally:
        _local.active = previous


def install(store: Store) -> None:
    """Make pushes into ``backend`` replicate (idempotent)."""
    with store.lock:
        if store.replication_listening:
            return
        store.replication_listening = True

        def on_event(kind: str, detail: dict[str, Any]) -> None:
            if getattr(_local, "active", False):
                return
            if kind in ("image-deleted", "tag-removed"):
                replicate_deletion(store, detail)
                return
            if kind != "image-pushed":
                return
            repo = detail.get("repository")
            image = detail.get("image")
            wanted = detail.get("new") or detail.get("tag") is not None
            if isinstance(repo, Repository) and isinstance(image, Image) and wanted:
                replicate(store, repo, image, detail.get("tag"))

        store.listeners.append(on_event)


def deletion_destinations(reg: Registry, repository_name: str) -> list[Destination]:
    """Destinations of the matching rules that have ``deleteReplication`` turned on."""
    found: dict[Destination, None] = {}
    for rule in reg.replication_rules:
        if not rule.get("deleteReplication"):
            continue
        filters = rule.get("repositoryFilters")
        if filters and not any(repository_name.startswith(f["filter"]) for f in filters):
            continue
        for item in rule.get("destinations") or []:
            found[Destination(item["registryId"], item["region"])] = None
    return list(found)


def replicate_deletion(store: Store, detail: Mapping[str, Any]) -> None:
    """Carry an image deletion or a tag removal to destinations whose rule asks for it.

    Only images this registry pushed itself are followed (a replica's deletion is its own
    registry's business), and only destination images with the same digest are touched.
    """
    repo, image, tag = detail.get("repository"), detail.get("image"), detail.get("tag")
    if not isinstance(repo, Repository) or not isinstance(image, Image):
        return
    source = store.registry(repo.account, repo.region)
    for dest in deletion_destinations(source, repo.name):
        target_reg = store.registry(dest.registry_id, dest.region)
        target = target_reg.repositories.get(repo.name)
        if target is None or image.digest not in target.images:
            continue
        with suppressed():
            if tag is not None:
                if target.tags.get(tag) == image.digest:
                    untag(store, target, tag)
            else:
                delete_manifest(store, target, image.digest)


def replicate(
    store: Store, repo: Repository, image: Image, tag: str | None = None
) -> list[dict[str, str]]:
    """Copy ``image`` (with ``tag``) of ``repo`` into every destination its registry names.

    A replica is never replicated again, so rule loops (A to B to A) stop after one copy.
    Returns the statuses, also kept on the image for DescribeImageReplicationStatus.
    """
    source = store.registry(repo.account, repo.region)
    with store.lock:
        if image.replication_statuses is None:
            image.replication_statuses = {}
        statuses = image.replication_statuses
    for dest in destinations_for(source, repo.name):
        key = (dest.registry_id, dest.region)
        with store.lock:
            statuses[key] = {
                "region": dest.region,
                "registryId": dest.registry_id,
                "status": IN_PROGRESS,
            }
        failure = _copy_to(store, source, repo, image, tag, dest)
        entry = {"region": dest.region, "registryId": dest.registry_id, "status": COMPLETE}
        if failure is not None:
            entry.update(status=FAILED, failureCode=failure)
        with store.lock:
            statuses[key] = entry
    return [dict(entry) for entry in statuses.values()]


def replication_statuses(image: Image) -> list[dict[str, str]]:
    """The ``ImageReplicationStatus`` list of an image (empty when it was never replicated)."""
    statuses = image.replication_statuses or {}
    return [dict(entry) for entry in statuses.values()]


def _denied(store: Store, source_account: str, dest: Registry, name: str) -> str | None:
    """Why the destination's registry policy refuses the source account, or None."""
    if source_account == dest.account:
        return None
    arn = repository_arn(dest.account, dest.region, name)
    actions = ["ecr:ReplicateImage"]
    if name not in dest.repositories:
        actions.append("ecr:CreateRepository")
    if not dest.policy_text:
        return (
            f"REGISTRY_POLICY_DENIED: registry '{dest.account}' in '{dest.region}' has no "
            f"registry policy allowing account '{source_account}' to perform ecr:ReplicateImage"
        )
    try:
        policy = parse_policy(dest.policy_text)
    except PolicyParseError:
        return f"REGISTRY_POLICY_DENIED: registry '{dest.account}' has an unreadable policy"
    principal = IamPrincipal.for_root(source_account)
    for action in actions:
        request = AuthzRequest(action=action, resource=arn, principal=principal)
        if not evaluate(request, [], [policy]).allowed:
            return (
                f"REGISTRY_POLICY_DENIED: the registry policy of '{dest.account}' in "
                f"'{dest.region}' does not allow account '{source_account}' to perform "
                f"{action} on {arn}"
            )
    return None


def _closure(repo: Repository, image: Image) -> list[Image]:
    """The images to copy for ``image``: an index's manifests first, then the image."""
    ordered: dict[str, Image] = {}

    def visit(item: Image) -> None:
        for child in item.parsed.manifests:
            found = repo.images.get(child.digest)
            if found is not None and found.digest not in ordered:
                visit(found)
        ordered[item.digest] = item

    visit(image)
    return list(ordered.values())


def _copy_to(
    store: Store,
    source: Registry,
    repo: Repository,
    image: Image,
    tag: str | None,
    dest: Destination,
) -> str | None:
    """Copy into one destination; the failure code, or None on success. All or nothing."""
    target = store.registry(dest.registry_id, dest.region)
    denied = _denied(store, repo.account, target, repo.name)
    if denied is not None:
        return denied
    try:
        drepo = target.repositories.get(repo.name) or create_from_template(
            store, target, repo.name, REPLICATION
        )
    except EcrError as exc:
        return f"{exc.code}: {exc.message}"
    moves = tag is not None and drepo.tags.get(tag) not in (None, image.digest)
    if tag is not None and moves and drepo.tag_is_immutable(tag):
        return (
            f"ImageTagAlreadyExistsException: the tag '{tag}' exists in the immutable "
            f"repository '{drepo.name}' of registry '{drepo.account}'"
        )
    added_blobs: list[str] = []
    added_images: list[Image] = []
    try:
        for item in _closure(repo, image):
            for digest in item.parsed.stored_blob_digests():
                blob = source.blobs.get(digest)
                if blob is None and store.allow_missing_layers:
                    continue  # never uploaded: it stays missing in the destination too
                if blob is None:
                    raise LayersNotFound([digest], repo.name, repo.account)
                if digest not in drepo.blobs:
                    added_blobs.append(digest)
                store_blob(store, target, drepo, blob)
            existed = item.digest in drepo.images
            with suppressed():
                copied = put_image(
                    store,
                    target,
                    drepo,
                    item.manifest,
                    tag=tag if item is image else None,
                    media_type=item.media_type,
                    idempotent=True,
                )
            if not existed:
                added_images.append(copied)
                copied.replicated_from = {
                    "registryId": repo.account,
                    "region": repo.region,
                    "repositoryName": repo.name,
                }
    except EcrError as exc:
        _undo(store, drepo, added_images, added_blobs)
        return f"{exc.code}: {exc.message}"
    return None


def _undo(store: Store, repo: Repository, images: list[Image], blobs: list[str]) -> None:
    """Remove what a failed copy added, so no partial image stays in the destination."""
    for item in reversed(images):
        try:
            delete_manifest(store, repo, item.digest)
        except EcrError:
            continue
    with store.lock:
        referenced = repo.referenced_blobs()
        for digest in blobs:
            if digest not in referenced:
                repo.blobs.discard(digest)
        release_unreferenced_blobs(store, store.registry(repo.account, repo.region), blobs)


def copy_image(
    store: Store, repo: Repository, image: Image, tag: str | None, dest: Destination
) -> str | None:
    """Copy ``image`` (with ``tag``) of ``repo`` into ``dest`` now, recording its status there.

    Returns the failure (``CODE: message``), or None once the copy is complete. The copy is all
    or nothing, checks the destination's registry policy across accounts and creates a missing
    repository from a REPLICATION creation template, as a push-triggered replication does.
    """
    source = store.registry(repo.account, repo.region)
    failure = _copy_to(store, source, repo, image, tag, dest)
    entry = {"region": dest.region, "registryId": dest.registry_id, "status": COMPLETE}
    if failure is not None:
        entry.update(status=FAILED, failureCode=failure)
    with store.lock:
        if image.replication_statuses is None:
            image.replication_statuses = {}
        image.replication_statuses[(dest.registry_id, dest.region)] = entry
    return failure
