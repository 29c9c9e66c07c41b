"""The live server: boto3 and raw HTTP against one port, addressing, keep-alive, concurrency."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from ecr_mock import Backend
from ecr_mock.runtime.http import EcrMockApp, EcrMockServer, serve_backend

ACCOUNT = "123456789012"
TARGET = "AmazonEC2ContainerRegistry_V20150921."
KEY = {"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key": "secret"}


@pytest.fixture
def backend() -> Backend:
    return Backend()


@pytest.fixture
def server(backend: Backend) -> Iterator[EcrMockServer]:
    with EcrMockServer(backend) as running:
        yield running


def client(server: EcrMockServer, region: str = "us-east-1", **kwargs: Any) -> Any:
    options = {**KEY, **kwargs}
    return boto3.client(
        "ecr",
        endpoint_url=server.url,
        region_name=region,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
        **options,
    )


def login(ecr: Any) -> tuple[str, str]:
    """(proxyEndpoint, password) from GetAuthorizationToken."""
    data = ecr.get_authorization_token()["authorizationData"][0]
    user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    assert user == "AWS"
    return data["proxyEndpoint"], password


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def put_image(ecr: Any, repository: str, tag: str, payload: bytes) -> str:
    """Upload one config blob with the layer API and put a manifest using it; returns digest."""
    config = json.dumps({"os": "linux", "architecture": "amd64", "payload": payload.hex()})
    blob = config.encode()
    upload_id = ecr.initiate_layer_upload(repositoryName=repository)["uploadId"]
    ecr.upload_layer_part(
        repositoryName=repository,
        uploadId=upload_id,
        partFirstByte=0,
        partLastByte=len(blob) - 1,
        layerPartBlob=blob,
    )
    ecr.complete_layer_upload(
        repositoryName=repository, uploadId=upload_id, layerDigests=[sha256(blob)]
    )
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": sha256(blob),
            "size": len(blob),
        },
        "layers": [],
    }
    image = ecr.put_image(
        repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=tag
    )
    return str(image["image"]["imageId"]["imageDigest"])


def raw_api_call(conn: http.client.HTTPConnection, operation: str, params: dict[str, Any]) -> Any:
    body = json.dumps(params).encode()
    conn.request(
        "POST",
        "/",
        body=body,
        headers={"X-Amz-Target": TARGET + operation, "Content-Type": "application/x-amz-json-1.1"},
    )
    response = conn.getresponse()
    return response.status, json.loads(response.read())


# ----- the ECR API through boto3 -----------------------------------------------------------


def test_boto3_with_endpoint_url_creates_and_lists_repositories(server: EcrMockServer) -> None:
    ecr = client(server)
    ecr.create_repository(repositoryName="team/service")
    names = [r["repositoryName"] for r in ecr.describe_repositories()["repositories"]]
    assert names == ["team/service"]


def test_errors_arrive_with_the_ecr_code_over_the_wire(server: EcrMockServer) -> None:
    with pytest.raises(ClientError) as caught:
        client(server).delete_repository(repositoryName="missing")
    assert caught.value.response["Error"]["Code"] == "RepositoryNotFoundException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_repository_uri_and_proxy_endpoint_name_the_server(server: EcrMockServer) -> None:
    ecr = client(server)
    repo = ecr.create_repository(repositoryName="web")["repository"]
    proxy, _ = login(ecr)
    assert repo["repositoryUri"] == f"{server.endpoint}/web"
    assert proxy == server.url
    assert server.url == f"http://127.0.0.1:{server.port}"


def test_stop_restores_the_backend_addresses(backend: Backend) -> None:
    backend.public_endpoint = "registry.example:5000"
    with EcrMockServer(backend) as server:
        assert backend.public_endpoint == server.endpoint
    assert backend.public_endpoint == "registry.example:5000"


def test_without_a_server_uris_name_the_ecr_host(backend: Backend) -> None:
    with serve_backend(backend):
        pass
    repo = backend.create_repository(backend.registry(), "plain")
    assert backend.repository_uri(repo) == f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/plain"


def test_public_endpoint_option_overrides_the_advertised_address(backend: Backend) -> None:
    with EcrMockServer(backend, public_endpoint="ecr.local:8443") as server:
        ecr = boto3.client(
            "ecr",
            endpoint_url=f"http://{server.host}:{server.port}",
            region_name="us-east-1",
            **KEY,
        )
        repo = ecr.create_repository(repositoryName="advertised")["repository"]
    assert server.url == "http://ecr.local:8443"
    assert repo["repositoryUri"] == "ecr.local:8443/advertised"


# ----- addressing several registries through one server ------------------------------------


def test_signature_region_picks_the_registry(server: EcrMockServer) -> None:
    client(server, "eu-west-1").create_repository(repositoryName="in-ireland")
    ireland = client(server, "eu-west-1").describe_repositories()["repositories"]
    virginia = client(server, "us-east-1").describe_repositories()["repositories"]
    assert [r["repositoryArn"] for r in ireland] == [
        f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/in-ireland"
    ]
    assert virginia == []


def test_registry_id_addresses_another_account_as_its_policy_allows(
    server: EcrMockServer, backend: Backend
) -> None:
    backend.add_access_key("AKIAOWNERACCOUNT0001", "111122223333")
    owner = client(server, aws_access_key_id="AKIAOWNERACCOUNT0001")
    owner.create_repository(repositoryName="shared")
    ecr = client(server)
    with pytest.raises(ClientError) as denied:
        ecr.describe_repositories(registryId="111122223333", repositoryNames=["shared"])
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": ["ecr:DescribeRepositories"],
            }
        ],
    }
    owner.set_repository_policy(repositoryName="shared", policyText=json.dumps(policy))
    shared = ecr.describe_repositories(registryId="111122223333", repositoryNames=["shared"])
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert [r["repositoryUri"] for r in shared["repositories"]] == [f"{server.endpoint}/shared"]
    assert ecr.describe_repositories()["repositories"] == []


def test_registered_access_key_speaks_for_its_account(
    server: EcrMockServer, backend: Backend
) -> None:
    backend.add_access_key("AKIAOTHERACCOUNT0001", "210987654321")
    other = client(server, aws_access_key_id="AKIAOTHERACCOUNT0001")
    repo = other.create_repository(repositoryName="theirs")["repository"]
    assert repo["registryId"] == "210987654321"
    assert client(server).describe_repositories()["repositories"] == []


def test_v2_token_picks_the_registry_it_was_issued_for(server: EcrMockServer) -> None:
    client(server, "eu-west-1").create_repository(repositoryName="tokened")
    _, ireland = login(client(server, "eu-west-1"))
    _, virginia = login(client(server, "us-east-1"))
    url = f"{server.url}/v2/tokened/tags/list"
    assert requests.get(url, auth=("AWS", ireland), timeout=10).status_code == 200
    refused = requests.get(url, auth=("AWS", virginia), timeout=10)
    assert refused.status_code == 404
    assert refused.json()["errors"][0]["code"] == "NAME_UNKNOWN"


def test_v2_host_header_addresses_a_registry_and_must_match_the_token(
    server: EcrMockServer,
) -> None:
    client(server, "eu-west-1").create_repository(repositoryName="by-host")
    _, ireland = login(client(server, "eu-west-1"))
    _, virginia = login(client(server, "us-east-1"))
    url = f"{server.url}/v2/by-host/tags/list"
    host = {"Host": f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com"}
    ok = requests.get(url, auth=("AWS", ireland), headers=host, timeout=10)
    wrong = requests.get(url, auth=("AWS", virginia), headers=host, timeout=10)
    assert ok.status_code == 200
    assert ok.json() == {"name": "by-host", "tags": []}
    assert wrong.status_code == 401


# ----- routing -----------------------------------------------------------------------------


def test_root_get_answers_a_status_document(server: EcrMockServer) -> None:
    status = requests.get(server.url, timeout=10).json()
    assert status["service"] == "ecr-mock"
    assert status["endpoint"] == server.endpoint


def test_v2_without_credentials_is_challenged_like_ecr(server: EcrMockServer) -> None:
    response = requests.get(f"{server.url}/v2/", timeout=10)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        f'Basic realm="http://{server.endpoint}/",service="ecr.amazonaws.com"'
    )


def test_unknown_path_is_404(server: EcrMockServer) -> None:
    response = requests.get(f"{server.url}/nothing/here", timeout=10)
    assert response.status_code == 404


def test_post_without_target_is_an_unknown_operation(server: EcrMockServer) -> None:
    response = requests.post(server.url, data=b"{}", timeout=10)
    assert response.status_code == 400
    assert response.json()["__type"] == "UnknownOperationException"


def test_app_can_be_mounted_in_any_wsgi_server(backend: Backend) -> None:
    from werkzeug.test import Client

    web = Client(EcrMockApp(backend))
    response = web.post(
        "/",
        data=json.dumps({"repositoryName": "wsgi"}),
        headers={"X-Amz-Target": TARGET + "CreateRepository"},
    )
    assert response.status_code == 200
    assert list(backend.registry().repositories) == ["wsgi"]


# ----- HTTP behaviour ----------------------------------------------------------------------


def test_connections_are_kept_alive_across_requests(server: EcrMockServer) -> None:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    statuses = []
    sockets = []
    for index in range(3):
        statuses.append(raw_api_call(conn, "CreateRepository", {"repositoryName": f"k{index}"})[0])
        sockets.append(conn.sock)
    conn.close()
    assert statuses == [200, 200, 200]
    assert sockets[0] is not None
    assert sockets[0] is sockets[1] is sockets[2]


def test_an_unread_request_body_does_not_spoil_the_next_request(server: EcrMockServer) -> None:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    conn.request("PUT", "/not-served", body=b"x" * (3 * 1024 * 1024))
    first = conn.getresponse()
    first.read()
    status, body = raw_api_call(conn, "CreateRepository", {"repositoryName": "after-body"})
    conn.close()
    assert first.status == 404
    assert status == 200
    assert body["repository"]["repositoryName"] == "after-body"


def test_chunked_api_request_body_is_read(server: EcrMockServer) -> None:
    payload = json.dumps({"repositoryName": "chunked"}).encode()
    response = requests.post(
        server.url,
        data=iter([payload[:7], payload[7:]]),
        headers={"X-Amz-Target": TARGET + "CreateRepository"},
        timeout=10,
    )
    assert response.request.headers["Transfer-Encoding"] == "chunked"
    assert response.status_code == 200
    assert response.json()["repository"]["repositoryName"] == "chunked"


def test_chunked_blob_upload_streams_into_the_registry(server: EcrMockServer) -> None:
    ecr = client(server)
    ecr.create_repository(repositoryName="big")
    _, password = login(ecr)
    auth = ("AWS", password)
    piece = bytes(range(256)) * 4096  # 1 MiB
    pieces = 6
    digest = "sha256:" + hashlib.sha256(piece * pieces).hexdigest()
    started = requests.post(f"{server.url}/v2/big/blobs/uploads/", auth=auth, timeout=10)
    assert started.status_code == 202
    location = started.headers["Location"]
    if location.startswith("/"):
        location = server.url + location
    sep = "&" if "?" in location else "?"
    finished = requests.put(
        f"{location}{sep}digest={digest}",
        data=(piece for _ in range(pieces)),
        auth=auth,
        timeout=60,
    )
    assert finished.request.headers["Transfer-Encoding"] == "chunked"
    assert finished.status_code == 201
    head = requests.head(f"{server.url}/v2/big/blobs/{digest}", auth=auth, timeout=10)
    assert head.status_code == 200
    assert int(head.headers["Content-Length"]) == len(piece) * pieces
    assert head.headers["Docker-Content-Digest"] == digest


def test_many_clients_at_once_all_succeed(server: EcrMockServer) -> None:
    threads_count, images_each = 8, 5
    clients = [client(server) for _ in range(threads_count)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads_count)

    def work(index: int) -> None:
        try:
            ecr = clients[index]
            barrier.wait()
            ecr.create_repository(repositoryName=f"parallel/{index}")
            for number in range(images_each):
                put_image(ecr, f"parallel/{index}", f"v{number}", f"{index}-{number}".encode())
        except BaseException as exc:  # reported below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads_count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    ecr = client(server)
    repos = ecr.describe_repositories()["repositories"]
    assert len(repos) == threads_count
    for index in range(threads_count):
        tags = sorted(
            tag
            for image in ecr.describe_images(repositoryName=f"parallel/{index}")["imageDetails"]
            for tag in image.get("imageTags", [])
        )
        assert tags == [f"v{n}" for n in range(images_each)]


# ----- lifecycle ---------------------------------------------------------------------------


def test_start_and_stop_twice_are_harmless(backend: Backend) -> None:
    server = EcrMockServer(backend)
    assert server.start() is server.start()
    port = server.port
    assert server.running
    server.stop()
    server.stop()
    assert not server.running
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def test_stop_closes_kept_alive_connections(backend: Backend) -> None:
    server = EcrMockServer(backend).start()
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    assert raw_api_call(conn, "DescribeRepositories", {})[0] == 200
    server.stop()
    with pytest.raises((OSError, http.client.HTTPException)):
        raw_api_call(conn, "DescribeRepositories", {})
    conn.close()


def test_use_points_a_running_server_at_another_backend(backend: Backend) -> None:
    other = Backend()
    with EcrMockServer(backend) as server:
        client(server).create_repository(repositoryName="first-backend")
        server.use(other)
        assert client(server).describe_repositories()["repositories"] == []
        assert other.public_endpoint == server.endpoint
        assert backend.public_endpoint is None
    assert list(backend.registry().repositories) == ["first-backend"]
    assert other.public_endpoint is None


def test_serve_backend_returns_a_running_server(backend: Backend) -> None:
    server = serve_backend(backend)
    try:
        assert server.running
        assert server.port > 0
        assert server.backend is backend
    finally:
        server.stop()


def test_the_old_server_module_still_serves_and_warns_naming_the_new_place() -> None:
    import ecr_mock.server as old

    with pytest.warns(
        DeprecationWarning,
        match=r"ecr_mock\.server\.serve_backend is deprecated: import from ecr_mock\.runtime\.http ",
    ):
        old_serve = old.serve_backend
    assert old_serve is serve_backend
    with pytest.raises(AttributeError):
        _ = old.no_such_name
