"""Test helpers: upload layers through the layer API and build real manifests and indexes."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

import ecr_mock.protocols.ecr_api.ecr  # noqa: F401  (registers the handlers for call())
from ecr_mock.domain.blobs import Blob
from ecr_mock.protocols.ecr_api.dispatch import TARGET_PREFIX, handle
from ecr_mock.services.backend import Backend

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def sha256(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def upload_layer(client: Any, repository: str, data: bytes, part_size: int | None = None) -> str:
    """Upload ``data`` through Initiate/UploadLayerPart/CompleteLayerUpload; returns its digest."""
    upload_id = client.initiate_layer_upload(repositoryName=repository)["uploadId"]
    step = part_size or max(len(data), 1)
    for first in range(0, len(data), step):
        part = data[first : first + step]
        client.upload_layer_part(
            repositoryName=repository,
            uploadId=upload_id,
            partFirstByte=first,
            partLastByte=first + len(part) - 1,
            layerPartBlob=part,
        )
    digest = sha256(data)
    client.complete_layer_upload(
        repositoryName=repository, uploadId=upload_id, layerDigests=[digest]
    )
    return digest


def store_blob(backend: Backend, repo_name: str, data: bytes) -> Blob:
    """Keep ``data`` as a blob of repository ``repo_name`` (made when missing) of the default
    registry, without the API; returns the blob."""
    reg = backend.registry()
    repo = reg.repositories.get(repo_name) or backend.create_repository(reg, repo_name)
    blob = Blob.from_bytes(data)
    backend.store_blob(reg, repo, blob)
    return blob


def config_blob(seed: str, architecture: str = "amd64") -> bytes:
    """A small but realistic image config."""
    doc = {
        "architecture": architecture,
        "os": "linux",
        "config": {"Env": [f"SEED={seed}"], "Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": [sha256(seed.encode())]},
    }
    return json.dumps(doc, sort_keys=True).encode()


def descriptor(media_type: str, data: bytes, **extra: Any) -> dict[str, Any]:
    """An OCI descriptor of ``data``."""
    return {"mediaType": media_type, "size": len(data), "digest": sha256(data), **extra}


def image_manifest(
    config: bytes,
    layers: list[bytes],
    *,
    oci: bool = False,
    media_type_field: bool = True,
    indent: int | None = 3,
    extra: dict[str, Any] | None = None,
) -> str:
    """A Docker schema 2 (or OCI) image manifest text for ``config`` and ``layers``."""
    doc: dict[str, Any] = {"schemaVersion": 2}
    if media_type_field:
        doc["mediaType"] = OCI_MANIFEST if oci else DOCKER_MANIFEST
    doc["config"] = descriptor(OCI_CONFIG if oci else DOCKER_CONFIG, config)
    doc["layers"] = [descriptor(OCI_LAYER if oci else DOCKER_LAYER, layer) for layer in layers]
    doc.update(extra or {})
    return json.dumps(doc, indent=indent)


def index_manifest(children: list[tuple[str, str, str]], *, oci: bool = False) -> str:
    """A manifest list (or OCI index) of ``(manifest text, media type, architecture)``."""
    doc = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX if oci else DOCKER_MANIFEST_LIST,
        "manifests": [
            descriptor(
                media_type,
                text.encode(),
                platform={"architecture": architecture, "os": "linux"},
            )
            for text, media_type, architecture in children
        ],
    }
    return json.dumps(doc, indent=2)


@dataclass
class Pushed:
    """An image pushed by :func:`push_image`."""

    manifest: str
    digest: str
    layers: list[str]
    config: str
    size: int


def push_image(
    client: Any,
    repository: str,
    seed: str,
    *,
    tag: str | None = None,
    oci: bool = False,
    layer_count: int = 2,
    architecture: str = "amd64",
) -> Pushed:
    """Upload a config and ``layer_count`` layers, then PutImage their manifest."""
    config = config_blob(seed, architecture)
    layers = [f"{seed}-layer-{i}-".encode() * (i + 3) for i in range(layer_count)]
    config_digest = upload_layer(client, repository, config)
    layer_digests = [upload_layer(client, repository, layer) for layer in layers]
    manifest = image_manifest(config, layers, oci=oci)
    kwargs: dict[str, Any] = {"repositoryName": repository, "imageManifest": manifest}
    if tag is not None:
        kwargs["imageTag"] = tag
    client.put_image(**kwargs)
    return Pushed(
        manifest=manifest,
        digest=sha256(manifest.encode()),
        layers=layer_digests,
        config=config_digest,
        size=sum(len(layer) for layer in layers),
    )


def call(backend: Backend, operation: str, body: Any, validate: bool = True) -> tuple[int, Any]:
    """Call the JSON 1.1 API as a non-boto3 client would: (status, decoded body)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    status, payload = handle(
        backend,
        TARGET_PREFIX + operation,
        raw,
        {"Content-Type": "application/x-amz-json-1.1"},
        validate=validate,
    )
    return status, json.loads(payload)


def b64(data: bytes) -> str:
    """Base64 text of ``data`` (how ``layerPartBlob`` travels in JSON)."""
    return base64.b64encode(data).decode()


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    """The (code, message) of a boto3 ClientError caught by ``pytest.raises``."""
    err = exc.value.response["Error"]
    return str(err["Code"]), str(err["Message"])
