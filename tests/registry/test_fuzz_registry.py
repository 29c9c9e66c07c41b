"""Fuzzing /v2/: no 5xx, OCI error bodies with known codes, the API version header, state intact."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder, run_wsgi_app

from ecr_mock.domain.manifests import DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST
from ecr_mock.domain.models import IMMUTABLE, Registry
from ecr_mock.services.backend import Backend
from tests.support.registry import ACCOUNT, HOST, REGION, sha256
from tests.support.registry import Registry as RegistryClient

EXAMPLES = int(os.environ.get("ECR_MOCK_FUZZ_EXAMPLES", "60"))
"""Examples per test; raise it for a deeper run."""

OCI_CODES = {
    "BLOB_UNKNOWN",
    "BLOB_UPLOAD_INVALID",
    "BLOB_UPLOAD_UNKNOWN",
    "DIGEST_INVALID",
    "MANIFEST_BLOB_UNKNOWN",
    "MANIFEST_INVALID",
    "MANIFEST_UNKNOWN",
    "NAME_INVALID",
    "NAME_UNKNOWN",
    "SIZE_INVALID",
    "UNAUTHORIZED",
    "DENIED",
    "UNSUPPORTED",
    "TOOMANYREQUESTS",
}
EXTRA_CODES = {"TAG_INVALID", "RANGE_INVALID", "NOT_FOUND", "PAGINATION_NUMBER_INVALID"}
"""ECR's (and Docker Distribution's) codes beyond the OCI list, as errors.py/handlers.py use."""
ALLOWED_CODES = OCI_CODES | EXTRA_CODES

SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# ----- the pre-populated registry -------------------------------------------------------------


class Populated:
    """A backend with two repositories, images, tags and an upload in progress."""

    def __init__(self) -> None:
        self.backend = Backend(ACCOUNT, REGION)
        self.client = RegistryClient(self.backend)
        self.client.create_repo("app")
        self.client.create_repo("team/locked", tag_mutability=IMMUTABLE)
        self.digest_a, self.manifest_a = self.client.push_image("app", "v1", [b"layer-a"])
        self.digest_b, _ = self.client.push_image(
            "app", "v2", [b"layer-a", b"layer-b"], media_type=DOCKER_MANIFEST
        )
        self.client.push_image("team/locked", "v1", [b"layer-c"])
        response = self.client.request("POST", "/v2/app/blobs/uploads/")
        self.upload_location = response.headers["Location"]
        self.client.request(
            "PATCH",
            self.upload_location,
            data=b"partial",
            headers={"Content-Type": "application/octet-stream"},
        )

    @property
    def reg(self) -> Registry:
        return self.backend.registry(ACCOUNT, REGION)


def _stored(reg: Registry) -> Any:
    repositories = {
        name: (
            repo.tag_mutability,
            {d: (i.manifest, i.media_type, sorted(i.tags)) for d, i in repo.images.items()},
            dict(repo.tags),
            sorted(repo.blobs),
            repr(sorted((k, sorted(v)) for k, v in repo.referrers.items())),
        )
        for name, repo in reg.repositories.items()
    }
    blobs = {digest: (blob.size, sha256(blob.read())) for digest, blob in reg.blobs.items()}
    return repositories, blobs


def check_unchanged(before: tuple[Any, dict[str, int]], reg: Registry) -> None:
    """Stored content identical; no new upload session; surviving sessions kept their bytes.

    (A failed chunk that was cut short drops its session on purpose: nothing partial survives.)
    """
    stored, uploads = before
    assert _stored(reg) == stored
    after = {upload_id: session.size for upload_id, session in reg.uploads.items()}
    assert set(after) <= set(uploads)
    for upload_id, size in after.items():
        assert uploads[upload_id] == size


def snapshot(reg: Registry) -> tuple[Any, dict[str, int]]:
    return _stored(reg), {upload_id: s.size for upload_id, s in reg.uploads.items()}


def call(
    populated: Populated,
    method: str,
    path: str | bytes,
    *,
    headers: dict[str, str] | None = None,
    data: bytes = b"",
    query: str | bytes = "",
    content_length: str | None = None,
    auth: bool = True,
) -> tuple[int, dict[str, str], bytes]:
    """One request straight into the WSGI app (CONTENT_LENGTH may be any text)."""
    all_headers = dict(populated.client.auth if auth else {})
    all_headers.update(headers or {})
    builder = EnvironBuilder(
        path="/",
        method=method,
        headers=all_headers,
        data=data,
        base_url=f"https://{HOST}",
    )
    environ = builder.get_environ()
    builder.close()
    # A WSGI server hands the raw request-line bytes over as latin-1 text.
    raw_path = path if isinstance(path, bytes) else path.encode()
    raw_query = query if isinstance(query, bytes) else query.encode()
    environ["PATH_INFO"] = raw_path.decode("latin-1")
    environ["QUERY_STRING"] = raw_query.decode("latin-1")
    if content_length is not None:
        environ["CONTENT_LENGTH"] = content_length
    app_iter, status, response_headers = run_wsgi_app(populated.client.app, environ, buffered=True)
    body = b"".join(app_iter)
    return int(status.split()[0]), dict(response_headers), body


def check_response(status: int, headers: dict[str, str], body: bytes, method: str = "GET") -> None:
    assert status < 500, (status, body[:300])
    assert headers.get("Docker-Distribution-Api-Version") == "registry/2.0"
    if status >= 400 and body:
        doc = json.loads(body)
        assert isinstance(doc, dict) and set(doc) == {"errors"}, doc
        assert isinstance(doc["errors"], list) and doc["errors"], doc
        for entry in doc["errors"]:
            assert entry["code"] in ALLOWED_CODES, entry
            assert isinstance(entry["message"], str), entry
            assert "Traceback" not in entry["message"]
    if status >= 400 and method != "HEAD":
        assert body, status


def check_call(populated: Populated, method: str, path: str | bytes, **kwargs: Any) -> int:
    before = snapshot(populated.reg)
    status, headers, body = call(populated, method, path, **kwargs)
    check_response(status, headers, body, method)
    if status >= 400:
        check_unchanged(before, populated.reg)
    return status


# ----- strategies ---------------------------------------------------------------------------

NAMES = [
    "app",
    "team/locked",
    "missing",
    "App",
    "a",
    "a" * 257,
    "a/" * 200 + "b",
    "team//locked",
    "team/",
    "..",
    "../app",
    "app/..",
    "app/../team/locked",
    "app%2Fx",
    "team%2flocked",
    "%2e%2e",
    "ab__cd",
    "ab---cd",
    "app\u00fc",
    "\u4e2d\u6587",
    "app\x00",
    "app ",
    "_catalog",
    "app/blobs",
    "app/manifests/v1",
    "v2",
    "",
]
DIGESTS = [
    "sha256:" + "0" * 64,
    "sha256:zz",
    "sha256:" + "A" * 64,
    "sha256:",
    "sha512:" + "0" * 128,
    "sha512:abc",
    "md5:d41d8cd98f00b204e9800998ecf8427e",
    "sha256:" + "0" * 65,
    "sha256",
    ":",
    "sha256:\u00fc",
    "sha256:" + "0" * 64 + "%00",
    sha256(b"layer-a"),
    sha256(b"partial"),
]
REFERENCES = [*DIGESTS, "v1", "v2", "latest", "", "x" * 301, "t\u00fc", "..", "a:b", "-", "*"]
UPLOAD_IDS = ["00000000-0000-0000-0000-000000000000", "x", "..", "\u00fc", "%2F"]
METHODS = ["GET", "HEAD", "PUT", "POST", "PATCH", "DELETE", "OPTIONS", "TRACE", "FOO"]
SUFFIXES = [
    "/tags/list",
    "/blobs/uploads/",
    "/blobs/uploads",
    "/manifests/{ref}",
    "/blobs/{digest}",
    "/referrers/{digest}",
    "/blobs/uploads/{upload}",
    "/manifests/",
    "/blobs/",
    "",
]


@st.composite
def paths(draw: st.DrawFn) -> str | bytes:
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(
            st.sampled_from(
                ["/v2", "/v2/", "/v2/_catalog", "/v2//", "/v2/../v2/", "/v2/_catalog/x"]
            )
        )
    if kind == 1:
        return "/v2/" + draw(st.text(max_size=40))
    if kind == 3:
        tail = draw(st.sampled_from([*NAMES, "x/y/z", ""]))
        return f"/ecr-mock/layers/{ACCOUNT}/{REGION}/{tail}/" + draw(st.sampled_from(DIGESTS))
    if kind == 2:
        raw = draw(st.binary(max_size=30))
        return ("/v2/" + raw.decode("latin-1") + draw(st.sampled_from(SUFFIXES))).encode("latin-1")
    name = draw(st.one_of(st.sampled_from(NAMES), st.sampled_from(NAMES), st.text(max_size=12)))
    suffix = draw(st.sampled_from(SUFFIXES))
    return (
        "/v2/"
        + name
        + suffix.format(
            ref=draw(st.one_of(st.sampled_from(REFERENCES), st.text(max_size=12))),
            digest=draw(st.sampled_from(DIGESTS)),
            upload=draw(st.sampled_from(UPLOAD_IDS)),
        )
    )


QUERIES = [
    "",
    "n=-1",
    "n=0",
    "n=abc",
    "n=1001",
    "n=99999999999999999999999",
    "n=1.5",
    "n=",
    "last=",
    "last=%00",
    "last=\u00fc",
    "last=zzz&n=1",
    "digest=",
    "digest=sha256:zz",
    "digest=md5:abc",
    "digest=" + sha256(b"partial"),
    "digest=" + sha256(b""),
    "mount=",
    "mount=sha256:zz&from=app",
    "mount=" + sha256(b"layer-a") + "&from=..",
    "mount=" + sha256(b"layer-a") + "&from=team/locked",
    "mount=" + sha256(b"layer-a"),
    "from=app",
    "tag=",
    "tag=%20",
    "tag=v1&tag=v1",
    "artifactType=",
    "%%%",
    "&&&=",
    "n=1&n=2",
    "X-Ecr-Mock-Expires=99999999999999999999999&X-Ecr-Mock-Signature=x",
    "X-Ecr-Mock-Expires=١٢&X-Ecr-Mock-Signature=",
    "X-Ecr-Mock-Expires=-1",
    "X-Ecr-Mock-Expires=99999999999&X-Ecr-Mock-Signature=%C3%BC",
    "X-Ecr-Mock-Expires=%C2%B2&X-Ecr-Mock-Signature=x",
    "X-Ecr-Mock-Expires=" + "9" * 5000,
    "n=" + "9" * 5000,
    "n=%C2%B2",
    "n=%D9%A1",
]
HEADER_VALUES: dict[str, list[str]] = {
    "Content-Range": [
        "",
        "0-0",
        "bytes 0-6/7",
        "7-0",
        "-1-5",
        "0-99999999999999999999999",
        "abc",
        "bytes=0-",
        "7-13",
        "0-6/*",
        "0-" + "9" * 5000,
        "\u0661-\u0662",
        "0-6/" + "9" * 5000,
    ],
    "Range": [
        "bytes=0-0",
        "bytes=-1",
        "bytes=5-1",
        "bytes=0-99999999999",
        "bytes=999999-",
        "bytes=a-b",
        "items=0-1",
        "bytes=0-1,3-4",
        "",
    ],
    "Accept": [
        "",
        "*/*",
        "garbage",
        ";;;",
        OCI_MANIFEST,
        "application/vnd.docker.distribution.manifest.v1+json",
        "text/html;q=abc",
        ",",
    ],
    "Content-Type": ["", OCI_MANIFEST, OCI_INDEX, "application/json", "x/y; a=b", ";"],
    "Authorization": ["Basic", "Basic !!!", "Bearer x", "Basic QVdTOg==", ""],
}
CONTENT_LENGTHS = [None, None, None, "-1", "abc", "99999999999999999999", "1e3", "", " 5", "0"]


@st.composite
def queries(draw: st.DrawFn) -> bytes:
    """A query from the list, or random text, with raw (maybe not UTF-8) bytes appended."""
    kind = draw(st.integers(0, 3))
    base = draw(st.sampled_from(QUERIES)) if kind < 3 else draw(st.text(max_size=20))
    if draw(st.booleans()):
        return base.encode()
    key = draw(st.sampled_from(["n", "last", "digest", "mount", "from", "tag", "x"]))
    return base.encode() + b"&" + key.encode() + b"=" + draw(st.binary(max_size=8))


@st.composite
def header_sets(draw: st.DrawFn) -> dict[str, str]:
    chosen = draw(st.lists(st.sampled_from(sorted(HEADER_VALUES)), max_size=3, unique=True))
    return {key: draw(st.sampled_from(HEADER_VALUES[key])) for key in chosen}


# ----- the tests ---------------------------------------------------------------------------


@SETTINGS
@given(
    method=st.sampled_from(METHODS),
    path=paths(),
    query=queries(),
    headers=header_sets(),
    data=st.sampled_from([b"", b"x", b"partial", b"\xff" * 100, b"{}"]),
    content_length=st.sampled_from(CONTENT_LENGTHS),
)
def test_random_requests_never_fail_with_5xx_and_failures_change_nothing(
    method: str,
    path: str | bytes,
    query: bytes,
    headers: dict[str, str],
    data: bytes,
    content_length: str | None,
) -> None:
    populated = Populated()
    auth = "Authorization" not in headers
    check_call(
        populated,
        method,
        path,
        headers=headers,
        data=data,
        query=query,
        content_length=content_length,
        auth=auth,
    )


@SETTINGS
@given(
    method=st.sampled_from(["PATCH", "PUT", "GET", "DELETE"]),
    query=st.sampled_from(QUERIES),
    headers=header_sets(),
    data=st.sampled_from([b"", b"more", b"x" * 70_000]),
    content_length=st.sampled_from(CONTENT_LENGTHS),
)
def test_requests_on_an_open_upload_keep_it_consistent(
    method: str,
    query: str,
    headers: dict[str, str],
    data: bytes,
    content_length: str | None,
) -> None:
    populated = Populated()
    headers.pop("Authorization", None)
    status = check_call(
        populated,
        method,
        populated.upload_location,
        headers=headers,
        data=data,
        query=query,
        content_length=content_length,
    )
    sessions = populated.reg.uploads
    if status < 400 and method == "PUT":
        assert not sessions
        digest = dict(q.split("=", 1) for q in query.split("&") if "=" in q).get("digest", "")
        blob = populated.reg.blobs[digest]
        assert sha256(blob.read()) == digest


def _manifest_bodies() -> st.SearchStrategy[bytes]:
    good_config = {"mediaType": "application/vnd.oci.image.config.v1+json"}
    layer_a = sha256(b"layer-a")
    shapes: list[Any] = [
        None,
        [],
        "x",
        1,
        {},
        {"schemaVersion": "2"},
        {"schemaVersion": 2},
        {"schemaVersion": 2, "config": None},
        {"schemaVersion": 2, "config": {"digest": layer_a, "size": -1}},
        {"schemaVersion": 2, "config": {"digest": layer_a, "size": 1.5}},
        {"schemaVersion": 2, "config": {"digest": "sha256:zz", "size": 1}},
        {"schemaVersion": 2, "config": {**good_config, "digest": layer_a, "size": 7}, "layers": 5},
        {
            "schemaVersion": 2,
            "config": {**good_config, "digest": layer_a, "size": 7},
            "layers": [None, 1, "x"],
        },
        {
            "schemaVersion": 2,
            "config": {**good_config, "digest": "sha256:" + "1" * 64, "size": 7},
            "layers": [],
        },
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {**good_config, "digest": layer_a, "size": 7},
            "layers": [{"mediaType": "x", "digest": "sha256:" + "2" * 64, "size": 1}],
        },
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {**good_config, "digest": layer_a, "size": 7},
            "layers": [],
            "subject": {"mediaType": OCI_MANIFEST, "digest": "sha256:zz", "size": 1},
        },
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {**good_config, "digest": layer_a, "size": 7},
            "layers": [],
            "subject": "x",
            "annotations": [1],
            "artifactType": 5,
        },
        {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": None},
        {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [{"digest": 1}]},
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [{"mediaType": OCI_MANIFEST, "digest": "sha256:" + "3" * 64, "size": 2}],
        },
        {"schemaVersion": 1, "fsLayers": [{"blobSum": None}, 1]},
        {"schemaVersion": 1, "fsLayers": "x"},
        {"schemaVersion": 1, "fsLayers": [{"blobSum": "sha256:" + "4" * 64}]},
        {"schemaVersion": 2, "mediaType": ["x"], "config": {}},
        {"schemaVersion": 2, "mediaType": "text/plain", "config": {}},
    ]
    fixed = [json.dumps(doc).encode() for doc in shapes] + [
        b"",
        b"{",
        b"\xff\xfe",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b'{"schemaVersion": NaN}',
        b'{"schemaVersion": 1e999}',
        b"x" * (5 * 1024 * 1024),
        b'{"schemaVersion":2,"annotations":{"a":"' + b"x" * (5 * 1024 * 1024) + b'"}}',
    ]
    return st.one_of(st.sampled_from(fixed), st.binary(max_size=60))


@SETTINGS
@given(
    name=st.sampled_from(["app", "team/locked", "missing", "App", ".."]),
    reference=st.sampled_from([*REFERENCES[:14], "v1", "v9", "latest"]),
    body=_manifest_bodies(),
    content_type=st.sampled_from(HEADER_VALUES["Content-Type"] + [DOCKER_MANIFEST]),
    query=st.sampled_from(["", "tag=v1", "tag=bad%20tag", "tag=new"]),
)
def test_bad_manifests_are_refused_with_an_oci_error_and_store_nothing(
    name: str, reference: str, body: bytes, content_type: str, query: str
) -> None:
    populated = Populated()
    headers = {"Content-Type": content_type} if content_type else {}
    status = check_call(
        populated,
        "PUT",
        f"/v2/{name}/manifests/{reference}",
        headers=headers,
        data=body,
        query=query,
    )
    assert status >= 400


def test_catalog_and_tags_list_pagination_junk_gets_client_errors() -> None:
    populated = Populated()
    for path in ("/v2/_catalog", "/v2/app/tags/list"):
        for query in QUERIES:
            check_call(populated, "GET", path, query=query)


@pytest.mark.parametrize("path", ["/v2/app/manifests/v1", "/v2/app/blobs/" + sha256(b"layer-a")])
@pytest.mark.parametrize("header", HEADER_VALUES["Range"] + HEADER_VALUES["Accept"])
def test_range_and_accept_junk_on_pulls_answer_without_5xx(path: str, header: str) -> None:
    populated = Populated()
    for name in ("Range", "Accept"):
        check_call(populated, "GET", path, headers={name: header})


def test_a_five_mib_manifest_is_refused_as_manifest_invalid_or_too_large() -> None:
    populated = Populated()
    body = b'{"schemaVersion":2,"annotations":{"a":"' + b"x" * (5 * 1024 * 1024) + b'"}}'
    before = snapshot(populated.reg)
    status, headers, payload = call(
        populated, "PUT", "/v2/app/manifests/big", data=body, headers={"Content-Type": OCI_MANIFEST}
    )
    check_response(status, headers, payload)
    assert status == 400
    assert json.loads(payload)["errors"][0]["code"] == "MANIFEST_INVALID"
    check_unchanged(before, populated.reg)


def test_a_manifest_referencing_missing_blobs_is_refused_and_the_tag_stays() -> None:
    populated = Populated()
    doc = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": "sha256:" + "1" * 64,
            "size": 2,
        },
        "layers": [],
    }
    before = snapshot(populated.reg)
    status, headers, payload = call(
        populated,
        "PUT",
        "/v2/app/manifests/v1",
        data=json.dumps(doc).encode(),
        headers={"Content-Type": OCI_MANIFEST},
    )
    check_response(status, headers, payload)
    assert status in (400, 404)
    check_unchanged(before, populated.reg)
    assert populated.reg.repositories["app"].tags["v1"] == populated.digest_a


@pytest.mark.parametrize(
    "body", [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000]
)
def test_deeply_nested_manifest_json_is_manifest_invalid(body: bytes) -> None:
    populated = Populated()
    status, headers, payload = call(
        populated,
        "PUT",
        "/v2/app/manifests/deep",
        data=body,
        headers={"Content-Type": OCI_MANIFEST},
    )
    check_response(status, headers, payload)
    assert json.loads(payload)["errors"][0]["code"] == "MANIFEST_INVALID"


@pytest.mark.parametrize("content_length", ["-1", "abc", "1e3", " ", "0x10"])
def test_bad_content_length_on_a_chunk_is_size_invalid_and_keeps_the_upload(
    content_length: str,
) -> None:
    populated = Populated()
    before = snapshot(populated.reg)
    status, headers, payload = call(
        populated, "PATCH", populated.upload_location, data=b"more", content_length=content_length
    )
    check_response(status, headers, payload)
    assert status == 400
    assert json.loads(payload)["errors"][0]["code"] in ("SIZE_INVALID", "BLOB_UPLOAD_INVALID")
    check_unchanged(before, populated.reg)
    assert {k: v.size for k, v in populated.reg.uploads.items()} == before[1]


def test_content_length_beyond_the_body_is_size_invalid_and_drops_the_partial_upload() -> None:
    populated = Populated()
    before = snapshot(populated.reg)
    status, headers, payload = call(
        populated,
        "PATCH",
        populated.upload_location,
        data=b"more",
        content_length="99999999999999999999",
    )
    check_response(status, headers, payload)
    assert status == 400
    assert json.loads(payload)["errors"][0]["code"] == "SIZE_INVALID"
    check_unchanged(before, populated.reg)
    assert populated.reg.uploads == {}


@pytest.mark.parametrize(
    "query",
    [
        "X-Ecr-Mock-Expires=99999999999&X-Ecr-Mock-Signature=%C3%BC",
        "X-Ecr-Mock-Expires=%C2%B2&X-Ecr-Mock-Signature=x",
        "X-Ecr-Mock-Expires=" + "9" * 5000 + "&X-Ecr-Mock-Signature=x",
        "X-Ecr-Mock-Expires=1&X-Ecr-Mock-Signature=",
        "",
    ],
    ids=["unicode-signature", "superscript-expiry", "5000-digit-expiry", "expired", "none"],
)
def test_layer_download_urls_with_junk_signatures_are_denied(query: str) -> None:
    populated = Populated()
    path = f"/ecr-mock/layers/{ACCOUNT}/{REGION}/app/{sha256(b'layer-a')}"
    status, headers, body = call(populated, "GET", path, query=query, auth=False)
    check_response(status, headers, body)
    assert status == 403
    assert json.loads(body)["errors"][0]["code"] == "DENIED"


@pytest.mark.parametrize("content_range", ["0-" + "9" * 5000, "0-6/" + "9" * 5000, "7-0", "x"])
def test_content_range_junk_is_range_invalid_and_keeps_the_upload(content_range: str) -> None:
    populated = Populated()
    before = snapshot(populated.reg)
    status, headers, body = call(
        populated,
        "PATCH",
        populated.upload_location,
        data=b"more",
        headers={"Content-Range": content_range},
    )
    check_response(status, headers, body)
    assert status == 416
    assert json.loads(body)["errors"][0]["code"] == "RANGE_INVALID"
    assert headers["Range"] == "0-6"
    check_unchanged(before, populated.reg)
    assert {k: v.size for k, v in populated.reg.uploads.items()} == before[1]


@pytest.mark.parametrize("query", [b"n=\xbd", b"last=\xff\xfe", b"digest=\x80"])
def test_query_strings_that_are_not_utf8_get_client_errors(query: bytes) -> None:
    populated = Populated()
    for path in ("/v2/_catalog", "/v2/app/tags/list"):
        check_call(populated, "GET", path, query=query)
    assert check_call(populated, "POST", "/v2/app/blobs/uploads/", query=query) < 500


def test_manifest_put_by_digest_with_an_immutable_extra_tag_stores_nothing() -> None:
    populated = Populated()
    manifest = populated.client.image_manifest("team/locked", [b"layer-new"])
    digest = sha256(manifest)
    before = snapshot(populated.reg)
    status, headers, body = call(
        populated,
        "PUT",
        f"/v2/team/locked/manifests/{digest}",
        data=manifest,
        headers={"Content-Type": OCI_MANIFEST},
        query="tag=new&tag=v1",
    )
    check_response(status, headers, body)
    assert status == 400
    assert json.loads(body)["errors"][0]["code"] == "TAG_INVALID"
    repo = populated.reg.repositories["team/locked"]
    assert digest not in repo.images
    assert "new" not in repo.tags
    assert snapshot(populated.reg)[0][0] == before[0][0]
