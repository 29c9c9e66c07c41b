"""Fault rules and the call record over HTTP: /ecr-mock/faults, /ecr-mock/calls, cut answers."""

from __future__ import annotations

import hashlib
import http.client
import json
import subprocess
import sys
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from ecr_mock import Backend
from ecr_mock.protocols.registry.app import basic_auth_headers
from ecr_mock.server import EcrMockServer


def client(server: EcrMockServer, attempts: int = 3) -> Any:
    return boto3.client(
        "ecr",
        region_name="us-east-1",
        endpoint_url=server.url,
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"mode": "standard", "max_attempts": attempts}),
    )


def test_post_get_and_delete_fault_rules(own_server: EcrMockServer) -> None:
    base = f"{own_server.url}/ecr-mock/faults"
    created = requests.post(
        base, json={"operation": "DescribeRepositories", "error": "ServerException"}, timeout=10
    )
    assert created.status_code == 201
    rule = created.json()
    assert rule["operation"] == "DescribeRepositories" and rule["surface"] == "api"
    assert rule["hits"] == 0 and rule["id"]
    with pytest.raises(ClientError, match="ServerException"):
        client(own_server, attempts=2).describe_repositories()
    attempts = len(own_server.backend.calls.of(operation="DescribeRepositories"))
    assert attempts >= 2
    listed = requests.get(base, timeout=10).json()["faults"]
    assert [(r["id"], r["hits"]) for r in listed] == [(rule["id"], attempts)]
    assert requests.get(f"{base}/{rule['id']}", timeout=10).json()["hits"] == attempts
    assert requests.delete(f"{base}/{rule['id']}", timeout=10).status_code == 204
    assert requests.get(f"{base}/{rule['id']}", timeout=10).status_code == 404
    assert client(own_server).describe_repositories()["repositories"] == []
    many = requests.post(
        base,
        json=[{"error": "UNAVAILABLE", "id": "a"}, {"operation": "PutImage", "delay_ms": 1}],
        timeout=10,
    )
    assert many.status_code == 201 and next(r["id"] for r in many.json()) == "a"
    assert requests.delete(base, timeout=10).status_code == 204
    assert requests.get(base, timeout=10).json() == {"faults": []}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"operation": "PushImage", "error": "ServerException"}, "PutImage"),
        ({"operation": "blob.get", "error": "Nope"}, "TOOMANYREQUESTS"),
        ({"bogus": 1}, "Unknown fault rule field(s) bogus"),
        ([{"error": "ServerException"}, {"error": "Nope"}], "Unknown error 'Nope'"),
        ("not an object", "JSON object"),
    ],
)
def test_bad_rules_are_refused_with_400_and_nothing_is_added(
    own_server: EcrMockServer, body: Any, expected: str
) -> None:
    answer = requests.post(f"{own_server.url}/ecr-mock/faults", json=body, timeout=10)
    assert answer.status_code == 400
    assert expected in answer.json()["message"]
    assert requests.get(f"{own_server.url}/ecr-mock/faults", timeout=10).json() == {"faults": []}


def test_calls_endpoint_lists_and_filters_and_clears(own_server: EcrMockServer) -> None:
    ecr = client(own_server)
    ecr.create_repository(repositoryName="one")
    ecr.create_repository(repositoryName="two")
    ecr.describe_repositories()
    token = basic_auth_headers(own_server.backend)
    assert requests.get(f"{own_server.url}/v2/one/tags/list", headers=token, timeout=10).ok
    calls = f"{own_server.url}/ecr-mock/calls"
    everything = requests.get(calls, timeout=10).json()["calls"]
    assert [c["operation"] for c in everything] == [
        "CreateRepository",
        "CreateRepository",
        "DescribeRepositories",
        "tags.list",
    ]
    assert everything[-1]["surface"] == "registry" and everything[-1]["path"] == "/v2/one/tags/list"
    two = requests.get(calls, params={"repository": "two"}, timeout=10).json()["calls"]
    assert [c["parameters"] for c in two] == [{"repositoryName": "two"}]
    last = requests.get(calls, params={"limit": "1", "surface": "api"}, timeout=10).json()
    assert [c["operation"] for c in last["calls"]] == ["DescribeRepositories"]
    bad = requests.get(calls, params={"colour": "red"}, timeout=10)
    assert bad.status_code == 400 and "colour" in bad.json()["message"]
    assert requests.delete(calls, timeout=10).status_code == 204
    assert requests.get(calls, params={"operation": "CreateRepository"}, timeout=10).json() == {
        "calls": []
    }


def test_unknown_control_paths_and_methods_answer_json(own_server: EcrMockServer) -> None:
    wrong = requests.put(f"{own_server.url}/ecr-mock/faults", timeout=10)
    assert wrong.status_code == 405 and "POST" in wrong.json()["message"]
    assert requests.get(f"{own_server.url}/ecr-mock/faults/none", timeout=10).status_code == 404


def _raw_get(server: EcrMockServer, path: str, headers: dict[str, str]) -> tuple[int, int, bytes]:
    """GET over a fresh connection; (status, declared length, bytes received before EOF)."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    declared = int(response.getheader("Content-Length") or -1)
    received = b""
    try:
        while chunk := response.read1(65536):
            received += chunk
    except (TimeoutError, http.client.IncompleteRead, ConnectionError):
        pass
    conn.close()
    return response.status, declared, received


def test_disconnect_after_bytes_cuts_a_blob_download_mid_body(own_server: EcrMockServer) -> None:
    from tests.ecr_api.helpers import upload_layer

    ecr = client(own_server)
    ecr.create_repository(repositoryName="big")
    data = hashlib.sha256(b"seed").digest() * 40_000  # 1.28 MB
    digest = upload_layer(ecr, "big", data)
    own_server.backend.faults.add(operation="blob.get", disconnect_after_bytes=100_000, times=1)
    token = basic_auth_headers(own_server.backend)
    status, declared, received = _raw_get(own_server, f"/v2/big/blobs/{digest}", token)
    assert (status, declared) == (200, len(data))
    assert received == data[:100_000]
    status, declared, received = _raw_get(own_server, f"/v2/big/blobs/{digest}", token)
    assert received == data
    record = own_server.backend.calls.of(operation="blob.get")[0]
    assert record.fault is not None and record.fault["disconnect_after_bytes"] == 100_000


def test_api_answer_cut_on_the_wire_after_the_call_was_carried_out(
    own_server: EcrMockServer,
) -> None:
    own_server.backend.faults.add(operation="CreateRepository", disconnect_after_bytes=5, times=2)
    conn = http.client.HTTPConnection(own_server.host, own_server.port, timeout=30)
    conn.request(
        "POST",
        "/",
        body=json.dumps({"repositoryName": "cut"}),
        headers={
            "X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921.CreateRepository",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    response = conn.getresponse()
    with pytest.raises(http.client.IncompleteRead) as raised:
        response.read()
    assert raised.value.partial == b'{"rep'
    conn.close()
    # botocore does not check a JSON answer's length: the cut answer parses as an empty result.
    answer = client(own_server).create_repository(repositoryName="cut2")
    assert "repository" not in answer
    names = [
        r["repositoryName"] for r in client(own_server).describe_repositories()["repositories"]
    ]
    assert sorted(names) == ["cut", "cut2"]


def test_registry_status_answers_are_cut_too(own_server: EcrMockServer) -> None:
    own_server.backend.faults.add(operation="base", disconnect_after_bytes=0)
    token = basic_auth_headers(own_server.backend)
    with pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"):
        requests.get(f"{own_server.url}/v2/", headers=token, timeout=10)
    assert (
        json.loads(requests.get(f"{own_server.url}/", timeout=10).content)["service"] == "ecr-mock"
    )


def test_serve_takes_fault_rules_and_quotas_mode_at_start(tmp_path: Any) -> None:
    from tests.test_cli import clean_env, start_serve, stop_serve

    rule = {"operation": "CreateRepository", "error": "ServerException", "id": "boot"}
    process, url, _ = start_serve(
        tmp_path, "--port", "0", "--fault", json.dumps(rule), "--enforce-quotas", "--max-calls", "5"
    )
    try:
        listed = requests.get(f"{url}/ecr-mock/faults", timeout=10).json()["faults"]
        ecr = boto3.client(
            "ecr",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
            aws_secret_access_key="secret",
            config=Config(retries={"max_attempts": 1}),
        )
        with pytest.raises(ClientError, match="ServerException"):
            ecr.create_repository(repositoryName="app")
        for _ in range(7):
            ecr.describe_repositories()
        calls = requests.get(f"{url}/ecr-mock/calls", timeout=10).json()["calls"]
    finally:
        code, _ = stop_serve(process)
    assert [(r["id"], r["error"]) for r in listed] == [("boot", "ServerException")]
    assert len(calls) == 5
    assert code == 0
    bad = subprocess.run(
        [sys.executable, "-m", "ecr_mock", "serve", "--fault", '{"operation": "Nope"}'],
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2 and "Unknown operation 'Nope'" in bad.stderr


def test_fault_and_call_routes_want_the_control_token_off_loopback() -> None:
    with EcrMockServer(Backend(), host="0.0.0.0", control_token="s3cret") as running:
        base = f"http://127.0.0.1:{running.port}/ecr-mock"
        rule = {"operation": "DescribeRepositories", "error": "ServerException"}
        refused = requests.post(f"{base}/faults", json=rule, timeout=10)
        assert (refused.status_code, refused.json()["code"]) == (401, "Unauthorized")
        for path in ("faults", "calls"):
            assert requests.get(f"{base}/{path}", timeout=10).status_code == 401
            assert requests.delete(f"{base}/{path}", timeout=10).status_code == 401
        assert list(running.backend.faults) == []
        bearer = {"Authorization": "Bearer s3cret"}
        added = requests.post(f"{base}/faults", json=rule, headers=bearer, timeout=10)
        assert added.status_code == 201
        listed = requests.get(f"{base}/faults", headers=bearer, timeout=10).json()["faults"]
        assert [r["id"] for r in listed] == [added.json()["id"]]


def test_a_reset_removes_fault_rules_and_the_call_record(own_server: EcrMockServer) -> None:
    rule = {"operation": "DescribeRepositories", "error": "ServerException"}
    assert (
        requests.post(f"{own_server.url}/ecr-mock/faults", json=rule, timeout=10).status_code == 201
    )
    with pytest.raises(ClientError):
        client(own_server, attempts=1).describe_repositories()
    assert requests.get(f"{own_server.url}/ecr-mock/calls", timeout=10).json()["calls"] != []
    assert requests.post(f"{own_server.url}/ecr-mock/reset", json={}, timeout=10).status_code == 200
    assert requests.get(f"{own_server.url}/ecr-mock/faults", timeout=10).json() == {"faults": []}
    assert requests.get(f"{own_server.url}/ecr-mock/calls", timeout=10).json() == {"calls": []}
    assert client(own_server, attempts=1).describe_repositories()["repositories"] == []


@pytest.mark.parametrize("path", ["/ecr-mock/calls", "/ecr-mock/faults"])
def test_a_204_answer_has_no_body_and_no_content_length(
    own_server: EcrMockServer, path: str
) -> None:
    conn = http.client.HTTPConnection(own_server.host, own_server.port, timeout=10)
    try:
        conn.request("DELETE", path)
        answer = conn.getresponse()
        assert (answer.status, answer.getheader("Content-Length"), answer.read()) == (
            204,
            None,
            b"",
        )
        conn.request("GET", "/ecr-mock/faults")  # the connection stays usable
        assert json.loads(conn.getresponse().read()) == {"faults": []}
    finally:
        conn.close()


def test_events_endpoint_lists_filters_and_clears(own_server: EcrMockServer) -> None:
    ecr = client(own_server)
    ecr.create_repository(repositoryName="ev")
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.empty.v1+json",
                "digest": "sha256:" + hashlib.sha256(b"{}").hexdigest(),
                "size": 2,
            },
            "layers": [],
        }
    )
    own_server.backend.allow_missing_layers = True
    ecr.put_image(repositoryName="ev", imageManifest=manifest, imageTag="v1")
    ecr.batch_delete_image(repositoryName="ev", imageIds=[{"imageTag": "v1"}])
    events = f"{own_server.url}/ecr-mock/events"
    everything = requests.get(events, timeout=10).json()["events"]
    assert [(e["detail-type"], e["detail"]["action-type"]) for e in everything] == [
        ("ECR Image Action", "PUSH"),
        ("ECR Image Action", "DELETE"),
    ]
    assert everything[0]["detail"]["repository-name"] == "ev"
    scans = requests.get(events, params={"detail_type": "ECR Image Scan"}, timeout=10).json()
    assert scans == {"events": []}
    bad = requests.get(events, params={"kind": "x"}, timeout=10)
    assert (bad.status_code, bad.json()["field"]) == (400, "kind")
    assert requests.delete(events, timeout=10).status_code == 204
    assert requests.get(events, timeout=10).json() == {"events": []}


@pytest.mark.parametrize(
    "rule_id",
    ["team/a", "a/", "x%2Fy", "with space?", "../..", "plain"],
    ids=["slash", "trailing-slash", "percent", "space-query", "dots", "plain"],
)
def test_every_fault_rule_id_is_reachable_percent_encoded_on_a_served_process(
    tmp_path: Any, rule_id: str
) -> None:
    from urllib.parse import quote

    from ecr_mock.testing.remote import RemoteEcrMock
    from tests.test_cli import start_serve, stop_serve

    process, url, _ = start_serve(tmp_path, "--port", "0", "--quiet")
    try:
        base = f"{url}/ecr-mock/faults"
        rule = {"id": rule_id, "operation": "DescribeRepositories", "error": "ServerException"}
        created = requests.post(base, json=rule, timeout=10)
        other = requests.post(base, json={**rule, "id": rule_id + "-other"}, timeout=10)
        encoded = f"{base}/{quote(rule_id, safe='')}"
        got = requests.get(encoded, timeout=10)
        fetched = RemoteEcrMock(url).faults.get(rule_id)
        remote_id = fetched.id if fetched is not None else None
        deleted = requests.delete(encoded, timeout=10)
        after = requests.get(encoded, timeout=10)
        listed = [r["id"] for r in requests.get(base, timeout=10).json()["faults"]]
    finally:
        stop_serve(process)
    assert created.status_code == other.status_code == 201
    assert got.status_code == 200 and got.json()["id"] == rule_id
    assert remote_id == rule_id
    assert deleted.status_code == 204
    assert after.status_code == 404 and after.json()["code"] == "NotFound"
    assert listed == [rule_id + "-other"]


def test_a_fault_rule_id_with_a_slash_is_reachable_unencoded_too(own_server: EcrMockServer) -> None:
    base = f"{own_server.url}/ecr-mock/faults"
    rule = {"id": "team/a", "operation": "DescribeRepositories", "error": "ServerException"}
    assert requests.post(base, json=rule, timeout=10).status_code == 201
    assert requests.get(f"{base}/team/a/", timeout=10).json()["id"] == "team/a"
    assert requests.delete(f"{base}/team/a", timeout=10).status_code == 204
    assert requests.get(f"{base}/team/a", timeout=10).status_code == 404
