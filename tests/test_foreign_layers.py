"""Foreign (non-distributable) layers: manifests naming them are accepted without the blob."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from ecr_mock.runtime.http import EcrMockServer
from tests.h11_client import Connection

ACCOUNT = "123456789012"
REGION = "us-east-1"

pytestmark = pytest.mark.ecr_seed({"repositories": [{"name": "win"}]})
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
FOREIGN_TYPES = [
    (OCI_MANIFEST, "application/vnd.oci.image.layer.nondistributable.v1.tar"),
    (OCI_MANIFEST, "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"),
    (OCI_MANIFEST, "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"),
    (DOCKER_MANIFEST, "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"),
]


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def api_client(server: EcrMockServer) -> Any:
    """A boto3 ECR client calling the server over HTTP."""
    return boto3.client(
        "ecr",
        endpoint_url=server.url,
        region_name=REGION,
        aws_access_key_id="AKIAFOREIGNTEST00001",
        aws_secret_access_key="secret",
    )


def _push(conn: Connection, auth: dict[str, str], data: bytes) -> str:
    digest = sha256(data)
    answer = conn.request("POST", f"/v2/win/blobs/uploads/?digest={digest}", auth, data)
    assert answer.status == 201
    return digest


def _manifest(
    media_type: str, config: bytes, layer: bytes, foreign_type: str, foreign_size: int
) -> bytes:
    config_type = (
        "application/vnd.oci.image.config.v1+json"
        if media_type == OCI_MANIFEST
        else "application/vnd.docker.container.image.v1+json"
    )
    layer_type = (
        "application/vnd.oci.image.layer.v1.tar"
        if media_type == OCI_MANIFEST
        else "application/vnd.docker.image.rootfs.diff.tar.gzip"
    )
    foreign_digest = sha256(f"foreign base layer {foreign_type}".encode())
    doc = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": {"mediaType": config_type, "digest": sha256(config), "size": len(config)},
        "layers": [
            {
                "mediaType": foreign_type,
                "digest": foreign_digest,
                "size": foreign_size,
                "urls": [f"https://mcr.microsoft.com/v2/windows/blobs/{foreign_digest}"],
            },
            {"mediaType": layer_type, "digest": sha256(layer), "size": len(layer)},
        ],
    }
    return json.dumps(doc, indent=3).encode()  # unusual spacing: bytes must come back as sent


@pytest.mark.parametrize(("media_type", "foreign_type"), FOREIGN_TYPES)
def test_v2_push_accepts_a_foreign_layer_never_uploaded_and_serves_the_bytes_as_sent(
    ecr_server: EcrMockServer, basic_auth: dict[str, str], media_type: str, foreign_type: str
) -> None:
    config, layer = b'{"os":"windows","architecture":"amd64"}', os.urandom(3000)
    manifest = _manifest(media_type, config, layer, foreign_type, 123_456_789)
    with Connection(ecr_server) as conn:
        _push(conn, basic_auth, config)
        _push(conn, basic_auth, layer)
        answer = conn.request(
            "PUT", "/v2/win/manifests/ltsc", {**basic_auth, "Content-Type": media_type}, manifest
        )
        assert answer.status == 201, answer.body
        got = conn.request("GET", "/v2/win/manifests/ltsc", {**basic_auth, "Accept": media_type})
        assert got.status == 200
        assert got.body == manifest
        assert got.header("docker-content-digest") == sha256(manifest)
        foreign = json.loads(manifest)["layers"][0]["digest"]
        missing = conn.request("GET", f"/v2/win/blobs/{foreign}", basic_auth)
        assert missing.status == 404
        assert missing.json()["errors"][0]["code"] == "BLOB_UNKNOWN"


def test_image_size_counts_only_the_layers_stored_in_the_repository(
    ecr_server: EcrMockServer, basic_auth: dict[str, str]
) -> None:
    config, layer = b'{"os":"windows"}', os.urandom(4321)
    manifest = _manifest(OCI_MANIFEST, config, layer, FOREIGN_TYPES[1][1], 987_654_321)
    with Connection(ecr_server) as conn:
        _push(conn, basic_auth, config)
        _push(conn, basic_auth, layer)
        headers = {**basic_auth, "Content-Type": OCI_MANIFEST}
        assert conn.request("PUT", "/v2/win/manifests/v1", headers, manifest).status == 201
    ecr = api_client(ecr_server)
    detail = ecr.describe_images(repositoryName="win")["imageDetails"][0]
    assert detail["imageSizeInBytes"] == len(layer)


def test_put_image_api_accepts_a_foreign_layer_and_batch_get_returns_it(
    ecr_server: EcrMockServer, basic_auth: dict[str, str]
) -> None:
    config, layer = b'{"os":"windows"}', os.urandom(2000)
    manifest = _manifest(DOCKER_MANIFEST, config, layer, FOREIGN_TYPES[3][1], 5000)
    with Connection(ecr_server) as conn:
        _push(conn, basic_auth, config)
        _push(conn, basic_auth, layer)
    ecr = api_client(ecr_server)
    text = manifest.decode()
    pushed = ecr.put_image(repositoryName="win", imageManifest=text, imageTag="api")
    assert pushed["image"]["imageId"]["imageDigest"] == sha256(manifest)
    got = ecr.batch_get_image(repositoryName="win", imageIds=[{"imageTag": "api"}])
    assert got["images"][0]["imageManifest"] == text


def test_an_ordinary_layer_never_uploaded_is_still_refused_on_both_surfaces(
    ecr_server: EcrMockServer, basic_auth: dict[str, str]
) -> None:
    config, layer = b'{"os":"windows"}', os.urandom(1000)
    manifest = _manifest(OCI_MANIFEST, config, layer, FOREIGN_TYPES[0][1], 10)
    with Connection(ecr_server) as conn:
        _push(conn, basic_auth, config)  # the ordinary layer is not pushed
        headers = {**basic_auth, "Content-Type": OCI_MANIFEST}
        answer = conn.request("PUT", "/v2/win/manifests/v1", headers, manifest)
        assert answer.status == 404
        assert answer.json()["errors"][0]["code"] == "BLOB_UPLOAD_UNKNOWN"  # as ECR answers
        assert sha256(layer) in answer.body.decode()
    ecr = api_client(ecr_server)
    with pytest.raises(ClientError) as refused:
        ecr.put_image(repositoryName="win", imageManifest=manifest.decode(), imageTag="v1")
    assert refused.value.response["Error"]["Code"] == "LayersNotFoundException"
