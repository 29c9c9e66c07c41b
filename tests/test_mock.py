"""mock_ecr in-process: decorator and context manager forms, isolation, regions, moto interplay."""

from __future__ import annotations

import json
import subprocess
import sys
import unittest
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

from ecr_mock import Backend, mock_ecr

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "123456789012"
UNREACHABLE = "http://127.0.0.1:9"  # nothing listens: a call that escapes the mock fails fast
NO_RETRY = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=2)


@pytest.fixture(autouse=True)
def fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_ECR", raising=False)


def ecr(region: str = "us-east-1", **kwargs: Any) -> Any:
    return boto3.client("ecr", region_name=region, config=NO_RETRY, **kwargs)


def repository_names(client: Any) -> list[str]:
    return sorted(r["repositoryName"] for r in client.describe_repositories()["repositories"])


# ----- forms: decorator, context manager, start/stop ---------------------------------------


@mock_ecr()
def test_decorated_function_is_served_by_the_mock() -> None:
    created = ecr().create_repository(repositoryName="decorated")["repository"]
    assert created["repositoryArn"] == f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/decorated"
    assert repository_names(ecr()) == ["decorated"]


def test_decorated_function_gets_a_fresh_backend_on_each_call() -> None:
    seen: list[list[str]] = []

    @mock_ecr()
    def create_and_list() -> None:
        client = ecr()
        seen.append(repository_names(client))
        client.create_repository(repositoryName="once")

    create_and_list()
    create_and_list()
    assert seen == [[], []]


@mock_ecr()
class TestDecoratedClass:
    """Each test method of a decorated plain class runs inside its own mock."""

    def test_first_method_starts_empty_and_creates(self) -> None:
        assert repository_names(ecr()) == []
        ecr().create_repository(repositoryName="first")
        assert repository_names(ecr()) == ["first"]

    def test_second_method_starts_empty_and_creates(self) -> None:
        assert repository_names(ecr()) == []
        ecr().create_repository(repositoryName="second")
        assert repository_names(ecr()) == ["second"]


@mock_ecr()
class DecoratedTestCase(unittest.TestCase):
    """A decorated unittest.TestCase: setUp and the test run inside a fresh mock."""

    def setUp(self) -> None:
        self.client = ecr()
        self.client.create_repository(repositoryName="from-setup")

    def test_sees_the_repository_created_in_set_up(self) -> None:
        self.assertEqual(repository_names(self.client), ["from-setup"])

    def test_each_test_starts_from_set_up_only(self) -> None:
        self.client.create_repository(repositoryName="extra")
        self.assertEqual(repository_names(self.client), ["extra", "from-setup"])


def test_context_manager_yields_the_backend_that_answers() -> None:
    with mock_ecr() as backend:
        ecr().create_repository(repositoryName="ctx")
        assert list(backend.registry(ACCOUNT, "us-east-1").repositories) == ["ctx"]


def test_starting_twice_needs_two_stops() -> None:
    mock = mock_ecr()
    client = ecr(endpoint_url=UNREACHABLE)
    first = mock.start()
    second = mock.start()
    assert first is second
    mock.stop()
    assert mock.active
    client.create_repository(repositoryName="still-served")
    mock.stop()
    assert not mock.active
    with pytest.raises(EndpointConnectionError):
        client.describe_repositories()
    mock.stop()  # one stop too many is harmless
    assert not mock.active


def test_nested_mocks_innermost_answers_then_outer_again() -> None:
    with mock_ecr() as outer:
        ecr().create_repository(repositoryName="outer")
        with mock_ecr() as inner:
            assert repository_names(ecr()) == []
            ecr().create_repository(repositoryName="inner")
        assert repository_names(ecr()) == ["outer"]
    assert list(outer.registry().repositories) == ["outer"]
    assert list(inner.registry().repositories) == ["inner"]


def test_clients_created_before_and_after_start_are_both_served() -> None:
    before = ecr(endpoint_url=UNREACHABLE)
    with mock_ecr():
        after = ecr()
        before.create_repository(repositoryName="made-by-early-client")
        assert repository_names(after) == ["made-by-early-client"]


def test_every_region_is_served_with_its_own_registry() -> None:
    regions = ["us-east-1", "eu-west-1", "ap-northeast-1", "sa-east-1", "eu-central-2"]
    with mock_ecr():
        for region in regions:
            arn = ecr(region).create_repository(repositoryName=f"in-{region}")["repository"][
                "repositoryArn"
            ]
            assert arn == f"arn:aws:ecr:{region}:{ACCOUNT}:repository/in-{region}"
        for region in regions:
            assert repository_names(ecr(region)) == [f"in-{region}"]


def test_account_and_region_options_set_the_defaults() -> None:
    with mock_ecr(account_id="111122223333", region="eu-west-3"):
        repo = ecr("eu-west-3").create_repository(repositoryName="opts")["repository"]
    assert repo["registryId"] == "111122223333"
    assert repo["repositoryUri"] == "111122223333.dkr.ecr.eu-west-3.amazonaws.com/opts"


def test_each_new_mock_starts_empty() -> None:
    with mock_ecr():
        ecr().create_repository(repositoryName="gone")
    with mock_ecr():
        assert repository_names(ecr()) == []


def test_a_shared_backend_keeps_state_across_mocks() -> None:
    backend = Backend()
    with mock_ecr(backend):
        ecr().create_repository(repositoryName="kept")
    with mock_ecr(backend) as active:
        assert active is backend
        assert repository_names(ecr()) == ["kept"]


def test_errors_carry_the_ecr_code() -> None:
    with mock_ecr(), pytest.raises(ClientError) as caught:
        ecr().describe_repositories(repositoryNames=["missing"])
    assert caught.value.response["Error"]["Code"] == "RepositoryNotFoundException"


# ----- what is left alone ------------------------------------------------------------------


def test_other_services_are_not_answered() -> None:
    with mock_ecr():
        s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=UNREACHABLE, config=NO_RETRY)
        sts = boto3.client(
            "sts", region_name="us-east-1", endpoint_url=UNREACHABLE, config=NO_RETRY
        )
        with pytest.raises(EndpointConnectionError):
            s3.list_buckets()
        with pytest.raises(EndpointConnectionError):
            sts.get_caller_identity()


def test_after_stop_ecr_is_not_answered_any_more() -> None:
    client = ecr(endpoint_url=UNREACHABLE)
    with mock_ecr():
        client.create_repository(repositoryName="while-active")
    with pytest.raises(EndpointConnectionError):
        client.describe_repositories()


def test_requests_to_a_registry_host_are_answered_in_process() -> None:
    url = f"https://{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/v2/"
    with mock_ecr():
        response = requests.get(url, timeout=5)
    assert response.status_code == 401
    assert response.headers["Docker-Distribution-Api-Version"] == "registry/2.0"
    assert 'service="ecr.amazonaws.com"' in response.headers["WWW-Authenticate"]


def test_requests_are_restored_after_stop() -> None:
    from requests.adapters import HTTPAdapter

    original = HTTPAdapter.send
    with mock_ecr():
        requests.Session()  # make sure requests is imported and patched while active
        assert HTTPAdapter.send is not original
    assert HTTPAdapter.send is original


# ----- moto --------------------------------------------------------------------------------


@pytest.fixture
def moto_ecr_repositories() -> Iterator[Any]:
    pytest.importorskip("moto")
    from moto.backends import get_backend

    def repositories(region: str = "us-east-1") -> dict[str, Any]:
        return dict(get_backend("ecr")[ACCOUNT][region].repositories)

    yield repositories


def _ecr_answered_by_us_and_the_rest_by_moto(backend: Backend, moto_repos: Any) -> None:
    ecr().create_repository(repositoryName="ours")
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="moto-bucket")
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_user(UserName="moto-user")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["moto-bucket"]
    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["moto-user"]
    assert repository_names(ecr()) == ["ours"]
    assert list(backend.registry(ACCOUNT, "us-east-1").repositories) == ["ours"]
    assert moto_repos() == {}


def test_inside_moto_mock_aws_ecr_goes_to_ecr_mock_only(moto_ecr_repositories: Any) -> None:
    from moto import mock_aws

    with mock_aws(), mock_ecr() as backend:
        _ecr_answered_by_us_and_the_rest_by_moto(backend, moto_ecr_repositories)


def test_around_moto_mock_aws_ecr_goes_to_ecr_mock_only(moto_ecr_repositories: Any) -> None:
    from moto import mock_aws

    with mock_ecr() as backend, mock_aws():
        _ecr_answered_by_us_and_the_rest_by_moto(backend, moto_ecr_repositories)


def test_moto_gets_ecr_back_once_ecr_mock_stops(moto_ecr_repositories: Any) -> None:
    from moto import mock_aws

    with mock_aws():
        with mock_ecr():
            ecr().create_repository(repositoryName="ours")
        ecr().create_repository(repositoryName="motos")
        assert list(moto_ecr_repositories()) == ["motos"]


# ----- import cost -------------------------------------------------------------------------


def test_import_and_use_of_ecr_mock_does_not_import_moto() -> None:
    code = """
import json, sys
import ecr_mock
after_import = sorted(m for m in sys.modules if m.split(".")[0] == "moto")
import boto3
with ecr_mock.mock_ecr():
    boto3.client("ecr", region_name="us-east-1").create_repository(repositoryName="no-moto")
after_use = sorted(m for m in sys.modules if m.split(".")[0] == "moto")
print(json.dumps([after_import, after_use]))
"""
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [[], []]


def test_bare_decorator_without_parentheses_serves_ecr() -> None:
    @mock_ecr
    def create() -> str:
        client = boto3.client("ecr", region_name="us-east-1")
        return str(client.create_repository(repositoryName="bare")["repository"]["repositoryName"])

    assert create() == "bare"


def test_in_process_api_calls_load_no_http_stack_and_no_moto() -> None:
    code = (
        "import sys, boto3\n"
        "from ecr_mock import mock_ecr\n"
        "with mock_ecr():\n"
        "    c = boto3.client('ecr', region_name='us-east-1')\n"
        "    c.create_repository(repositoryName='light')\n"
        "    c.describe_repositories()\n"
        "print(sorted(m for m in ('werkzeug', 'requests', 'moto', 'flask') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
