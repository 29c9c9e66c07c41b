"""Fixtures for the core service tests: the plugin's backend, its default registry, a repository."""

from __future__ import annotations

import json

import pytest

from ecr_mock import Backend
from ecr_mock.domain.blobs import Blob
from ecr_mock.domain.models import Image, Registry, Repository
from ecr_mock.services import images, repositories, uploads
from tests.support.services import OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, Push


@pytest.fixture
def reg(ecr_backend: Backend) -> Registry:
    """The default registry (123456789012, us-east-1) of the test's backend."""
    return ecr_backend.registry()


@pytest.fixture
def repo(ecr_backend: Backend, reg: Registry) -> Repository:
    """An empty repository ``app`` made by the repositories service."""
    return repositories.create_repository(ecr_backend, reg, "app")


@pytest.fixture
def push(ecr_backend: Backend, reg: Registry, repo: Repository) -> Push:
    """``push(tag=None, seed="a", into=repo)``: store a config and a layer, put their manifest
    (into ``repo`` or any repository of the backend)."""

    def put(tag: str | None = None, seed: str = "a", into: Repository | None = None) -> Image:
        target = into or repo
        held = ecr_backend.registry(target.account, target.region)
        config = Blob.from_bytes(json.dumps({"os": "linux", "seed": seed}).encode())
        layer = Blob.from_bytes(f"layer {seed}".encode() * 10)
        for blob in (config, layer):
            uploads.store_blob(ecr_backend, held, target, blob)
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config.digest, "size": config.size},
            "layers": [{"mediaType": OCI_LAYER, "digest": layer.digest, "size": layer.size}],
        }
        return images.put_image(ecr_backend, held, target, json.dumps(manifest).encode(), tag=tag)

    return put
