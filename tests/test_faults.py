"""Fault rules, quotas mode and the call record in-process: boto3 retries, shapes, counting."""

from __future__ import annotations

import json
import pickle
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from ecr_mock import Backend, mock_ecr
from ecr_mock.protocols.ecr_api.dispatch import TARGET_PREFIX, handle
from ecr_mock.protocols.registry.app import basic_auth_headers
from ecr_mock.testing.faults import FaultRuleError, FaultRules, attach
from tests.ecr_api.helpers import push_image

REGION = "us-east-1"
HOST = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


def client(mode: str = "standard", attempts: int = 5, region: str = REGION) -> Any:
    config = Config(retries={"mode": mode, "max_attempts": attempts})
    return boto3.client("ecr", region_name=region, config=config)


def api(backend: Backend, operation: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    status, payload = handle(
        backend, TARGET_PREFIX + operation, json.dumps(body).encode(), {}, validate=True
    )
    return status, json.loads(payload)


# ----- boto3 retry modes ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["standard", "adaptive"])
def test_boto3_retries_through_two_throttles_on_put_image(
    ecr_mock: mock_ecr, ecr_faults: FaultRules, mode: str
) -> None:
    ecr = client(mode)
    ecr.create_repository(repositoryName="app")
    rule = ecr_faults.add(operation="PutImage", error="ThrottlingException", times=2)
    pushed = push_image(ecr, "app", "retry", tag="v1")
    detail = ecr.describe_images(repositoryName="app")["imageDetails"]
    assert [d["imageDigest"] for d in detail] == [pushed.digest]
    assert rule.hits == 2 and rule.spent
    attempts = ecr_mock.backend.calls.of(operation="PutImage")
    assert [(c.status, c.error_code) for c in attempts] == [
        (400, "ThrottlingException"),
        (400, "ThrottlingException"),
        (200, None),
    ]
    assert [c.fault is not None for c in attempts] == [True, True, False]


def test_after_commit_retry_meets_image_already_exists(
    ecr_mock: mock_ecr, ecr_faults: FaultRules
) -> None:
    ecr = client()
    ecr.create_repository(repositoryName="app")
    ecr_faults.add(operation="PutImage", error="ServerException", after_commit=True, times=1)
    with pytest.raises(ClientError) as raised:
        push_image(ecr, "app", "lost", tag="v1")
    assert raised.value.response["Error"]["Code"] == "ImageAlreadyExistsException"
    images = ecr.describe_images(repositoryName="app")["imageDetails"]
    assert len(images) == 1 and images[0]["imageTags"] == ["v1"]
    codes = [c.error_code for c in ecr_mock.backend.calls.of(operation="PutImage")]
    assert codes == ["ServerException", "ImageAlreadyExistsException"]


def test_a_faulted_put_image_stores_nothing(ecr_mock: mock_ecr, ecr_faults: FaultRules) -> None:
    ecr = client(attempts=1)
    ecr.create_repository(repositoryName="app")
    ecr_faults.add(operation="PutImage", error="ServerException")
    with pytest.raises(ClientError) as raised:
        push_image(ecr, "app", "never", tag="v1")
    assert raised.value.response["Error"]["Code"] == "ServerException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert ecr.describe_images(repositoryName="app")["imageDetails"] == []
    assert ecr.list_images(repositoryName="app")["imageIds"] == []


def test_a_dropped_answer_in_process_is_retried_by_boto3(
    ecr_mock: mock_ecr, ecr_faults: FaultRules
) -> None:
    ecr = client()
    ecr_faults.add(operation="CreateRepository", disconnect_after_bytes=10, times=1)
    with pytest.raises(ClientError) as raised:
        ecr.create_repository(repositoryName="dropped")
    # The first call was carried out; only its answer was lost, so the retry finds the repo.
    assert raised.value.response["Error"]["Code"] == "RepositoryAlreadyExistsException"
    assert ecr_mock.backend.calls.operations() == ["CreateRepository", "CreateRepository"]


@pytest.mark.ecr_fault(operation="CreateRepository", error="KmsException", times=1)
def test_the_marker_adds_rules_before_the_test(ecr_client: Any, ecr_faults: FaultRules) -> None:
    with pytest.raises(ClientError) as raised:
        ecr_client.create_repository(repositoryName="first")
    assert raised.value.response["Error"]["Code"] == "KmsException"
    assert [rule.hits for rule in ecr_faults] == [1]
    ecr_client.create_repository(repositoryName="second")


# ----- answers and rule checks ----------------------------------------------------------------


def test_api_fault_answers_in_ecr_shape_with_status_and_message_overrides() -> None:
    backend = attach(Backend())
    backend.faults.add(
        operation="DescribeRepositories",
        error="ServiceUnavailable",
        message="try later",
        status=503,
    )
    backend.faults.add(operation="ListImages", error="ThrottlingException")
    assert api(backend, "DescribeRepositories", {}) == (
        503,
        {"__type": "ServiceUnavailable", "message": "try later"},
    )
    assert api(backend, "ListImages", {"repositoryName": "xy"}) == (
        400,
        {"__type": "ThrottlingException", "message": "Rate exceeded"},
    )
    status, body = api(backend, "CreateRepository", {"repositoryName": "xy"})
    assert status == 200 and body["repository"]["repositoryName"] == "xy"


def test_server_exception_defaults_to_500() -> None:
    backend = attach(Backend())
    backend.faults.add(operation="CreateRepository", error="ServerException")
    status, body = api(backend, "CreateRepository", {"repositoryName": "xy"})
    assert status == 500 and body["__type"] == "ServerException"
    assert backend.registry().repositories == {}


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"operation": "PushImage", "error": "ServerException"}, "valid ECR operations: "),
        ({"operation": "PutImage", "error": "Boom"}, "valid ECR error codes: "),
        ({"operation": "blob.fetch", "delay_ms": 1}, "registry routes: "),
        ({"operation": "blob.get", "error": "ThrottlingException"}, "valid OCI error codes: "),
        ({"surface": "registry", "operation": "PutImage", "delay_ms": 1}, "registry routes: "),
        ({"operation": "PutImage", "errors": "X"}, "Unknown fault rule field(s) errors"),
        ({"operation": "PutImage"}, "needs an effect"),
        ({"operation": "PutImage", "after_commit": True, "delay_ms": 5}, "after_commit needs"),
        ({"error": "ServerException", "times": 0}, "times must be at least 1"),
        ({"error": "ServerException", "probability": 2}, "probability must be between"),
        ({"error": "ServerException", "account_id": "12"}, "12-digit"),
        ({"surface": "web", "error": "ServerException"}, "surface must be one of"),
    ],
)
def test_invalid_rules_are_refused_with_the_valid_names(
    rule: dict[str, Any], expected: str
) -> None:
    backend = attach(Backend())
    with pytest.raises(FaultRuleError) as raised:
        backend.faults.add(**rule)
    assert expected in str(raised.value)
    assert len(backend.faults) == 0


def test_unknown_operation_message_lists_model_operations_and_routes() -> None:
    backend = attach(Backend())
    with pytest.raises(FaultRuleError) as raised:
        backend.faults.add(operation="Nope", delay_ms=1)
    message = str(raised.value)
    for name in ("PutImage", "BatchGetImage", "GetAuthorizationToken", "blob.get", "manifest.put"):
        assert name in message


def test_a_bare_backend_refuses_rules_until_attached() -> None:
    backend = Backend()
    with pytest.raises(FaultRuleError, match="serves no surface"):
        backend.faults.add(error="ServerException")
    attach(backend).faults.add(error="ServerException")
    assert len(backend.faults) == 1


# ----- when a rule fires ----------------------------------------------------------------------


def _statuses(backend: Backend, count: int) -> list[int]:
    return [api(backend, "DescribeRepositories", {})[0] for _ in range(count)]


def test_skip_every_and_times_pick_which_matches_fail() -> None:
    backend = attach(Backend())
    rule = backend.faults.add(
        operation="DescribeRepositories", error="ServerException", skip=1, every=2, times=2
    )
    assert _statuses(backend, 8) == [200, 200, 500, 200, 500, 200, 200, 200]
    assert (rule.hits, rule.matches, rule.spent) == (2, 8, True)


def test_probability_with_a_seed_repeats_the_same_sequence() -> None:
    runs = []
    for _ in range(2):
        backend = attach(Backend())
        backend.faults.add(error="ServerException", probability=0.5, seed=7)
        runs.append(_statuses(backend, 40))
    assert runs[0] == runs[1]
    assert 0 < runs[0].count(500) < 40


def test_match_by_repository_glob_account_and_region() -> None:
    backend = attach(Backend())
    backend.faults.add(repository="team/*", error="ServerException")
    backend.faults.add(region="eu-west-1", error="ThrottlingException")
    backend.faults.add(account_id="111111111111", error="LimitExceededException")
    for name in ("team/a", "other"):
        api(backend, "CreateRepository", {"repositoryName": name})
    assert api(backend, "ListImages", {"repositoryName": "team/a"})[0] == 500
    assert api(backend, "ListImages", {"repositoryName": "other"})[0] == 200
    code = api(backend, "ListImages", {"repositoryName": "other", "registryId": "111111111111"})
    assert code[1]["__type"] == "LimitExceededException"
    with mock_ecr(backend):
        with pytest.raises(ClientError, match="ThrottlingException"):
            client(attempts=1, region="eu-west-1").describe_repositories()
        assert client(attempts=1).describe_repositories()["repositories"]


def test_rules_remove_clear_and_work_as_context_managers(
    ecr_client: Any, ecr_faults: FaultRules
) -> None:
    with ecr_faults.add(operation="DescribeRepositories", error="ServerException") as rule:
        assert [r.id for r in ecr_faults] == [rule.id]
        with pytest.raises(ClientError):
            client(attempts=1).describe_repositories()
    assert len(ecr_faults) == 0
    assert ecr_client.describe_repositories()["repositories"] == []
    kept = ecr_faults.add(error="ServerException", id="all")
    assert ecr_faults.get("all") is kept
    with pytest.raises(FaultRuleError, match="already exists"):
        ecr_faults.add(error="ServerException", id="all")
    ecr_faults.clear()
    assert ecr_client.describe_repositories()["repositories"] == []
    kept.remove()  # harmless once gone


def test_delays_add_up_and_are_recorded(ecr_mock: mock_ecr, ecr_faults: FaultRules) -> None:
    ecr_faults.add(operation="DescribeRepositories", delay_ms=20)
    ecr_faults.add(operation="DescribeRepositories", delay_ms=5, times=1)
    client().describe_repositories()
    fault = ecr_mock.backend.calls[-1].fault
    assert fault is not None and fault["delay_ms"] == 25 and len(fault["rules"]) == 2


# ----- the registry in-process ----------------------------------------------------------------


def test_registry_faults_answer_oci_errors_through_requests(ecr_mock: mock_ecr) -> None:
    backend = ecr_mock.backend
    client().create_repository(repositoryName="app")
    backend.faults.add(operation="tags.list", error="UNAVAILABLE", times=1)
    backend.faults.add(operation="catalog", error="TOOMANYREQUESTS")
    auth = basic_auth_headers(backend)
    first = requests.get(f"https://{HOST}/v2/app/tags/list", headers=auth, timeout=10)
    assert first.status_code == 503
    assert first.json()["errors"][0]["code"] == "UNAVAILABLE"
    second = requests.get(f"https://{HOST}/v2/app/tags/list", headers=auth, timeout=10)
    assert second.status_code == 200 and second.json()["name"] == "app"
    throttled = requests.get(f"https://{HOST}/v2/_catalog", headers=auth, timeout=10)
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "1"
    assert throttled.json()["errors"][0]["code"] == "TOOMANYREQUESTS"
    records = backend.calls.of(surface="registry")
    assert [(c.operation, c.status, c.error_code) for c in records] == [
        ("tags.list", 503, "UNAVAILABLE"),
        ("tags.list", 200, None),
        ("catalog", 429, "TOOMANYREQUESTS"),
    ]
    assert records[0].repository == "app" and records[0].method == "GET"
    assert records[0].account_id == "123456789012" and records[0].region == REGION


def test_a_cut_registry_answer_in_process_raises_what_requests_raises(ecr_mock: mock_ecr) -> None:
    backend = ecr_mock.backend
    client().create_repository(repositoryName="app")
    backend.faults.add(operation="tags.list", disconnect_after_bytes=3, times=1)
    url = f"https://{HOST}/v2/app/tags/list"
    auth = basic_auth_headers(backend)
    with pytest.raises(requests.exceptions.ChunkedEncodingError, match=r"IncompleteRead\(3 bytes"):
        requests.get(url, headers=auth, timeout=10)
    assert requests.get(url, headers=auth, timeout=10).json()["name"] == "app"


def test_a_faulted_manifest_put_stores_nothing_and_after_commit_stores_once(
    ecr_mock: mock_ecr,
) -> None:
    backend = ecr_mock.backend
    ecr = client()
    ecr.create_repository(repositoryName="app")
    pushed = push_image(ecr, "app", "base", tag="v0")
    manifest = pushed.manifest.encode()
    headers = {
        **basic_auth_headers(backend),
        "Content-Type": "application/vnd.docker.distribution.manifest.v2+json",
    }
    url = f"https://{HOST}/v2/app/manifests/v1"
    with backend.faults.add(operation="manifest.put", error="UNAVAILABLE"):
        assert requests.put(url, data=manifest, headers=headers, timeout=10).status_code == 503
    images = ecr.describe_images(repositoryName="app")["imageDetails"]
    assert [sorted(d["imageTags"]) for d in images] == [["v0"]]
    backend.faults.add(operation="manifest.put", error="UNKNOWN", after_commit=True, times=1)
    assert requests.put(url, data=manifest, headers=headers, timeout=10).status_code == 500
    images = ecr.describe_images(repositoryName="app")["imageDetails"]
    assert [sorted(d["imageTags"]) for d in images] == [["v0", "v1"]]


# ----- quotas mode ----------------------------------------------------------------------------


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_quotas_mode_throttles_put_image_at_ten_per_second() -> None:
    now = FakeTime()
    with mock_ecr(enforce_quotas=True) as backend:
        backend.quotas.time = now
        ecr = client(attempts=1)
        ecr.create_repository(repositoryName="app")
        manifests = [push_image(ecr, "app", f"s{i}", tag=None) for i in range(10)]
        assert len({m.digest for m in manifests}) == 10
        with pytest.raises(ClientError) as raised:
            push_image(ecr, "app", "eleventh")
        assert raised.value.response["Error"]["Code"] == "ThrottlingException"
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        for _ in range(30):  # operations without a documented rate are never throttled
            ecr.describe_repositories()
        now.now += 0.1  # one token back at 10 per second
        push_image(ecr, "app", "later")
        with pytest.raises(ClientError, match="ThrottlingException"):
            push_image(ecr, "app", "again")
        backend.add_access_key("AKIAOTHERACCOUNT0000", "210987654321")
        other = boto3.client(
            "ecr",
            region_name=REGION,
            aws_access_key_id="AKIAOTHERACCOUNT0000",
            aws_secret_access_key="x",
            config=Config(retries={"max_attempts": 1}),
        )
        other.create_repository(repositoryName="mine")
        push_image(other, "mine", "own-bucket")  # each account has its own buckets


def test_quotas_mode_counts_registry_pushes_as_put_image(ecr_mock: mock_ecr) -> None:
    backend = ecr_mock.backend
    ecr = client()
    ecr.create_repository(repositoryName="app")
    pushed = push_image(ecr, "app", "base")
    now = FakeTime()
    backend.quotas.time = now
    backend.quotas.enabled = True
    headers = {
        **basic_auth_headers(backend),
        "Content-Type": "application/vnd.docker.distribution.manifest.v2+json",
    }
    answers = [
        requests.put(
            f"https://{HOST}/v2/app/manifests/t{i}",
            data=pushed.manifest.encode(),
            headers=headers,
            timeout=10,
        )
        for i in range(11)
    ]
    assert [a.status_code for a in answers] == [201] * 10 + [429]
    assert answers[-1].json()["errors"][0]["code"] == "TOOMANYREQUESTS"
    backend.quotas.enabled = False
    assert len(ecr.describe_images(repositoryName="app")["imageDetails"][0]["imageTags"]) == 10


def test_quotas_are_off_by_default(ecr_mock: mock_ecr, ecr_calls: Any) -> None:
    ecr_mock.backend.quotas.time = FakeTime()  # every push in the same instant
    ecr = client(attempts=1)  # no silent retry: a throttle would raise here
    ecr.create_repository(repositoryName="app")
    pushed = [push_image(ecr, "app", f"s{i}", tag=f"t{i}").digest for i in range(15)]
    details = ecr.describe_images(repositoryName="app")["imageDetails"]
    assert sorted(d["imageDigest"] for d in details) == sorted(pushed)
    puts = ecr_calls.of(operation="PutImage")
    assert [(c.status, c.error_code) for c in puts] == [(200, None)] * 15


# ----- the call record ------------------------------------------------------------------------


def test_calls_record_parameters_principal_and_elide_layer_bytes(
    ecr_mock: mock_ecr, ecr_calls: Any
) -> None:
    ecr = client()
    ecr.create_repository(repositoryName="app", imageTagMutability="IMMUTABLE")
    push_image(ecr, "app", "rec", tag="v1")
    create = ecr_calls.of(operation="CreateRepository")[0]
    assert create.parameters == {"repositoryName": "app", "imageTagMutability": "IMMUTABLE"}
    assert create.surface == "api" and create.status == 200 and create.repository == "app"
    assert create.account_id == "123456789012" and create.region == REGION
    assert create.principal == "arn:aws:iam::123456789012:root"
    assert create.request_bytes > 0 and create.response_bytes > 0
    part = ecr_calls.of(operation="UploadLayerPart")[0]
    assert part.parameters["layerPartBlob"].endswith("characters elided>")
    assert ecr_calls.operations()[-1] == "PutImage"
    assert ecr_calls.of(repository="app", operation="PutImage")[0].parameters["imageTag"] == "v1"
    assert json.loads(json.dumps(ecr_calls[-1].to_dict()))["operation"] == "PutImage"


def test_calls_record_of_put_image_shows_the_manifest_as_sent(
    ecr_mock: mock_ecr, ecr_calls: Any
) -> None:
    ecr = client()
    ecr.create_repository(repositoryName="app")
    tagged = push_image(ecr, "app", "one", tag="v1")
    untagged = push_image(ecr, "app", "two")
    with pytest.raises(ClientError):
        ecr.put_image(repositoryName="app", imageManifest=tagged.manifest, imageTag="v1")
    records = ecr_calls.of(operation="PutImage")
    sent = [tagged.manifest, untagged.manifest, tagged.manifest]
    assert [r.parameters["imageManifest"] for r in records] == sent
    assert [r.to_dict()["parameters"]["imageManifest"] for r in records] == sent
    assert [r.status for r in records] == [200, 200, 400]
    assert records[0].parameters == {
        "repositoryName": "app",
        "imageManifest": tagged.manifest,
        "imageTag": "v1",
    }
    ecr.batch_delete_image(repositoryName="app", imageIds=[{"imageTag": "v1"}])
    assert records[0].parameters["imageManifest"] == tagged.manifest
    with pytest.raises(AttributeError):
        records[0].status = 500  # type: ignore[misc]
    copied = pickle.loads(pickle.dumps(records[0]))
    assert copied == records[0] and copied.parameters["imageManifest"] == tagged.manifest


def test_calls_ring_keeps_the_newest_and_reset_clears_it() -> None:
    mock = mock_ecr(max_calls=3)
    with mock as backend:
        assert backend.calls.maxlen == 3
        ecr = client()
        for name in ("a1", "a2", "a3", "a4", "a5"):
            ecr.create_repository(repositoryName=name)
        assert [c.parameters["repositoryName"] for c in backend.calls] == ["a3", "a4", "a5"]
        backend.faults.add(error="ServerException")
        mock.reset()
        assert len(mock.backend.calls) == 0 and len(mock.backend.faults) == 0
        assert mock.backend.calls.maxlen == 3
        ecr.describe_repositories()
        assert mock.backend.calls.operations() == ["DescribeRepositories"]


def test_calls_record_errors_of_unknown_operations_and_bad_bodies() -> None:
    backend = attach(Backend())
    handle(backend, TARGET_PREFIX + "NoSuchThing", b"{}", {})
    handle(backend, TARGET_PREFIX + "ListImages", b"[", {})
    assert [(c.operation, c.status, c.error_code) for c in backend.calls] == [
        ("NoSuchThing", 400, "UnknownOperationException"),
        ("ListImages", 400, "SerializationException"),
    ]
    assert [c.status for c in backend.calls.errors()] == [400, 400]


@pytest.mark.parametrize(("service", "failing"), [("ecr", "ecr"), ("ecr-public", "ecr-public")])
def test_a_rule_for_one_service_leaves_the_other_api_alone(
    ecr_mock: mock_ecr, ecr_faults: FaultRules, service: str, failing: str
) -> None:
    ecr_faults.add(
        service=service, operation="DescribeRepositories", error="ServerException", times=None
    )
    clients = {
        name: boto3.client(
            name,
            region_name=REGION,
            config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
        )
        for name in ("ecr", "ecr-public")
    }
    for name, api_client in clients.items():
        if name == failing:
            with pytest.raises(ClientError) as raised:
                api_client.describe_repositories()
            assert raised.value.response["Error"]["Code"] == "ServerException"
        else:
            assert api_client.describe_repositories()["repositories"] == []
    assert [(c.operation, c.error_code) for c in ecr_mock.backend.calls.errors()] == [
        ("DescribeRepositories", "ServerException")
    ]


def test_a_registry_rule_for_ecr_public_spares_the_private_registry(
    ecr_mock: mock_ecr, ecr_faults: FaultRules
) -> None:
    rule = ecr_faults.add(service="ecr-public", operation="base", error="UNAVAILABLE")
    answer = requests.get(
        f"https://{HOST}/v2/", headers=basic_auth_headers(ecr_mock.backend), timeout=10
    )
    assert answer.status_code == 200 and rule.matches == 0


def test_an_unknown_service_is_refused_with_the_valid_ones(ecr_mock: mock_ecr) -> None:
    with pytest.raises(FaultRuleError, match="service must be one of: ecr, ecr-public"):
        ecr_mock.backend.faults.add(service="s3", operation="PutImage", error="ServerException")
