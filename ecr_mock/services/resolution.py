"""/v2/ push and pull resolution: checked repositories, create-on-push, pull-through, mounts."""

from __future__ import annotations

from collections.abc import Collection

from ecr_mock.domain.errors import (
    AccessDenied,
    EcrError,
    ImageNotFound,
    RepositoryNameInvalid,
    RepositoryNotFound,
)
from ecr_mock.domain.models import Image, Repository
from ecr_mock.domain.names import is_digest, is_valid_repository_name
from ecr_mock.services import images, registry_auth, repositories, settings, uploads
from ecr_mock.services.pull_through import fill_from_upstream, find_rule
from ecr_mock.services.registry_auth import Caller
from ecr_mock.services.templates import CREATE_ON_PUSH, create_from_template, find_template
from ecr_mock.store.state import Store


def repository(store: Store, caller: Caller, name: str, *actions: str) -> Repository:
    """Check the name, authorize each action on the repository, then look it up.

    RepositoryNameInvalid, AccessDenied, RepositoryNotFound, in that order.
    """
    if not is_valid_repository_name(name):
        raise RepositoryNameInvalid(name)
    arn = registry_auth.repository_arn(caller.registry, name)
    for action in actions:
        registry_auth.authorize(store, caller, action, arn)
    return repositories.get_repository(store, caller.registry, name)


def push_repository(store: Store, caller: Caller, name: str, *actions: str) -> Repository:
    """Like :func:`repository` for a push step: a missing repository is created when a
    CREATE_ON_PUSH creation template covers the name and the caller may create it."""
    try:
        return repository(store, caller, name, *actions)
    except RepositoryNotFound:
        template = find_template(caller.registry, name, CREATE_ON_PUSH)
        if template is None:
            raise
    arn = registry_auth.repository_arn(caller.registry, name)
    registry_auth.authorize(store, caller, registry_auth.CREATE_REPOSITORY, arn)
    return create_from_template(store, caller.registry, name, CREATE_ON_PUSH, template)


def pull_manifest(
    store: Store, caller: Caller, name: str, reference: str, accepted: Collection[str] = ()
) -> tuple[Repository, Image]:
    """The repository and image a manifest GET or HEAD serves to a client accepting
    ``accepted`` media types (lower case, without parameters; empty: any).

    A miss under a pull-through cache rule fills the cache from the upstream first.
    ImageNotFound for an unknown image or one the client could not use; ImageArchived for one
    that cannot be pulled.
    """
    try:
        repo = repository(store, caller, name, registry_auth.PULL_MANIFEST)
        image = images.find_reference(store, repo, reference)
    except (RepositoryNotFound, ImageNotFound) as miss:
        if find_rule(caller.registry, name) is None:
            raise miss from None
        repo, image = _pulled_through(store, caller, name, reference)
    if not images.serves(image, accepted):
        raise ImageNotFound()
    images.check_pullable(image)
    return repo, image


def _pulled_through(
    store: Store, caller: Caller, name: str, reference: str
) -> tuple[Repository, Image]:
    """A pull miss under a pull-through cache rule: fill the cache from the upstream.

    ImageNotFound (with the reason) when the upstream cannot give the image.
    """
    registry = caller.registry
    arn = registry_auth.repository_arn(registry, name)
    registry_auth.authorize(store, caller, registry_auth.IMPORT_UPSTREAM, arn)
    if name not in registry.repositories:
        registry_auth.authorize(store, caller, registry_auth.CREATE_REPOSITORY, arn)
    try:
        image = fill_from_upstream(store, registry, name, reference)
    except EcrError as exc:
        raise ImageNotFound(f"Requested image not found: {exc.message}") from None
    if image is None:
        raise ImageNotFound()
    return repositories.get_repository(store, registry, name), image


def mount(store: Store, caller: Caller, target: Repository, digest: str, source: str) -> bool:
    """Cross-repository mount of blob ``digest`` from repository ``source`` into ``target``.

    True when mounted: blob mounting is enabled, the caller may pull from ``source`` and an
    image there references the blob. False otherwise (the client then uploads the blob).
    """
    registry = caller.registry
    if not settings.blob_mounting_enabled(registry):
        return False
    if not is_digest(digest) or not is_valid_repository_name(source):
        return False
    arn = registry_auth.repository_arn(registry, source)
    try:
        registry_auth.authorize(store, caller, registry_auth.PULL_MANIFEST, arn)
        registry_auth.authorize(store, caller, registry_auth.PULL_BLOB, arn)
    except AccessDenied:
        return False
    source_repo = registry.repositories.get(source)
    if source_repo is None:
        return False
    return uploads.mount_blob(store, registry, source_repo, target, digest) is not None
