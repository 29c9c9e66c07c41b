"""Every answer on the wire is well framed: h11 parses each over one kept-alive connection."""

from __future__ import annotations

import hashlib
import json
import socket
from typing import Any
from urllib.parse import urlsplit

import pytest

from ecr_mock.domain.manifests import OCI_MANIFEST
from ecr_mock.runtime.http import EcrMockServer
from ecr_mock.services.backend import Backend
from ecr_mock.services.download_urls import layer_download_url
from tests.h11_client import Answer, Connection

pytest.importorskip("h11", reason="h11 parses the answers strictly (pip install h11)")

ACCOUNT = "123456789012"
OTHER = "210987654321"
REGION = "us-east-1"
TARGET = "AmazonEC2ContainerRegistry_V20150921."
LAYER = b"hello world"  # 11 bytes
CONFIG = b'{"architecture":"amd64","os":"linux"}'


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _manifest() -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": sha256(CONFIG),
                "size": len(CONFIG),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": sha256(LAYER),
                    "size": len(LAYER),
                }
            ],
        }
    ).encode()


MANIFEST = _manifest()


@pytest.fixture(autouse=True)
def _content(ecr_backend: Backend) -> None:
    """The repository ``app`` with ``v1`` and an archived ``old``; a second account."""
    reg = ecr_backend.registry(ACCOUNT, REGION)
    repo = ecr_backend.create_repository(reg, "app")
    for data in (CONFIG, LAYER):
        session = ecr_backend.start_upload(reg, repo)
        session.append(data)
        ecr_backend.finish_upload(reg, repo, session, sha256(data))
    ecr_backend.put_image(reg, repo, MANIFEST, tag="v1", media_type=OCI_MANIFEST)
    archived = ecr_backend.put_image(
        reg, repo, MANIFEST.replace(b"}]}", b'}],"annotations":{"a":"b"}}'), tag="old"
    )
    archived.storage_class = "ARCHIVE"
    archived.status = "ARCHIVED"
    ecr_backend.registry(OTHER, REGION)


def _new_upload(conn: Connection, auth: dict[str, str]) -> str:
    answer = conn.request("POST", "/v2/app/blobs/uploads/", auth)
    assert answer.status == 202
    location = answer.header("location")
    assert location is not None
    return location


def _checked(conn: Connection, server: EcrMockServer, answer: Answer) -> Connection:
    """Assert framing facts of ``answer``, then run the sentinel (reconnecting after a close)."""
    length = answer.header("content-length")
    chunked = (answer.header("transfer-encoding") or "").lower() == "chunked"
    if answer.status in (204, 304) or answer.status < 200:
        assert answer.body == b""
        assert length is None or answer.status == 304
    else:
        assert chunked or length is not None, "an answer must say where it ends"
    if conn.closed:
        conn = Connection(server)
    conn.sentinel()
    return conn


def _cases(auth: dict[str, str], server: EcrMockServer, backend: Backend) -> list[tuple[str, ...]]:
    """(method, target, auth?) for every route, each answered and refused in every way."""
    digest = sha256(LAYER)
    reg = backend.registry(ACCOUNT, REGION)
    download = urlsplit(layer_download_url(backend, reg.repositories["app"], digest))
    signed = f"{download.path}?{download.query}"
    return [
        ("GET", "/", ""),
        ("HEAD", "/", ""),
        ("GET", "/nowhere", ""),
        ("HEAD", "/nowhere", ""),
        ("PUT", "/", ""),
        ("GET", "/v2/", "auth"),
        ("HEAD", "/v2/", "auth"),
        ("GET", "/v2/", ""),
        ("HEAD", "/v2/", ""),
        ("GET", "/v2/_catalog", "auth"),
        ("GET", "/v2/_catalog?n=0", "auth"),
        ("GET", "/v2/_catalog?n=x", "auth"),
        ("GET", "/v2/app/tags/list", "auth"),
        ("GET", "/v2/nope/tags/list", "auth"),
        ("GET", "/v2/BAD/tags/list", "auth"),
        ("GET", f"/v2/app/blobs/{digest}", "auth"),
        ("HEAD", f"/v2/app/blobs/{digest}", "auth"),
        ("GET", f"/v2/app/blobs/{sha256(b'x')}", "auth"),
        ("HEAD", f"/v2/app/blobs/{sha256(b'x')}", "auth"),
        ("GET", "/v2/app/blobs/sha256:bad", "auth"),
        ("HEAD", "/v2/app/blobs/sha256:bad", "auth"),
        ("GET", f"/v2/app/blobs/{digest}", ""),
        ("POST", f"/v2/app/blobs/{digest}", "auth"),
        ("GET", "/v2/app/manifests/v1", "auth"),
        ("HEAD", "/v2/app/manifests/v1", "auth"),
        ("GET", "/v2/app/manifests/old", "auth"),
        ("HEAD", "/v2/app/manifests/old", "auth"),
        ("GET", "/v2/app/manifests/missing", "auth"),
        ("HEAD", "/v2/app/manifests/missing", "auth"),
        ("GET", "/v2/nope/manifests/v1", "auth"),
        ("HEAD", "/v2/nope/manifests/v1", "auth"),
        ("DELETE", "/v2/app/manifests/missing", "auth"),
        ("DELETE", "/v2/app/manifests/sha256:bad", "auth"),
        ("GET", f"/v2/app/referrers/{digest}", "auth"),
        ("GET", "/v2/app/referrers/bad", "auth"),
        ("GET", "/v2/app/blobs/uploads/nope", "auth"),
        ("PATCH", "/v2/app/blobs/uploads/nope", "auth"),
        ("PUT", f"/v2/app/blobs/uploads/nope?digest={digest}", "auth"),
        ("DELETE", "/v2/app/blobs/uploads/nope", "auth"),
        ("POST", "/v2/nope/blobs/uploads/", "auth"),
        ("POST", "/v2/app/blobs/uploads/?digest=sha256:bad", "auth"),
        ("GET", signed, ""),
        ("HEAD", signed, ""),
        ("GET", signed.replace("Signature=", "Signature=0"), ""),
        ("GET", f"/ecr-mock/findings/{ACCOUNT}/{REGION}/app", ""),
        ("PATCH", f"/ecr-mock/findings/{ACCOUNT}/{REGION}/app", ""),
    ]


def test_every_route_and_refusal_is_framed_exactly_over_one_connection(
    ecr_backend: Backend, ecr_server: EcrMockServer, basic_auth: dict[str, str]
) -> None:
    conn = Connection(ecr_server)
    seen: set[int] = set()
    for method, target, use_auth in _cases(basic_auth, ecr_server, ecr_backend):
        answer = conn.request(method, target, basic_auth if use_auth else {})
        seen.add(answer.status)
        conn = _checked(conn, ecr_server, answer)
    assert {200, 202, 400, 401, 403, 404, 405, 416} - seen <= {202, 416}
    conn.close()


def test_head_answers_carry_exactly_the_headers_of_get(
    ecr_backend: Backend, ecr_server: EcrMockServer, basic_auth: dict[str, str]
) -> None:
    compared = ("content-length", "content-type", "docker-content-digest", "etag")
    with Connection(ecr_server) as conn:
        for method, target, use_auth in _cases(basic_auth, ecr_server, ecr_backend):
            if method != "HEAD":
                continue
            headers = basic_auth if use_auth else {}
            head = conn.request("HEAD", target, headers)
            get = conn.request("GET", target, headers)
            assert head.body == b""
            assert head.status == get.status, target
            assert [head.header(h) for h in compared] == [get.header(h) for h in compared]
            assert get.header("content-length") == str(len(get.body))


def test_body_carrying_requests_and_their_refusals_keep_the_connection_usable(
    ecr_backend: Backend, ecr_server: EcrMockServer, basic_auth: dict[str, str]
) -> None:
    api = {"X-Amz-Target": f"{TARGET}DescribeRepositories", "Content-Type": "x-amz-json-1.1"}
    with Connection(ecr_server) as conn:
        location = _new_upload(conn, basic_auth)
        steps: list[tuple[str, str, dict[str, str], bytes, int]] = [
            ("PATCH", location, {**basic_auth, "Content-Range": "5-7"}, b"abc", 416),
            ("PATCH", location, {**basic_auth, "Content-Range": "junk"}, b"abc", 416),
            ("PATCH", location, {**basic_auth, "Content-Range": "0-2"}, b"abc", 202),
            ("PATCH", location, basic_auth, b"def", 202),
            ("PUT", f"{location}?digest={sha256(b'x')}", basic_auth, b"", 400),
            ("PATCH", "/v2/app/blobs/uploads/nope", basic_auth, b"lost bytes", 404),
            ("PATCH", location, {}, b"no token", 401),
            (
                "PUT",
                "/v2/app/manifests/v2",
                {**basic_auth, "Content-Type": OCI_MANIFEST},
                b"{",
                400,
            ),
            (
                "PUT",
                "/v2/app/manifests/v2",
                {**basic_auth, "Content-Type": OCI_MANIFEST},
                MANIFEST,
                201,
            ),
            ("POST", "/", api, b"{}", 200),
            ("POST", "/", {"X-Amz-Target": f"{TARGET}Nope"}, b"{}", 400),
            ("POST", "/", api, b"{not json", 400),
        ]
        for method, target, headers, body, status in steps:
            answer = conn.request(method, target, headers, body)
            assert answer.status == status, (method, target, answer.body)
            assert answer.header("content-length") == str(len(answer.body))
            conn = _checked(conn, ecr_server, answer)


def test_out_of_order_chunk_is_416_with_its_body_counted(
    ecr_server: EcrMockServer, basic_auth: dict[str, str]
) -> None:
    with Connection(ecr_server) as conn:
        location = _new_upload(conn, basic_auth)
        answer = conn.request("PATCH", location, {**basic_auth, "Content-Range": "10-12"}, b"abc")
        assert answer.status == 416
        assert answer.json()["errors"][0]["code"] == "RANGE_INVALID"
        assert answer.header("content-length") == str(len(answer.body)) != "0"
        assert answer.header("range") == "0-0"
        conn.sentinel()


# ----- request framing ----------------------------------------------------------------------


def _patch_head(location: str, auth: dict[str, str], server: EcrMockServer) -> bytes:
    lines = [f"PATCH {location} HTTP/1.1", f"Host: {server.endpoint}"]
    lines += [f"{k}: {v}" for k, v in auth.items()]
    return ("\r\n".join(lines) + "\r\n").encode()


def _upload_size(conn: Connection, location: str, auth: dict[str, str]) -> int:
    answer = conn.request("GET", location, auth)
    assert answer.status == 204
    return int((answer.header("range") or "0-0").split("-")[1]) + 1


def test_chunked_wins_over_content_length_and_the_connection_closes(
    ecr_server: EcrMockServer, basic_auth: dict[str, str]
) -> None:
    with Connection(ecr_server) as conn:
        location = _new_upload(conn, basic_auth)
        head = _patch_head(location, basic_auth, ecr_server)
        raw = (
            head + b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
        )
        answer = conn.raw(raw, "PATCH")
        assert answer.status == 202
        assert answer.header("range") == "0-4"
        assert answer.closes and conn.closed
    with Connection(ecr_server) as conn:
        assert _upload_size(conn, location, basic_auth) == 5


@pytest.mark.parametrize(
    "lengths",
    [["+5"], ["1_0"], ["5", "7"], ["5, 7"], [" 0x5"], ["-1"], ["5e0"]],
)
def test_malformed_content_length_is_400_and_closes_before_reading(
    ecr_server: EcrMockServer, basic_auth: dict[str, str], lengths: list[str]
) -> None:
    with Connection(ecr_server) as conn:
        location = _new_upload(conn, basic_auth)
        head = _patch_head(location, basic_auth, ecr_server)
        fields = "".join(f"Content-Length: {v}\r\n" for v in lengths).encode()
        answer = conn.raw(head + fields + b"\r\nhelloGET / HTTP/1.1\r\n\r\n", "PATCH")
        assert answer.status == 400
        assert answer.json()["errors"][0]["code"] == "SIZE_INVALID"
        assert answer.closes and conn.closed
    with Connection(ecr_server) as conn:
        assert _upload_size(conn, location, basic_auth) == 1  # "0-0": nothing was stored


def test_repeated_equal_content_length_is_one_length(
    ecr_server: EcrMockServer, basic_auth: dict[str, str]
) -> None:
    with Connection(ecr_server) as conn:
        location = _new_upload(conn, basic_auth)
        head = _patch_head(location, basic_auth, ecr_server)
        answer = conn.raw(head + b"Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc", "PATCH")
        assert answer.status == 202
        assert answer.header("range") == "0-2"
        conn.sentinel()


def test_chunk_extensions_and_trailers_are_accepted_on_a_kept_connection(
    ecr_server: EcrMockServer, basic_auth: dict[str, str]
) -> None:
    with Connection(ecr_server) as conn:
        location = _new_upload(conn, basic_auth)
        body = (
            b"3;foo=bar\r\nabc\r\n"
            b'2 ; name="quoted;value" ; flag\r\nde\r\n'
            b"0;last\r\nX-Checksum: abcde\r\nX-Other: 1\r\n\r\n"
        )
        head = _patch_head(location, basic_auth, ecr_server) + b"Transfer-Encoding: chunked\r\n\r\n"
        answer = conn.raw(head + body, "PATCH")
        assert answer.status == 202
        assert answer.header("range") == "0-4"
        assert not answer.closes
        conn.sentinel()


@pytest.mark.parametrize(
    "body",
    [
        b"zz\r\nabc\r\n0\r\n\r\n",
        b"+3\r\nabc\r\n0\r\n\r\n",
        b"0x3\r\nabc\r\n0\r\n\r\n",
        b"3\r\nabcXY0\r\n\r\n",
        b"3;=bad\r\nabc\r\n0\r\n\r\n",
        b"3\r\nabc\r\n0\r\nnot a field\r\n\r\n",
    ],
)
def test_broken_chunked_framing_is_400_with_connection_close(
    ecr_server: EcrMockServer, basic_auth: dict[str, str], body: bytes
) -> None:
    with Connection(ecr_server) as conn:
        location = _new_upload(conn, basic_auth)
        head = _patch_head(location, basic_auth, ecr_server) + b"Transfer-Encoding: chunked\r\n\r\n"
        answer = conn.raw(head + body, "PATCH")
        assert answer.status == 400
        assert answer.json()["errors"][0]["code"] == "SIZE_INVALID"
        assert answer.closes and conn.closed


@pytest.mark.parametrize(
    ("coding", "version", "status"),
    [("gzip", "1.1", 400), ("gzip, chunked", "1.1", 501), ("chunked", "1.0", 400)],
)
def test_transfer_codings_other_than_chunked_are_refused_and_close(
    ecr_server: EcrMockServer, basic_auth: dict[str, str], coding: str, version: str, status: int
) -> None:
    with Connection(ecr_server) as conn:
        answer = conn.request(
            "POST",
            "/v2/app/blobs/uploads/",
            {**basic_auth, "Transfer-Encoding": coding},
            b"3\r\nabc\r\n0\r\n\r\n",
            version=version,
        )
        assert answer.status == status
        assert answer.closes and conn.closed


def test_http11_request_without_host_or_with_two_is_400(ecr_server: EcrMockServer) -> None:
    with Connection(ecr_server) as conn:
        answer = conn.raw(b"GET / HTTP/1.1\r\n\r\n")
        assert answer.status == 400 and conn.closed
    with Connection(ecr_server) as conn:
        answer = conn.raw(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
        assert answer.status == 400 and conn.closed


# ----- 100 Continue -------------------------------------------------------------------------


def test_100_continue_is_sent_when_the_body_is_wanted(
    ecr_server: EcrMockServer, basic_auth: dict[str, str]
) -> None:
    with Connection(ecr_server) as conn:
        location = _new_upload(conn, basic_auth)
        head = _patch_head(location, basic_auth, ecr_server)
        conn.sock.sendall(head + b"Expect: 100-continue\r\nContent-Length: 3\r\n\r\n")
        interim = conn.sock.recv(100)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        answer = conn.raw(b"abc", "PATCH")
        assert answer.status == 202 and answer.header("range") == "0-2"
        conn.sentinel()


def test_refusal_before_reading_sends_no_100_and_closes(ecr_server: EcrMockServer) -> None:
    with Connection(ecr_server) as conn:
        answer = conn.request(
            "POST",
            "/v2/app/blobs/uploads/",
            {"Expect": "100-continue", "Content-Length": "1000000000"},
        )
        assert answer.status == 401
        assert answer.informational == []
        assert answer.closes and conn.closed


def test_http10_requests_get_no_100_continue(
    ecr_server: EcrMockServer, basic_auth: dict[str, str]
) -> None:
    with Connection(ecr_server) as conn:
        location = _new_upload(conn, basic_auth)
        answer = conn.request(
            "PATCH", location, {**basic_auth, "Expect": "100-continue"}, b"abc", version="1.0"
        )
        assert answer.status == 202
        assert answer.informational == []


# ----- Host ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        f"{OTHER}.dkr.ecr.{REGION}.amazonaws.com.",
        f"{OTHER}.DKR.ECR.{REGION.upper()}.AMAZONAWS.COM",
        f"{OTHER}.dkr.ecr.{REGION}.amazonaws.com.:443",
    ],
)
def test_another_accounts_host_in_any_spelling_refuses_the_token(
    ecr_server: EcrMockServer, basic_auth: dict[str, str], host: str
) -> None:
    with Connection(ecr_server) as conn:
        answer = conn.request("GET", "/v2/_catalog", {**basic_auth, "Host": host})
        assert answer.status == 401
        answer = conn.request(
            "POST", "/v2/app/blobs/uploads/", {**basic_auth, "Host": host}, b"", version="1.1"
        )
        assert answer.status == 401


@pytest.mark.parametrize(
    "host",
    [
        f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com.",
        f"{ACCOUNT}.DKR.ECR.{REGION.upper()}.AMAZONAWS.COM.:443",
    ],
)
def test_own_host_in_any_spelling_is_the_tokens_registry(
    ecr_server: EcrMockServer, basic_auth: dict[str, str], host: str
) -> None:
    with Connection(ecr_server) as conn:
        answer = conn.request("GET", "/v2/_catalog", {**basic_auth, "Host": host})
        assert answer.status == 200
        assert answer.json() == {"repositories": ["app"]}


# ----- ranges -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "status", "body", "content_range"),
    [
        ("bytes=-100", 206, LAYER, "bytes 0-10/11"),
        ("bytes=-3", 206, b"rld", "bytes 8-10/11"),
        ("bytes=6-", 206, b"world", "bytes 6-10/11"),
        ("bytes=0-0", 206, b"h", "bytes 0-0/11"),
        ("bytes=6-100", 206, b"world", "bytes 6-10/11"),
        ("BYTES=0-1", 206, b"he", "bytes 0-1/11"),
        ("bytes=-0", 416, None, "bytes */11"),
        ("bytes=11-", 416, None, "bytes */11"),
        ("bytes=20-30", 416, None, "bytes */11"),
        ("items=0-1", 200, LAYER, None),
        ("bytes=5-2", 200, LAYER, None),
        ("bytes=0-1,4-5", 200, LAYER, None),
        ("bytes=abc", 200, LAYER, None),
    ],
)
def test_blob_ranges_follow_rfc9110(
    ecr_server: EcrMockServer,
    basic_auth: dict[str, str],
    header: str,
    status: int,
    body: bytes | None,
    content_range: str | None,
) -> None:
    with Connection(ecr_server) as conn:
        answer = conn.request(
            "GET", f"/v2/app/blobs/{sha256(LAYER)}", {**basic_auth, "Range": header}
        )
        assert answer.status == status
        assert answer.header("content-range") == content_range
        if body is not None:
            assert answer.body == body
        else:
            assert answer.json()["errors"][0]["code"] == "RANGE_INVALID"
        conn.sentinel()


def test_if_range_with_another_etag_sends_the_whole_blob(
    ecr_server: EcrMockServer, basic_auth: dict[str, str]
) -> None:
    url = f"/v2/app/blobs/{sha256(LAYER)}"
    with Connection(ecr_server) as conn:
        stale = conn.request("GET", url, {**basic_auth, "Range": "bytes=0-1", "If-Range": '"x"'})
        assert stale.status == 200 and stale.body == LAYER
        etag = stale.header("etag") or ""
        fresh = conn.request("GET", url, {**basic_auth, "Range": "bytes=0-1", "If-Range": etag})
        assert fresh.status == 206 and fresh.body == b"he"


# ----- HEAD and GET agree --------------------------------------------------------------------


def test_archived_image_is_unknown_to_head_as_to_get(
    ecr_server: EcrMockServer, basic_auth: dict[str, str]
) -> None:
    with Connection(ecr_server) as conn:
        head = conn.request("HEAD", "/v2/app/manifests/old", basic_auth)
        get = conn.request("GET", "/v2/app/manifests/old", basic_auth)
        assert head.status == get.status == 404
        assert get.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"
        assert head.header("docker-content-digest") is None
        assert head.header("content-length") == get.header("content-length")


def test_a_body_read_with_readinto_into_a_bytearray_arrives_whole() -> None:
    """WSGI applications built on werkzeug (moto's server) read the body with readinto."""
    import threading

    from werkzeug.wrappers import Request, Response

    from ecr_mock.runtime.http.engine import HTTPServer as _HTTPServer

    def app(environ: Any, start_response: Any) -> Any:
        data = Request(environ).get_data()
        return Response(hashlib.sha256(data).hexdigest())(environ, start_response)

    httpd = _HTTPServer("127.0.0.1", 0, app, False)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        body = bytes(range(256)) * 4000
        with socket.create_connection(("127.0.0.1", httpd.port), timeout=30) as sock:
            head = f"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: {len(body)}\r\n\r\n"
            sock.sendall(head.encode() + body)
            answer = b""
            while not answer.endswith(hashlib.sha256(body).hexdigest().encode()):
                chunk = sock.recv(65536)
                assert chunk, answer
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200")
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_an_early_refusal_of_a_large_body_reaches_the_client_intact(
    ecr_server: EcrMockServer,
) -> None:
    """A 48 MiB body the server refuses unread (no credentials): the client, still sending,
    gets the whole 401 answer, not a connection reset."""
    import threading

    size = 48 * 1024 * 1024
    head = (
        f"POST /v2/app/blobs/uploads/ HTTP/1.1\r\nHost: {ecr_server.host}:{ecr_server.port}\r\n"
        f"Content-Length: {size}\r\nContent-Type: application/octet-stream\r\n\r\n"
    ).encode()
    sock = socket.create_connection((ecr_server.host, ecr_server.port), timeout=30)
    sent: list[BaseException | int] = []

    def send() -> None:
        try:
            sock.sendall(head)
            chunk = b"\0" * (1024 * 1024)
            for _ in range(size // len(chunk)):
                sock.sendall(chunk)
            sent.append(size)
        except OSError as exc:
            sent.append(exc)

    sender = threading.Thread(target=send)
    sender.start()
    received = b""
    try:
        while b"\r\n\r\n" not in received or len(received) < _framed_length(received):
            data = sock.recv(65536)
            assert data, f"the connection ended inside the answer: {received!r}"
            received += data
        sender.join(timeout=60)
    finally:
        sock.close()
    status_line, _, rest = received.partition(b"\r\n")
    body = rest.partition(b"\r\n\r\n")[2]
    assert status_line.split(b" ")[1] == b"401"
    assert len(body) == _framed_length(received) - received.index(b"\r\n\r\n") - 4
    assert json.loads(body)
    assert sent == [size]


def _framed_length(received: bytes) -> int:
    """Bytes of head plus the body its Content-Length announces."""
    head, _, _ = received.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    return len(head) + 4 + length
