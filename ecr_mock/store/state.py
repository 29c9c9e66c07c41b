"""The Store: every registry, the lock, clock, tokens, event bus and the slots providers fill."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ecr_mock.domain.blobs import UPLOAD_IDLE_TIMEOUT
from ecr_mock.domain.models import Image, Principal, Registry, Repository
from ecr_mock.domain.names import DEFAULT_ACCOUNT, DEFAULT_REGION, registry_host
from ecr_mock.domain.ports import (
    EventListener,
    IdentityProvider,
    OperationCaller,
    SecretReader,
    UpstreamConnector,
)
from ecr_mock.store.calls import CallLog
from ecr_mock.store.clock import Clock
from ecr_mock.store.events import EventLog
from ecr_mock.store.fault_rules import FaultRules
from ecr_mock.store.quotas import Quotas
from ecr_mock.store.tokens import TokenStore

if TYPE_CHECKING:
    from ecr_mock.store.changes import ChangeSet
    from ecr_mock.store.fault_rules import FaultCatalog

__all__ = ["DEFAULT_LAYER_GRACE", "DEFAULT_UPSTREAM_TIMEOUT", "LIFECYCLE_PERIOD", "Store"]

LIFECYCLE_PERIOD = timedelta(hours=24)
"""How often stored lifecycle policies are applied (ECR acts within 24 hours)."""

DEFAULT_LAYER_GRACE = timedelta(hours=24)
"""How long a layer no image references is kept (backend clock) before it is reclaimed."""

DEFAULT_UPSTREAM_TIMEOUT = 30.0
"""Seconds an upstream registry may take per request (pull-through cache fills)."""


class Store:
    """All state one emulator holds, shared by both protocol surfaces.

    Services (``ecr_mock.services``) are functions over a Store; they take :attr:`lock`
    for every change. The typed slots at the end are filled by providers at the edges (moto's
    IAM, an HTTP upstream client, moto's Secrets Manager); the core only reads them.
    """

    def __init__(
        self,
        account_id: str = DEFAULT_ACCOUNT,
        region: str = DEFAULT_REGION,
        clock: Clock | None = None,
        *,
        allow_missing_layers: bool = False,
    ) -> None:
        self.default_account = account_id
        self.default_region = region
        self.clock = clock or Clock()
        self.tokens = TokenStore(self.clock)
        self.lock = threading.RLock()
        self.registries: dict[tuple[str, str], Registry] = {}
        self.access_keys: dict[str, Principal] = {}
        self.strict_credentials = False
        """Refuse unknown access keys (``UnrecognizedClientException``) instead of using root."""
        self.allow_missing_layers = allow_missing_layers
        """Accept manifests naming blobs never uploaded and indexes naming images never pushed.

        Off by default, as in ECR (``LayersNotFoundException``,
        ``ReferencedImagesNotFoundException``). On, it is the bridge for suites written against
        moto, which never checks: the image is stored exactly as pushed (digest, media type,
        tags, immutability and policies unchanged), its size comes from the manifest's
        descriptors, and a missing blob stays missing (``BLOB_UNKNOWN`` on ``/v2/``).
        """
        self.public_endpoint: str | None = None
        """``HOST:PORT`` of a live server sharing this state; None for ``*.amazonaws.com``."""
        self.public_scheme = "https"
        self.listeners: list[EventListener] = []
        """The event bus: each is told ``(kind, detail)`` of every core event."""
        # ----- slots filled from outside (see ecr_mock.domain.ports) -----
        self.identity_provider: IdentityProvider | None = None
        """Where identities and their policies come from first (user supplied)."""
        self.identity_providers: list[IdentityProvider] = []
        """Further identity sources, consulted in order (moto's IAM and STS, installed by the
        faces)."""
        self.upstream_connector: UpstreamConnector | None = None
        """Reaches upstream registries for pull-through cache rules (HTTP, installed by the
        faces)."""
        self.secret_reader: SecretReader | None = None
        """Reads pull-through credentials not in :attr:`secrets` (moto's Secrets Manager)."""
        self.secrets: dict[str, str] = {}
        """Secret ARN or name -> secret string, for pull-through cache rule credentials."""
        self.upstream_timeout: float = DEFAULT_UPSTREAM_TIMEOUT
        """Seconds an upstream registry may take per request."""
        self.event_log: EventLog | None = None
        """The ECR events recorded so far (made on first use by the public face)."""
        self.download_url_secret: bytes | None = None
        """Key signing layer download URLs (made on first use)."""
        self.pull_through_locks: dict[tuple[str, str, str], threading.Lock] = {}
        """One lock per (account, region, repository) so concurrent pulls fill a cache once."""
        self.upload_spill_dir: str | None = None
        """Where large uploads spill to (a state directory's, so making the blob durable is a
        link); None: a private temporary directory."""
        self.pending_restores: dict[tuple[int, str], tuple[Repository, Image]] = {}
        """Images being restored from the archive, by (id of the repository, digest)."""
        self.replication_listening = False
        """Whether replication listens to the event bus already."""
        self.upload_idle_timeout: timedelta = UPLOAD_IDLE_TIMEOUT
        """How long an upload session may sit untouched before it expires (backend clock)."""
        self.uploads_checked_at = self.clock.now()
        """When idle upload sessions were last looked for."""
        self.layer_grace: timedelta = DEFAULT_LAYER_GRACE
        """How long a layer no image references is kept before it is reclaimed (backend clock;
        see ``ecr_mock.services.reclaim``)."""
        self.reclaim_checked_at = self.clock.now()
        """When unreferenced layers were last looked for."""
        self.blob_deleters: list[Callable[[str, str, list[str]], None]] = []
        """Told ``(account, region, digests)`` after layers are reclaimed: a blob store keeping
        bytes elsewhere (S3) deletes them there. The state directory's files go on its save."""
        self.installed: dict[str, Callable[[], None]] = {}
        """Providers installed into this store, by name, with the function that removes each
        (installing twice is harmless)."""
        self.lifecycle_epoch = self.clock.now()
        """When lifecycle policies were last applied, until a scheduler keeps that time."""
        self.fault_catalog: Callable[[], FaultCatalog] | None = None
        """Valid operation, route and error names for fault rules (set by mock_ecr and servers)."""
        self._faults: FaultRules | None = None
        self._calls: CallLog | None = None
        self._quotas: Quotas | None = None
        self.applied_seed: dict[str, str] | None = None
        """The seed a kept state was made from: ``{"hash", "mode"}`` (see ``seed_modes``)."""
        self.presigned_downloads = False
        """Answer layer downloads of blobs kept in an object store with a redirect to a
        presigned URL of that store (GetDownloadUrlForLayer, ``/v2/`` blob GETs), as ECR does."""
        self.changes: ChangeSet | None = None
        """What changed since the last save (None: nothing is saved, so nothing is marked)."""
        self.operation_caller: OperationCaller | None = None
        """Makes ECR API calls in-process for ``seed`` (attached by mock_ecr and the server)."""

    # ----- change marks (kept only while a state directory saves this state) ------------------

    def note_repository(self, repo: Repository) -> None:
        """``repo``'s own fields changed, or it was created or deleted."""
        changes = self.changes
        if changes is not None:
            changes.repository(repo)

    def note_image(self, repo: Repository, digest: str) -> None:
        """The image ``digest`` of ``repo`` changed, appeared or went."""
        changes = self.changes
        if changes is not None:
            changes.image(repo, digest)

    def note_repository_blob(self, repo: Repository, digest: str) -> None:
        """``repo`` came to know, or forgot, the blob ``digest``."""
        changes = self.changes
        if changes is not None:
            changes.repository_blob(repo, digest)

    def note_blob(self, reg: Registry, digest: str) -> None:
        """``reg`` came to hold, or let go of, the blob ``digest``."""
        changes = self.changes
        if changes is not None:
            changes.blob(reg, digest)

    def lifecycle_last_run(self) -> datetime:
        """When lifecycle policies were last applied (on the backend clock)."""
        return self.lifecycle_epoch

    def set_lifecycle_last_run(self, when: datetime) -> None:
        """Set when lifecycle policies were last applied (a restart takes it back)."""
        self.lifecycle_epoch = when

    # ----- parts made on first use (a fresh process pays only for what it uses) --------------

    @property
    def events(self) -> EventLog:
        """ECR's EventBridge events recorded so far: ``events.all()``, ``events.of_type(...)``."""
        if self.event_log is None:
            with self.lock:
                if self.event_log is None:
                    self.event_log = EventLog(backend=self)
        return self.event_log

    @property
    def faults(self) -> FaultRules:
        """Fault rules for this backend's requests: ``faults.add(operation=..., error=...)``."""
        if self._faults is None:
            with self.lock:
                if self._faults is None:
                    self._faults = FaultRules(lambda: self.fault_catalog)
        return self._faults

    def fault_rules_if_any(self) -> FaultRules | None:
        """The fault rules while at least one is set; None otherwise (nothing to evaluate, and
        the fault machinery is not even loaded)."""
        faults = self._faults
        return faults if faults is not None and len(faults) else None

    def within_quota(self, account: str, region: str, operation: str | None) -> bool:
        """Whether an API request may go ahead: always, unless quotas mode throttles it."""
        quotas = self._quotas
        return quotas is None or quotas.allow(account, region, operation)

    @property
    def calls(self) -> CallLog:
        """The requests this backend answered, oldest first (a ring of 10,000 by default)."""
        if self._calls is None:
            with self.lock:
                if self._calls is None:
                    self._calls = CallLog(registries=self.registries)
        return self._calls

    @property
    def quotas(self) -> Quotas:
        """Quotas mode: ``quotas.enabled = True`` throttles at the rates AWS documents."""
        if self._quotas is None:
            with self.lock:
                if self._quotas is None:
                    self._quotas = Quotas()
        return self._quotas

    def registry(self, account: str | None = None, region: str | None = None) -> Registry:
        """The registry of (account, region), created on first use."""
        key = (account or self.default_account, region or self.default_region)
        found = self.registries.get(key)
        if found is None:
            with self.lock:
                found = self.registries.setdefault(key, Registry(account=key[0], region=key[1]))
        return found

    def now(self) -> datetime:
        """The store clock's time."""
        return self.clock.now()

    def emit(self, kind: str, detail: dict[str, Any]) -> None:
        """Tell every listener about an event (push, delete, ...)."""
        for listener in list(self.listeners):
            listener(kind, detail)

    def host(self, account: str, region: str) -> str:
        """The registry host clients use: the live server's ``HOST:PORT`` or ECR's host name."""
        return self.public_endpoint or registry_host(account, region)

    def proxy_endpoint(self, account: str, region: str) -> str:
        """``proxyEndpoint`` of GetAuthorizationToken."""
        scheme = "http" if self.public_endpoint else "https"
        return f"{scheme}://{self.host(account, region)}"

    def repository_uri(self, repo: Repository) -> str:
        """``repositoryUri``: ``<host>/<name>``."""
        return f"{self.host(repo.account, repo.region)}/{repo.name}"

    def all_repositories(self, registries: Iterable[Registry] | None = None) -> list[Repository]:
        """Every repository of the given registries (default: all)."""
        regs = registries if registries is not None else list(self.registries.values())
        return [repo for reg in regs for repo in reg.repositories.values()]
