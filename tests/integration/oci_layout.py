"""Builds OCI image layouts on disk (single images and multi-platform indexes) for real clients."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


@dataclass
class BuiltImage:
    """What was written: the manifest digest and bytes, and its blobs."""

    digest: str
    manifest: bytes
    media_type: str
    blobs: dict[str, bytes] = field(default_factory=dict)
    children: list[BuiltImage] = field(default_factory=list)

    @property
    def layer_size(self) -> int:
        """Sum of the layer sizes (ECR's imageSizeInBytes)."""
        doc = json.loads(self.manifest)
        return sum(int(layer["size"]) for layer in doc.get("layers", []))


class Layout:
    """An OCI image layout directory that images are added to."""

    def __init__(self, path: Path) -> None:
        self.path = path
        (path / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        (path / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
        self._index: list[dict[str, Any]] = []
        self._write_index()

    def blob(self, data: bytes) -> dict[str, Any]:
        """Store ``data``; return its descriptor fields (digest, size)."""
        digest = hashlib.sha256(data).hexdigest()
        (self.path / "blobs" / "sha256" / digest).write_bytes(data)
        return {"digest": f"sha256:{digest}", "size": len(data)}

    def image(
        self, tag: str | None, layers: int = 2, layer_bytes: int = 2048, arch: str = "amd64"
    ) -> BuiltImage:
        """An image with ``layers`` random layers; referenced from index.json under ``tag``."""
        blobs: dict[str, bytes] = {}
        layer_descs = []
        for _ in range(layers):
            data = os.urandom(layer_bytes)
            desc = self.blob(data)
            blobs[desc["digest"]] = data
            layer_descs.append({"mediaType": OCI_LAYER, **desc})
        config = json.dumps(
            {
                "architecture": arch,
                "os": "linux",
                "rootfs": {"type": "layers", "diff_ids": [d["digest"] for d in layer_descs]},
            }
        ).encode()
        config_desc = self.blob(config)
        blobs[config_desc["digest"]] = config
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, **config_desc},
                "layers": layer_descs,
            },
            indent=2,
        ).encode()
        desc = self.blob(manifest)
        built = BuiltImage(desc["digest"], manifest, OCI_MANIFEST, blobs)
        if tag is not None:
            self._add(desc, OCI_MANIFEST, tag, {"architecture": arch, "os": "linux"})
        return built

    def multi_platform(self, tag: str, arches: tuple[str, ...] = ("amd64", "arm64")) -> BuiltImage:
        """An image index over one image per architecture, tagged ``tag``."""
        children = [self.image(None, arch=arch) for arch in arches]
        index = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_INDEX,
                "manifests": [
                    {
                        "mediaType": OCI_MANIFEST,
                        "digest": child.digest,
                        "size": len(child.manifest),
                        "platform": {"architecture": arch, "os": "linux"},
                    }
                    for child, arch in zip(children, arches, strict=True)
                ],
            }
        ).encode()
        desc = self.blob(index)
        self._add(desc, OCI_INDEX, tag, None)
        return BuiltImage(desc["digest"], index, OCI_INDEX, {}, children)

    def _add(self, desc: dict[str, Any], media_type: str, tag: str, platform: Any) -> None:
        entry: dict[str, Any] = {
            "mediaType": media_type,
            **desc,
            "annotations": {"org.opencontainers.image.ref.name": tag},
        }
        if platform:
            entry["platform"] = platform
        self._index.append(entry)
        self._write_index()

    def _write_index(self) -> None:
        (self.path / "index.json").write_text(
            json.dumps({"schemaVersion": 2, "manifests": self._index})
        )
