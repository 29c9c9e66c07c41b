"""ECR Public: each account's public registry, its alias, repositories and their catalog data."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ecr_mock.domain.errors import (
    InvalidParameter,
    RegistryNotFound,
    RepositoryAlreadyExists,
    RepositoryNotEmpty,
    RepositoryNotFound,
)
from ecr_mock.domain.models import (
    Image,
    Principal,
    PublicRegistryInfo,
    Registry,
    Repository,
    RepositoryCatalog,
)
from ecr_mock.domain.names import ACCOUNT_RE
from ecr_mock.services import repositories as repository_service
from ecr_mock.services import uploads

if TYPE_CHECKING:
    from ecr_mock.store.state import Store
    from ecr_mock.store.tokens import Token

PUBLIC_REGION = "ecr-public"
"""The key public registries hold in the backend's registry table (beside real regions)."""
API_REGION = "us-east-1"
"""The one region that serves the ECR Public API (and its tokens)."""
PUBLIC_HOST = "public.ecr.aws"
"""The public registry's host name."""
MAX_LOGO_BYTES = 512_000
"""The largest repository logo (the model's ``LogoImageBlob`` limit)."""
ALIAS_RE = re.compile(r"[a-z][a-z0-9]+(?:[._-][a-z0-9]+)*")
_PUBLIC_ARN_RE = re.compile(
    r"arn:aws:ecr-public::(?P<account>[0-9]{12}):repository/(?P<name>[a-z0-9._/-]+)"
)


def default_alias(account: str) -> str:
    """The alias an account's public registry gets: 8 characters derived from the account id
    (AWS assigns a random one; a derived one is the same in every run)."""
    digest = hashlib.sha256(f"ecr-public:{account}".encode()).hexdigest()
    letter = "abcdefghijklmnopqrstuvwxyz"[int(digest[:2], 16) % 26]
    return letter + digest[2:9]


def public_registry(store: Store, account: str) -> Registry:
    """The public registry of ``account``, created (with its default alias) on first use."""
    reg = store.registry(account, PUBLIC_REGION)
    if reg.public is None:
        with store.lock:
            if reg.public is None:
                reg.public = PublicRegistryInfo(alias=default_alias(account))
    return reg


def existing_registries(store: Store) -> list[Registry]:
    """Every public registry created so far."""
    return [
        reg
        for (_, region), reg in list(store.registries.items())
        if region == PUBLIC_REGION and reg.public is not None
    ]


def find_by_alias(store: Store, alias: str) -> Registry | None:
    """The public registry whose alias is ``alias``, if any."""
    for reg in existing_registries(store):
        if reg.public is not None and reg.public.alias == alias:
            return reg
    return None


def registry_by_id_or_alias(store: Store, value: str) -> Registry:
    """The public registry an account id or alias names; RegistryNotFound for an unknown alias."""
    if ACCOUNT_RE.fullmatch(value):
        return public_registry(store, value)
    found = find_by_alias(store, value)
    if found is None:
        raise RegistryNotFound(value)
    return found


def alias_of(reg: Registry) -> str:
    """The registry's alias."""
    return reg.public.alias if reg.public is not None else reg.account


def repository_key(reg: Registry, name: str) -> str:
    """How a public repository is keyed in its registry: ``<alias>/<name>``, the path
    clients use under ``/v2/``."""
    return f"{alias_of(reg)}/{name}"


def get_repository(store: Store, reg: Registry, name: str) -> Repository:
    """Public repository ``name`` (no alias); RepositoryNotFound otherwise."""
    repo = reg.repositories.get(repository_key(reg, name))
    if repo is None:
        raise RepositoryNotFound(name, reg.account)
    return repo


def repositories(reg: Registry) -> list[Repository]:
    """The registry's repositories in creation order."""
    return list(reg.repositories.values())


def tagged_images(store: Store, repo: Repository) -> list[tuple[str, Image]]:
    """DescribeImageTags: each tag of ``repo`` with the image it points at, in tagging order."""
    with store.lock:
        return [(tag, repo.images[digest]) for tag, digest in repo.tags.items()]


def create_repository(
    store: Store,
    reg: Registry,
    name: str,
    catalog: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
) -> Repository:
    """Create public repository ``name`` with its catalog data and resource tags."""
    new_catalog = catalog_from_input(catalog or {})
    with store.lock:
        key = repository_key(reg, name)
        if key in reg.repositories:
            raise RepositoryAlreadyExists(name, reg.account)
        repository_service.check_resource_tags(dict(tags or {}))
        repo = repository_service.create_repository(store, reg, key, tags=dict(tags or {}))
        repo.name = name
        repo.catalog = new_catalog
    return repo


def delete_repository(store: Store, reg: Registry, name: str, force: bool) -> Repository:
    """Delete public repository ``name``; RepositoryNotEmpty unless empty or ``force``."""
    with store.lock:
        repo = get_repository(store, reg, name)
        if repo.images and not force:
            raise RepositoryNotEmpty(name, reg.account)
        del reg.repositories[repository_key(reg, name)]
        uploads.end_uploads_of(store, reg, repo.name)
        uploads.release_unreferenced_blobs(store, reg, repo.blobs)
    for image in list(repo.images.values()):
        store.emit("image-deleted", {"repository": repo, "image": image})
    return repo


def catalog_from_input(data: Mapping[str, Any]) -> RepositoryCatalog:
    """Catalog data from ``RepositoryCatalogDataInput`` (the logo as bytes, already decoded)."""
    logo = data.get("logoImageBlob")
    if logo is not None and not isinstance(logo, bytes):
        raise InvalidParameter("Invalid parameter at 'logoImageBlob': expected image bytes")
    if logo is not None and len(logo) > MAX_LOGO_BYTES:
        raise InvalidParameter(
            "Invalid parameter at 'logoImageBlob' failed to satisfy constraint: 'Member must "
            f"have length less than or equal to {MAX_LOGO_BYTES}'"
        )
    return RepositoryCatalog(
        description=data.get("description"),
        architectures=list(data["architectures"]) if data.get("architectures") else None,
        operating_systems=list(data["operatingSystems"]) if data.get("operatingSystems") else None,
        logo=logo or None,
        about_text=data.get("aboutText"),
        usage_text=data.get("usageText"),
    )


def put_catalog(store: Store, repo: Repository, data: Mapping[str, Any]) -> RepositoryCatalog:
    """Replace the repository's catalog data (members not given are cleared, as on AWS)."""
    catalog = catalog_from_input(data)
    with store.lock:
        repo.catalog = catalog
    return catalog


def set_display_name(store: Store, reg: Registry, name: str) -> str:
    """Set the registry's display name (the gallery's name for the registry)."""
    with store.lock:
        if reg.public is None:
            reg.public = PublicRegistryInfo(alias=default_alias(reg.account))
        reg.public.display_name = name
    return name


def repository_arn(account: str, name: str) -> str:
    """``arn:aws:ecr-public::<account>:repository/<name>``."""
    return f"arn:aws:ecr-public::{account}:repository/{name}"


def registry_arn(account: str) -> str:
    """``arn:aws:ecr-public::<account>:registry/<account>``."""
    return f"arn:aws:ecr-public::{account}:registry/{account}"


def parse_repository_arn(arn: str) -> tuple[str, str] | None:
    """(account, name) of a public repository ARN; None when ``arn`` is not one."""
    match = _PUBLIC_ARN_RE.fullmatch(arn)
    if match is None:
        return None
    return match["account"], match["name"]


_LOOPBACK_RE = re.compile(r"127(?:\.[0-9]{1,3}){3}")


def host(store: Store) -> str:
    """The public registry host: ``public.ecr.aws``, or for a live server a second name of its
    own address, as ``public.ecr.aws`` is a host of its own beside ECR's registry hosts.

    A server on a loopback address (``127.0.0.1:PORT``, ``[::1]:PORT``) is also
    ``localhost:PORT`` (and one on ``localhost`` also ``127.0.0.1``): the public registry is that other name, where ``/v2/``
    answers ECR Public's Bearer challenge. A server on any other address is its own public
    host: public repositories are told apart by their ``<alias>/`` path there.
    """
    endpoint = store.public_endpoint
    if not endpoint:
        return PUBLIC_HOST
    name, sep, port = endpoint.rpartition(":")
    if not sep:
        return endpoint
    if _LOOPBACK_RE.fullmatch(name) or name == "[::1]":
        return f"localhost:{port}"
    if name == "localhost":
        return f"127.0.0.1:{port}"
    return endpoint


def is_public_host(store: Store, value: str) -> bool:
    """True when ``value`` (a ``Host`` header) names the public registry host only."""
    lowered = value.lower()
    if lowered.split(":", 1)[0] == PUBLIC_HOST:
        return True
    own = host(store)
    return own != store.public_endpoint and lowered == own


def registry_uri(store: Store, reg: Registry) -> str:
    """``public.ecr.aws/<alias>`` (the live server's address in its place when serving)."""
    return f"{host(store)}/{alias_of(reg)}"


def repository_uri(store: Store, reg: Registry, repo: Repository) -> str:
    """``public.ecr.aws/<alias>/<name>``."""
    return f"{registry_uri(store, reg)}/{repo.name}"


def logo_url(store: Store, reg: Registry, repo: Repository) -> str | None:
    """Where the repository's logo is served, when it has one."""
    if repo.catalog is None or repo.catalog.logo is None:
        return None
    scheme = store.proxy_endpoint(reg.account, API_REGION).partition("://")[0]
    return f"{scheme}://{host(store)}{LOGO_PATH_PREFIX}/{reg.account}/{repo.name}"


LOGO_PATH_PREFIX = "/ecr-mock/public-logos"
"""Path under which repository logos are served."""


def logo(store: Store, account: str, name: str) -> bytes | None:
    """The logo of public repository ``name`` of ``account``, if it has one."""
    reg = store.registries.get((account, PUBLIC_REGION))
    if reg is None or reg.public is None:
        return None
    repo = reg.repositories.get(repository_key(reg, name))
    if repo is None or repo.catalog is None:
        return None
    return repo.catalog.logo


def issue_token(store: Store, principal: Principal) -> Token:
    """A 12-hour ECR Public token (``docker login public.ecr.aws``) for ``principal``."""
    public_registry(store, principal.account_id)
    return store.tokens.issue(principal, principal.account_id, PUBLIC_REGION)


def is_public(reg: Registry) -> bool:
    """True for an account's ECR Public registry."""
    return reg.region == PUBLIC_REGION


def addressed_repository(store: Store, path_name: str) -> Registry | None:
    """The public registry a ``/v2/<alias>/<name>`` path name addresses, if any."""
    alias, sep, rest = path_name.partition("/")
    if not sep or not rest:
        return None
    return find_by_alias(store, alias)
