"""Seed documents: a starting world (registries, repositories, settings, images) applied all or nothing.

A document (already parsed from JSON or YAML) looks like this; every key is optional::

    repositories:                      # the default registry (the backend's account and region)
      - name: team/app                 # CreateRepository's parameters, camelCase as in the API
        imageTagMutability: IMMUTABLE
        imageScanningConfiguration: {scanOnPush: true}
        tags: {team: platform}         # or [{Key: team, Value: platform}]
        repositoryPolicy: {...}        # a policy object or its JSON text
        lifecyclePolicy: {rules: [...]}
        images:
          - synthetic: {layers: 2, layerSize: 4096}   # generated, deterministic, pullable
            tags: [v1, latest]
            pushedAt: "2024-01-01T00:00:00Z"           # or pushedDaysAgo: 30
          - ociLayout: ./layout        # an OCI image layout directory (ref: picks one image)
            tags: [v2]
          - dockerArchive: ./app.tar   # a `docker save` tarball (ref: picks one image)
    registryPolicy: {...}
    replicationConfiguration: {rules: [...]}
    pullThroughCacheRules: [{ecrRepositoryPrefix: ..., upstreamRegistryUrl: ...}]
    repositoryCreationTemplates: [{prefix: ..., appliedFor: [...]}]
    accountSettings: {BLOB_MOUNTING: DISABLED}
    registryScanningConfiguration: {scanType: ENHANCED, rules: [...]}
    registries:                        # other accounts and regions, with the same keys
      - account: "111122223333"
        region: eu-west-1
        repositories: [...]

Settings go through the ECR API's own operations (an ``OperationCaller`` the faces supply), so
they are checked by the API model and the service's rules and refused with ECR's messages.
The whole document is first applied to an empty scratch backend; only when that succeeds, and
no repository, pull-through rule or template it creates exists already, is it applied for real.
A refusal is a :class:`SeedError` naming the bad field, such as
``repositories[2].lifecyclePolicy.rules[0].selection.countType``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import math
import os
import random
import re
import tarfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from ecr_mock.domain.blobs import Blob
from ecr_mock.domain.errors import EcrError
from ecr_mock.domain.models import Image, Registry, Repository
from ecr_mock.domain.names import ACCOUNT_RE
from ecr_mock.services import images, repositories, uploads
from ecr_mock.store.state import Store

OperationCaller = Callable[[Any, str, dict[str, Any], str, str], tuple[int, dict[str, Any]]]
"""``call(backend, operation, params, account, region) -> (status, answer)``: one ECR API call
made as the root of ``account`` in ``region``, answered like the API (``__type`` on errors)."""

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

_REGISTRY_KEYS = (
    "repositories",
    "registryPolicy",
    "replicationConfiguration",
    "pullThroughCacheRules",
    "repositoryCreationTemplates",
    "accountSettings",
    "registryScanningConfiguration",
)
_REPOSITORY_API_KEYS = (
    "repositoryName",
    "imageTagMutability",
    "imageTagMutabilityExclusionFilters",
    "imageScanningConfiguration",
    "encryptionConfiguration",
    "tags",
)
_REPOSITORY_KEYS = (
    "name",
    *_REPOSITORY_API_KEYS,
    "scanOnPush",
    "repositoryPolicy",
    "lifecyclePolicy",
    "images",
)
_IMAGE_SOURCES = ("synthetic", "ociLayout", "dockerArchive")
_IMAGE_KEYS = (*_IMAGE_SOURCES, "ref", "tags", "tag", "pushedAt", "pushedDaysAgo")
_SYNTHETIC_KEYS = ("layers", "layerSize", "layerSizes", "seed", "os", "architecture")


class SeedError(ValueError):
    """A seed document refused as a whole: ``path`` names the bad field, ``message`` why."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


# --------------------------------------------------------------------------- the plan


@dataclass
class ImagePlan:
    """One image to push: manifests (children first), the blobs they need, tags, push time."""

    path: str
    manifests: list[tuple[bytes, str]]
    blobs: dict[str, bytes]
    tags: list[str]
    pushed_at: datetime | None


@dataclass
class RepositoryPlan:
    """One repository: CreateRepository's parameters, its policies and images."""

    path: str
    name: str
    params: dict[str, Any]
    policy: str | None = None
    lifecycle: str | None = None
    lifecycle_doc: Any = None
    images: list[ImagePlan] = field(default_factory=list)


@dataclass
class RegistryPlan:
    """What goes into one registry (account, region)."""

    path: str
    account: str
    region: str
    settings: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    scanning: tuple[str, dict[str, Any]] | None = None
    policy: tuple[str, str] | None = None
    templates: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    pull_through: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    replication: tuple[str, dict[str, Any]] | None = None
    repositories: list[RepositoryPlan] = field(default_factory=list)


def _join(prefix: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else key


def _mapping(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise SeedError(path, f"expected an object, got {_kind(value)}")
    return dict(value)


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise SeedError(path, f"expected a list, got {_kind(value)}")
    return value


def _string(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise SeedError(path, f"expected a non-empty string, got {_kind(value)}")
    return value


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


def _known(doc: Mapping[str, Any], allowed: Iterable[str], path: str) -> None:
    names = tuple(allowed)
    for key in doc:
        if key not in names:
            raise SeedError(
                _join(path, str(key)), f"unknown field; the fields here are: {', '.join(names)}"
            )


def _policy_text(value: Any, path: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (Mapping, list)):
        return json.dumps(value)
    raise SeedError(path, f"expected a policy object or its JSON text, got {_kind(value)}")


def build_plan(
    doc: Any, default_account: str, default_region: str, now: datetime, base_dir: str
) -> list[RegistryPlan]:
    """Check the document's structure and read its image sources; SeedError on the first fault."""
    top = _mapping(doc, "$")
    _known(top, ("version", "registries", *_REGISTRY_KEYS), "")
    version = top.get("version", 1)
    if version != 1:
        raise SeedError("version", f"unsupported seed document version {version!r}; use 1")
    plans: list[RegistryPlan] = []
    if any(key in top for key in _REGISTRY_KEYS):
        plans.append(_registry_plan(top, "", default_account, default_region, now, base_dir))
    for index, entry in enumerate(_list(top.get("registries", []), "registries")):
        path = _join("registries", index)
        entry = _mapping(entry, path)
        _known(entry, ("account", "region", *_REGISTRY_KEYS), path)
        account = str(entry.get("account") or default_account)
        if not ACCOUNT_RE.fullmatch(account):
            raise SeedError(_join(path, "account"), "expected a 12-digit account id")
        region = _string(entry.get("region") or default_region, _join(path, "region"))
        if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-[0-9]+", region):
            raise SeedError(_join(path, "region"), f"not an AWS region name: {region!r}")
        plans.append(_registry_plan(entry, path, account, region, now, base_dir))
    return plans


def _registry_plan(
    doc: dict[str, Any], path: str, account: str, region: str, now: datetime, base_dir: str
) -> RegistryPlan:
    plan = RegistryPlan(path, account, region)
    if "accountSettings" in doc:
        where = _join(path, "accountSettings")
        for name, value in _mapping(doc["accountSettings"], where).items():
            plan.settings.append((_join(where, str(name)), {"name": name, "value": value}))
    if "registryScanningConfiguration" in doc:
        where = _join(path, "registryScanningConfiguration")
        plan.scanning = (where, _mapping(doc["registryScanningConfiguration"], where))
    if "registryPolicy" in doc:
        where = _join(path, "registryPolicy")
        plan.policy = (where, _policy_text(doc["registryPolicy"], where))
    for key, target in (
        ("repositoryCreationTemplates", plan.templates),
        ("pullThroughCacheRules", plan.pull_through),
    ):
        where = _join(path, key)
        for index, item in enumerate(_list(doc.get(key, []), where)):
            target.append((_join(where, index), _mapping(item, _join(where, index))))
    if "replicationConfiguration" in doc:
        where = _join(path, "replicationConfiguration")
        plan.replication = (where, _mapping(doc["replicationConfiguration"], where))
    where = _join(path, "repositories")
    seen: dict[str, str] = {}
    for index, item in enumerate(_list(doc.get("repositories", []), where)):
        repo = _repository_plan(item, _join(where, index), now, base_dir)
        if repo.name in seen:
            raise SeedError(
                _join(repo.path, "name"),
                f"repository {repo.name!r} is already at {seen[repo.name]}",
            )
        seen[repo.name] = repo.path
        plan.repositories.append(repo)
    return plan


def _repository_plan(item: Any, path: str, now: datetime, base_dir: str) -> RepositoryPlan:
    doc = _mapping(item, path)
    _known(doc, _REPOSITORY_KEYS, path)
    if "name" in doc and "repositoryName" in doc:
        raise SeedError(_join(path, "repositoryName"), "give 'name' or 'repositoryName', not both")
    key = "name" if "name" in doc else "repositoryName"
    name = _string(doc.get(key), _join(path, key))
    params: dict[str, Any] = {k: doc[k] for k in _REPOSITORY_API_KEYS if k in doc}
    params["repositoryName"] = name
    tags = params.get("tags")
    if isinstance(tags, Mapping):
        params["tags"] = [{"Key": str(k), "Value": v} for k, v in tags.items()]
    if "scanOnPush" in doc:
        if "imageScanningConfiguration" in doc:
            raise SeedError(
                _join(path, "scanOnPush"),
                "give 'scanOnPush' or 'imageScanningConfiguration', not both",
            )
        params["imageScanningConfiguration"] = {"scanOnPush": doc["scanOnPush"]}
    plan = RepositoryPlan(path, name, params)
    if "repositoryPolicy" in doc:
        plan.policy = _policy_text(doc["repositoryPolicy"], _join(path, "repositoryPolicy"))
    if "lifecyclePolicy" in doc:
        plan.lifecycle_doc = doc["lifecyclePolicy"]
        plan.lifecycle = _policy_text(doc["lifecyclePolicy"], _join(path, "lifecyclePolicy"))
    where = _join(path, "images")
    for index, image in enumerate(_list(doc.get("images", []), where)):
        plan.images.append(_image_plan(image, _join(where, index), name, index, now, base_dir))
    return plan


def _image_plan(
    item: Any, path: str, repository: str, index: int, now: datetime, base_dir: str
) -> ImagePlan:
    doc = _mapping(item, path)
    _known(doc, _IMAGE_KEYS, path)
    sources = [key for key in _IMAGE_SOURCES if key in doc]
    if len(sources) != 1:
        raise SeedError(path, f"give exactly one image source: {', '.join(_IMAGE_SOURCES)}")
    source = sources[0]
    tags = _tags(doc, path)
    pushed_at = _pushed_at(doc, path, now)
    ref = doc.get("ref")
    if ref is not None:
        ref = _string(ref, _join(path, "ref"))
    where = _join(path, source)
    if source == "synthetic":
        spec = _mapping(doc["synthetic"] or {}, where) if doc["synthetic"] is not None else {}
        manifests, blobs = synthetic_image(spec, where, f"{repository}#{index}", pushed_at or now)
    else:
        file_path = _string(doc[source], where)
        full = os.path.join(base_dir, os.path.expanduser(file_path))
        if source == "ociLayout":
            if not os.path.isdir(full):
                raise SeedError(where, f"no OCI layout directory at {full}")
            manifests, blobs = read_oci_layout(
                _DirectoryFiles(full), ref, where, _join(path, "ref")
            )
        else:
            if not os.path.isfile(full):
                raise SeedError(where, f"no docker save archive at {full}")
            manifests, blobs = read_docker_archive(full, ref, where, _join(path, "ref"))
    return ImagePlan(path, manifests, blobs, tags, pushed_at)


def _tags(doc: Mapping[str, Any], path: str) -> list[str]:
    if "tag" in doc and "tags" in doc:
        raise SeedError(_join(path, "tags"), "give 'tag' or 'tags', not both")
    if "tag" in doc:
        return [_string(doc["tag"], _join(path, "tag"))]
    tags = _list(doc.get("tags", []), _join(path, "tags"))
    for number, tag in enumerate(tags):
        _string(tag, _join(_join(path, "tags"), number))
    if len(set(tags)) != len(tags):
        raise SeedError(_join(path, "tags"), "a tag is given twice")
    return list(tags)


def _pushed_at(doc: Mapping[str, Any], path: str, now: datetime) -> datetime | None:
    if "pushedAt" in doc and "pushedDaysAgo" in doc:
        raise SeedError(_join(path, "pushedAt"), "give 'pushedAt' or 'pushedDaysAgo', not both")
    if "pushedDaysAgo" in doc:
        days = doc["pushedDaysAgo"]
        if isinstance(days, bool) or not isinstance(days, (int, float)) or not math.isfinite(days):
            raise SeedError(_join(path, "pushedDaysAgo"), "expected a number of days")
        if days < 0 or days > 36500:
            raise SeedError(_join(path, "pushedDaysAgo"), "expected 0 to 36500 days")
        return now - timedelta(days=days)
    if "pushedAt" not in doc:
        return None
    value = doc["pushedAt"]
    where = _join(path, "pushedAt")
    if isinstance(value, datetime):
        when = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    else:
        text = _string(value, where)
        try:
            from ecr_mock.services.admin import parse_time

            when = parse_time(text)
        except ValueError:
            raise SeedError(where, f"not an ISO 8601 time: {text!r}") from None
    if when > now:
        raise SeedError(where, "pushedAt is in the future of the backend clock")
    return when


# --------------------------------------------------------------------------- image sources


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

    def read(self, name: str) -> bytes | None:
        """The bytes of file ``name`` (slash-separated), None when absent."""

    def where(self, name: str) -> str:
        """How to name file ``name`` in a message."""


class _DirectoryFiles:
    def __init__(self, root: str) -> None:
        self.root = root

    def read(self, name: str) -> bytes | None:
        full = os.path.join(self.root, *name.split("/"))
        if not os.path.isfile(full):
            return None
        with open(full, "rb") as handle:
            return handle.read()

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
        member = self.names.get(name)
        if member is None or not member.isfile():
            return None
        handle = self.tar.extractfile(member)
        return handle.read() if handle is not None else None


def _member_name(name: str) -> str:
    while name.startswith("./"):
        name = name[2:]
    return name


def _load_json(files: _Files, name: str, path: str) -> Any:
    data = files.read(name)
    if data is None:
        raise SeedError(path, f"{files.where(name)} is missing")
    try:
        return json.loads(data)
    except ValueError:
        raise SeedError(path, f"{files.where(name)} is not JSON") from None


def read_oci_layout(
    files: _Files, ref: str | None, path: str, ref_path: str | None = None
) -> tuple[list[tuple[bytes, str]], dict[str, bytes]]:
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
    blobs: dict[str, bytes] = {}
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


def _read_blob(files: _Files, descriptor: Mapping[str, Any], path: str) -> bytes | None:
    digest = descriptor.get("digest")
    if not isinstance(digest, str) or not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
        raise SeedError(path, f"a descriptor has an unusable digest: {digest!r}")
    data = files.read(_blob_name(digest))
    if data is not None and _digest(data) != digest:
        raise SeedError(path, f"{files.where(_blob_name(digest))} does not match its digest")
    return data


def _collect(
    files: _Files,
    descriptor: Mapping[str, Any],
    path: str,
    manifests: list[tuple[bytes, str]],
    blobs: dict[str, bytes],
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
            blob = _read_blob(files, item, path)
            if blob is None:
                if _FOREIGN_MARK in str(item.get("mediaType", "")) or item.get("urls"):
                    continue
                raise SeedError(path, f"blob {item.get('digest')} is missing from the source")
            blobs[_digest(blob)] = blob
    manifests.append((data, media_type))


def read_docker_archive(
    file_path: str, ref: str | None, path: str, ref_path: str | None = None
) -> tuple[list[tuple[bytes, str]], dict[str, bytes]]:
    """One image of a ``docker save`` tarball (the OCI layout of docker 25+, or the older form)."""
    try:
        with tarfile.open(file_path, mode="r:*") as tar:
            files = _TarFiles(tar, file_path)
            if files.read("oci-layout") is not None and files.read("index.json") is not None:
                try:
                    return read_oci_layout(files, ref, path, ref_path)
                except SeedError:
                    if files.read("manifest.json") is None:
                        raise
            return _legacy_archive(files, ref, path, ref_path or _join(path, "ref"))
    except (OSError, tarfile.TarError) as exc:
        raise SeedError(path, f"cannot read {file_path} as a tar archive: {exc}") from None


def _legacy_archive(
    files: _Files, ref: str | None, path: str, ref_path: str
) -> tuple[list[tuple[bytes, str]], dict[str, bytes]]:
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
    config = files.read(str(entry.get("Config", "")))
    if config is None:
        raise SeedError(path, f"the archive lacks the image config {entry.get('Config')!r}")
    blobs = {_digest(config): config}
    layers = []
    for name in entry.get("Layers") or []:
        data = files.read(str(name))
        if data is None:
            raise SeedError(path, f"the archive lacks the layer {name!r}")
        blobs[_digest(data)] = data
        kind = OCI_LAYER_GZIP if data[:2] == b"\x1f\x8b" else OCI_LAYER_TAR
        layers.append(_descriptor(kind, data))
    return [(_oci_manifest(config, layers), OCI_MANIFEST)], blobs


# --------------------------------------------------------------------------- applying


class _Refused(Exception):
    def __init__(self, path: str, code: str, message: str) -> None:
        super().__init__(message)
        self.path, self.code, self.message = path, code, message


def _call(
    call: OperationCaller,
    backend: Store,
    plan: RegistryPlan,
    path: str,
    operation: str,
    params: dict[str, Any],
) -> dict[str, Any]:
    status, answer = call(backend, operation, params, plan.account, plan.region)
    if status != 200:
        raise _Refused(path, str(answer.get("__type", "Error")), str(answer.get("message", "")))
    return answer


def _apply(
    backend: Store, plans: list[RegistryPlan], call: OperationCaller, created: dict[str, Any]
) -> None:
    for plan in plans:
        for path, params in plan.settings:
            _call(call, backend, plan, path, "PutAccountSetting", params)
        if plan.scanning is not None:
            path, params = plan.scanning
            _call(call, backend, plan, path, "PutRegistryScanningConfiguration", params)
        if plan.policy is not None:
            path, text = plan.policy
            _call(call, backend, plan, path, "PutRegistryPolicy", {"policyText": text})
        for path, params in plan.templates:
            _call(call, backend, plan, path, "CreateRepositoryCreationTemplate", params)
        for path, params in plan.pull_through:
            _call(call, backend, plan, path, "CreatePullThroughCacheRule", params)
        for repo in plan.repositories:
            _apply_repository(backend, plan, repo, call, created)
        if plan.replication is not None:
            path, params = plan.replication
            _call(
                call,
                backend,
                plan,
                path,
                "PutReplicationConfiguration",
                {"replicationConfiguration": params},
            )
        created["registries"].append({"account": plan.account, "region": plan.region})


def _apply_repository(
    backend: Store,
    plan: RegistryPlan,
    repo_plan: RepositoryPlan,
    call: OperationCaller,
    created: dict[str, Any],
) -> None:
    path = repo_plan.path
    try:
        answer = _call(call, backend, plan, path, "CreateRepository", repo_plan.params)
    except _Refused as exc:
        raise _Refused(
            _refine(path, exc.message, repo_plan.params), exc.code, exc.message
        ) from None
    created["repositories"].append(
        {
            "account": plan.account,
            "region": plan.region,
            "name": repo_plan.name,
            "uri": answer["repository"]["repositoryUri"],
        }
    )
    names = {"repositoryName": repo_plan.name}
    if repo_plan.policy is not None:
        _call(
            call,
            backend,
            plan,
            _join(path, "repositoryPolicy"),
            "SetRepositoryPolicy",
            {**names, "policyText": repo_plan.policy},
        )
    if repo_plan.lifecycle is not None:
        where = _join(path, "lifecyclePolicy")
        try:
            _call(
                call,
                backend,
                plan,
                where,
                "PutLifecyclePolicy",
                {**names, "lifecyclePolicyText": repo_plan.lifecycle},
            )
        except _Refused as exc:
            inner = lifecycle_field_path(repo_plan.lifecycle_doc, repo_plan.lifecycle)
            raise _Refused(where + inner, exc.code, exc.message) from None
    reg = backend.registry(plan.account, plan.region)
    repo = repositories.get_repository(backend, reg, repo_plan.name)
    for image_plan in repo_plan.images:
        try:
            image = _push(backend, reg, repo, image_plan)
        except EcrError as exc:
            raise _Refused(image_plan.path, exc.code, exc.message) from None
        created["images"].append(
            {
                "account": plan.account,
                "region": plan.region,
                "repository": repo_plan.name,
                "digest": image.digest,
                "tags": list(image_plan.tags),
                "pushedAt": image.pushed_at.astimezone(timezone.utc).isoformat(),
            }
        )


def _push(backend: Store, reg: Registry, repo: Repository, plan: ImagePlan) -> Image:
    for data in plan.blobs.values():
        uploads.store_blob(backend, reg, repo, Blob.from_bytes(data))
    pushed: list[Image] = []
    last = len(plan.manifests) - 1
    for number, (manifest, media_type) in enumerate(plan.manifests):
        tags: list[str | None] = list(plan.tags) if number == last and plan.tags else [None]
        for tag in tags:
            image = images.put_image(
                backend, reg, repo, manifest, tag=tag, media_type=media_type, idempotent=True
            )
        pushed.append(image)
    if plan.pushed_at is not None:
        with backend.lock:
            for image in pushed:
                image.pushed_at = plan.pushed_at
    return pushed[-1]


def _refine(path: str, message: str, params: Mapping[str, Any]) -> str:
    for name in re.findall(r"'([A-Za-z]+)'", message):
        if name in params:
            return _join(path, "name" if name == "repositoryName" else name)
    for name in params:
        if name in message:
            return _join(path, "name" if name == "repositoryName" else name)
    return path


_LIFECYCLE_ENUMS = {
    "tagStatus": ("tagged", "untagged", "any"),
    "countType": (
        "imageCountMoreThan",
        "sinceImagePushed",
        "sinceImagePulled",
        "sinceImageTransitioned",
    ),
    "countUnit": ("days",),
}


def lifecycle_field_path(doc: Any, text: str) -> str:
    """The path inside a refused lifecycle policy of the first field that looks wrong ('' if none
    stands out): ``.rules[0].selection.countType``."""
    if isinstance(doc, str):
        try:
            doc = json.loads(text)
        except ValueError:
            return ""
    if not isinstance(doc, Mapping):
        return ""
    rules = doc.get("rules")
    if not isinstance(rules, list):
        return ".rules"
    for index, rule in enumerate(rules):
        where = f".rules[{index}]"
        if not isinstance(rule, Mapping):
            return where
        priority = rule.get("rulePriority")
        if isinstance(priority, bool) or not isinstance(priority, int) or priority < 1:
            return where + ".rulePriority"
        selection = rule.get("selection")
        if not isinstance(selection, Mapping):
            return where + ".selection"
        for key, allowed in _LIFECYCLE_ENUMS.items():
            if key in selection and selection[key] not in allowed:
                return f"{where}.selection.{key}"
        number = selection.get("countNumber")
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            return where + ".selection.countNumber"
        action = rule.get("action")
        if not isinstance(action, Mapping) or action.get("type") not in ("expire", "transition"):
            return where + ".action"
    return ""


def apply_seed(
    backend: Store,
    doc: Any,
    *,
    call: OperationCaller | None = None,
    base_dir: str | None = None,
) -> dict[str, Any]:
    """Apply a seed document to ``backend`` all or nothing; returns what was created.

    ``call`` makes ECR API calls (default: ``backend.operation_caller``, which ``mock_ecr``,
    the server and the pytest fixtures set); relative image paths are read from ``base_dir``
    (default: the working directory). SeedError names the first bad field.
    """
    from ecr_mock.store.clock import Clock

    caller = call or backend.operation_caller
    if caller is None:
        raise SeedError(
            "",
            "this backend has no ECR API attached; use ecr_mock.testing.seeding.seed_backend(backend, doc)"
            " or a backend of mock_ecr, a server or the pytest fixtures",
        )
    now = backend.clock.now()
    plans = build_plan(
        doc, backend.default_account, backend.default_region, now, base_dir or os.getcwd()
    )
    scratch = type(backend)(backend.default_account, backend.default_region, clock=Clock(start=now))
    try:
        _apply(scratch, plans, caller, {"registries": [], "repositories": [], "images": []})
    except _Refused as exc:
        raise SeedError(exc.path, f"{exc.code}: {exc.message}") from None
    with backend.lock:
        _check_conflicts(backend, plans, caller)
        created: dict[str, Any] = {"registries": [], "repositories": [], "images": []}
        try:
            _apply(backend, plans, caller, created)
        except _Refused as exc:
            _undo(backend, created)
            raise SeedError(exc.path, f"{exc.code}: {exc.message}") from None
    return created


def _check_conflicts(backend: Store, plans: list[RegistryPlan], call: OperationCaller) -> None:
    for plan in plans:
        reg = backend.registries.get((plan.account, plan.region))
        if reg is None:
            continue
        for repo in plan.repositories:
            if repo.name in reg.repositories:
                raise SeedError(
                    _join(repo.path, "name"),
                    f"RepositoryAlreadyExistsException: the repository {repo.name!r} already "
                    f"exists in the registry {plan.account} ({plan.region})",
                )
        checks = (
            (
                plan.pull_through,
                "ecrRepositoryPrefix",
                "DescribePullThroughCacheRules",
                "ecrRepositoryPrefixes",
                "pullThroughCacheRules",
                "PullThroughCacheRuleAlreadyExistsException: a rule for {!r} exists",
            ),
            (
                plan.templates,
                "prefix",
                "DescribeRepositoryCreationTemplates",
                "prefixes",
                "repositoryCreationTemplates",
                "TemplateAlreadyExistsException: a template for {!r} exists",
            ),
        )
        for items, key, operation, filter_name, listed, message in checks:
            for path, params in items:
                value = params.get(key)
                status, answer = call(
                    backend, operation, {filter_name: [value]}, plan.account, plan.region
                )
                if status == 200 and answer.get(listed):
                    raise SeedError(_join(path, key), message.format(value))


def _undo(backend: Store, created: Mapping[str, Any]) -> None:
    for item in created["repositories"]:
        reg = backend.registry(item["account"], item["region"])
        if item["name"] in reg.repositories:
            repositories.delete_repository(backend, reg, item["name"], force=True)
