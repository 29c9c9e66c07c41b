"""The ecr_mock pytest plugin: fixtures for a fresh ECR per test (in-process or a running server).

Installed as the module ``ecr_mock_pytest_plugin`` and registered under the ``pytest11`` entry
point, so installing ecr-mock is enough. Fixtures:

``ecr_mock``
    The active :class:`ecr_mock.mock_ecr` of the test, over a fresh empty backend. Every boto3
    ECR client and every ``requests`` call to ``*.dkr.ecr.*.amazonaws.com`` is served by it.
    ``ecr_mock.backend`` is the backend, ``ecr_mock.backend.clock`` its clock.
``ecr_backend`` / ``ecr_clock``
    That backend, and its clock (move it forward with ``ecr_clock.advance(hours=13)``).
``ecr_client`` / ``ecr_public_client``
    A boto3 ECR client in ``ecr_mock_region``; an ECR Public client (us-east-1).
``ecr_mock_account_id`` / ``ecr_mock_region``
    The default account and region (``123456789012``, ``us-east-1``); override them as fixtures
    in a conftest, or per test with ``@pytest.mark.ecr_mock(account_id=..., region=...)``.
    ``@pytest.mark.ecr_mock(allow_missing_layers=True)`` accepts manifests naming layers never
    uploaded and manifest lists naming images never pushed, as moto does; without it the
    environment variable ``ECR_MOCK_ALLOW_MISSING_LAYERS`` decides (unset: off, as in ECR).
``ecr_server``
    A live :class:`ecr_mock.runtime.http.EcrMockServer` serving the test's backend on an ephemeral
    port, for clients that need a socket (docker, skopeo, the AWS CLI). One server runs per
    session and is pointed at each test's backend, so using it costs nothing per test. While it
    serves the test, ``repositoryUri`` and ``proxyEndpoint`` name ``ecr_server.endpoint``.
``ecr_login`` / ``ecr_login_as``
    :class:`EcrLogin` (registry ``HOST:PORT``, username ``AWS``, password) for the live server,
    for the account root (or the marker's ``principal``); ``ecr_login_as(principal_arn,
    account_id=None, region=None)`` logs in as any IAM principal, whose policies then decide.
``ecr_seed``
    ``ecr_seed(doc_or_path)`` applies a seed document to the test's backend (relative paths
    from the test file's folder); ``@pytest.mark.ecr_seed(doc_or_path)`` does so before the test.
``ecr_backend_factory``
    Session-scoped ``make(seed=None, account_id=..., region=...)``: a backend for module- or
    session-scoped fixtures; ``@pytest.mark.ecr_mock(backend="<fixture name>")`` makes a test's
    ``ecr_mock`` use that shared backend instead of a fresh one (it is not reset).
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

Against a running server: with ``--ecr-mock-url URL`` (or ``ECR_MOCK_URL``; a control token
from ``--ecr-mock-control-token`` or ``ECR_MOCK_CONTROL_TOKEN``) the same fixtures use that
server: the server is reset through its control API before each test, ``ecr_backend`` is an
:class:`ecr_mock.testing.remote.RemoteEcrMock` (``reset``, ``state``, ``seed``, ``issue_token``,
``clock``, ``apply_lifecycle_policies``, ``faults``, ``calls``, ``events``), ``ecr_clock`` its
clock, ``ecr_faults``, ``ecr_calls`` and ``ecr_events`` the server's, fault markers apply to it, ``ecr_server`` gives the
server's ``url`` and ``endpoint``, and ``AWS_ENDPOINT_URL_ECR`` points every boto3 ECR client at
it during the test. The account is the server's (``ecr-mock serve --account-id``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import pytest

if TYPE_CHECKING:
    from ecr_mock import Backend, Clock
    from ecr_mock.runtime.http import EcrMockServer
    from ecr_mock.testing.faults import CallLog, FaultRules
    from ecr_mock.testing.remote import RemoteEcrMock

__all__ = ["EcrLogin"]

_DEFAULT_ACCOUNT = "123456789012"
_DEFAULT_REGION = "us-east-1"
_FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "AKIAECRMOCKTESTING00", "AWS_SECRET_ACCESS_KEY": "x"}


class EcrLogin(NamedTuple):
    """Credentials for the live server: what ``docker login`` and ``skopeo --creds`` take."""

    registry: str
    username: str
    password: str

    @property
    def creds(self) -> str:
        """``AWS:<password>``, the form of ``skopeo --creds`` and ``--dest-creds``."""
        return f"{self.username}:{self.password}"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ecr_mock")
    group.addoption(
        "--ecr-mock-url",
        default=None,
        metavar="URL",
        help="run the ecr_mock fixtures against the ecr-mock server at URL (default "
        "$ECR_MOCK_URL), resetting it before each test",
    )
    group.addoption(
        "--ecr-mock-control-token",
        default=None,
        metavar="TOKEN",
        help="bearer token of that server's control API (default $ECR_MOCK_CONTROL_TOKEN)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "ecr_mock(account_id=None, region=None, allow_missing_layers=None, "
        "enforce_quotas=False, principal=None, backend=None): the account and region of this "
        "test's ecr_mock backend and ecr_client; allow_missing_layers=True accepts manifests "
        "naming layers or images never pushed, as moto does; enforce_quotas=True throttles at "
        "the rates AWS documents; principal: the IAM principal ARN ecr_login logs in as; "
        "backend: the name of a fixture giving a shared backend to use instead of a fresh one",
    )
    config.addinivalue_line(
        "markers",
        "ecr_fault(**rule): add a fault rule (operation=, error=, times=, ...) to this test's "
        "ecr_mock backend; repeatable",
    )
    config.addinivalue_line(
        "markers",
        "ecr_seed(doc_or_path): apply this seed document (a dict, or a JSON/YAML file relative "
        "to the test file) to the test's backend before the test",
    )


def _marker_option(request: pytest.FixtureRequest, name: str) -> Any:
    marker = request.node.get_closest_marker("ecr_mock")
    if marker is None:
        return None
    return marker.kwargs.get(name)


def _remote_url(config: pytest.Config) -> str | None:
    url = config.getoption("ecr_mock_url", default=None) or os.environ.get("ECR_MOCK_URL")
    return str(url) if url else None


@pytest.fixture(scope="session")
def ecr_remote(pytestconfig: pytest.Config) -> RemoteEcrMock | None:
    """The running server the fixtures use (``--ecr-mock-url``/``ECR_MOCK_URL``), else None."""
    url = _remote_url(pytestconfig)
    if url is None:
        return None
    from ecr_mock.testing.remote import RemoteEcrMock

    token = pytestconfig.getoption("ecr_mock_control_token", default=None)
    remote = RemoteEcrMock(url, token=token)
    remote.wait_until_healthy()
    return remote


class RemoteMock:
    """What ``ecr_mock`` is against a running server: its control client, as ``backend``."""

    def __init__(self, remote: RemoteEcrMock) -> None:
        self.backend = remote

    @property
    def active(self) -> bool:
        """Always True: the server answers while the test runs."""
        return True

    def reset(self) -> None:
        """Empty the server's state."""
        self.backend.reset()


@contextlib.contextmanager
def _pointed_at(url: str) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in ("AWS_ENDPOINT_URL_ECR", *_FAKE_CREDENTIALS)}
    os.environ["AWS_ENDPOINT_URL_ECR"] = url
    if not (saved["AWS_ACCESS_KEY_ID"] or os.environ.get("AWS_PROFILE")):
        os.environ.update(_FAKE_CREDENTIALS)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


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
    request: pytest.FixtureRequest,
    ecr_mock_account_id: str,
    ecr_mock_region: str,
    ecr_remote: RemoteEcrMock | None,
) -> Iterator[Any]:
    """An active ``mock_ecr`` with a fresh empty backend, stopped after the test.

    Against a running server: a :class:`RemoteMock` over the server, reset first.
    """
    shared_name = _marker_option(request, "backend")
    shared = request.getfixturevalue(str(shared_name)) if shared_name else None
    if ecr_remote is not None:
        if shared is None:
            ecr_remote.reset()
        with _pointed_at(ecr_remote.url):
            _apply_fault_markers(request, ecr_remote)
            _apply_seed_markers(request, ecr_remote)
            yield RemoteMock(ecr_remote)
        return
    from ecr_mock import mock_ecr

    if shared is not None:
        active = mock_ecr(shared)
    else:
        account = _marker_option(request, "account_id") or ecr_mock_account_id
        region = _marker_option(request, "region") or ecr_mock_region
        allow = _marker_option(request, "allow_missing_layers")
        active = mock_ecr(
            account_id=account,
            region=region,
            allow_missing_layers=None if allow is None else bool(allow),
            enforce_quotas=bool(_marker_option(request, "enforce_quotas")),
        )
    _apply_fault_markers(request, active.backend)
    with active:
        _apply_seed_markers(request, active.backend)
        yield active


def _apply_fault_markers(request: pytest.FixtureRequest, backend: Any) -> None:
    for marker in reversed(list(request.node.iter_markers("ecr_fault"))):
        backend.faults.add(**marker.kwargs)


def _apply_seed_markers(request: pytest.FixtureRequest, backend: Any) -> None:
    for marker in reversed(list(request.node.iter_markers("ecr_seed"))):
        for doc in marker.args:
            _seed(request, backend, doc)


def _seed(request: pytest.FixtureRequest, backend: Any, doc: Any) -> dict[str, Any]:
    from ecr_mock.testing.remote import RemoteEcrMock
    from ecr_mock.testing.seeding import seed_backend

    if isinstance(doc, (str, os.PathLike)):
        path = Path(doc)
        if not path.is_absolute():
            path = Path(request.path).parent / path
        doc = path
    if isinstance(backend, RemoteEcrMock):
        return backend.seed(doc)
    base = str(Path(request.path).parent)
    return seed_backend(backend, doc, base_dir=None if isinstance(doc, Path) else base)


@pytest.fixture
def ecr_backend(ecr_mock: Any) -> Backend:
    """The backend of the test's ``ecr_mock`` (a RemoteEcrMock against a running server)."""
    backend: Backend = ecr_mock.backend
    return backend


@pytest.fixture
def ecr_clock(ecr_backend: Backend) -> Clock:
    """The backend's clock: ``ecr_clock.advance(hours=13)`` instead of sleeping."""
    return ecr_backend.clock


@pytest.fixture
def ecr_client(
    ecr_mock: Any,
    request: pytest.FixtureRequest,
    ecr_mock_region: str,
    ecr_remote: RemoteEcrMock | None,
) -> Any:
    """A boto3 ECR client in the test's region, answered by ``ecr_mock`` (or the server)."""
    import boto3

    region = _marker_option(request, "region") or ecr_mock_region
    if ecr_remote is not None:
        return boto3.client("ecr", region_name=region, endpoint_url=ecr_remote.url)
    return boto3.client("ecr", region_name=region)


@pytest.fixture
def ecr_public_client(ecr_mock: Any, ecr_remote: RemoteEcrMock | None) -> Any:
    """A boto3 ECR Public client (us-east-1, the API's one region), answered by ``ecr_mock``."""
    import boto3

    if ecr_remote is not None:
        return boto3.client("ecr-public", region_name="us-east-1", endpoint_url=ecr_remote.url)
    return boto3.client("ecr-public", region_name="us-east-1")


@pytest.fixture
def ecr_seed(request: pytest.FixtureRequest, ecr_backend: Backend) -> Callable[..., Any]:
    """``ecr_seed(doc_or_path)``: apply a seed document to the test's backend; what it made."""

    def seed(doc: Any) -> dict[str, Any]:
        return _seed(request, ecr_backend, doc)

    return seed


@pytest.fixture(scope="session")
def ecr_backend_factory(
    pytestconfig: pytest.Config, ecr_remote: RemoteEcrMock | None
) -> Callable[..., Any]:
    """``make(seed=None, account_id=..., region=...)``: a backend for longer-lived fixtures.

    Seed paths are relative to the working directory. Against a running server the server
    itself is that backend: ``make`` resets and seeds it.
    """

    def make(
        seed: Any = None,
        *,
        account_id: str = _DEFAULT_ACCOUNT,
        region: str = _DEFAULT_REGION,
    ) -> Any:
        from ecr_mock.runtime.emulator import assemble
        from ecr_mock.testing.seeding import seed_backend

        if ecr_remote is not None:
            ecr_remote.reset()
            if seed is not None:
                ecr_remote.seed(seed)
            return ecr_remote
        from ecr_mock import Backend

        backend = assemble(Backend(account_id, region), providers=False)
        if seed is not None:
            seed_backend(backend, seed)
        return backend

    return make


@pytest.fixture(scope="session")
def _ecr_session_server() -> Iterator[EcrMockServer]:
    """One server per session; between tests it serves an idle empty backend."""
    from ecr_mock.runtime.http import EcrMockServer

    server = EcrMockServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def ecr_server(request: pytest.FixtureRequest, ecr_backend: Backend) -> Iterator[Any]:
    """The session's live server, serving this test's backend; ``.url`` and ``.endpoint``.

    Against a running server: that server's control client (it has ``url`` and ``endpoint``).
    """
    from ecr_mock.testing.remote import RemoteEcrMock

    if isinstance(ecr_backend, RemoteEcrMock):
        yield ecr_backend
        return
    server: EcrMockServer = request.getfixturevalue("_ecr_session_server")
    idle = server.backend
    server.use(ecr_backend)
    try:
        yield server
    finally:
        server.use(idle)


@pytest.fixture
def ecr_login_as(ecr_server: Any, ecr_backend: Backend) -> Callable[..., EcrLogin]:
    """``ecr_login_as(principal_arn, account_id=None, region=None)``: log in as any principal."""

    def login(
        principal_arn: str | None = None, account_id: str | None = None, region: str | None = None
    ) -> EcrLogin:
        token = ecr_backend.issue_token(principal_arn, account_id, region)
        return EcrLogin(ecr_server.endpoint, "AWS", token.password)

    return login


@pytest.fixture
def ecr_login(request: pytest.FixtureRequest, ecr_login_as: Callable[..., EcrLogin]) -> EcrLogin:
    """A fresh token for the default registry: ``(registry HOST:PORT, "AWS", password)``.

    It speaks for the account root, or for the marker's ``principal`` (any IAM ARN).
    """
    principal = _marker_option(request, "principal")
    return ecr_login_as(str(principal) if principal else None)


@pytest.fixture
def ecr_scan_findings(ecr_backend: Backend) -> Callable[..., None]:
    """``set(repository, findings, digest=None)``: fix scan findings in the default registry."""
    from ecr_mock.testing.remote import RemoteEcrMock

    def set_findings(
        repository: str,
        findings: Sequence[Mapping[str, Any]] | None,
        digest: str | None = None,
    ) -> None:
        if isinstance(ecr_backend, RemoteEcrMock):
            account, region = ecr_backend.defaults()
            listed = None if findings is None else [dict(f) for f in findings]
            ecr_backend.set_scan_findings(account, region, repository, listed, digest)
            return
        from ecr_mock.services.scanning import set_scan_findings

        set_scan_findings(ecr_backend, repository, findings, digest=digest)

    return set_findings


@pytest.fixture
def ecr_events(ecr_backend: Backend) -> Any:
    """The backend's EventBridge-shaped ECR events: ``all()``, ``of_type(...)``, ``clear()``
    (a running server's, through ``/ecr-mock/events``, with ``--ecr-mock-url``)."""
    return ecr_backend.events


@pytest.fixture
def ecr_faults(ecr_backend: Backend) -> FaultRules:
    """The backend's fault rules: ``ecr_faults.add(**rule)``, ``ecr_faults.clear()`` (a running
    server's, through ``/ecr-mock/faults``, with ``--ecr-mock-url``)."""
    return ecr_backend.faults


@pytest.fixture
def ecr_calls(ecr_backend: Backend) -> CallLog:
    """The backend's call record (``.of(operation=...)``, ``.operations()``, ``[-1]``); a
    running server's, through ``/ecr-mock/calls``, with ``--ecr-mock-url``."""
    return ecr_backend.calls
