"""Seed images: synthetic images, OCI image layouts and docker archives, read into manifests
and blobs for a seed document."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import random
import re
import tarfile
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import IO, Any, Protocol
from zlib import error as zlib_error

from ecr_mock.domain.blobs import Blob
from ecr_mock.services import seed_blobs
from ecr_mock.services.errors import SeedError

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
_INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
_FOREIGN_MARK = "foreign"
REF_ANNOTATION = "org.opencontainers.image.ref.name"

MAX_SYNTHETIC_LAYERS = 128
MAX_SYNTHETIC_LAYER_BYTES = 256 * 1024 * 1024


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _descriptor(media_type: str, data: bytes) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": _digest(data), "size": len(data)}


def _count(spec: Mapping[str, Any], key: str, path: str, default: int, top: int) -> int:
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
        raise SeedError(_join(path, key), f"expected a whole number from 0 to {top}")
    return value


def synthetic_image(
    spec: Mapping[str, Any], path: str, default_seed: str, created: datetime
) -> tuple[list[tuple[bytes, str]], dict[str, bytes]]:
    """A generated, pullable image: gzip tar layers of pseudo-random bytes, same seed same digest.

    ``layers`` (default 1) of ``layerSize`` bytes of content each (default 1024), or
    ``layerSizes`` one per layer; ``seed`` (default: repository and position), ``os``,
    ``architecture`` (default linux/amd64).
    """
    _known(spec, _SYNTHETIC_KEYS, path)
    if "layerSizes" in spec:
        if "layers" in spec or "layerSize" in spec:
            raise SeedError(_join(path, "layerSizes"), "give 'layerSizes' or 'layers'/'layerSize'")
        sizes = _list(spec["layerSizes"], _join(path, "layerSizes"))
        if len(sizes) > MAX_SYNTHETIC_LAYERS:
            raise SeedError(_join(path, "layerSizes"), f"at most {MAX_SYNTHETIC_LAYERS} layers")
        for number, size in enumerate(sizes):
            if (
                isinstance(size, bool)
                or not isinstance(size, int)
                or not 0 <= size <= MAX_SYNTHETIC_LAYER_BYTES
            ):
                raise SeedError(
                    _join(_join(path, "layerSizes"), number),
                    f"expected a size from 0 to {MAX_SYNTHETIC_LAYER_BYTES} bytes",
                )
    else:
        count = _count(spec, "layers", path, 1, MAX_SYNTHETIC_LAYERS)
        size = _count(spec, "layerSize", path, 1024, MAX_SYNTHETIC_LAYER_BYTES)
        sizes = [size] * count
    seed = spec.get("seed", default_seed)
    if not isinstance(seed, (str, int)) or isinstance(seed, bool):
        raise SeedError(_join(path, "seed"), "expected a string or a number")
    system = _string(spec.get("os", "linux"), _join(path, "os"))
    architecture = _string(spec.get("architecture", "amd64"), _join(path, "architecture"))
    blobs: dict[str, bytes] = {}
    layers: list[dict[str, Any]] = []
    diff_ids: list[str] = []
    for number, size in enumerate(sizes):
        content = random.Random(f"{seed}/{number}").randbytes(size)
        raw = _tar_of({f"seed/layer-{number}.bin": content})
        layer = gzip.compress(raw, mtime=0)
        diff_ids.append(_digest(raw))
        blobs[_digest(layer)] = layer
        layers.append(_descriptor(OCI_LAYER_GZIP, layer))
    config = json.dumps(
        {
            "architecture": architecture,
            "os": system,
            "created": created.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "config": {"Labels": {"org.ecr-mock.seed": str(seed)}},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        },
        sort_keys=True,
    ).encode()
    blobs[_digest(config)] = config
    return [(_oci_manifest(config, layers), OCI_MANIFEST)], blobs


def _oci_manifest(config: bytes, layers: list[dict[str, Any]]) -> bytes:
    """An OCI image manifest naming ``config`` and the layer descriptors ``layers``."""
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": _descriptor(OCI_CONFIG, config),
            "layers": layers,
        }
    ).encode()


def _tar_of(files: Mapping[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


class _Files(Protocol):
    """Read access to the files of a layout (a directory or a tar archive)."""

    def open(self, name: str) -> tuple[IO[bytes], int] | None:
        """File ``name`` (slash-separated) open for reading, with its size; None when absent."""

    def where(self, name: str) -> str:
        """How to name file ``name`` in a message."""


def _read_small(files: _Files, name: str) -> bytes | None:
    """A small file's bytes (a manifest, index or config: at most 4 MiB); None when absent."""
    found = files.open(name)
    if found is None:
        return None
    handle, size = found
    with handle:
        if size > seed_blobs.MAX_MANIFEST_BYTES:
            raise seed_blobs.TooLarge(
                f"{files.where(name)} holds {size} bytes; a manifest, index or config may have "
                f"at most {seed_blobs.MAX_MANIFEST_BYTES}"
            )
        return handle.read(size)


class _DirectoryFiles:
    def __init__(self, root: str) -> None:
        self.root = root

    def read(self, name: str) -> bytes | None:
        return _read_small(self, name)

    def open(self, name: str) -> tuple[IO[bytes], int] | None:
        full = os.path.join(self.root, *name.split("/"))
        if not os.path.isfile(full):
            return None
        handle = open(full, "rb")  # noqa: SIM115  (the caller closes it)
        return handle, os.fstat(handle.fileno()).st_size

    def where(self, name: str) -> str:
        return os.path.join(self.root, name)


class _TarFiles:
    def __init__(self, tar: tarfile.TarFile, label: str) -> None:
        self.tar = tar
        self.label = label
        self.names = {_member_name(member.name): member for member in tar.getmembers()}

    def where(self, name: str) -> str:
        return f"{self.label}:{name}"

    def read(self, name: str) -> bytes | None:
        return _read_small(self, name)

    def open(self, name: str) -> tuple[IO[bytes], int] | None:
        member = self.names.get(name)
        if member is None or not member.isfile():
            return None
        handle = self.tar.extractfile(member)
        return (handle, member.size) if handle is not None else None


def _member_name(name: str) -> str:
    while name.startswith("./"):
        name = name[2:]
    return name


def _load_json(files: _Files, name: str, path: str) -> Any:
    data = _read_small(files, name)
    if data is None:
        raise SeedError(path, f"{files.where(name)} is missing")
    try:
        return json.loads(data)
    except ValueError:
        raise SeedError(path, f"{files.where(name)} is not JSON") from None


def read_oci_layout(
    files: _Files, ref: str | None, path: str, ref_path: str | None = None
) -> tuple[list[tuple[bytes, str]], dict[str, Blob]]:
    """The manifests (children first) and blobs of one image of an OCI image layout.

    ``ref`` picks the manifest whose ``org.opencontainers.image.ref.name`` (or containerd's
    image name) is ``ref``; without it the layout must hold one image.
    """
    index = _load_json(files, "index.json", path)
    entries = index.get("manifests") if isinstance(index, dict) else None
    if not isinstance(entries, list) or not entries:
        raise SeedError(path, f"{files.where('index.json')} lists no manifests")
    chosen = _choose(entries, ref, path, ref_path or _join(path, "ref"))
    manifests: list[tuple[bytes, str]] = []
    blobs: dict[str, Blob] = {}
    _collect(files, chosen, path, manifests, blobs, depth=0)
    return manifests, blobs


def _names_of(entry: Mapping[str, Any]) -> set[str]:
    annotations = entry.get("annotations") or {}
    names = set()
    for key in (REF_ANNOTATION, "io.containerd.image.name"):
        value = annotations.get(key)
        if isinstance(value, str):
            names.add(value)
            names.add(value.rsplit(":", 1)[-1] if "/" not in value.rsplit(":", 1)[-1] else value)
    return names


def _choose(entries: list[Any], ref: str | None, path: str, ref_path: str) -> dict[str, Any]:
    if ref is None:
        if len(entries) > 1:
            known = sorted({n for e in entries if isinstance(e, dict) for n in _names_of(e)})
            raise SeedError(
                ref_path,
                f"the source holds {len(entries)} images; pick one with 'ref' "
                f"(known: {', '.join(known) or 'none named'})",
            )
        entry = entries[0]
    else:
        found = [e for e in entries if isinstance(e, dict) and ref in _names_of(e)]
        if not found:
            raise SeedError(ref_path, f"no image named {ref!r} in the source")
        entry = found[0]
    if not isinstance(entry, dict):
        raise SeedError(path, "the source's index holds a malformed descriptor")
    return entry


def _blob_name(digest: str) -> str:
    algorithm, _, hexpart = digest.partition(":")
    return f"blobs/{algorithm}/{hexpart}"


def _descriptor_digest(descriptor: Mapping[str, Any], path: str) -> str:
    digest = descriptor.get("digest")
    if not isinstance(digest, str) or not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
        raise SeedError(path, f"a descriptor has an unusable digest: {digest!r}")
    return digest


def _read_blob(files: _Files, descriptor: Mapping[str, Any], path: str) -> bytes | None:
    """A manifest's bytes (small), checked against its digest."""
    digest = _descriptor_digest(descriptor, path)
    try:
        data = _read_small(files, _blob_name(digest))
    except seed_blobs.TooLarge as exc:
        raise SeedError(path, str(exc)) from None
    if data is not None and _digest(data) != digest:
        raise SeedError(path, f"{files.where(_blob_name(digest))} does not match its digest")
    return data


def _stream_file(files: _Files, name: str, path: str, expected: str | None = None) -> Blob | None:
    """A config or layer streamed into a held blob (hashed while read); None when absent."""
    found = files.open(name)
    if found is None:
        return None
    handle, size = found
    try:
        with handle:
            return seed_blobs.stream_blob(handle, size, files.where(name), expected)
    except ValueError as exc:  # TooLarge, short, or not matching its digest
        raise SeedError(path, str(exc)) from None


def _collect(
    files: _Files,
    descriptor: Mapping[str, Any],
    path: str,
    manifests: list[tuple[bytes, str]],
    blobs: dict[str, Blob],
    depth: int,
) -> None:
    if depth > 4:
        raise SeedError(path, "indexes nest too deeply")
    data = _read_blob(files, descriptor, path)
    if data is None:
        raise SeedError(path, f"manifest {descriptor.get('digest')} is missing from the source")
    try:
        doc = json.loads(data)
    except ValueError:
        raise SeedError(path, f"manifest {descriptor.get('digest')} is not JSON") from None
    media_type = str(doc.get("mediaType") or descriptor.get("mediaType") or OCI_MANIFEST)
    if media_type in _INDEX_TYPES or "manifests" in doc:
        for child in doc.get("manifests") or []:
            _collect(files, child, path, manifests, blobs, depth + 1)
    else:
        needed = [doc.get("config") or {}, *(doc.get("layers") or [])]
        for item in needed:
            digest = _descriptor_digest(item, path)
            if digest in blobs:
                continue
            blob = _stream_file(files, _blob_name(digest), path, expected=digest)
            if blob is None:
                if _FOREIGN_MARK in str(item.get("mediaType", "")) or item.get("urls"):
                    continue
                raise SeedError(path, f"blob {item.get('digest')} is missing from the source")
            blobs[digest] = blob
    manifests.append((data, media_type))


def read_docker_archive(
    file_path: str, ref: str | None, path: str, ref_path: str | None = None
) -> tuple[list[tuple[bytes, str]], dict[str, Blob]]:
    """One image of a ``docker save`` tarball (the OCI layout of docker 25+, or the older form)."""
    try:
        with tarfile.open(file_path, mode="r:*") as tar:
            files = _TarFiles(tar, file_path)
            if files.open("oci-layout") is not None and files.open("index.json") is not None:
                try:
                    return read_oci_layout(files, ref, path, ref_path)
                except SeedError:
                    if files.open("manifest.json") is None:
                        raise
            return _legacy_archive(files, ref, path, ref_path or _join(path, "ref"))
    except (OSError, tarfile.TarError, EOFError, zlib_error) as exc:
        raise SeedError(path, f"cannot read {file_path} as a tar archive: {exc}") from None
    except seed_blobs.TooLarge as exc:
        raise SeedError(path, str(exc)) from None


def _legacy_archive(
    files: _Files, ref: str | None, path: str, ref_path: str
) -> tuple[list[tuple[bytes, str]], dict[str, Blob]]:
    entries = _load_json(files, "manifest.json", path)
    if not isinstance(entries, list) or not entries:
        raise SeedError(path, "the archive's manifest.json lists no images")
    if ref is None:
        if len(entries) > 1:
            raise SeedError(ref_path, "the archive holds several images; pick one")
        entry = entries[0]
    else:
        found = [
            e
            for e in entries
            if isinstance(e, dict)
            and any(ref in (t, t.rsplit(":", 1)[-1]) for t in e.get("RepoTags") or [])
        ]
        if not found:
            raise SeedError(ref_path, f"no image tagged {ref!r} in the archive")
        entry = found[0]
    if not isinstance(entry, dict):
        raise SeedError(path, "the archive's manifest.json is malformed")
    config = _read_small(files, str(entry.get("Config", "")))
    if config is None:
        raise SeedError(path, f"the archive lacks the image config {entry.get('Config')!r}")
    blobs = {_digest(config): seed_blobs.hold(Blob.from_bytes(config))}
    layers = []
    for name in entry.get("Layers") or []:
        opened = files.open(str(name))
        if opened is None:
            raise SeedError(path, f"the archive lacks the layer {name!r}")
        with opened[0] as head:
            magic = head.read(2)
        blob = _stream_file(files, str(name), path)
        if blob is None:
            raise SeedError(path, f"the archive lacks the layer {name!r}")
        blobs[blob.digest] = blob
        kind = OCI_LAYER_GZIP if magic == b"\x1f\x8b" else OCI_LAYER_TAR
        layers.append({"mediaType": kind, "digest": blob.digest, "size": blob.size})
    return [(_oci_manifest(config, layers), OCI_MANIFEST)], blobs


_SYNTHETIC_KEYS = ("layers", "layerSize", "layerSizes", "seed", "os", "architecture")


def _join(prefix: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else key


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise SeedError(path, f"expected a list, got {_kind(value)}")
    return value


def _string(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise SeedError(path, f"expected a non-empty string, got {_kind(value)}")
    return value


def _known(doc: Mapping[str, Any], allowed: Iterable[str], path: str) -> None:
    names = tuple(allowed)
    for key in doc:
        if key not in names:
            raise SeedError(
                _join(path, str(key)), f"unknown field; the fields here are: {', '.join(names)}"
            )


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string" if value else "an empty string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__
