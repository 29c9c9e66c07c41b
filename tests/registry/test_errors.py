"""Each OCI error code the registry answers, with its status, ECR's message and a JSON body."""

from __future__ import annotations

import inspect
import json
import os
from typing import Any

import pytest
from werkzeug.test import EnvironBuilder, TestResponse
from werkzeug.wrappers import Request

from ecr_mock.domain import errors
from ecr_mock.domain.manifests import OCI_INDEX, OCI_MANIFEST
from ecr_mock.domain.models import IMMUTABLE
from ecr_mock.protocols.registry import handlers
from ecr_mock.protocols.registry.errors import ERROR_TABLE, translate
from tests.support.registry import HOST, Registry, sha256


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


# The OCI distribution spec v1.1, "Error Codes": the codes a registry answers in
# {"errors": [{"code": ...}]}. The status of each is the one the spec's endpoint tables give for
# it (and the Docker registry API v2 that the spec comes from, which adds TAG_INVALID and
# RANGE_INVALID).
OCI_SPEC_ERROR_CODES = {
    "BLOB_UNKNOWN": 404,  # code-1  blob unknown to registry
    "BLOB_UPLOAD_INVALID": 400,  # code-2  blob upload invalid
    "BLOB_UPLOAD_UNKNOWN": 404,  # code-3  blob upload unknown to registry
    "DIGEST_INVALID": 400,  # code-4  provided digest did not match uploaded content
    "MANIFEST_BLOB_UNKNOWN": 400,  # code-5  manifest references a manifest or blob unknown
    "MANIFEST_INVALID": 400,  # code-6  manifest invalid
    "MANIFEST_UNKNOWN": 404,  # code-7  manifest unknown to registry
    "NAME_INVALID": 400,  # code-8  invalid repository name
    "NAME_UNKNOWN": 404,  # code-9  repository name not known to registry
    "SIZE_INVALID": 400,  # code-10 provided length did not match content length
    "UNAUTHORIZED": 401,  # code-11 authentication required
    "DENIED": 403,  # code-12 requested access to the resource is denied
    "UNSUPPORTED": 405,  # code-13 the operation is unsupported
    "TOOMANYREQUESTS": 429,  # code-14 too many requests
    "TAG_INVALID": 400,  # Docker registry v2: manifest tag did not match URI
    "RANGE_INVALID": 416,  # Docker registry v2: invalid content range
}

# Where ECR answers a status other than the spec's for the code (ECR_FACTS: observed on ECR).
ECR_STATUS = {
    # a parameter ECR refuses: 400 (405 is for a method the route does not have)
    "InvalidParameter": 400,
    "ValidationFailed": 400,
}

# Each domain error the registry can meet, and the OCI code the spec (or ECR, where noted)
# gives it.
DOMAIN_ERROR_CODES = {
    "BlobUnknown": "BLOB_UNKNOWN",
    "UploadNotFound": "BLOB_UPLOAD_UNKNOWN",
    "EmptyUpload": "BLOB_UPLOAD_INVALID",  # ECR: "... does not have any parts"
    "DigestInvalid": "DIGEST_INVALID",
    "DigestMalformed": "DIGEST_INVALID",
    "InvalidLayer": "DIGEST_INVALID",
    "ImageDigestDoesNotMatch": "DIGEST_INVALID",
    "ManifestInvalid": "MANIFEST_INVALID",
    "UnsupportedImageType": "MANIFEST_INVALID",
    "ImageNotFound": "MANIFEST_UNKNOWN",
    "ImageArchived": "MANIFEST_UNKNOWN",  # ECR: a pull of an archived image is 404
    "RepositoryNameInvalid": "NAME_INVALID",
    "RepositoryNotFound": "NAME_UNKNOWN",
    "SizeInvalid": "SIZE_INVALID",
    "RangeInvalid": "RANGE_INVALID",
    "LayersNotFound": "BLOB_UPLOAD_UNKNOWN",  # ECR names missing layers this way
    "ReferencedImagesNotFound": "MANIFEST_BLOB_UNKNOWN",
    "ImageTagAlreadyExists": "TAG_INVALID",  # ECR: immutable tag overwrite
    "TagInvalid": "TAG_INVALID",
    "AccessDenied": "DENIED",
    "TokenExpired": "DENIED",  # ECR: 403 "Your authorization token has expired."
    "LimitExceeded": "DENIED",
    "Unauthenticated": "UNAUTHORIZED",
    "Unsupported": "UNSUPPORTED",
    "InvalidParameter": "UNSUPPORTED",
    "ValidationFailed": "UNSUPPORTED",
}


def _instance(cls: type[errors.EcrError]) -> errors.EcrError:
    """The error built from placeholder arguments of the types its constructor names."""
    args: list[Any] = []
    for param in list(inspect.signature(cls.__init__).parameters.values())[1:]:
        if param.kind is not param.POSITIONAL_OR_KEYWORD or param.default is not param.empty:
            continue
        annotation = str(param.annotation)
        if "Iterable" in annotation:
            args.append([f"sha256:{'a' * 64}"])
        elif annotation == "int":
            args.append(1)
        else:
            args.append("x")
    return cls(*args)


@pytest.mark.parametrize("name", sorted(DOMAIN_ERROR_CODES))
def test_each_domain_error_has_the_spec_code_and_status(name: str) -> None:
    code = DOMAIN_ERROR_CODES[name]
    answered = translate(_instance(getattr(errors, name)))
    assert answered.code == code
    assert answered.status == ECR_STATUS.get(name, OCI_SPEC_ERROR_CODES[code])


def test_every_error_the_registry_maps_is_checked_against_the_spec() -> None:
    mapped = {cls.__name__ for cls in ERROR_TABLE if cls is not errors.EcrError}
    assert mapped <= set(DOMAIN_ERROR_CODES)
    assert set(DOMAIN_ERROR_CODES.values()) <= set(OCI_SPEC_ERROR_CODES)


def test_an_unmapped_domain_error_is_unsupported_400() -> None:
    class Custom(errors.EcrError):
        pass

    answered = translate(Custom("x"))
    assert (answered.code, answered.status) == ("UNSUPPORTED", 400)
