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

import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from ecr_mock.domain.blobs import Blob
from ecr_mock.domain.errors import EcrError
from ecr_mock.domain.models import Image, Registry, Repository
from ecr_mock.domain.names import account_problem, region_problem
from ecr_mock.domain.ports import OperationCaller
from ecr_mock.services import images, repositories, seed_blobs, uploads
from ecr_mock.services.admin import parse_time
from ecr_mock.services.errors import SeedError as SeedError
from ecr_mock.services.errors import _Refused
from ecr_mock.services.seed_images import (
    _DirectoryFiles,
    _join,
    _kind,
    _known,
    _list,
    _string,
    read_docker_archive,
    read_oci_layout,
    synthetic_image,
)
from ecr_mock.store.clock import Clock
from ecr_mock.store.state import Store

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


# --------------------------------------------------------------------------- the plan


@dataclass
class ImagePlan:
    """One image to push: manifests (children first), the blobs they need, tags, push time."""

    path: str
    manifests: list[tuple[bytes, str]]
    blobs: dict[str, Blob]
    """Held for the seed (``seed_blobs.hold``); large ones in files."""
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


def _mapping(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise SeedError(path, f"expected an object, got {_kind(value)}")
    return dict(value)


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
        if problem := account_problem(account, "account"):
            raise SeedError(_join(path, "account"), problem)
        region = _string(entry.get("region") or default_region, _join(path, "region"))
        if problem := region_problem(region, "region"):
            raise SeedError(_join(path, "region"), problem)
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
        manifests, generated = synthetic_image(
            spec, where, f"{repository}#{index}", pushed_at or now
        )
        blobs = {d: seed_blobs.hold(Blob.from_bytes(b, d)) for d, b in generated.items()}
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
            when = parse_time(text)
        except ValueError:
            raise SeedError(where, f"not an ISO 8601 time: {text!r}") from None
    if when > now:
        raise SeedError(where, "pushedAt is in the future of the backend clock")
    return when


# --------------------------------------------------------------------------- applying


def _call(
    call: OperationCaller,
    store: Store,
    plan: RegistryPlan,
    path: str,
    operation: str,
    params: dict[str, Any],
) -> dict[str, Any]:
    status, answer = call(store, operation, params, plan.account, plan.region)
    if status != 200:
        raise _Refused(path, str(answer.get("__type", "Error")), str(answer.get("message", "")))
    return answer


def _apply(
    store: Store, plans: list[RegistryPlan], call: OperationCaller, created: dict[str, Any]
) -> None:
    for plan in plans:
        for path, params in plan.settings:
            _call(call, store, plan, path, "PutAccountSetting", params)
        if plan.scanning is not None:
            path, params = plan.scanning
            _call(call, store, plan, path, "PutRegistryScanningConfiguration", params)
        if plan.policy is not None:
            path, text = plan.policy
            _call(call, store, plan, path, "PutRegistryPolicy", {"policyText": text})
        for path, params in plan.templates:
            _call(call, store, plan, path, "CreateRepositoryCreationTemplate", params)
        for path, params in plan.pull_through:
            _call(call, store, plan, path, "CreatePullThroughCacheRule", params)
        for repo in plan.repositories:
            _apply_repository(store, plan, repo, call, created)
        if plan.replication is not None:
            path, params = plan.replication
            _call(
                call,
                store,
                plan,
                path,
                "PutReplicationConfiguration",
                {"replicationConfiguration": params},
            )
        created["registries"].append({"account": plan.account, "region": plan.region})


def _apply_repository(
    store: Store,
    plan: RegistryPlan,
    repo_plan: RepositoryPlan,
    call: OperationCaller,
    created: dict[str, Any],
) -> None:
    path = repo_plan.path
    try:
        answer = _call(call, store, plan, path, "CreateRepository", repo_plan.params)
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
            store,
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
                store,
                plan,
                where,
                "PutLifecyclePolicy",
                {**names, "lifecyclePolicyText": repo_plan.lifecycle},
            )
        except _Refused as exc:
            inner = lifecycle_field_path(repo_plan.lifecycle_doc, repo_plan.lifecycle)
            raise _Refused(where + inner, exc.code, exc.message) from None
    reg = store.registry(plan.account, plan.region)
    repo = repositories.get_repository(store, reg, repo_plan.name)
    for image_plan in repo_plan.images:
        try:
            image = _push(store, reg, repo, image_plan)
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


def _push(store: Store, reg: Registry, repo: Repository, plan: ImagePlan) -> Image:
    for blob in plan.blobs.values():
        uploads.store_blob(store, reg, repo, blob)
    pushed: list[Image] = []
    last = len(plan.manifests) - 1
    for number, (manifest, media_type) in enumerate(plan.manifests):
        tags: list[str | None] = list(plan.tags) if number == last and plan.tags else [None]
        for tag in tags:
            image = images.put_image(
                store, reg, repo, manifest, tag=tag, media_type=media_type, idempotent=True
            )
        pushed.append(image)
    if plan.pushed_at is not None:
        with store.lock:
            for image in pushed:
                image.pushed_at = plan.pushed_at
                store.note_image(repo, image.digest)
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
    store: Store,
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

    caller = call or store.operation_caller
    if caller is None:
        raise SeedError(
            "",
            "this backend has no ECR API attached; use ecr_mock.testing.seeding.seed_backend(backend, doc)"
            " or a backend of mock_ecr, a server or the pytest fixtures",
        )
    now = store.clock.now()
    with seed_blobs.reading(store.upload_spill_dir):  # the blobs are held until the end
        plans = build_plan(
            doc, store.default_account, store.default_region, now, base_dir or os.getcwd()
        )
        return _apply_plans(store, plans, caller, now)


def _apply_plans(
    store: Store, plans: list[RegistryPlan], caller: OperationCaller, now: datetime
) -> dict[str, Any]:

    scratch = type(store)(store.default_account, store.default_region, clock=Clock(start=now))
    try:
        _apply(scratch, plans, caller, {"registries": [], "repositories": [], "images": []})
    except _Refused as exc:
        raise SeedError(exc.path, f"{exc.code}: {exc.message}") from None
    finally:
        for reg in scratch.registries.values():  # the plan's holds keep the bytes
            for blob in reg.blobs.values():
                blob.release()
    with store.lock:
        _check_conflicts(store, plans, caller)
        created: dict[str, Any] = {"registries": [], "repositories": [], "images": []}
        try:
            _apply(store, plans, caller, created)
        except _Refused as exc:
            _undo(store, created)
            raise SeedError(exc.path, f"{exc.code}: {exc.message}") from None
    return created


def _check_conflicts(store: Store, plans: list[RegistryPlan], call: OperationCaller) -> None:
    for plan in plans:
        reg = store.registries.get((plan.account, plan.region))
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
                    store, operation, {filter_name: [value]}, plan.account, plan.region
                )
                if status == 200 and answer.get(listed):
                    raise SeedError(_join(path, key), message.format(value))


def _undo(store: Store, created: Mapping[str, Any]) -> None:
    for item in created["repositories"]:
        reg = store.registry(item["account"], item["region"])
        if item["name"] in reg.repositories:
            repositories.delete_repository(store, reg, item["name"], force=True)
