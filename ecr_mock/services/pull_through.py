"""Pull-through cache: rules, their credentials, and filling a cache repository from upstream."""

from __future__ import annotations

import ipaddress
import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from ecr_mock.domain.blobs import Blob, new_upload
from ecr_mock.domain.errors import (
    DigestInvalid,
    EcrError,
    ImageNotFound,
    InvalidParameter,
    LimitExceeded,
    ManifestInvalid,
    PullThroughCacheRuleAlreadyExists,
    PullThroughCacheRuleNotFound,
    RepositoryNotFound,
    SecretNotFound,
    UnableToDecryptSecretValue,
    UnableToGetUpstreamImage,
    UnableToGetUpstreamLayer,
    UnsupportedImageType,
    UnsupportedUpstreamRegistry,
)
from ecr_mock.domain.manifests import MAX_MANIFEST_BYTES, digest_of, parse_manifest
from ecr_mock.domain.models import ROOT, Image, PullThroughRule, Registry, Repository
from ecr_mock.domain.names import (
    REGISTRY_HOST_RE,
    is_digest,
    is_valid_repository_name,
    is_valid_tag,
    region_of_registry_host,
)
from ecr_mock.domain.ports import (
    Credentials,
    UpstreamClient,
    UpstreamError,
)
from ecr_mock.services.images import put_image, resolve_reference
from ecr_mock.services.replication import suppressed
from ecr_mock.services.repositories import get_repository
from ecr_mock.services.templates import (
    PULL_THROUGH_CACHE,
    check_role_arn,
    create_from_template,
)
from ecr_mock.services.uploads import layer_available, store_blob

if TYPE_CHECKING:
    from ecr_mock.store.state import Store

MAX_RULES = 50
UPSTREAM_REGISTRIES = (
    "ecr",
    "ecr-public",
    "quay",
    "k8s",
    "docker-hub",
    "github-container-registry",
    "azure-container-registry",
    "gitlab-container-registry",
    "chainguard",
)
CANONICAL_HOSTS = {
    "public.ecr.aws": "ecr-public",
    "quay.io": "quay",
    "registry.k8s.io": "k8s",
    "registry-1.docker.io": "docker-hub",
    "ghcr.io": "github-container-registry",
    "registry.gitlab.com": "gitlab-container-registry",
    "cgr.dev": "chainguard",
}
NEEDS_CREDENTIALS = frozenset(
    {
        "docker-hub",
        "github-container-registry",
        "azure-container-registry",
        "gitlab-container-registry",
    }
)
PREFIX_RE = re.compile(
    r"([a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*/?|ROOT)"
)
CREDENTIAL_ARN_RE = re.compile(
    r"arn:aws(-\w+)*:secretsmanager:[a-zA-Z0-9-:]+:secret:ecr-pullthroughcache/[a-zA-Z0-9/_+=.@-]+"
)
_SECRET_ARN_RE = re.compile(
    r"arn:aws[a-z-]*:secretsmanager:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}):secret:(?P<name>.+)"
)
_AZURE_HOST_RE = re.compile(r"[a-z0-9-]+\.azurecr\.io")
_STORE = "pull_through_cache_rules"


# ----- errors ------------------------------------------------------------------------------------


def rules(reg: Registry) -> dict[str, PullThroughRule]:
    """The pull-through cache rules of a registry by prefix."""
    return reg.pull_through_rules


# ----- validation ------------------------------------------------------------------------------


def _invalid(where: str, detail: str) -> InvalidParameter:
    return InvalidParameter(
        f"Invalid parameter at '{where}' failed to satisfy constraint: '{detail}'"
    )


def _check_prefix(prefix: str, where: str) -> None:
    if not 2 <= len(prefix) <= 30 or PREFIX_RE.fullmatch(prefix) is None:
        raise _invalid(where, "Invalid pull through cache rule repository prefix")


def _is_local_url(url: str) -> bool:
    """URLs naming a scheme, a port or a loopback host: an emulator-reachable upstream."""
    parts = urlsplit(url if "://" in url else f"//{url}")
    host = parts.hostname or ""
    if "://" in url or parts.port is not None or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def upstream_host(url: str) -> str:
    """The ``host[:port]`` part of an upstream URL."""
    parts = urlsplit(url if "://" in url else f"//{url}")
    return parts.netloc.lower()


def infer_upstream_registry(url: str) -> str | None:
    """The upstream registry type a canonical URL implies (None for other URLs)."""
    host = upstream_host(url)
    if REGISTRY_HOST_RE.fullmatch(host):
        return "ecr"
    if _AZURE_HOST_RE.fullmatch(host):
        return "azure-container-registry"
    return CANONICAL_HOSTS.get(host)


def _check_url(url: str, upstream_registry: str | None) -> str | None:
    """Validate the URL against the registry type; returns the type to store."""
    try:
        parts = urlsplit(url if "://" in url else f"//{url}")
        _ = parts.port  # ValueError for a port that is no number from 0 to 65535
    except ValueError:  # also an unclosed or invalid ``[IPv6]`` host
        raise UnsupportedUpstreamRegistry(
            f"The upstream registry URL '{url}' is not valid"
        ) from None
    if not url or any(c.isspace() for c in url) or not parts.hostname:
        raise UnsupportedUpstreamRegistry(f"The upstream registry URL '{url}' is not valid")
    if parts.scheme and parts.scheme not in ("http", "https"):
        raise UnsupportedUpstreamRegistry(f"The upstream registry URL '{url}' is not valid")
    implied = infer_upstream_registry(url)
    if upstream_registry is None:
        if implied is None and not _is_local_url(url) and "." not in (parts.hostname or ""):
            raise UnsupportedUpstreamRegistry(
                f"The upstream registry URL '{url}' is not a supported upstream registry"
            )
        return implied
    if upstream_registry not in UPSTREAM_REGISTRIES:
        raise UnsupportedUpstreamRegistry(
            f"The upstream registry '{upstream_registry}' is not supported"
        )
    if implied is not None and implied != upstream_registry:
        raise UnsupportedUpstreamRegistry(
            f"The upstream registry URL '{url}' does not match the upstream registry "
            f"'{upstream_registry}'"
        )
    if implied is None and not _is_local_url(url):
        raise UnsupportedUpstreamRegistry(
            f"The upstream registry URL '{url}' is not a valid URL for the upstream registry "
            f"'{upstream_registry}'"
        )
    return upstream_registry


def _check_credential_arn(store: Store, arn: str) -> None:
    if not 50 <= len(arn) <= 612 or CREDENTIAL_ARN_RE.fullmatch(arn) is None:
        raise _invalid(
            "credentialArn",
            "The credential ARN must name a Secrets Manager secret whose name starts with "
            "'ecr-pullthroughcache/'",
        )
    if read_secret(store, arn) is None:
        raise SecretNotFound(arn)


# ----- credentials -----------------------------------------------------------------------------


def read_secret(store: Store, arn: str) -> str | None:
    """The secret string of ``arn``: ``backend.secrets`` first (by ARN or name), then the
    installed reader (moto's Secrets Manager when it is in use); None when neither has it."""
    stored = store.secrets
    if arn in stored:
        return stored[arn]
    match = _SECRET_ARN_RE.fullmatch(arn)
    if match is not None and match["name"] in stored:
        return stored[match["name"]]
    reader = store.secret_reader
    if reader is not None:
        value = reader(arn)
        if isinstance(value, str):
            return value
    return None


def credentials_for(store: Store, rule: PullThroughRule) -> Credentials | None:
    """The rule's credentials; SecretNotFound / UnableToDecryptSecretValue when unusable."""
    if not rule.credential_arn:
        return None
    text = read_secret(store, rule.credential_arn)
    if text is None:
        raise SecretNotFound(rule.credential_arn)
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        doc = None
    if (
        not isinstance(doc, dict)
        or not isinstance(doc.get("username"), str)
        or not isinstance(doc.get("accessToken"), str)
    ):
        raise UnableToDecryptSecretValue(
            f"The secret '{rule.credential_arn}' must be a JSON object with 'username' and "
            "'accessToken'"
        )
    return Credentials(doc["username"], doc["accessToken"])


# ----- CRUD ------------------------------------------------------------------------------------


def create_rule(
    store: Store,
    reg: Registry,
    prefix: str,
    upstream_url: str,
    *,
    upstream_registry: str | None = None,
    credential_arn: str | None = None,
    custom_role_arn: str | None = None,
    upstream_prefix: str | None = None,
) -> PullThroughRule:
    """CreatePullThroughCacheRule."""
    _check_prefix(prefix, "ecrRepositoryPrefix")
    if upstream_prefix is not None:
        _check_prefix(upstream_prefix, "upstreamRepositoryPrefix")
    kind = _check_url(upstream_url, upstream_registry)
    if kind in NEEDS_CREDENTIALS and not credential_arn:
        raise _invalid(
            "credentialArn", f"A credential ARN is required for the upstream registry '{kind}'"
        )
    if kind == "ecr" and credential_arn:
        raise _invalid(
            "credentialArn", "An Amazon ECR upstream authenticates with IAM, not a secret"
        )
    if credential_arn:
        _check_credential_arn(store, credential_arn)
    if custom_role_arn:
        check_role_arn(custom_role_arn)
    rule = PullThroughRule(
        prefix=prefix,
        upstream_url=upstream_url,
        created_at=store.now(),
        upstream_registry=kind,
        credential_arn=credential_arn,
        custom_role_arn=custom_role_arn,
        upstream_prefix=upstream_prefix,
    )
    with store.lock:
        existing = rules(reg)
        if prefix in existing or prefix.rstrip("/") in {p.rstrip("/") for p in existing}:
            raise PullThroughCacheRuleAlreadyExists(prefix, reg.account)
        if len(existing) >= MAX_RULES:
            raise LimitExceeded(
                f"The maximum number of pull through cache rules ({MAX_RULES}) in the registry "
                f"with id '{reg.account}' has been reached"
            )
        existing[prefix] = rule
    return rule


def get_rule(reg: Registry, prefix: str) -> PullThroughRule:
    """The rule of ``prefix``; PullThroughCacheRuleNotFound otherwise."""
    found = rules(reg).get(prefix)
    if found is None:
        raise PullThroughCacheRuleNotFound(prefix, reg.account)
    return found


def describe_rules(reg: Registry, prefixes: Iterable[str] | None = None) -> list[PullThroughRule]:
    """The named rules (each must exist) or every rule, by prefix."""
    wanted = list(prefixes or [])
    if wanted:
        return [get_rule(reg, p) for p in dict.fromkeys(wanted)]
    store = rules(reg)
    return [store[p] for p in sorted(store)]


def update_rule(
    store: Store,
    reg: Registry,
    prefix: str,
    *,
    credential_arn: str | None = None,
    custom_role_arn: str | None = None,
) -> PullThroughRule:
    """UpdatePullThroughCacheRule: a new secret and/or role."""
    rule = get_rule(reg, prefix)
    if credential_arn:
        _check_credential_arn(store, credential_arn)
    if custom_role_arn:
        check_role_arn(custom_role_arn)
    with store.lock:
        if credential_arn is not None:
            rule.credential_arn = credential_arn or None
        if custom_role_arn is not None:
            rule.custom_role_arn = custom_role_arn or None
        rule.updated_at = store.now()
    return rule


def delete_rule(store: Store, reg: Registry, prefix: str) -> PullThroughRule:
    """DeletePullThroughCacheRule (cached repositories stay)."""
    with store.lock:
        rule = get_rule(reg, prefix)
        del rules(reg)[prefix]
    return rule


def validate_rule(store: Store, reg: Registry, prefix: str) -> str | None:
    """ValidatePullThroughCacheRule: None when the upstream is reachable with the credentials,
    otherwise why not."""
    rule = get_rule(reg, prefix)
    try:
        credentials = credentials_for(store, rule)
    except EcrError as exc:
        return f"{exc.code}: {exc.message}"
    if rule.upstream_registry == "ecr" and not _is_local_url(rule.upstream_url):
        return None
    connector = store.upstream_connector
    if connector is None:
        return "No HTTP client is configured to reach the upstream registry"
    try:
        connector(rule.upstream_url, credentials, _timeout(store)).check()
    except UpstreamError as exc:
        return f"Unable to reach or authenticate to the upstream registry: {exc.message}"
    return None


# ----- filling the cache -------------------------------------------------------------------------


def find_rule(reg: Registry, repository_name: str) -> PullThroughRule | None:
    """The rule a repository name falls under: the longest prefix, else ROOT."""
    best: PullThroughRule | None = None
    root: PullThroughRule | None = None
    for rule in rules(reg).values():
        if not rule.covers(repository_name):
            continue
        if rule.prefix == ROOT:
            root = rule
        elif best is None or len(rule.prefix.rstrip("/")) > len(best.prefix.rstrip("/")):
            best = rule
    return best or root


def _timeout(store: Store) -> float:
    return float(store.upstream_timeout)


def _lock_for(store: Store, reg: Registry, name: str) -> threading.Lock:
    with store.lock:
        return store.pull_through_locks.setdefault(
            (reg.account, reg.region, name), threading.Lock()
        )


@dataclass
class _Fetched:
    manifest: bytes
    media_type: str
    digest: str
    blobs: list[Blob]
    children: list[_Fetched]


class _Source(Protocol):
    def manifest(self, name: str, reference: str) -> tuple[bytes, str]: ...

    def blob(self, name: str, digest: str, write: Callable[[bytes], None]) -> None: ...


class _LocalEcr:
    """The ``ecr`` upstream: another registry of the same backend."""

    def __init__(self, store: Store, reg: Registry) -> None:
        self.backend = store
        self.reg = reg

    def _repo(self, name: str) -> Repository:
        try:
            return get_repository(self.backend, self.reg, name)
        except RepositoryNotFound as exc:
            raise UpstreamError("not_found", exc.message) from None

    def manifest(self, name: str, reference: str) -> tuple[bytes, str]:
        repo = self._repo(name)
        try:
            image = resolve_reference(self.backend, repo, reference)
        except ImageNotFound:
            raise UpstreamError(
                "not_found", f"The image '{name}:{reference}' does not exist upstream"
            ) from None
        return image.manifest, image.media_type

    def blob(self, name: str, digest: str, write: Callable[[bytes], None]) -> None:
        repo = self._repo(name)
        blob = layer_available(self.backend, self.reg, repo, digest)
        if blob is None:
            raise UpstreamError("not_found", f"The blob '{digest}' does not exist upstream")
        for chunk in blob.iter_bytes():
            write(chunk)


def _source_for(store: Store, rule: PullThroughRule) -> _Source:
    host = upstream_host(rule.upstream_url)
    match = REGISTRY_HOST_RE.fullmatch(host)
    if (
        rule.upstream_registry == "ecr"
        and match is not None
        and not _is_local_url(rule.upstream_url)
    ):
        return _LocalEcr(store, store.registry(match["account"], region_of_registry_host(match)))
    credentials = credentials_for(store, rule)
    connector = store.upstream_connector
    if connector is None:
        raise UnableToGetUpstreamImage(
            "No HTTP client is configured to reach the upstream registry "
            f"'{rule.upstream_url}' (see ecr_mock.runtime.providers.upstream_http.install)"
        )
    client: UpstreamClient = connector(rule.upstream_url, credentials, _timeout(store))
    return client


def _fetch(source: _Source, name: str, reference: str, now: datetime, depth: int = 0) -> _Fetched:
    manifest, media_type = source.manifest(name, reference)
    if len(manifest) > MAX_MANIFEST_BYTES:
        raise UpstreamError("bad_response", "The upstream manifest is larger than 4 MiB")
    try:
        parsed = parse_manifest(manifest, media_type or None)
    except (ManifestInvalid, UnsupportedImageType) as exc:
        raise UpstreamError("bad_response", f"The upstream manifest is not usable: {exc}") from None
    digest = digest_of(manifest)
    if is_digest(reference) and reference.startswith("sha256:") and reference != digest:
        raise UpstreamError(
            "bad_response", f"The upstream manifest digest {digest} is not {reference}"
        )
    children: list[_Fetched] = []
    if parsed.is_index and depth < 2:
        children = [
            _fetch(source, name, child.digest, now, depth + 1) for child in parsed.manifests
        ]
    blobs: list[Blob] = []
    for blob_digest in parsed.stored_blob_digests():
        session = new_upload(name, now)
        try:
            source.blob(name, blob_digest, session.append)
            blobs.append(session.finish(blob_digest))
        except DigestInvalid:
            session.discard()
            for fetched in blobs:
                fetched.discard()
            raise UnableToGetUpstreamLayer(
                f"The upstream layer '{blob_digest}' of '{name}' does not match its digest"
            ) from None
        except UpstreamError as exc:
            session.discard()
            for fetched in blobs:
                fetched.discard()
            raise UnableToGetUpstreamLayer(
                f"Unable to get the upstream layer '{blob_digest}' of '{name}': {exc.message}"
            ) from None
    return _Fetched(manifest, parsed.media_type, digest, blobs, children)


def _store(
    store: Store, reg: Registry, repo: Repository, fetched: _Fetched, tag: str | None
) -> Image:
    for child in fetched.children:
        _store(store, reg, repo, child, None)
    for blob in fetched.blobs:
        store_blob(store, reg, repo, blob)
    with suppressed():
        return put_image(
            store,
            reg,
            repo,
            fetched.manifest,
            tag=tag,
            media_type=fetched.media_type,
            idempotent=True,
        )


def fill_from_upstream(
    store: Store, reg: Registry, repository_name: str, reference: str
) -> Image | None:
    """Serve a pull miss under a pull-through cache rule from the upstream.

    None when no rule covers ``repository_name``. Otherwise the cached image: the repository is
    created from the PULL_THROUGH_CACHE templates on first use, the manifest and every blob are
    fetched first and stored only when all arrived, so a failure leaves nothing behind.
    Failures raise UnableToGetUpstreamImage / UnableToGetUpstreamLayer (or the secret errors).
    """
    rule = find_rule(reg, repository_name)
    if rule is None or not is_valid_repository_name(repository_name):
        return None
    if not (is_digest(reference) or is_valid_tag(reference)):
        return None
    with _lock_for(store, reg, repository_name):
        existing = reg.repositories.get(repository_name)
        if existing is not None:
            try:
                return resolve_reference(store, existing, reference)
            except ImageNotFound:
                pass
        upstream_name = rule.upstream_name(repository_name)
        source = _source_for(store, rule)
        try:
            fetched = _fetch(source, upstream_name, reference, store.now())
        except UpstreamError as exc:
            raise UnableToGetUpstreamImage(
                f"Unable to get the image '{upstream_name}:{reference}' from the upstream "
                f"registry '{rule.upstream_url}' ({exc.kind}): {exc.message}"
            ) from None
        repo = existing or create_from_template(store, reg, repository_name, PULL_THROUGH_CACHE)
        tag = None if is_digest(reference) else reference
        return _store(store, reg, repo, fetched, tag)
