"""Manifest parsing: what a stored manifest says about its content, and what is refused."""

from __future__ import annotations

import json

import pytest

from ecr_mock.domain.errors import ManifestInvalid
from ecr_mock.domain.manifests import parse_manifest

SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+prettyjws"


@pytest.mark.parametrize("layers", ["x", 5, {"blobSum": "x"}, ["x"], [{"blobSum": "x"}, 1]])
def test_schema1_fs_layers_that_are_not_a_list_of_objects_are_invalid(layers: object) -> None:
    body = json.dumps({"schemaVersion": 1, "fsLayers": layers}).encode()
    with pytest.raises(ManifestInvalid):
        parse_manifest(body, SCHEMA1)


def test_foreign_layers_are_named_but_not_required_and_not_counted() -> None:
    body = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": "sha256:" + "c" * 64,
                "size": 10,
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
                    "digest": "sha256:" + "f" * 64,
                    "size": 1000,
                    "urls": ["https://example.com/base"],
                },
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": "sha256:" + "a" * 64,
                    "size": 7,
                },
            ],
        }
    ).encode()
    parsed = parse_manifest(body, None)
    assert parsed.blob_digests() == [
        "sha256:" + "c" * 64,
        "sha256:" + "f" * 64,
        "sha256:" + "a" * 64,
    ]
    assert parsed.stored_blob_digests() == ["sha256:" + "c" * 64, "sha256:" + "a" * 64]
    assert parsed.layer_size() == 7
