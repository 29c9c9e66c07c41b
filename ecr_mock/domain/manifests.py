"""Manifest parsing: media types, the blobs and manifests a manifest references, sizes."""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ecr_mock.domain.errors import ManifestInvalid, UnsupportedImageType
from ecr_mock.domain.names import is_digest

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"

INDEX_TYPES = frozenset({DOCKER_MANIFEST_LIST, OCI_INDEX})
IMAGE_TYPES = frozenset({DOCKER_MANIFEST, OCI_MANIFEST})
SCHEMA1_TYPES = frozenset({DOCKER_SCHEMA1, DOCKER_SCHEMA1_SIGNED})
SUPPORTED_TYPES = INDEX_TYPES | IMAGE_TYPES | SCHEMA1_TYPES
MAX_MANIFEST_BYTES = 4 * 1024 * 1024


def sha256_digest(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    """``<algorithm>:<hex>`` of ``data`` for sha256 or sha512."""
    return f"{algorithm}:" + hashlib.new(algorithm, data).hexdigest()


FOREIGN_LAYER_TYPES = frozenset(
    {
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        "application/vnd.docker.image.rootfs.foreign.diff.tar",
    }
)
"""Layers that live elsewhere (Windows base layers): a manifest may name them without the
registry holding their bytes, as ECR accepts."""


@dataclass(frozen=True, slots=True)
class Descriptor:
    """An OCI descriptor: media type, digest, size, and the optional fields used here."""

    media_type: str
    digest: str
    size: int
    artifact_type: str | None = None
    annotations: dict[str, str] | None = None
    platform: dict[str, Any] | None = None


NO_ANNOTATIONS: Mapping[str, str] = MappingProxyType({})
"""The annotations of a manifest that has none (shared by every such manifest)."""


@dataclass(frozen=True, slots=True)
class Manifest:
    """What a stored manifest says about its content."""

    media_type: str
    config: Descriptor | None = None
    layers: tuple[Descriptor, ...] = ()
    manifests: tuple[Descriptor, ...] = ()
    subject: Descriptor | None = None
    artifact_type: str | None = None
    annotations: Mapping[str, str] = field(default_factory=lambda: NO_ANNOTATIONS)
    """The manifest's annotations (read-only; one shared empty mapping when it has none)."""

    @property
    def is_index(self) -> bool:
        """True for a manifest list or image index."""
        return self.media_type in INDEX_TYPES

    def stored_blob_digests(self) -> list[str]:
        """The blobs a registry must hold for this manifest: config and layers, except foreign
        (non-distributable) layers, whose bytes live at their ``urls``."""
        seen: dict[str, None] = {}
        if self.config is not None:
            seen[self.config.digest] = None
        for layer in self.layers:
            if layer.media_type not in FOREIGN_LAYER_TYPES:
                seen[layer.digest] = None
        return list(seen)

    def blob_digests(self) -> list[str]:
        """Config and layer digests, in manifest order, without repeats."""
        seen: dict[str, None] = {}
        if self.config is not None:
            seen[self.config.digest] = None
        for layer in self.layers:
            seen[layer.digest] = None
        return list(seen)

    def layer_size(self) -> int:
        """Sum of the layer sizes (ECR's ``imageSizeInBytes`` of an image).

        Foreign layers are left out: ``imageSizeInBytes`` is the size of the image in the
        repository, and their bytes are not stored there.
        """
        return sum(
            layer.size for layer in self.layers if layer.media_type not in FOREIGN_LAYER_TYPES
        )

    @property
    def artifact_media_type(self) -> str | None:
        """The config media type, as ECR reports ``artifactMediaType``."""
        if self.config is not None:
            return self.config.media_type
        return None


def _descriptor(value: Any, where: str) -> Descriptor:
    if not isinstance(value, dict):
        raise ManifestInvalid(f"{where} must be a descriptor object")
    media_type = value.get("mediaType", "")
    digest = value.get("digest")
    size = value.get("size")
    if not isinstance(digest, str) or not is_digest(digest):
        raise ManifestInvalid(f"{where} has an invalid digest: {digest!r}")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ManifestInvalid(f"{where} has an invalid size: {size!r}")
    if not isinstance(media_type, str):
        raise ManifestInvalid(f"{where} has an invalid mediaType")
    artifact_type = value.get("artifactType")
    annotations = value.get("annotations")
    platform = value.get("platform")
    if not isinstance(annotations, dict) and not isinstance(platform, dict):
        key = (media_type, digest, size, artifact_type if isinstance(artifact_type, str) else None)
        found = _SHARED_DESCRIPTORS.get(key)
        if found is None:
            found = Descriptor(sys.intern(media_type), sys.intern(digest), size, key[3])
            if len(_SHARED_DESCRIPTORS) >= _MAX_SHARED:
                _SHARED_DESCRIPTORS.clear()
            _SHARED_DESCRIPTORS[key] = found
        return found
    return Descriptor(
        media_type=sys.intern(media_type),
        digest=sys.intern(digest),
        size=size,
        artifact_type=artifact_type if isinstance(artifact_type, str) else None,
        annotations=annotations if isinstance(annotations, dict) else None,
        platform=platform if isinstance(platform, dict) else None,
    )


_SHARED_DESCRIPTORS: dict[tuple[str, str, int, str | None], Descriptor] = {}
"""Plain descriptors (no annotations, no platform) by value: the images of a repository name
the same config and layers, so they share one immutable record each."""
_SHARED_LAYERS: dict[tuple[Descriptor, ...], tuple[Descriptor, ...]] = {}
"""Layer lists of plain descriptors by value, shared the same way."""
_MAX_SHARED = 65_536
"""Past this many entries a table starts again (it only saves memory, never decides)."""


def _shared_layers(layers: tuple[Descriptor, ...]) -> tuple[Descriptor, ...]:
    """One tuple per distinct list of plain layer descriptors."""
    if not layers or any(d.annotations is not None or d.platform is not None for d in layers):
        return layers
    found = _SHARED_LAYERS.get(layers)
    if found is None:
        if len(_SHARED_LAYERS) >= _MAX_SHARED:
            _SHARED_LAYERS.clear()
        _SHARED_LAYERS[layers] = found = layers
    return found


def detect_media_type(doc: dict[str, Any], declared: str | None) -> str:
    """The manifest's media type: its own ``mediaType``, else the declared one, else inferred."""
    own = doc.get("mediaType")
    if isinstance(own, str) and own:
        if declared and declared != own and declared in SUPPORTED_TYPES:
            raise ManifestInvalid(
                f"the manifest mediaType '{own}' does not match the declared '{declared}'"
            )
        return own
    if declared:
        return declared
    if doc.get("schemaVersion") == 1:
        return DOCKER_SCHEMA1_SIGNED if "signatures" in doc else DOCKER_SCHEMA1
    if "manifests" in doc:
        return OCI_INDEX
    return OCI_MANIFEST


def parse_manifest(data: bytes, declared_media_type: str | None = None) -> Manifest:
    """Parse and check a manifest; raise ManifestInvalid or UnsupportedImageType."""
    if len(data) > MAX_MANIFEST_BYTES:
        raise ManifestInvalid("the manifest is larger than 4 MiB")
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ManifestInvalid(f"Invalid JSON syntax: {exc}") from None
    if not isinstance(doc, dict):
        raise ManifestInvalid("Invalid JSON syntax: the manifest must be a JSON object")
    declared = (declared_media_type or "").split(";")[0].strip() or None
    media_type = sys.intern(detect_media_type(doc, declared))
    if media_type not in SUPPORTED_TYPES:
        raise UnsupportedImageType(f"Unsupported image manifest type '{media_type}'")
    schema = doc.get("schemaVersion")
    annotations = doc.get("annotations")
    annotations = annotations if isinstance(annotations, dict) and annotations else NO_ANNOTATIONS
    artifact_type = doc.get("artifactType")
    if artifact_type is not None and not isinstance(artifact_type, str):
        raise ManifestInvalid("artifactType must be a string")
    subject = _descriptor(doc["subject"], "subject") if doc.get("subject") is not None else None
    if media_type in SCHEMA1_TYPES:
        if schema != 1:
            raise ManifestInvalid("schemaVersion must be 1")
        items = doc.get("fsLayers", [])
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise ManifestInvalid("fsLayers must be a list of objects")
        layers = tuple(
            Descriptor("application/octet-stream", str(item.get("blobSum", "")), 0)
            for item in items
        )
        if any(not is_digest(layer.digest) for layer in layers):
            raise ManifestInvalid("fsLayers has an invalid blobSum")
        return Manifest(media_type=media_type, layers=layers)
    if schema != 2:
        raise ManifestInvalid("schemaVersion must be 2")
    if media_type in INDEX_TYPES:
        items = doc.get("manifests")
        if not isinstance(items, list):
            raise ManifestInvalid("manifests must be a list")
        children = tuple(_descriptor(item, f"manifests[{i}]") for i, item in enumerate(items))
        return Manifest(
            media_type=media_type,
            manifests=children,
            subject=subject,
            artifact_type=artifact_type,
            annotations=annotations,
        )
    if "config" not in doc:
        raise ManifestInvalid("config is required")
    config = _descriptor(doc["config"], "config")
    raw_layers = doc.get("layers", [])
    if not isinstance(raw_layers, list):
        raise ManifestInvalid("layers must be a list")
    if media_type == DOCKER_MANIFEST and not raw_layers:
        raise ManifestInvalid("layers must not be empty")
    layers = _shared_layers(
        tuple(_descriptor(item, f"layers[{i}]") for i, item in enumerate(raw_layers))
    )
    return Manifest(
        media_type=media_type,
        config=config,
        layers=layers,
        subject=subject,
        artifact_type=artifact_type
        or (config.media_type if config.media_type not in (DOCKER_CONFIG, OCI_CONFIG) else None),
        annotations=annotations,
    )
