"""The plugin's seeding, shared backends, any-principal logins, and fixtures against a live server."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import requests

from tests.support.serve import clean_env
from tests.test_plugin import ROOT, plugin_args, run_inner

__all__ = ["plugin_args"]


@pytest.fixture
def inner(pytester: pytest.Pytester, plugin_args: list[str]) -> pytest.Pytester:
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    pytester.syspathinsert(ROOT)
    return pytester


SEEDED_TESTS = """
import json, pytest, requests

SEED = {"repositories": [{"name": "app", "images": [{"synthetic": {}, "tags": ["v1"]}]}]}

@pytest.mark.ecr_seed(SEED)
def test_marker_seeds_before_the_test(ecr_client):
    [image] = ecr_client.describe_images(repositoryName="app")["imageDetails"]
    assert image["imageTags"] == ["v1"]

@pytest.mark.ecr_seed("seed.json")
def test_marker_reads_a_file_next_to_the_test(ecr_client):
    names = [r["repositoryName"] for r in ecr_client.describe_repositories()["repositories"]]
    assert names == ["from-file"]

def test_each_test_starts_empty(ecr_client, ecr_seed):
    assert ecr_client.describe_repositories()["repositories"] == []
    made = ecr_seed({"repositories": [{"name": "late"}]})
    assert [r["name"] for r in made["repositories"]] == ["late"]

def test_bad_seed_names_the_field(ecr_seed):
    from ecr_mock.services.seed import SeedError
    from ecr_mock.testing.remote import ControlAPIError
    with pytest.raises((SeedError, ControlAPIError)) as refused:
        ecr_seed({"repositories": [{"name": "x1", "imageTagMutability": "NOPE"}]})
    assert "repositories[0].imageTagMutability" in str(refused.value)

def test_clock_and_login(ecr_client, ecr_clock, ecr_server, ecr_login, ecr_seed):
    ecr_seed(SEED)
    accept = {"Accept": "application/vnd.oci.image.manifest.v1+json"}
    url = f"{ecr_server.url}/v2/app/manifests/v1"
    auth = (ecr_login.username, ecr_login.password)
    assert requests.get(url, auth=auth, headers=accept).status_code == 200
    ecr_clock.advance(hours=13)
    assert requests.get(url, auth=auth, headers=accept).status_code == 403

def test_login_as_a_principal_follows_its_policies(ecr_server, ecr_login_as, ecr_seed, ecr_backend):
    ecr_seed(SEED)
    login = ecr_login_as("arn:aws:iam::123456789012:user/nobody")
    refused = requests.get(f"{ecr_server.url}/v2/app/tags/list", auth=("AWS", login.password))
    assert refused.status_code == 403
    assert "user/nobody is not authorized" in refused.text

def test_scan_findings(ecr_client, ecr_scan_findings, ecr_seed):
    ecr_seed(SEED)
    ecr_scan_findings("app", [{"name": "CVE-7", "severity": "LOW"}])
    ecr_client.start_image_scan(repositoryName="app", imageId={"imageTag": "v1"})
    found = ecr_client.describe_image_scan_findings(repositoryName="app", imageId={"imageTag": "v1"})
    assert [f["name"] for f in found["imageScanFindings"]["findings"]] == ["CVE-7"]
"""


def write_seeded_tests(inner: pytest.Pytester) -> None:
    inner.makepyfile(test_seeded=SEEDED_TESTS)
    (inner.path / "seed.json").write_text(json.dumps({"repositories": [{"name": "from-file"}]}))


def test_seeding_fixtures_in_process(inner: pytest.Pytester, plugin_args: list[str]) -> None:
    write_seeded_tests(inner)
    run_inner(inner, plugin_args).assert_outcomes(passed=7)


def test_module_scoped_seeded_backend_is_shared(
    inner: pytest.Pytester, plugin_args: list[str]
) -> None:
    inner.makepyfile(
        """
        import pytest

        @pytest.fixture(scope="module")
        def world(ecr_backend_factory):
            return ecr_backend_factory(seed={"repositories": [{"name": "shared"}]})

        pytestmark = pytest.mark.ecr_mock(backend="world")

        def test_first_sees_the_seed_and_adds(ecr_client):
            names = [r["repositoryName"] for r in ecr_client.describe_repositories()["repositories"]]
            assert names == ["shared"]
            ecr_client.create_repository(repositoryName="added")

        def test_second_sees_both(ecr_client, world, ecr_backend):
            assert ecr_backend is world
            names = sorted(r["repositoryName"] for r in ecr_client.describe_repositories()["repositories"])
            assert names == ["added", "shared"]
        """
    )
    run_inner(inner, plugin_args).assert_outcomes(passed=2)


def test_marker_principal_makes_ecr_login_speak_for_it(
    inner: pytest.Pytester, plugin_args: list[str]
) -> None:
    inner.makepyfile(
        """
        import pytest, requests

        @pytest.mark.ecr_mock(principal="arn:aws:iam::123456789012:role/deployer")
        def test_role(ecr_server, ecr_login, ecr_backend):
            token = ecr_backend.tokens.check(ecr_login.password)
            assert token.principal.arn == "arn:aws:iam::123456789012:role/deployer"
            assert token.principal.kind == "role"
        """
    )
    run_inner(inner, plugin_args).assert_outcomes(passed=1)


# ----- against a running ecr-mock serve -----------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``ecr-mock serve`` in a subprocess on a free port; its URL."""
    tmp = tmp_path_factory.mktemp("served")
    process = subprocess.Popen(
        [sys.executable, "-m", "ecr_mock", "serve", "--port", "0", "--quiet"],
        env=clean_env(tmp),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    url = first.split(" at ", 1)[1].split(" ", 1)[0]
    deadline = time.monotonic() + 60
    while True:  # readiness wait
        try:
            requests.get(f"{url}/ecr-mock/health", timeout=2)
            break
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.05)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_seeding_fixtures_against_a_running_server(
    inner: pytest.Pytester, plugin_args: list[str], served: str
) -> None:
    write_seeded_tests(inner)
    result = run_inner(inner, plugin_args, "--ecr-mock-url", served)
    result.assert_outcomes(passed=7)
    state = requests.get(f"{served}/ecr-mock/state", timeout=30).json()
    names = {repo["name"] for reg in state["registries"] for repo in reg["repositories"]}
    assert names == {"app"}  # what the last test left; every test started from a reset


def test_ecr_mock_url_from_the_environment(
    inner: pytest.Pytester,
    plugin_args: list[str],
    served: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ECR_MOCK_URL", served)
    inner.makepyfile(
        """
        import boto3
        from ecr_mock.testing.remote import RemoteEcrMock

        def test_plain_boto3_reaches_the_server(ecr_backend, ecr_server):
            assert isinstance(ecr_backend, RemoteEcrMock)
            boto3.client("ecr", region_name="us-east-1").create_repository(repositoryName="env")
            state = ecr_backend.state()
            assert [r["name"] for reg in state["registries"] for r in reg["repositories"]] == ["env"]
            assert ecr_server.url == ecr_backend.url

        def test_events_come_from_the_server(ecr_seed, ecr_events):
            ecr_seed({"repositories": [{"name": "ev", "images": [
                {"synthetic": {"layers": 1}, "tags": ["v1"]}]}]})
            pushed = ecr_events.of_type("ECR Image Action")
            assert [(e["detail"]["action-type"], e["detail"]["image-tag"]) for e in pushed] == [
                ("PUSH", "v1")
            ]
            ecr_events.clear()
            assert len(ecr_events) == 0
        """
    )
    run_inner(inner, plugin_args).assert_outcomes(passed=2)


def test_faults_calls_and_markers_against_a_running_server(
    inner: pytest.Pytester, plugin_args: list[str], served: str
) -> None:
    inner.makepyfile(
        """
        import pytest
        from botocore.exceptions import ClientError

        @pytest.mark.ecr_fault(operation="CreateRepository", error="LimitExceededException")
        def test_a_marker_rule_reaches_the_server(ecr_client, ecr_calls):
            with pytest.raises(ClientError) as raised:
                ecr_client.create_repository(repositoryName="refused")
            assert raised.value.response["Error"]["Code"] == "LimitExceededException"
            assert [c.error_code for c in ecr_calls.of(operation="CreateRepository")][-1] == (
                "LimitExceededException"
            )

        def test_the_previous_tests_rule_is_gone(ecr_client, ecr_faults, ecr_calls):
            assert list(ecr_faults) == [] and len(ecr_calls) == 0
            ecr_client.create_repository(repositoryName="fine")
            with ecr_faults.add(operation="DescribeRepositories", error="InvalidParameterException",
                                times=1) as rule:
                with pytest.raises(ClientError):
                    ecr_client.describe_repositories()
                assert rule.hits == 1
            assert [r["repositoryName"] for r in ecr_client.describe_repositories()["repositories"]] == ["fine"]
            assert ecr_calls.operations() == [
                "CreateRepository", "DescribeRepositories", "DescribeRepositories"
            ]
            assert [(c.status, c.error_code) for c in ecr_calls.errors()] == [
                (400, "InvalidParameterException")
            ]
            assert ecr_calls[-1].operation == "DescribeRepositories"
            bad = pytest.raises(Exception, ecr_faults.add, operation="NoSuchOperation", error="x")
            assert bad.value.status == 400
        """
    )
    run_inner(inner, plugin_args, "--ecr-mock-url", served, "-p", "no:randomly").assert_outcomes(
        passed=2
    )
