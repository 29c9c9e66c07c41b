"""The control API over a real socket: health, reset, clock, state, seed, lifecycle, tokens, access."""

from __future__ import annotations

import base64
import http.client
import json
import socket
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config

from ecr_mock import Backend, __version__
from ecr_mock.domain.iam_policy import MANAGED_POLICIES
from ecr_mock.protocols.control import ControlResponse, ControlRoute
from ecr_mock.runtime.http import EcrMockServer
from ecr_mock.services.access import StaticIdentities
from ecr_mock.testing.remote import ControlAPIError, RemoteEcrMock
from tests.test_cli import start_serve, stop_serve

ACCOUNT = "123456789012"
OTHER = "210987654321"
KEY = {"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key": "secret"}


@pytest.fixture
def remote(own_server: EcrMockServer) -> RemoteEcrMock:
    return RemoteEcrMock(own_server.url)


def ecr(server: EcrMockServer, region: str = "us-east-1") -> Any:
    return boto3.client(
        "ecr",
        endpoint_url=server.url,
        region_name=region,
        config=Config(retries={"max_attempts": 1}),
        **KEY,
    )


def raw(
    server: EcrMockServer,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def lifecycle(count_type: str, number: int) -> dict[str, Any]:
    selection: dict[str, Any] = {
        "tagStatus": "any",
        "countType": count_type,
        "countNumber": number,
    }
    if count_type == "sinceImagePushed":
        selection["countUnit"] = "days"
    return {"rules": [{"rulePriority": 1, "selection": selection, "action": {"type": "expire"}}]}


def test_health_answers_status_and_version_without_credentials(own_server: EcrMockServer) -> None:
    status, headers, body = raw(own_server, "GET", "/ecr-mock/health")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"status": "ok", "version": __version__}


def test_reset_empties_every_registry_and_keeps_the_server_usable(
    own_server: EcrMockServer, remote: RemoteEcrMock
) -> None:
    ecr(own_server).create_repository(repositoryName="web")
    ecr(own_server, "eu-west-1").create_repository(repositoryName="api")
    remote.reset()
    assert remote.state()["registries"] == []
    assert ecr(own_server).describe_repositories()["repositories"] == []
    ecr(own_server).create_repository(repositoryName="web")
    assert [
        r["repositoryName"] for r in ecr(own_server).describe_repositories()["repositories"]
    ] == ["web"]


def test_reset_of_one_account_keeps_the_others(remote: RemoteEcrMock) -> None:
    remote.seed(
        {
            "repositories": [{"name": "mine"}],
            "registries": [{"account": OTHER, "repositories": [{"name": "theirs"}]}],
        }
    )
    remote.reset(OTHER)
    left = {
        (r["account"], repo["name"])
        for r in remote.state()["registries"]
        for repo in r["repositories"]
    }
    assert left == {(ACCOUNT, "mine")}


def test_reset_puts_the_clock_back_on_real_time(remote: RemoteEcrMock) -> None:
    before = remote.clock.now()
    assert (remote.clock.advance(days=30) - before).days == 30
    remote.reset()
    assert (remote.clock.now() - before).days == 0


def test_clock_advance_expires_a_registry_token(
    own_server: EcrMockServer, remote: RemoteEcrMock
) -> None:
    token = remote.issue_token(f"arn:aws:iam::{ACCOUNT}:root")
    auth = {"Authorization": "Basic " + base64.b64encode(token.creds.encode()).decode()}
    assert requests.get(f"{own_server.url}/v2/", headers=auth, timeout=30).status_code == 200
    now = remote.clock.advance(hours=13)
    assert now >= token.expires_at
    refused = requests.get(f"{own_server.url}/v2/", headers=auth, timeout=30)
    assert refused.status_code == 403
    assert "expired" in refused.text


def test_clock_can_be_set_to_an_iso_time(own_server: EcrMockServer, remote: RemoteEcrMock) -> None:
    status, _, body = raw(
        own_server, "POST", "/ecr-mock/clock", json.dumps({"now": "2031-05-06T07:08:09Z"}).encode()
    )
    assert status == 200
    assert json.loads(body)["now"].startswith("2031-05-06T07:08:")
    assert remote.clock.now().year == 2031
    created = ecr(own_server).create_repository(repositoryName="later")["repository"]["createdAt"]
    assert created.year == 2031


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"advance_seconds": "soon"}', "advance_seconds"),
        (b'{"advance_seconds": -5}', "advance_seconds"),
        (b'{"now": "yesterday"}', "now"),
        (b'{"advance_seconds": 1, "now": "2030-01-01T00:00:00Z"}', "advance_seconds"),
        (b'{"speed": 2}', "speed"),
    ],
)
def test_bad_clock_bodies_are_refused_naming_the_field(
    own_server: EcrMockServer, remote: RemoteEcrMock, body: bytes, field: str
) -> None:
    before = remote.clock.now()
    status, _, answer = raw(own_server, "POST", "/ecr-mock/clock", body)
    assert status == 400
    doc = json.loads(answer)
    assert (doc["code"], doc["field"]) == ("BadRequest", field)
    assert (remote.clock.now() - before).total_seconds() < 3600


def test_a_body_that_is_not_json_is_refused(own_server: EcrMockServer) -> None:
    status, _, answer = raw(own_server, "POST", "/ecr-mock/reset", b"{not json")
    assert status == 400
    assert json.loads(answer)["message"] == "The body is not valid JSON"


def test_unknown_control_paths_answer_404_json_listing_the_routes(
    own_server: EcrMockServer,
) -> None:
    status, headers, answer = raw(own_server, "GET", "/ecr-mock/nothing-here")
    assert status == 404
    assert headers["Content-Type"] == "application/json"
    doc = json.loads(answer)
    assert doc["code"] == "NotFound"
    assert "health" in doc["message"] and "seed" in doc["message"]


def test_a_wrong_method_answers_405_naming_the_allowed_ones(own_server: EcrMockServer) -> None:
    status, _, answer = raw(own_server, "DELETE", "/ecr-mock/clock")
    assert status == 405
    assert "GET, POST" in json.loads(answer)["message"]


def test_state_summarises_images_without_blob_bytes(remote: RemoteEcrMock) -> None:
    created = remote.seed(
        {
            "repositories": [
                {
                    "name": "team/app",
                    "images": [{"synthetic": {"layers": 2, "layerSize": 2048}, "tags": ["v1"]}],
                }
            ]
        }
    )
    state = remote.state()
    [registry] = state["registries"]
    [repo] = registry["repositories"]
    [image] = repo["images"]
    assert (registry["account"], repo["name"]) == (ACCOUNT, "team/app")
    assert image["digest"] == created["images"][0]["digest"]
    assert image["tags"] == ["v1"]
    assert image["status"] == "ACTIVE"
    assert image["size"] > 4096
    assert "manifest" not in image and "data" not in json.dumps(state)


def test_lifecycle_run_applies_age_rules_to_seeded_old_images(
    own_server: EcrMockServer, remote: RemoteEcrMock
) -> None:
    remote.seed(
        {
            "repositories": [
                {
                    "name": "app",
                    "lifecyclePolicy": lifecycle("sinceImagePushed", 7),
                    "images": [
                        {"synthetic": {"seed": "old"}, "tags": ["old"], "pushedDaysAgo": 30},
                        {"synthetic": {"seed": "new"}, "tags": ["new"], "pushedDaysAgo": 1},
                    ],
                }
            ]
        }
    )
    actions = remote.apply_lifecycle_policies()
    assert [(a["tags"], a["action"]) for a in actions] == [(["old"], "expire")]
    tags = [i["imageTag"] for i in ecr(own_server).list_images(repositoryName="app")["imageIds"]]
    assert tags == ["new"]


def test_tokens_for_an_iam_user_follow_that_users_policies(
    own_server: EcrMockServer, remote: RemoteEcrMock
) -> None:
    identities = StaticIdentities()
    own_server.backend.identity_provider = identities
    reader = f"arn:aws:iam::{ACCOUNT}:user/reader"
    identities.add(
        "AKIAREADER0000000000", reader, [MANAGED_POLICIES["AmazonEC2ContainerRegistryReadOnly"]]
    )
    remote.seed({"repositories": [{"name": "app", "images": [{"synthetic": {}, "tags": ["v1"]}]}]})
    token = remote.issue_token(reader)
    assert token.principal_arn == reader
    assert token.registry == own_server.endpoint
    auth = (token.username, token.password)
    accept = {"Accept": "application/vnd.oci.image.manifest.v1+json"}
    pulled = requests.get(
        f"{own_server.url}/v2/app/manifests/v1", auth=auth, headers=accept, timeout=30
    )
    assert pulled.status_code == 200
    pushed = requests.post(f"{own_server.url}/v2/app/blobs/uploads/", auth=auth, timeout=30)
    assert pushed.status_code == 403
    assert f"User: {reader} is not authorized to perform: ecr:InitiateLayerUpload" in pushed.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "principal_arn"),
        ({"principal_arn": "bob"}, "principal_arn"),
        ({"principal_arn": f"arn:aws:iam::{ACCOUNT}:root", "account_id": "12"}, "account_id"),
    ],
)
def test_bad_token_requests_name_the_field(
    remote: RemoteEcrMock, body: dict[str, Any], field: str
) -> None:
    with pytest.raises(ControlAPIError) as refused:
        remote.call("POST", "tokens", body)
    assert (refused.value.status, refused.value.field) == (400, field)


def test_findings_route_fixes_what_scans_report(
    own_server: EcrMockServer, remote: RemoteEcrMock
) -> None:
    created = remote.seed(
        {"repositories": [{"name": "app", "images": [{"synthetic": {}, "tags": ["v1"]}]}]}
    )
    digest = created["images"][0]["digest"]
    remote.set_scan_findings(ACCOUNT, "us-east-1", "app", [{"name": "CVE-1", "severity": "HIGH"}])
    client = ecr(own_server)
    client.start_image_scan(repositoryName="app", imageId={"imageDigest": digest})
    found = client.describe_image_scan_findings(repositoryName="app", imageId={"imageTag": "v1"})
    assert [f["name"] for f in found["imageScanFindings"]["findings"]] == ["CVE-1"]
    with pytest.raises(ControlAPIError) as refused:
        remote.call("PUT", f"findings/{ACCOUNT}/us-east-1/app", {"not": "a list"})
    assert (refused.value.status, refused.value.field) == (400, "findings")


def test_other_modules_add_routes_to_the_router(own_server: EcrMockServer) -> None:
    def ping(request: Any) -> ControlResponse:
        return ControlResponse(200, {"pong": request.params["what"]})

    own_server.control.add(ControlRoute("ping", r"/ecr-mock/ping/(?P<what>[a-z]+)", {"GET": ping}))
    status, _, body = raw(own_server, "GET", "/ecr-mock/ping/abc")
    assert (status, json.loads(body)) == (200, {"pong": "abc"})


def test_layer_download_urls_still_reach_the_registry(
    own_server: EcrMockServer, remote: RemoteEcrMock
) -> None:
    created = remote.seed(
        {"repositories": [{"name": "app", "images": [{"synthetic": {"layerSize": 10}}]}]}
    )
    client = ecr(own_server)
    manifest = client.batch_get_image(
        repositoryName="app", imageIds=[{"imageDigest": created["images"][0]["digest"]}]
    )["images"][0]["imageManifest"]
    layer = json.loads(manifest)["layers"][0]["digest"]
    url = client.get_download_url_for_layer(repositoryName="app", layerDigest=layer)["downloadUrl"]
    assert "/ecr-mock/layers/" in url
    assert requests.get(url, timeout=30).status_code == 200


# ----- access: loopback open, elsewhere only with --control-token -------------------------------


def test_a_server_bound_beyond_loopback_refuses_control_without_a_token() -> None:
    with EcrMockServer(Backend(), host="0.0.0.0") as running:
        status, _, body = raw(running, "POST", "/ecr-mock/reset", b"{}")
        assert status == 403
        assert "--control-token" in json.loads(body)["message"]
        assert raw(running, "GET", "/ecr-mock/health")[0] == 200


def test_a_control_token_is_required_when_set() -> None:
    with EcrMockServer(Backend(), host="0.0.0.0", control_token="s3cret") as running:
        ecr(running).create_repository(repositoryName="kept")
        status, _, body = raw(running, "POST", "/ecr-mock/reset", b"{}")
        assert (status, json.loads(body)["code"]) == (401, "Unauthorized")
        wrong = {"Authorization": "Bearer nope"}
        assert raw(running, "POST", "/ecr-mock/reset", b"{}", wrong)[0] == 401
        assert [
            r["repositoryName"] for r in ecr(running).describe_repositories()["repositories"]
        ] == ["kept"]
        remote = RemoteEcrMock(running.url, token="s3cret")
        remote.reset()
        assert ecr(running).describe_repositories()["repositories"] == []


# ----- request bodies: every app on the port reads them the same way ----------------------


def _raw_chunked(url: str, method: str, path: str, pieces: list[bytes]) -> tuple[int, bytes]:
    """One request with a ``Transfer-Encoding: chunked`` body over a plain socket."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    body = b"".join(b"%x\r\n%b\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(head + body)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    status_line, _, rest = received.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


def test_a_chunked_reset_of_one_account_keeps_the_others(tmp_path: Path) -> None:
    process, url, _ = start_serve(tmp_path, "--port", "0")
    try:
        remote = RemoteEcrMock(url)
        remote.seed(
            {
                "repositories": [{"name": "mine"}],
                "registries": [{"account": OTHER, "repositories": [{"name": "theirs"}]}],
            }
        )
        status, _ = _raw_chunked(
            url, "POST", "/ecr-mock/reset", [b'{"account_id": ', b'"' + OTHER.encode() + b'"}']
        )
        assert status == 200
        left = {
            (registry["account"], repo["name"])
            for registry in remote.state()["registries"]
            for repo in registry["repositories"]
        }
        assert left == {(ACCOUNT, "mine")}
    finally:
        stop_serve(process)
