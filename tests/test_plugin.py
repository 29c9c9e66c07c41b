"""The pytest plugin: fixtures, marker and live server, run in inner pytest sessions (pytester)."""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import runpy
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

import ecr_mock.runtime.http

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parent.parent
PLUGIN_MODULE = "ecr_mock_pytest_plugin"
# Inner sessions run in this process and drop the modules they import; importing these here
# once keeps each inner session from importing them again.
PRELOADED = (boto3, requests, ecr_mock.runtime.http)


def _entry_point_installed() -> bool:
    return any(
        ep.name == "ecr_mock" and ep.value == PLUGIN_MODULE
        for ep in importlib.metadata.entry_points(group="pytest11")
    )


@pytest.fixture
def plugin_args() -> list[str]:
    """Arguments that load the plugin in an inner session.

    Installed, the ``pytest11`` entry point loads it by itself. From a source tree, the module
    is loaded from ``pytest_plugin/`` under its installed name and named with ``-p``.
    """
    if _entry_point_installed():
        return []
    if PLUGIN_MODULE not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            PLUGIN_MODULE, ROOT / "pytest_plugin" / "__init__.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[PLUGIN_MODULE] = module
        spec.loader.exec_module(module)
    return ["-p", PLUGIN_MODULE, "-W", "ignore::pytest.PytestAssertRewriteWarning"]


@pytest.fixture
def inner(pytester: pytest.Pytester, plugin_args: list[str]) -> pytest.Pytester:
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    pytester.syspathinsert(ROOT)
    return pytester


def run_inner(inner: pytest.Pytester, plugin_args: list[str], *args: str) -> pytest.RunResult:
    return inner.runpytest(*plugin_args, *args)


def test_fixtures_are_listed(inner: pytest.Pytester, plugin_args: list[str]) -> None:
    inner.makepyfile("def test_nothing():\n    pass\n")
    result = run_inner(inner, plugin_args, "--fixtures")
    listed = result.stdout.str()
    for name in (
        "ecr_mock ",
        "ecr_client",
        "ecr_backend",
        "ecr_clock",
        "ecr_mock_account_id",
        "ecr_mock_region",
        "ecr_server",
        "ecr_login",
    ):
        assert name in listed, name


def test_marker_is_registered(inner: pytest.Pytester, plugin_args: list[str]) -> None:
    inner.makepyfile("def test_nothing():\n    pass\n")
    result = run_inner(inner, plugin_args, "--markers")
    result.stdout.fnmatch_lines(
        [
            "@pytest.mark.ecr_mock(account_id=None, region=None, allow_missing_layers=None, "
            "enforce_quotas=False*",
            "@pytest.mark.ecr_fault(**rule)*",
        ]
    )


def test_each_test_gets_a_fresh_backend(inner: pytest.Pytester, plugin_args: list[str]) -> None:
    inner.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("run", [1, 2, 3])
        def test_starts_empty(ecr_client, run):
            assert ecr_client.describe_repositories()["repositories"] == []
            ecr_client.create_repository(repositoryName=f"repo-{run}")
            names = [r["repositoryName"] for r in ecr_client.describe_repositories()["repositories"]]
            assert names == [f"repo-{run}"]
        """
    )
    run_inner(inner, plugin_args).assert_outcomes(passed=3)


def test_fixtures_share_one_backend(inner: pytest.Pytester, plugin_args: list[str]) -> None:
    inner.makepyfile(
        """
        import boto3
        from ecr_mock import mock_ecr

        def test_shared(ecr_mock, ecr_backend, ecr_clock, ecr_client):
            assert isinstance(ecr_mock, mock_ecr) and ecr_mock.active
            assert ecr_backend is ecr_mock.backend
            assert ecr_clock is ecr_backend.clock
            ecr_client.create_repository(repositoryName="seen")
            other = boto3.client("ecr", region_name="us-east-1")
            assert [r["repositoryName"] for r in other.describe_repositories()["repositories"]] == ["seen"]
            assert list(ecr_backend.registry().repositories) == ["seen"]
        """
    )
    run_inner(inner, plugin_args).assert_outcomes(passed=1)


def test_marker_sets_account_and_region(inner: pytest.Pytester, plugin_args: list[str]) -> None:
    inner.makepyfile(
        """
        import pytest

        @pytest.mark.ecr_mock(account_id="111122223333", region="eu-west-1")
        def test_marked(ecr_client, ecr_mock_account_id, ecr_mock_region):
            repo = ecr_client.create_repository(repositoryName="marked")["repository"]
            assert repo["repositoryArn"] == "arn:aws:ecr:eu-west-1:111122223333:repository/marked"
            assert (ecr_mock_account_id, ecr_mock_region) == ("111122223333", "eu-west-1")

        def test_unmarked(ecr_client):
            repo = ecr_client.create_repository(repositoryName="plain")["repository"]
            assert repo["repositoryArn"] == "arn:aws:ecr:us-east-1:123456789012:repository/plain"
        """
    )
    run_inner(inner, plugin_args).assert_outcomes(passed=2)


def test_account_and_region_fixtures_can_be_overridden(
    inner: pytest.Pytester, plugin_args: list[str]
) -> None:
    inner.makeconftest(
        """
        import pytest

        @pytest.fixture
        def ecr_mock_account_id():
            return "222233334444"

        @pytest.fixture
        def ecr_mock_region():
            return "ap-south-1"
        """
    )
    inner.makepyfile(
        """
        def test_overridden(ecr_client):
            repo = ecr_client.create_repository(repositoryName="over")["repository"]
            assert repo["repositoryUri"] == "222233334444.dkr.ecr.ap-south-1.amazonaws.com/over"
        """
    )
    run_inner(inner, plugin_args).assert_outcomes(passed=1)


def test_clock_moves_token_expiry(inner: pytest.Pytester, plugin_args: list[str]) -> None:
    inner.makepyfile(
        """
        from datetime import timedelta

        def test_expiry(ecr_client, ecr_clock):
            data = ecr_client.get_authorization_token()["authorizationData"][0]
            issued = ecr_clock.now()
            ecr_clock.advance(hours=13)
            assert ecr_clock.now() - issued >= timedelta(hours=13)
            assert data["expiresAt"] < ecr_clock.now()
        """
    )
    run_inner(inner, plugin_args).assert_outcomes(passed=1)


def test_live_server_serves_the_test_backend(
    inner: pytest.Pytester, plugin_args: list[str]
) -> None:
    inner.makepyfile(
        """
        import requests

        def test_registry(ecr_server, ecr_login, ecr_client):
            repo = ecr_client.create_repository(repositoryName="live")["repository"]
            assert repo["repositoryUri"] == f"{ecr_server.endpoint}/live"
            assert ecr_login.registry == ecr_server.endpoint
            assert ecr_login.creds == f"AWS:{ecr_login.password}"
            url = f"{ecr_server.url}/v2/live/tags/list"
            response = requests.get(url, auth=(ecr_login.username, ecr_login.password))
            assert response.status_code == 200
            assert response.json() == {"name": "live", "tags": []}
            proxy = ecr_client.get_authorization_token()["authorizationData"][0]["proxyEndpoint"]
            assert proxy == ecr_server.url

        def test_expired_login_is_refused(ecr_server, ecr_login, ecr_clock):
            ecr_clock.advance(hours=13)
            response = requests.get(f"{ecr_server.url}/v2/", auth=("AWS", ecr_login.password))
            assert response.status_code == 403
        """
    )
    run_inner(inner, plugin_args).assert_outcomes(passed=2)


def test_live_server_is_one_per_session_and_reset_per_test(
    inner: pytest.Pytester, plugin_args: list[str]
) -> None:
    inner.makepyfile(
        """
        import requests

        ports = []

        def test_first(ecr_server, ecr_login, ecr_backend):
            ports.append(ecr_server.port)
            ecr_backend.create_repository(ecr_backend.registry(), "only-in-first")
            url = f"{ecr_server.url}/v2/only-in-first/tags/list"
            assert requests.get(url, auth=("AWS", ecr_login.password)).status_code == 200

        def test_second(ecr_server, ecr_login):
            ports.append(ecr_server.port)
            url = f"{ecr_server.url}/v2/only-in-first/tags/list"
            assert requests.get(url, auth=("AWS", ecr_login.password)).status_code == 404

        def test_same_server():
            assert len(ports) == 2 and ports[0] == ports[1]

        def test_backend_without_server_names_ecr_hosts(ecr_client):
            repo = ecr_client.create_repository(repositoryName="offline")["repository"]
            assert repo["repositoryUri"] == "123456789012.dkr.ecr.us-east-1.amazonaws.com/offline"
        """
    )
    run_inner(inner, plugin_args).assert_outcomes(passed=4)


def test_mock_is_stopped_after_the_test(inner: pytest.Pytester, plugin_args: list[str]) -> None:
    inner.makepyfile(
        """
        import boto3, pytest
        from botocore.config import Config
        from botocore.exceptions import EndpointConnectionError

        def test_uses_mock(ecr_client):
            ecr_client.describe_repositories()

        def test_after_it():
            client = boto3.client(
                "ecr", region_name="us-east-1", endpoint_url="http://127.0.0.1:9",
                aws_access_key_id="a", aws_secret_access_key="b",
                config=Config(retries={"max_attempts": 1, "mode": "standard"}),
            )
            with pytest.raises(EndpointConnectionError):
                client.describe_repositories()
        """
    )
    run_inner(inner, plugin_args).assert_outcomes(passed=2)


def test_fixtures_drive_the_deploy_example(inner: pytest.Pytester, plugin_args: list[str]) -> None:
    inner.syspathinsert(ROOT / "examples")
    inner.makepyfile(
        """
        from deploy_by_digest import image_reference
        from push_with_layer_api import push_image

        def test_deploy_pins_the_digest(ecr_client):
            ecr_client.create_repository(repositoryName="svc")
            digest = push_image(ecr_client, "svc", "prod", {"bin": b"v1"})
            ref = image_reference(ecr_client, "svc", "prod")
            assert ref == f"123456789012.dkr.ecr.us-east-1.amazonaws.com/svc@{digest}"
        """
    )
    run_inner(inner, plugin_args).assert_outcomes(passed=1)


# ----- packaging ---------------------------------------------------------------------------


def _pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_pyproject_registers_the_plugin_under_pytest11() -> None:
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    assert project["entry-points"]["pytest11"] == {"ecr_mock": PLUGIN_MODULE}
    assert project["scripts"] == {"ecr-mock": "ecr_mock.cli:main"}
    setuptools = _pyproject()["tool"]["setuptools"]  # type: ignore[index]
    assert setuptools["package-dir"][PLUGIN_MODULE] == "pytest_plugin"


def _packages_setup_gives(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ``packages`` setup.py hands setuptools (it finds them on disk)."""
    import setuptools

    seen: dict[str, Any] = {}
    monkeypatch.setattr(setuptools, "setup", lambda **kwargs: seen.update(kwargs))
    monkeypatch.chdir(ROOT)
    runpy.run_path(str(ROOT / "setup.py"))
    return list(seen["packages"])


def test_the_build_includes_every_package_of_the_source_tree(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert "packages" not in _pyproject()["tool"]["setuptools"]  # type: ignore[index]
    packages = _packages_setup_gives(monkeypatch)
    on_disk = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in (ROOT / "ecr_mock").rglob("__init__.py")
        if "__pycache__" not in path.parts
    }
    assert on_disk <= set(packages)
    assert {"ecr_mock.services", "ecr_mock.runtime.providers"} <= set(packages)
    assert PLUGIN_MODULE in packages


@pytest.mark.skipif(not _entry_point_installed(), reason="ecr-mock is not installed")
def test_installed_entry_point_loads_the_plugin_module() -> None:
    (entry,) = [
        ep for ep in importlib.metadata.entry_points(group="pytest11") if ep.name == "ecr_mock"
    ]
    module = entry.load()
    assert module.__name__ == PLUGIN_MODULE
    assert callable(module.ecr_client)


def test_scan_findings_and_events_fixtures(inner: pytest.Pytester, plugin_args: list[str]) -> None:
    inner.makepyfile(
        """
        import hashlib, json

        def push(client, backend):
            from ecr_mock.domain.blobs import Blob
            reg = backend.registry()
            repo = backend.get_repository(reg, "scanned")
            config, layer = Blob.from_bytes(b'{"os":"linux"}'), Blob.from_bytes(b"layer")
            backend.store_blob(reg, repo, config)
            backend.store_blob(reg, repo, layer)
            manifest = json.dumps({
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                           "digest": config.digest, "size": config.size},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                            "digest": layer.digest, "size": layer.size}],
            })
            client.put_image(repositoryName="scanned", imageManifest=manifest, imageTag="v1")

        def test_findings(ecr_client, ecr_backend, ecr_scan_findings, ecr_events):
            ecr_client.create_repository(repositoryName="scanned")
            ecr_scan_findings("scanned", [{"name": "CVE-2099-0001", "severity": "CRITICAL"}])
            push(ecr_client, ecr_backend)
            ecr_client.start_image_scan(repositoryName="scanned", imageId={"imageTag": "v1"})
            found = ecr_client.describe_image_scan_findings(
                repositoryName="scanned", imageId={"imageTag": "v1"})
            names = [f["name"] for f in found["imageScanFindings"]["findings"]]
            assert names == ["CVE-2099-0001"]
            pushes = ecr_events.of_type("ECR Image Action")
            assert [e["detail"]["action-type"] for e in pushes] == ["PUSH"]
        """
    )
    run_inner(inner, plugin_args).assert_outcomes(passed=1)


# ----- @pytest.mark.ecr_mock(allow_missing_layers=...) ----------------------------------------

_MARKED_SUITE = """
import json
import pytest
from botocore.exceptions import ClientError

MANIFEST = json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
    "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7023,
               "digest": "sha256:" + "c" * 64},
    "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "size": 32654, "digest": "sha256:" + "a" * 64}],
})


def push(client):
    client.create_repository(repositoryName="app")
    return client.put_image(repositoryName="app", imageManifest=MANIFEST, imageTag="v1")


@pytest.mark.ecr_mock(allow_missing_layers=True)
def test_marked(ecr_client):
    assert push(ecr_client)["image"]["imageId"]["imageTag"] == "v1"


@pytest.mark.ecr_mock(allow_missing_layers=False)
def test_marked_off(ecr_client):
    with pytest.raises(ClientError) as caught:
        push(ecr_client)
    assert caught.value.response["Error"]["Code"] == "LayersNotFoundException"


def test_unmarked(ecr_client):
    push(ecr_client)
"""


def test_marker_turns_the_switch_on_per_test(
    inner: pytest.Pytester, plugin_args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ECR_MOCK_ALLOW_MISSING_LAYERS", raising=False)
    inner.makepyfile(_MARKED_SUITE)
    result = run_inner(inner, plugin_args, "-q")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        ["*LayersNotFoundException: An error occurred*", "FAILED *::test_unmarked - *"]
    )


def test_environment_turns_the_switch_on_for_unmarked_tests(
    inner: pytest.Pytester, plugin_args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECR_MOCK_ALLOW_MISSING_LAYERS", "1")
    inner.makepyfile(_MARKED_SUITE)
    run_inner(inner, plugin_args, "-q").assert_outcomes(passed=3)


def test_ecr_public_client_answers_in_the_tests_mock(
    inner: pytest.Pytester, plugin_args: list[str]
) -> None:
    inner.makepyfile(
        """
        def test_public(ecr_public_client, ecr_client):
            ecr_public_client.create_repository(repositoryName="pub")
            assert ecr_client.describe_repositories()["repositories"] == []
            names = [
                r["repositoryName"]
                for r in ecr_public_client.describe_repositories()["repositories"]
            ]
            assert names == ["pub"]
        """
    )
    run_inner(inner, plugin_args).assert_outcomes(passed=1)
