"""Each OCI error code the registry answers, with its status, ECR's message and a JSON body."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from werkzeug.test import EnvironBuilder, TestResponse
from werkzeug.wrappers import Request

from ecr_mock.domain.errors import EcrError
from ecr_mock.domain.manifests import OCI_INDEX, OCI_MANIFEST
from ecr_mock.domain.models import IMMUTABLE
from ecr_mock.protocols.registry import handlers
from ecr_mock.protocols.registry.errors import ERROR_TABLE, translate
from tests.registry.conftest import HOST, Registry, sha256


def _error(response: TestResponse) -> dict[str, Any]:
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.headers["Docker-Distribution-Api-Version"] == "registry/2.0"
    body = json.loads(response.get_data())
    assert len(body["errors"]) == 1
    error: dict[str, Any] = body["errors"][0]
    return error


def _short_body(
    registry: Registry, method: str, path: str, sent: bytes, declared: int, **kwargs: Any
) -> TestResponse:
    """A request whose body ends before its Content-Length (a client that went away)."""
    headers = {**registry.auth, **kwargs.pop("headers", {})}
    builder = EnvironBuilder(
        path, method=method, data=sent, headers=headers, base_url=f"https://{HOST}", **kwargs
    )
    environ = builder.get_environ()
    environ["CONTENT_LENGTH"] = str(declared)
    return registry.client.open(Request(environ))


def test_name_unknown_404_with_ecr_message(registry: Registry) -> None:
    response = registry.request("GET", "/v2/missing/manifests/latest")
    assert response.status_code == 404
    error = _error(response)
    assert error["code"] == "NAME_UNKNOWN"
    assert error["message"] == (
        "The repository with name 'missing' does not exist in the registry with id '123456789012'"
    )


def test_name_invalid_400(registry: Registry) -> None:
    response = registry.request("GET", "/v2/Bad_Name!/tags/list")
    assert response.status_code == 400
    assert _error(response)["code"] == "NAME_INVALID"


def test_manifest_unknown_404_requested_image_not_found(registry: Registry) -> None:
    registry.create_repo("app")
    for reference in ("nope", sha256(b"nope")):
        response = registry.request("GET", f"/v2/app/manifests/{reference}")
        assert response.status_code == 404
        error = _error(response)
        assert error["code"] == "MANIFEST_UNKNOWN"
        assert error["message"] == "Requested image not found"


def test_blob_unknown_404(registry: Registry) -> None:
    registry.create_repo("app")
    response = registry.request("GET", f"/v2/app/blobs/{sha256(b'never')}")
    assert response.status_code == 404
    assert _error(response)["code"] == "BLOB_UNKNOWN"


def test_blob_upload_unknown_404_for_unknown_session(registry: Registry) -> None:
    registry.create_repo("app")
    response = registry.request("PATCH", "/v2/app/blobs/uploads/not-a-session", data=b"x")
    assert response.status_code == 404
    assert _error(response)["code"] == "BLOB_UPLOAD_UNKNOWN"


def test_empty_upload_is_blob_upload_invalid_with_ecr_message(registry: Registry) -> None:
    registry.create_repo("app")
    location = registry.request("POST", "/v2/app/blobs/uploads/").headers["Location"]
    response = registry.request("PUT", location, query_string={"digest": sha256(b"")})
    assert response.status_code == 400
    error = _error(response)
    assert error["code"] == "BLOB_UPLOAD_INVALID"
    assert "cannot be completed because it does not have any parts" in error["message"]
    assert sha256(b"") not in registry.reg.blobs


def test_wrong_digest_is_digest_invalid_and_stores_nothing(registry: Registry) -> None:
    registry.create_repo("app")
    location = registry.request("POST", "/v2/app/blobs/uploads/").headers["Location"]
    response = registry.request(
        "PUT", location, query_string={"digest": sha256(b"other")}, data=b"content"
    )
    assert response.status_code == 400
    assert _error(response)["code"] == "DIGEST_INVALID"
    assert registry.reg.blobs == {}
    assert registry.reg.uploads == {}


def test_monolithic_wrong_digest_stores_nothing(registry: Registry) -> None:
    registry.create_repo("app")
    response = registry.request(
        "POST", "/v2/app/blobs/uploads/", query_string={"digest": sha256(b"x")}, data=b"y"
    )
    assert response.status_code == 400
    assert _error(response)["code"] == "DIGEST_INVALID"
    assert registry.reg.blobs == {} and registry.reg.uploads == {}


def test_malformed_digest_is_digest_invalid(registry: Registry) -> None:
    registry.create_repo("app")
    location = registry.request("POST", "/v2/app/blobs/uploads/").headers["Location"]
    response = registry.request("PUT", location, query_string={"digest": "md5:abc"}, data=b"a")
    assert response.status_code == 400
    assert _error(response)["code"] == "DIGEST_INVALID"
    blob = registry.request("GET", "/v2/app/blobs/sha256:short")
    assert blob.status_code == 400


def test_manifest_digest_mismatch_is_digest_invalid(registry: Registry) -> None:
    registry.create_repo("app")
    manifest = registry.image_manifest("app", [b"l"])
    response = registry.put_manifest("app", sha256(b"something else"), manifest)
    assert response.status_code == 400
    assert _error(response)["code"] == "DIGEST_INVALID"


def test_short_body_is_size_invalid_and_drops_the_upload(registry: Registry) -> None:
    registry.create_repo("app")
    location = registry.request("POST", "/v2/app/blobs/uploads/").headers["Location"]
    response = _short_body(
        registry, "PATCH", location, b"only ten b", 100, headers={"Content-Range": "0-99"}
    )
    assert response.status_code == 400
    assert _error(response)["code"] == "SIZE_INVALID"
    assert registry.request("GET", location).status_code == 404
    assert registry.reg.blobs == {} and registry.reg.uploads == {}


def test_short_monolithic_body_stores_nothing(registry: Registry) -> None:
    registry.create_repo("app")
    data = os.urandom(100)
    response = _short_body(
        registry,
        "POST",
        "/v2/app/blobs/uploads/",
        data[:40],
        100,
        query_string={"digest": sha256(data)},
    )
    assert response.status_code == 400
    assert _error(response)["code"] == "SIZE_INVALID"
    assert registry.reg.blobs == {} and registry.reg.uploads == {}


def test_content_range_not_matching_length_is_size_invalid(registry: Registry) -> None:
    registry.create_repo("app")
    location = registry.request("POST", "/v2/app/blobs/uploads/").headers["Location"]
    response = registry.request("PATCH", location, data=b"abcde", headers={"Content-Range": "0-9"})
    assert response.status_code == 400
    assert _error(response)["code"] == "SIZE_INVALID"


def test_malformed_content_range_is_416(registry: Registry) -> None:
    registry.create_repo("app")
    location = registry.request("POST", "/v2/app/blobs/uploads/").headers["Location"]
    response = registry.request("PATCH", location, data=b"ab", headers={"Content-Range": "x-y"})
    assert response.status_code == 416
    assert response.headers["Range"] == "0-0"


def test_invalid_manifest_is_manifest_invalid(registry: Registry) -> None:
    registry.create_repo("app")
    for body in (
        b"not json",
        b"[]",
        b'{"schemaVersion": 2, "mediaType": "' + OCI_MANIFEST.encode() + b'"}',
    ):
        response = registry.put_manifest("app", "v1", body)
        assert response.status_code == 400
        assert _error(response)["code"] == "MANIFEST_INVALID"


def test_manifest_with_missing_layers_is_blob_upload_unknown_naming_them(
    registry: Registry,
) -> None:
    registry.create_repo("app")
    config = registry.push_blob("app", b"{}")
    missing = sha256(b"never uploaded")
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config,
                "size": 2,
            },
            "layers": [{"mediaType": "application/octet-stream", "digest": missing, "size": 14}],
        }
    ).encode()
    response = registry.put_manifest("app", "v1", manifest)
    assert response.status_code == 404
    error = _error(response)
    assert error["code"] == "BLOB_UPLOAD_UNKNOWN"
    assert missing in error["message"]
    assert error["detail"] == {"digests": [missing]}


def test_index_referencing_missing_manifests_is_manifest_blob_unknown(registry: Registry) -> None:
    registry.create_repo("app")
    child = sha256(b"missing child")
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [{"mediaType": OCI_MANIFEST, "digest": child, "size": 10}],
        }
    ).encode()
    response = registry.put_manifest("app", "idx", index, OCI_INDEX)
    assert response.status_code == 400
    assert _error(response)["code"] == "MANIFEST_BLOB_UNKNOWN"


def test_immutable_tag_overwrite_is_tag_invalid_with_ecr_message(registry: Registry) -> None:
    registry.create_repo("app", tag_mutability=IMMUTABLE)
    registry.push_image("app", "v1", [b"first"])
    second = registry.image_manifest("app", [b"second"])
    response = registry.put_manifest("app", "v1", second)
    assert response.status_code == 400
    error = _error(response)
    assert error["code"] == "TAG_INVALID"
    assert error["message"] == (
        "The image tag 'v1' already exists in the 'app' repository and cannot be overwritten "
        "because the repository is immutable."
    )


def test_malformed_tag_is_tag_invalid(registry: Registry) -> None:
    registry.create_repo("app")
    manifest = registry.image_manifest("app", [b"l"])
    response = registry.put_manifest("app", "bad+tag", manifest)
    assert response.status_code == 400
    assert _error(response)["code"] == "TAG_INVALID"


def test_unexpected_exception_is_500_unknown_without_traceback(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setitem(handlers.HANDLERS, ("tags_list", "GET"), boom)
    registry.create_repo("app")
    response = registry.request("GET", "/v2/app/tags/list")
    assert response.status_code == 500
    error = _error(response)
    assert error["code"] == "UNKNOWN"
    assert "secret" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_every_mapped_domain_error_translates_to_its_table_entry() -> None:
    class Custom(EcrError):
        pass

    assert (translate(Custom("x")).code, translate(Custom("x")).status) == ERROR_TABLE[EcrError]
