"""The ecr_mock pytest plugin: fixtures for a fresh in-process ECR per test, a live server, a marker.

Installed as the module ``ecr_mock_pytest_plugin`` and registered under the ``pytest11`` entry
point, so installing ecr-mock is enough. Fixtures:

``ecr_mock``
    The active :class:`ecr_mock.mock_ecr` of the test, over a fresh empty backend. Every boto3
    ECR client and every ``requests`` call to ``*.dkr.ecr.*.amazonaws.com`` is served by it.
    ``ecr_mock.backend`` is the backend, ``ecr_mock.backend.clock`` its clock.
``ecr_backend`` / ``ecr_clock``
    That backend, and its clock (move it forward with ``ecr_clock.advance(hours=13)``).
``ecr_client``
    A boto3 ECR client in ``ecr_mock_region``.
``ecr_mock_account_id`` / ``ecr_mock_region``
    The default account and region (``123456789012``, ``us-east-1``); override them as fixtures
    in a conftest, or per test with ``@pytest.mark.ecr_mock(account_id=..., region=...)``.
    ``@pytest.mark.ecr_mock(allow_missing_layers=True)`` accepts manifests naming layers never
    uploaded and manifest lists naming images never pushed, as moto does; without it the
    environment variable ``ECR_MOCK_ALLOW_MISSING_LAYERS`` decides (unset: off, as in ECR).
``ecr_server``
    A live :class:`ecr_mock.server.EcrMockServer` serving the test's backend on an ephemeral
    port, for clients that need a socket (docker, skopeo, the AWS CLI). One server runs per
    session and is pointed at each test's backend, so using it costs nothing per test. While it
    serves the test, ``repositoryUri`` and ``proxyEndpoint`` name ``ecr_server.endpoint``.
``ecr_login``
    :class:`EcrLogin` (registry ``HOST:PORT``, username ``AWS``, password) for the live server,
    valid for the default account and region.
``ecr_scan_findings``
    A function ``set(repository, findings, digest=None)`` fixing the scan findings of a
    repository (or one image) in the default registry; ``findings=None`` restores the built-in
    deterministic ones.
``ecr_events``
    The backend's event log (``.all()``, ``.of_type("ECR Image Action")``): EventBridge-shaped
    records of pushes, deletes, scans and lifecycle actions.
``ecr_faults``
    The backend's fault rules: ``ecr_faults.add(operation="PutImage",
    error="ThrottlingException", times=2)`` returns the rule (``.hits``, ``.remove()``, a
    context manager). The marker ``@pytest.mark.ecr_fault(**rule)`` (repeatable) adds rules
    before the test starts.
``ecr_calls``
    The backend's call record: every API and /v2/ request, oldest first, with
    ``.of(operation=..., repository=...)`` and ``.operations()``.

Quotas mode: ``@pytest.mark.ecr_mock(enforce_quotas=True)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import pytest

if TYPE_CHECKING:
    from ecr_mock import Backend, Clock, mock_ecr
    from ecr_mock.faults import CallLog, FaultRules
    from ecr_mock.server import EcrMockServer

__all__ = ["EcrLogin"]

_DEFAULT_ACCOUNT = "123456789012"
_DEFAULT_REGION = "us-east-1"


class EcrLogin(NamedTuple):
    """Credentials for the live server: what ``docker login`` and ``skopeo --creds`` take."""

    registry: str
    username: str
    password: str

    @property
    def creds(self) -> str:
        """``AWS:<password>``, the form of ``skopeo --creds`` and ``--dest-creds``."""
        return f"{self.username}:{self.password}"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "ecr_mock(account_id=None, region=None, allow_missing_layers=None, "
        "enforce_quotas=False): the account and region of this test's ecr_mock backend and "
        "ecr_client; allow_missing_layers=True accepts manifests naming layers or images never "
        "pushed, as moto does; enforce_quotas=True throttles at the rates AWS documents",
    )
    config.addinivalue_line(
        "markers",
        "ecr_fault(**rule): add a fault rule (operation=, error=, times=, ...) to this test's "
        "ecr_mock backend; repeatable",
    )


def _marker_option(request: pytest.FixtureRequest, name: str) -> Any:
    marker = request.node.get_closest_marker("ecr_mock")
    if marker is None:
        return None
    return marker.kwargs.get(name)


@pytest.fixture
def ecr_mock_account_id(request: pytest.FixtureRequest) -> str:
    """The test backend's default account: the marker's ``account_id`` or 123456789012."""
    return str(_marker_option(request, "account_id") or _DEFAULT_ACCOUNT)


@pytest.fixture
def ecr_mock_region(request: pytest.FixtureRequest) -> str:
    """The test backend's default region and ``ecr_client``'s: the marker's or us-east-1."""
    return str(_marker_option(request, "region") or _DEFAULT_REGION)


@pytest.fixture
def ecr_mock(
    request: pytest.FixtureRequest, ecr_mock_account_id: str, ecr_mock_region: str
) -> Iterator[mock_ecr]:
    """An active ``mock_ecr`` with a fresh empty backend, stopped after the test."""
    from ecr_mock import mock_ecr

    account = _marker_option(request, "account_id") or ecr_mock_account_id
    region = _marker_option(request, "region") or ecr_mock_region
    allow = _marker_option(request, "allow_missing_layers")
    mock = mock_ecr(
        account_id=account,
        region=region,
        allow_missing_layers=None if allow is None else bool(allow),
        enforce_quotas=bool(_marker_option(request, "enforce_quotas")),
    )
    for marker in reversed(list(request.node.iter_markers("ecr_fault"))):
        mock.backend.faults.add(**marker.kwargs)
    with mock:
        yield mock


@pytest.fixture
def ecr_backend(ecr_mock: mock_ecr) -> Backend:
    """The backend of the test's ``ecr_mock``."""
    return ecr_mock.backend


@pytest.fixture
def ecr_clock(ecr_backend: Backend) -> Clock:
    """The backend's clock: ``ecr_clock.advance(hours=13)`` instead of sleeping."""
    return ecr_backend.clock


@pytest.fixture
def ecr_client(ecr_mock: mock_ecr, request: pytest.FixtureRequest, ecr_mock_region: str) -> Any:
    """A boto3 ECR client in the test's region, answered by ``ecr_mock``."""
    import boto3

    region = _marker_option(request, "region") or ecr_mock_region
    return boto3.client("ecr", region_name=region)


@pytest.fixture
def ecr_public_client(ecr_mock: mock_ecr) -> Any:
    """A boto3 ECR Public client (us-east-1, the API's one region), answered by ``ecr_mock``."""
    import boto3

    return boto3.client("ecr-public", region_name="us-east-1")


@pytest.fixture(scope="session")
def _ecr_session_server() -> Iterator[EcrMockServer]:
    """One server per session; between tests it serves an idle empty backend."""
    from ecr_mock.server import EcrMockServer

    server = EcrMockServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def ecr_server(_ecr_session_server: EcrMockServer, ecr_backend: Backend) -> Iterator[EcrMockServer]:
    """The session's live server, serving this test's backend; ``.url`` and ``.endpoint``."""
    idle = _ecr_session_server.backend
    _ecr_session_server.use(ecr_backend)
    try:
        yield _ecr_session_server
    finally:
        _ecr_session_server.use(idle)


@pytest.fixture
def ecr_login(ecr_server: EcrMockServer, ecr_backend: Backend) -> EcrLogin:
    """A fresh token for the default registry: ``(registry HOST:PORT, "AWS", password)``."""
    account, region = ecr_backend.default_account, ecr_backend.default_region
    principal = ecr_backend.principal_for_key(None)
    token = ecr_backend.tokens.issue(principal, account, region)
    return EcrLogin(ecr_server.endpoint, "AWS", token.password)


@pytest.fixture
def ecr_scan_findings(ecr_backend: Backend) -> Callable[..., None]:
    """``set(repository, findings, digest=None)``: fix scan findings in the default registry."""
    from ecr_mock.core.services.scanning import set_scan_findings

    def set_findings(
        repository: str,
        findings: Sequence[Mapping[str, Any]] | None,
        digest: str | None = None,
    ) -> None:
        set_scan_findings(ecr_backend, repository, findings, digest=digest)

    return set_findings


@pytest.fixture
def ecr_events(ecr_backend: Backend) -> Any:
    """The backend's EventLog of EventBridge-shaped ECR events."""
    return ecr_backend.events


@pytest.fixture
def ecr_faults(ecr_backend: Backend) -> FaultRules:
    """The backend's fault rules: ``ecr_faults.add(**rule)``, ``ecr_faults.clear()``."""
    return ecr_backend.faults


@pytest.fixture
def ecr_calls(ecr_backend: Backend) -> CallLog:
    """The backend's call record (``.of(operation=...)``, ``.operations()``, ``[-1]``)."""
    return ecr_backend.calls
