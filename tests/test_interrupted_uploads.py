"""Interrupted, oversized and concurrent uploads over a real socket leave the server and state sound."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from typing import Any

import pytest
import requests

from ecr_mock.domain.manifests import OCI_MANIFEST
from ecr_mock.domain.models import Registry
from ecr_mock.protocols.registry.app import basic_auth_headers
from ecr_mock.runtime.http import EcrMockServer
from ecr_mock.services.backend import Backend

ACCOUNT = "123456789012"
REGION = "us-east-1"

pytestmark = pytest.mark.ecr_seed({"repositories": [{"name": "app"}]})
TARGET = "AmazonEC2ContainerRegistry_V20150921."


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def auth(backend: Backend) -> dict[str, str]:
    return basic_auth_headers(backend, ACCOUNT, REGION)


def registry(backend: Backend) -> Registry:
    return backend.registry(ACCOUNT, REGION)


def raw_request(
    server: EcrMockServer,
    head: str,
    body: bytes,
    *,
    half_close: bool,
) -> bytes:
    """Send ``head`` (request line and headers) and ``body`` on a fresh socket.

    ``half_close``: shut the writing side and read the answer to the end; otherwise close the
    socket at once without reading anything.
    """
    sock = socket.create_connection((server.host, server.port), timeout=30)
    try:
        sock.sendall(head.encode("latin-1") + b"\r\n\r\n" + body)
        if not half_close:
            return b""
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        sock.close()


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def headers_text(backend: Backend, server: EcrMockServer, extra: dict[str, str]) -> str:
    lines = [f"Host: {server.endpoint}", *(f"{k}: {v}" for k, v in auth(backend).items())]
    lines += [f"{k}: {v}" for k, v in extra.items()]
    return "\r\n".join(lines)


def start_upload(backend: Backend, server: EcrMockServer) -> str:
    response = requests.post(f"{server.url}/v2/app/blobs/uploads/", headers=auth(backend))
    assert response.status_code == 202
    location: str = response.headers["Location"]
    return location


def wait_until(condition: Any, rounds: int = 2000) -> None:
    """Poll ``condition`` (the server finishes a dropped request in its own thread)."""
    for _ in range(rounds):
        if condition():
            return
        time.sleep(0.005)


def server_still_answers(backend: Backend, server: EcrMockServer) -> None:
    response = requests.get(f"{server.url}/v2/", headers=auth(backend))
    assert response.status_code == 200
    assert response.headers["Docker-Distribution-Api-Version"] == "registry/2.0"


def nothing_kept(backend: Backend) -> None:
    """The cut request left no upload session and no blob behind."""
    wait_until(lambda: not registry(backend).uploads)
    assert registry(backend).uploads == {}
    assert registry(backend).blobs == {}


def nothing_kept_and_still_serving(backend: Backend, server: EcrMockServer) -> None:
    nothing_kept(backend)
    server_still_answers(backend, server)


# ----- interrupted bodies ------------------------------------------------------------------


@pytest.mark.parametrize("half_close", [True, False], ids=["half-closed", "closed"])
def test_patch_whose_body_stops_early_stores_nothing_and_drops_the_upload(
    ecr_backend: Backend, ecr_server: EcrMockServer, half_close: bool
) -> None:
    location = start_upload(ecr_backend, ecr_server)
    head = f"PATCH {location} HTTP/1.1\r\n" + headers_text(
        ecr_backend,
        ecr_server,
        {"Content-Length": "1000", "Content-Type": "application/octet-stream"},
    )
    answer = raw_request(ecr_server, head, b"x" * 100, half_close=half_close)
    if half_close:
        assert status_of(answer) == 400
        assert b'"SIZE_INVALID"' in answer
    nothing_kept(ecr_backend)
    status = requests.get(f"{ecr_server.url}{location}", headers=auth(ecr_backend))
    assert status.status_code == 404
    assert status.json()["errors"][0]["code"] == "BLOB_UPLOAD_UNKNOWN"
    server_still_answers(ecr_backend, ecr_server)


@pytest.mark.parametrize("half_close", [True, False], ids=["half-closed", "closed"])
def test_monolithic_put_whose_body_stops_early_stores_no_blob(
    ecr_backend: Backend, ecr_server: EcrMockServer, half_close: bool
) -> None:
    data = b"y" * 5000
    location = start_upload(ecr_backend, ecr_server)
    head = f"PUT {location}?digest={sha256(data)} HTTP/1.1\r\n" + headers_text(
        ecr_backend, ecr_server, {"Content-Length": str(len(data)), "Content-Type": "x/y"}
    )
    answer = raw_request(ecr_server, head, data[:1234], half_close=half_close)
    if half_close:
        assert status_of(answer) == 400
    nothing_kept_and_still_serving(ecr_backend, ecr_server)


@pytest.mark.parametrize("half_close", [True, False], ids=["half-closed", "closed"])
def test_post_with_digest_whose_body_stops_early_stores_no_blob(
    ecr_backend: Backend, ecr_server: EcrMockServer, half_close: bool
) -> None:
    data = b"z" * 5000
    head = f"POST /v2/app/blobs/uploads/?digest={sha256(data)} HTTP/1.1\r\n" + headers_text(
        ecr_backend, ecr_server, {"Content-Length": str(len(data))}
    )
    answer = raw_request(ecr_server, head, data[:10], half_close=half_close)
    if half_close:
        assert status_of(answer) == 400
    nothing_kept_and_still_serving(ecr_backend, ecr_server)


def test_chunked_patch_cut_mid_chunk_stores_nothing_and_drops_the_upload(
    ecr_backend: Backend, ecr_server: EcrMockServer
) -> None:
    location = start_upload(ecr_backend, ecr_server)
    head = f"PATCH {location} HTTP/1.1\r\n" + headers_text(
        ecr_backend, ecr_server, {"Transfer-Encoding": "chunked"}
    )
    answer = raw_request(ecr_server, head, b"400\r\n" + b"c" * 100, half_close=True)
    assert 400 <= status_of(answer) < 500
    nothing_kept_and_still_serving(ecr_backend, ecr_server)


def test_manifest_put_whose_body_stops_early_stores_nothing(
    ecr_backend: Backend, ecr_server: EcrMockServer
) -> None:
    manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST}).encode()
    head = "PUT /v2/app/manifests/v1 HTTP/1.1\r\n" + headers_text(
        ecr_backend, ecr_server, {"Content-Length": "5000", "Content-Type": OCI_MANIFEST}
    )
    answer = raw_request(ecr_server, head, manifest, half_close=True)
    assert status_of(answer) == 400
    assert b'"SIZE_INVALID"' in answer
    assert registry(ecr_backend).repositories["app"].images == {}
    server_still_answers(ecr_backend, ecr_server)


# ----- bodies longer than Content-Length ---------------------------------------------------


def test_patch_body_longer_than_content_length_takes_only_the_declared_bytes(
    ecr_backend: Backend, ecr_server: EcrMockServer
) -> None:
    location = start_upload(ecr_backend, ecr_server)
    head = f"PATCH {location} HTTP/1.1\r\n" + headers_text(
        ecr_backend, ecr_server, {"Content-Length": "5", "Content-Type": "application/octet-stream"}
    )
    answer = raw_request(ecr_server, head, b"12345" + b"EXTRA-BYTES", half_close=True)
    assert status_of(answer) == 202
    # The surplus reads as a (malformed) next request: refused, never appended to the upload.
    status = requests.get(f"{ecr_server.url}{location}", headers=auth(ecr_backend))
    assert status.status_code == 204
    assert status.headers["Range"] == "0-4"
    done = requests.put(
        f"{ecr_server.url}{location}",
        params={"digest": sha256(b"12345")},
        headers=auth(ecr_backend),
    )
    assert done.status_code == 201
    assert registry(ecr_backend).blobs[sha256(b"12345")].read() == b"12345"
    server_still_answers(ecr_backend, ecr_server)


# ----- the API on the same socket ----------------------------------------------------------


@pytest.mark.parametrize("length", ["abc", "-5", "99999999999999999999", "1e3"])
def test_api_call_with_a_bad_content_length_is_a_4xx_json_error(
    ecr_backend: Backend, ecr_server: EcrMockServer, length: str
) -> None:
    head = (
        "POST / HTTP/1.1\r\n"
        f"Host: {ecr_server.endpoint}\r\n"
        f"X-Amz-Target: {TARGET}DescribeRepositories\r\n"
        "Content-Type: application/x-amz-json-1.1\r\n"
        f"Content-Length: {length}"
    )
    answer = raw_request(ecr_server, head, b"{}", half_close=True)
    assert 400 <= status_of(answer) < 500
    body = answer.split(b"\r\n\r\n", 1)[1]
    assert "__type" in json.loads(body)
    assert set(registry(ecr_backend).repositories) == {"app"}


def test_api_call_whose_body_stops_early_is_a_serialization_error(
    ecr_backend: Backend, ecr_server: EcrMockServer
) -> None:
    body = json.dumps({"repositoryName": "other"}).encode()
    head = (
        "POST / HTTP/1.1\r\n"
        f"Host: {ecr_server.endpoint}\r\n"
        f"X-Amz-Target: {TARGET}CreateRepository\r\n"
        "Content-Type: application/x-amz-json-1.1\r\n"
        f"Content-Length: {len(body) + 50}"
    )
    answer = raw_request(ecr_server, head, body, half_close=True)
    assert status_of(answer) == 400
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["__type"] == "SerializationException"
    assert set(registry(ecr_backend).repositories) == {"app"}


# ----- concurrency -------------------------------------------------------------------------


def _push(server: EcrMockServer, headers: dict[str, str], index: int) -> str:
    """Chunked upload of a config and two layers (one shared by every thread), then a manifest
    PUT to ``latest``; returns the manifest digest."""
    session = requests.Session()
    session.headers.update(headers)
    config = json.dumps({"architecture": "amd64", "os": "linux", "n": index}).encode()
    layer = f"layer-of-{index}-".encode() * 3000
    shared = b"shared-layer" * 5000
    descriptors = []
    for data in (config, layer, shared):
        start = session.post(f"{server.url}/v2/app/blobs/uploads/")
        assert start.status_code == 202
        location = start.headers["Location"]
        step = max(len(data) // 3, 1)
        for first in range(0, len(data), step):
            chunk = data[first : first + step]
            patch = session.patch(
                f"{server.url}{location}",
                data=chunk,
                headers={
                    "Content-Type": "application/octet-stream",
                    "Content-Range": f"{first}-{first + len(chunk) - 1}",
                },
            )
            assert patch.status_code == 202, patch.text
            location = patch.headers["Location"]
        done = session.put(f"{server.url}{location}", params={"digest": sha256(data)})
        assert done.status_code == 201, done.text
        descriptors.append({"digest": sha256(data), "size": len(data)})
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **descriptors[0]},
            "layers": [
                {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **d}
                for d in descriptors[1:]
            ],
        }
    ).encode()
    put = session.put(
        f"{server.url}/v2/app/manifests/latest",
        data=manifest,
        headers={"Content-Type": OCI_MANIFEST},
    )
    assert put.status_code == 201, put.text
    assert put.headers["Docker-Content-Digest"] == sha256(manifest)
    return sha256(manifest)


def test_twenty_concurrent_pushes_to_one_tag_leave_a_consistent_repository(
    ecr_backend: Backend, ecr_server: EcrMockServer
) -> None:
    headers = auth(ecr_backend)
    results: dict[int, str] = {}
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            results[index] = _push(ecr_server, headers, index)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    reg = registry(ecr_backend)
    repo = reg.repositories["app"]
    pushed = set(results.values())
    assert len(pushed) == 20
    assert set(repo.images) == pushed
    assert repo.tags["latest"] in pushed
    holders = [digest for digest, image in repo.images.items() if "latest" in image.tags]
    assert holders == [repo.tags["latest"]]
    assert all(image.tags in ([], ["latest"]) for image in repo.images.values())
    for image in repo.images.values():
        for digest in image.parsed.blob_digests():
            assert digest in repo.blobs
            assert sha256(reg.blobs[digest].read()) == digest
    assert reg.uploads == {}
    pulled = requests.get(
        f"{ecr_server.url}/v2/app/manifests/latest",
        headers={**headers, "Accept": OCI_MANIFEST},
    )
    assert pulled.status_code == 200
    assert sha256(pulled.content) == repo.tags["latest"]


@pytest.mark.parametrize(
    "chunks", [b"400\r\n" + b"{" * 100, b"zz\r\n{}\r\n0\r\n\r\n"], ids=["cut", "bad-header"]
)
def test_chunked_api_call_cut_short_or_malformed_is_a_4xx_json_error(
    ecr_backend: Backend, ecr_server: EcrMockServer, chunks: bytes
) -> None:
    head = (
        "POST / HTTP/1.1\r\n"
        f"Host: {ecr_server.endpoint}\r\n"
        f"X-Amz-Target: {TARGET}CreateRepository\r\n"
        "Content-Type: application/x-amz-json-1.1\r\n"
        "Transfer-Encoding: chunked"
    )
    answer = raw_request(ecr_server, head, chunks, half_close=True)
    assert 400 <= status_of(answer) < 500
    assert "__type" in json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert set(registry(ecr_backend).repositories) == {"app"}


def test_chunked_patch_with_a_malformed_chunk_header_is_refused_and_drops_the_upload(
    ecr_backend: Backend, ecr_server: EcrMockServer
) -> None:
    location = start_upload(ecr_backend, ecr_server)
    head = f"PATCH {location} HTTP/1.1\r\n" + headers_text(
        ecr_backend, ecr_server, {"Transfer-Encoding": "chunked"}
    )
    answer = raw_request(ecr_server, head, b"5\r\nabcde\r\nzz\r\nxx\r\n0\r\n\r\n", half_close=True)
    assert status_of(answer) == 400
    assert b'"SIZE_INVALID"' in answer
    nothing_kept_and_still_serving(ecr_backend, ecr_server)
