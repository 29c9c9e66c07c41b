"""Blobs are freed when nothing references them; upload sessions have one owner and expire."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import threading
from datetime import timedelta

import pytest

import ecr_mock.domain.blobs
from ecr_mock.domain.models import Registry
from ecr_mock.runtime.http import EcrMockServer
from ecr_mock.services.backend import Backend
from ecr_mock.store.clock import Clock
from tests.h11_client import Connection

ACCOUNT = "123456789012"
REGION = "us-east-1"

pytestmark = pytest.mark.ecr_seed({"repositories": [{"name": "app"}]})


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def sha512(data: bytes) -> str:
    return "sha512:" + hashlib.sha512(data).hexdigest()


@pytest.fixture
def registry(ecr_backend: Backend) -> Registry:
    return ecr_backend.registry(ACCOUNT, REGION)


@pytest.fixture
def small_spill(monkeypatch: pytest.MonkeyPatch) -> int:
    """Blobs over 64 KiB spill to files, so file handling is seen with small blobs."""
    monkeypatch.setattr(ecr_mock.domain.blobs, "SPILL_BYTES", 64 * 1024)
    return 64 * 1024


def _spilled_files() -> set[str]:
    directory = ecr_mock.domain.blobs._spill_dir()
    return set(os.listdir(directory))


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _push_blob(conn: Connection, auth: dict[str, str], data: bytes, name: str = "app") -> str:
    digest = sha256(data)
    answer = conn.request("POST", f"/v2/{name}/blobs/uploads/?digest={digest}", auth, data)
    assert answer.status == 201, answer.body
    return digest


def _push_image(conn: Connection, auth: dict[str, str], layers: list[bytes], tag: str) -> str:
    config = json.dumps({"architecture": "amd64", "os": "linux", "tag": tag}).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": _push_blob(conn, auth, config),
            "size": len(config),
        },
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": _push_blob(conn, auth, layer),
                "size": len(layer),
            }
            for layer in layers
        ],
    }
    body = json.dumps(manifest).encode()
    headers = {**auth, "Content-Type": "application/vnd.oci.image.manifest.v1+json"}
    answer = conn.request("PUT", f"/v2/app/manifests/{tag}", headers, body)
    assert answer.status == 201
    return answer.header("docker-content-digest") or ""


# ----- freeing ------------------------------------------------------------------------------


@pytest.mark.usefixtures("small_spill")
def test_deleting_the_repository_frees_every_blob_and_its_file(
    ecr_server: EcrMockServer, ecr_backend: Backend, registry: Registry, basic_auth: dict[str, str]
) -> None:
    before = _spilled_files()
    layers = [os.urandom(100_000) for _ in range(3)] + [b"small layer"]
    with Connection(ecr_server) as conn:
        _push_image(conn, basic_auth, layers, "v1")
        stored = list(registry.blobs.values())
        assert len(stored) == 5
        assert len(_spilled_files() - before) == 3
        ecr_backend.delete_repository(registry, "app", force=True)
    assert registry.blobs == {}
    assert all(blob.freed for blob in stored)
    assert _spilled_files() - before == set()


def test_a_blob_another_repository_knows_stays(
    ecr_server: EcrMockServer, ecr_backend: Backend, registry: Registry, basic_auth: dict[str, str]
) -> None:
    ecr_backend.create_repository(registry, "other")
    layer = os.urandom(1000)
    with Connection(ecr_server) as conn:
        digest = _push_blob(conn, basic_auth, layer)
        assert _push_blob(conn, basic_auth, layer, "other") == digest
        ecr_backend.delete_repository(registry, "app", force=True)
        answer = conn.request("GET", f"/v2/other/blobs/{digest}", basic_auth)
        assert answer.status == 200 and answer.body == layer
        assert conn.request("DELETE", f"/v2/other/blobs/{digest}", basic_auth).status == 202
    assert digest not in registry.blobs


@pytest.mark.usefixtures("small_spill")
def test_a_download_in_flight_keeps_its_blob_whole_until_it_ends(
    ecr_server: EcrMockServer, ecr_backend: Backend, registry: Registry, basic_auth: dict[str, str]
) -> None:
    layer = os.urandom(32 * 1024 * 1024)  # more than loopback socket buffers hold
    before = _spilled_files()
    with Connection(ecr_server) as conn:
        digest = _push_blob(conn, basic_auth, layer)
    blob = registry.blobs[digest]
    sock = socket.create_connection((ecr_server.host, ecr_server.port), timeout=30)
    head = f"GET /v2/app/blobs/{digest} HTTP/1.1\r\nHost: {ecr_server.endpoint}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in basic_auth.items()) + "Connection: close\r\n\r\n"
    sock.sendall(head.encode())
    received = sock.recv(65536)
    ecr_backend.delete_repository(registry, "app", force=True)
    assert not blob.freed  # still being read
    while chunk := sock.recv(1 << 20):
        received += chunk
    sock.close()
    assert received.split(b"\r\n\r\n", 1)[1] == layer
    for _ in range(100):  # the server thread closes the body just after the last byte
        if blob.freed:
            break
        threading.Event().wait(0.05)
    assert blob.freed
    assert _spilled_files() - before == set()


@pytest.mark.usefixtures("small_spill")
def test_stored_blobs_hold_no_open_file(
    ecr_server: EcrMockServer, registry: Registry, basic_auth: dict[str, str]
) -> None:
    with Connection(ecr_server) as conn:
        conn.sentinel()
        before = _open_fds()
        digests = [_push_blob(conn, basic_auth, os.urandom(70_000)) for _ in range(60)]
        assert _open_fds() - before < 5
        for digest in digests[:5]:
            assert conn.request("GET", f"/v2/app/blobs/{digest}", basic_auth).status == 200
        assert _open_fds() - before < 5
    assert all(not registry.blobs[d].in_memory for d in digests)


def test_pushing_a_stored_digest_again_keeps_the_first_blob_intact(
    ecr_server: EcrMockServer, registry: Registry, basic_auth: dict[str, str]
) -> None:
    layer = os.urandom(5000)
    with Connection(ecr_server) as conn:
        digest = _push_blob(conn, basic_auth, layer)
        first = registry.blobs[digest]
        _push_blob(conn, basic_auth, layer)
        assert registry.blobs[digest] is first and not first.freed
        assert conn.request("GET", f"/v2/app/blobs/{digest}", basic_auth).body == layer


# ----- one owner per session ----------------------------------------------------------------


def _race(*actions: object) -> list[object]:
    barrier = threading.Barrier(len(actions))
    results: list[object] = [None] * len(actions)

    def run(index: int, action: object) -> None:
        barrier.wait()
        results[index] = action()  # type: ignore[operator]

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _check_outcome(
    server: EcrMockServer,
    auth: dict[str, str],
    location: str,
    layer: bytes,
    digest: str,
    put: tuple[int, bytes],
    delete: tuple[int, bytes],
) -> None:
    """Exactly one of the completion and the cancel won; the store is sound either way."""
    (put_status, put_body), (delete_status, delete_body) = put, delete
    assert sorted([put_status, delete_status]) in ([201, 404], [204, 404])
    loser = put_body if put_status == 404 else delete_body
    assert json.loads(loser)["errors"][0]["code"] == "BLOB_UPLOAD_UNKNOWN"
    with Connection(server) as conn:
        answer = conn.request("GET", f"/v2/app/blobs/{digest}", auth)
        if put_status == 201:
            assert answer.status == 200 and answer.body == layer
        else:
            assert answer.status == 404
            assert _push_blob_as(conn, auth, layer, digest) == 201
            assert conn.request("GET", f"/v2/app/blobs/{digest}", auth).body == layer
        assert conn.request("GET", location, auth).status == 404


def _uploaded(server: EcrMockServer, auth: dict[str, str], layer: bytes) -> str:
    with Connection(server) as conn:
        location = str(conn.request("POST", "/v2/app/blobs/uploads/", auth).header("location"))
        assert conn.request("PATCH", location, auth, layer).status == 202
    return location


def _call(server: EcrMockServer, method: str, target: str, auth: dict[str, str]) -> object:
    def call() -> tuple[int, bytes]:
        with Connection(server) as conn:
            answer = conn.request(method, target, auth)
            return answer.status, answer.body

    return call


@pytest.mark.parametrize("round_", range(3))
def test_cancel_racing_completion_has_exactly_one_winner(
    ecr_server: EcrMockServer, basic_auth: dict[str, str], round_: int
) -> None:
    layer = os.urandom(6 * 1024 * 1024 + round_)
    digest = sha512(layer)
    location = _uploaded(ecr_server, basic_auth, layer)
    put, delete = _race(
        _call(ecr_server, "PUT", f"{location}?digest={digest}", basic_auth),
        _call(ecr_server, "DELETE", location, basic_auth),
    )
    _check_outcome(ecr_server, basic_auth, location, layer, digest, put, delete)  # type: ignore[arg-type]


def test_cancel_arriving_while_completion_hashes_leaves_no_poisoned_blob(
    ecr_server: EcrMockServer, registry: Registry, basic_auth: dict[str, str]
) -> None:
    layer = os.urandom(32 * 1024 * 1024)
    digest = sha512(layer)
    location = _uploaded(ecr_server, basic_auth, layer)
    session = registry.uploads[location.rsplit("/", 1)[1]]
    results: list[object] = []
    complete = _call(ecr_server, "PUT", f"{location}?digest={digest}", basic_auth)
    thread = threading.Thread(target=lambda: results.append(complete()))  # type: ignore[operator]
    thread.start()
    while not session.lock.locked() and thread.is_alive():
        threading.Event().wait(0.001)
    delete = _call(ecr_server, "DELETE", location, basic_auth)()  # type: ignore[operator]
    thread.join()
    _check_outcome(ecr_server, basic_auth, location, layer, digest, results[0], delete)  # type: ignore[arg-type]


def _push_blob_as(conn: Connection, auth: dict[str, str], data: bytes, digest: str) -> int:
    return conn.request("POST", f"/v2/app/blobs/uploads/?digest={digest}", auth, data).status


def _start_streaming_patch(
    server: EcrMockServer, auth: dict[str, str], location: str, total: int
) -> socket.socket:
    sock = socket.create_connection((server.host, server.port), timeout=30)
    head = f"PATCH {location} HTTP/1.1\r\nHost: {server.endpoint}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in auth.items())
    head += f"Content-Length: {total}\r\n\r\n"
    sock.sendall(head.encode() + b"x" * (total // 2))
    return sock


def _wait_for_bytes(registry: Registry, upload_id: str) -> None:
    for _ in range(400):
        session = registry.uploads.get(upload_id)
        if session is not None and session.size > 0:
            return
        threading.Event().wait(0.01)
    raise AssertionError("the server never received the first half")


def _answer_after(sock: socket.socket, rest: bytes) -> tuple[int, dict[str, object]]:
    """Send the rest of the body (the server may have stopped reading) and parse the answer."""
    with contextlib.suppress(OSError):
        sock.sendall(rest)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "no answer"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    fields = dict(line.decode().lower().split(": ", 1) for line in head.split(b"\r\n")[1:] if line)
    length = int(fields["content-length"])
    while len(body) < length:
        body += sock.recv(65536)
    sock.close()
    return int(head.split()[1]), json.loads(body[:length])


def _half_sent_patch(
    conn: Connection,
    server: EcrMockServer,
    registry: Registry,
    auth: dict[str, str],
    total: int,
) -> tuple[str, socket.socket]:
    """Start an upload and a PATCH of ``total`` bytes; return once its first half arrived."""
    location = str(conn.request("POST", "/v2/app/blobs/uploads/", auth).header("location"))
    sock = _start_streaming_patch(server, auth, location, total)
    _wait_for_bytes(registry, location.rsplit("/", 1)[1])
    return location, sock


def test_cancel_during_a_streaming_patch_wins_and_the_patch_gets_404(
    ecr_server: EcrMockServer, registry: Registry, basic_auth: dict[str, str]
) -> None:
    total = 8 * 1024 * 1024
    with Connection(ecr_server) as conn:
        location, sock = _half_sent_patch(conn, ecr_server, registry, basic_auth, total)
        assert conn.request("DELETE", location, basic_auth).status == 204
        status, doc = _answer_after(sock, b"x" * (total - total // 2))
        assert status == 404
        assert doc["errors"][0]["code"] == "BLOB_UPLOAD_UNKNOWN"  # type: ignore[index]
        assert conn.request("GET", location, basic_auth).status == 404
        conn.sentinel()


def test_force_deleting_the_repository_fails_a_streaming_patch_with_name_unknown(
    ecr_server: EcrMockServer, ecr_backend: Backend, registry: Registry, basic_auth: dict[str, str]
) -> None:
    total = 8 * 1024 * 1024
    with Connection(ecr_server) as conn:
        _, sock = _half_sent_patch(conn, ecr_server, registry, basic_auth, total)
        ecr_backend.delete_repository(registry, "app", force=True)
        status, doc = _answer_after(sock, b"x" * (total - total // 2))
        assert status == 404
        assert doc["errors"][0]["code"] == "NAME_UNKNOWN"  # type: ignore[index]
        conn.sentinel()
    assert registry.uploads == {}


# ----- idle expiry --------------------------------------------------------------------------


@pytest.mark.usefixtures("small_spill")
def test_an_abandoned_upload_expires_after_an_idle_hour_and_frees_its_bytes(
    ecr_server: EcrMockServer, ecr_clock: Clock, registry: Registry, basic_auth: dict[str, str]
) -> None:
    before = _spilled_files()
    with Connection(ecr_server) as conn:
        location = str(
            conn.request("POST", "/v2/app/blobs/uploads/", basic_auth).header("location")
        )
        assert conn.request("PATCH", location, basic_auth, os.urandom(300_000)).status == 202
        assert len(_spilled_files() - before) == 1
        ecr_clock.advance(timedelta(minutes=59))
        assert conn.request("GET", location, basic_auth).status == 204
        assert conn.request("PATCH", location, basic_auth, b"more").status == 202  # touched again
        ecr_clock.advance(timedelta(minutes=59))
        assert conn.request("GET", location, basic_auth).status == 204
        ecr_clock.advance(timedelta(minutes=2))
        conn.request("GET", "/v2/", basic_auth)  # any request: the periodic check runs
        assert registry.uploads == {}
        assert _spilled_files() - before == set()
        answer = conn.request("GET", location, basic_auth)
        assert answer.status == 404
        assert answer.json()["errors"][0]["code"] == "BLOB_UPLOAD_UNKNOWN"
        answer = conn.request("PATCH", location, basic_auth, b"late")
        assert answer.status == 404


def test_the_idle_timeout_is_configurable(
    ecr_server: EcrMockServer, ecr_backend: Backend, ecr_clock: Clock, basic_auth: dict[str, str]
) -> None:
    ecr_backend.upload_idle_timeout = timedelta(minutes=5)
    with Connection(ecr_server) as conn:
        location = str(
            conn.request("POST", "/v2/app/blobs/uploads/", basic_auth).header("location")
        )
        ecr_clock.advance(timedelta(minutes=4))
        assert conn.request("GET", location, basic_auth).status == 204
        ecr_clock.advance(timedelta(minutes=6))
        assert conn.request("GET", location, basic_auth).status == 404
