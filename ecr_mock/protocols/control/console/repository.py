"""The console's repository page and image page: settings, policies, images, manifests, scans."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ecr_mock.domain.errors import EcrError
from ecr_mock.domain.lifecycle_rules import LifecyclePolicyError, evaluate, parse_lifecycle_policy
from ecr_mock.domain.models import Image, Registry, Repository
from ecr_mock.protocols.control.console.html import Markup, el, join
from ecr_mock.protocols.control.console.layout import (
    UI,
    Page,
    View,
    compare_url,
    image_url,
    json_block,
    policy_block,
    post_form,
    repository_crumbs,
    repository_url,
    short_digest,
    size,
    table,
    when,
)
from ecr_mock.protocols.control.errors import NotFound
from ecr_mock.services.lifecycle import lifecycle_images
from ecr_mock.services.referrers import artifact_type, referrers
from ecr_mock.services.scanning import (
    SEVERITIES,
    is_scannable,
    repository_scanning,
    scan_report,
)

if TYPE_CHECKING:
    from ecr_mock.services.backend import Backend

__all__ = [
    "IMAGES_SHOWN",
    "NotFound",
    "find_repository",
    "image_config",
    "image_page",
    "repository_page",
]

IMAGES_SHOWN = 100
"""How many images one page of a repository lists (``?page=2`` the next, older ones)."""
CONFIG_SHOWN = 1024 * 1024
"""Config blobs larger than this are not shown whole."""


def find_repository(
    backend: Backend, account: str, region: str, name: str
) -> tuple[Registry, Repository]:
    """The registry and repository a page names; NotFound otherwise."""
    reg = backend.registries.get((account, region))
    repo = reg.repositories.get(name) if reg is not None else None
    if reg is None or repo is None:
        raise NotFound(f"No repository {name!r} in account {account}, region {region}")
    return reg, repo


def _pull_commands(backend: Backend, repo: Repository, digest: str) -> Markup:
    uri = backend.repository_uri(repo)
    insecure = " --src-tls-verify=false" if backend.public_endpoint else ""
    local = repo.name.rsplit("/", 1)[-1]
    docker = f"docker pull {uri}@{digest}"
    skopeo = f"skopeo copy{insecure} --src-creds AWS:PASSWORD docker://{uri}@{digest} oci:{local}"
    return el(
        "div",
        {"class": "commands"},
        el("code", {"class": "command"}, docker),
        el("code", {"class": "command"}, skopeo),
    )


def _scan_cell(image: Image) -> Markup:
    status = (image.scan_status or {}).get("status")
    if status is None:
        return el("span", {"class": "muted"}, "not scanned")
    counts = (image.scan_summary or {}).get("findingSeverityCounts") or {}
    listed = ", ".join(
        f"{severity.lower()} {counts[severity]}" for severity in SEVERITIES if counts.get(severity)
    )
    return Markup(
        el("span", {}, status) + (el("br", {}) + el("small", {}, listed) if listed else "")
    )


def _archive_cell(image: Image) -> str:
    if image.status != "ACTIVE":
        return f"{image.storage_class.lower()} ({image.status.lower()})"
    return image.storage_class.lower()


def _preview(backend: Backend, repo: Repository) -> Markup:
    text = repo.lifecycle_policy_text
    if not text:
        return el("p", {"class": "muted"}, "No lifecycle policy: nothing expires.")
    try:
        rules = parse_lifecycle_policy(text)
    except LifecyclePolicyError as exc:
        return el("p", {"class": "error"}, f"The policy does not parse: {exc}")
    with backend.lock:
        actions = evaluate(rules, lifecycle_images(repo), backend.clock.now())
    rows = [
        [
            short_digest(action.digest),
            ", ".join(action.tags) or el("span", {"class": "muted"}, "untagged"),
            action.action
            + (f" to {action.target_storage_class}" if action.target_storage_class else ""),
            f"rule {action.rule.priority}"
            + (f": {action.rule.description}" if action.rule.description else ""),
        ]
        for action in actions
    ]
    return table(
        "Images the lifecycle policy would act on now",
        ["Digest", "Tags", "Action", "Rule"],
        rows,
        "Nothing would expire or transition now.",
    )


def _settings(reg: Registry, repo: Repository) -> Markup:
    frequency, _ = repository_scanning(reg, repo)
    exclusions = ", ".join(
        f"{item.get('filterType', '')} {item.get('filter', '')}"
        for item in repo.mutability_exclusions
    )
    encryption = repo.encryption.get("encryptionType", "AES256")
    if repo.encryption.get("kmsKey"):
        encryption += f" ({repo.encryption['kmsKey']})"
    tags = ", ".join(f"{key}={value}" for key, value in sorted(repo.resource_tags.items()))
    entries = [
        ("Tag mutability", repo.tag_mutability),
        ("Mutability exclusions", exclusions or "none"),
        ("Scan on push", "yes" if repo.scan_on_push else "no"),
        ("Scan frequency", frequency),
        ("Encryption", encryption),
        ("Tags", tags or "none"),
        ("Created", when(repo.created_at)),
        ("ARN", el("code", {}, repo.arn)),
    ]
    return el("dl", {"class": "settings"}, ((el("dt", {}, k), el("dd", {}, v)) for k, v in entries))


def repository_page(view: View, account: str, region: str, name: str) -> Page:
    """A repository: settings, policies, lifecycle preview, images with actions, compare form."""
    backend = view.backend
    reg, repo = find_repository(backend, account, region, name)
    with backend.lock:
        images = sorted(repo.images.values(), key=lambda i: (i.pushed_at, i.digest), reverse=True)
        settings = _settings(reg, repo)
    here = {"account": account, "region": region, "repository": name}
    pages = max(1, -(-len(images) // IMAGES_SHOWN))
    number = view.query.get("page", "1")
    current = min(int(number), pages) if number.isdigit() and int(number) > 0 else 1
    shown = images[(current - 1) * IMAGES_SHOWN : current * IMAGES_SHOWN]
    rows = []
    for image in shown:
        digest_fields = {**here, "digest": image.digest}
        rows.append(
            [
                ", ".join(sorted(image.tags)) or el("span", {"class": "muted"}, "untagged"),
                short_digest(image.digest),
                el("span", {"title": f"{image.size} bytes", "class": "nowrap"}, size(image.size)),
                when(image.pushed_at),
                when(image.last_pulled_at),
                _scan_cell(image),
                _archive_cell(image),
                el(
                    "details",
                    {},
                    el("summary", {}, "docker, skopeo"),
                    _pull_commands(backend, repo, image.digest),
                ),
                el(
                    "div",
                    {"class": "buttons"},
                    el("a", {"href": image_url(account, region, name, image.digest)}, "Details"),
                    post_form(view, f"{UI}/actions/scan", "Scan", digest_fields)
                    if is_scannable(image)
                    else None,
                    post_form(
                        view, f"{UI}/actions/delete-image", "Delete", digest_fields, danger=True
                    ),
                ),
            ]
        )
    more = _pager(repository_url(account, region, name), current, pages, len(images))
    login = (
        f"aws ecr get-login-password --endpoint-url http://{backend.public_endpoint} | "
        f"docker login --username AWS --password-stdin {backend.host(account, region)}"
        if backend.public_endpoint
        else f"aws ecr get-login-password --region {region} | docker login --username AWS "
        f"--password-stdin {backend.host(account, region)}"
    )
    body = Markup(
        el(
            "p",
            {"class": "crumbs"},
            el("a", {"href": f"{UI}/"}, "Home"),
            f" / {account} · {region}",
        )
        + el("h1", {}, name)
        + el("p", {}, el("code", {"class": "command"}, backend.repository_uri(repo)))
        + el("p", {}, "Log in: ", el("code", {"class": "command"}, login))
        + el(
            "section",
            {"aria-labelledby": "images-h"},
            el("h2", {"id": "images-h"}, f"Images ({len(images)})"),
            more,
            table(
                f"Images of {name}, newest first",
                [
                    "Tags",
                    "Digest",
                    "Size",
                    "Pushed",
                    "Last pulled",
                    "Scan",
                    "Storage",
                    "Pull",
                    "Actions",
                ],
                rows,
                "No images.",
            ),
        )
        + el(
            "section",
            {"aria-labelledby": "lifecycle-h"},
            el("h2", {"id": "lifecycle-h"}, "Lifecycle policy"),
            policy_block(repo.lifecycle_policy_text, "Lifecycle policy"),
            el("h3", {}, "Preview"),
            _preview(backend, repo),
            post_form(view, f"{UI}/actions/lifecycle", "Run lifecycle now", here),
        )
        + _compare_form(account, region, name, shown)
        + el(
            "section",
            {"aria-labelledby": "settings-h"},
            el("h2", {"id": "settings-h"}, "Settings"),
            settings,
        )
        + el(
            "section",
            {"aria-labelledby": "policy-h"},
            el("h2", {"id": "policy-h"}, "Repository policy"),
            policy_block(repo.policy_text, "Repository policy"),
        )
    )
    return Page(name, body)


def _pager(url: str, current: int, pages: int, total: int) -> Markup:
    if pages == 1:
        return Markup("")
    first = (current - 1) * IMAGES_SHOWN + 1
    last = min(current * IMAGES_SHOWN, total)
    links = [
        el("a", {"href": f"{url}?page={current - 1}", "rel": "prev"}, "Newer images")
        if current > 1
        else None,
        el("a", {"href": f"{url}?page={current + 1}", "rel": "next"}, "Older images")
        if current < pages
        else None,
    ]
    return el(
        "nav",
        {"class": "buttons", "aria-label": "Pages of images"},
        el("span", {}, f"Images {first} to {last} of {total}, newest first."),
        links,
    )


def _label(image: Image) -> str:
    tags = ", ".join(sorted(image.tags)) or "untagged"
    return f"{tags} ({image.digest[:19]})"


def _compare_form(account: str, region: str, name: str, images: list[Image]) -> Markup:
    if len(images) < 2:
        return Markup("")
    shown = images

    def select(field: str, label: str, chosen: Image) -> Markup:
        options = (
            el("option", {"value": i.digest, "selected": i is chosen}, _label(i)) for i in shown
        )
        return el("label", {}, label, el("select", {"name": field}, options))

    action = compare_url(account, region, name, "", "").split("?", 1)[0]
    return el(
        "section",
        {"aria-labelledby": "compare-h"},
        el("h2", {"id": "compare-h"}, "Compare two images"),
        el(
            "form",
            {"method": "get", "action": action, "class": "filters"},
            select("base", "Base image", shown[1]),
            select("other", "Other image", shown[0]),
            el("button", {"type": "submit"}, "Compare"),
        ),
    )


def image_config(reg: Registry, image: Image) -> Any:
    """The image's config as JSON (or a note saying why it cannot be shown); None: no config."""
    descriptor = image.parsed.config
    if descriptor is None:
        return None
    blob = reg.blobs.get(descriptor.digest)
    if blob is None:
        return f"(config blob {descriptor.digest} is not stored)"
    if blob.size > CONFIG_SHOWN:
        return f"(config blob of {blob.size} bytes, too large to show)"
    try:
        return json.loads(blob.read())
    except ValueError:
        return "(the config blob is not JSON)"


def _findings(repo: Repository, image: Image) -> Markup:
    try:
        report = scan_report(repo, image)
    except EcrError:
        return Markup(el("p", {"class": "muted"}, "Not scanned yet."))
    groups: dict[str, list[dict[str, Any]]] = {}
    for finding in report.findings:
        groups.setdefault(str(finding.get("severity", "UNDEFINED")), []).append(finding)
    parts = [
        el(
            "p",
            {},
            f"Scan {report.status.get('status', '')} ({report.scan_type}), completed ",
            when(report.completed_at),
            ".",
        )
    ]
    if not groups:
        parts.append(el("p", {}, "No findings."))
    for severity in [*SEVERITIES, *sorted(set(groups) - set(SEVERITIES))]:
        found = groups.get(severity)
        if not found:
            continue
        items = (
            el(
                "li",
                {},
                el("strong", {}, str(f.get("name", ""))),
                f": {f['description']}" if f.get("description") else "",
            )
            for f in found
        )
        parts.append(
            el("h3", {"class": f"sev sev-{severity.lower()}"}, f"{severity} ({len(found)})")
        )
        parts.append(el("ul", {}, items))
    return join(parts)


def image_page(view: View, account: str, region: str, name: str, digest: str) -> Page:
    """An image: manifest, config, layers or platforms, referrers, findings by severity."""
    backend = view.backend
    reg, repo = find_repository(backend, account, region, name)
    image = repo.images.get(digest)
    if image is None:
        raise NotFound(f"No image {digest} in repository {name!r}")
    parsed = image.parsed
    fields = {"account": account, "region": region, "repository": name, "digest": digest}
    facts = [
        ("Tags", ", ".join(sorted(image.tags)) or "untagged"),
        ("Digest", short_digest(digest)),
        ("Media type", image.media_type),
        ("Artifact type", artifact_type(image) or "-"),
        ("Size", f"{size(image.size)} ({image.size} bytes)"),
        ("Pushed", when(image.pushed_at)),
        ("Last pulled", when(image.last_pulled_at)),
        ("Storage", _archive_cell(image)),
    ]
    if parsed.subject is not None:
        subject = parsed.subject.digest
        target = (
            el("a", {"href": image_url(account, region, name, subject)}, subject)
            if subject in repo.images
            else el("code", {}, subject)
        )
        facts.append(("Refers to", target))
    sections: list[Markup] = []
    if parsed.is_index:
        rows = []
        for child in parsed.manifests:
            platform = child.platform or {}
            label = "/".join(
                str(platform[k]) for k in ("os", "architecture", "variant") if platform.get(k)
            )
            link = (
                el("a", {"href": image_url(account, region, name, child.digest)}, "Open")
                if child.digest in repo.images
                else el("span", {"class": "muted"}, "not stored")
            )
            rows.append(
                [label or "-", short_digest(child.digest), size(child.size), child.media_type, link]
            )
        sections.append(
            el(
                "section",
                {"aria-labelledby": "platforms-h"},
                el("h2", {"id": "platforms-h"}, "Platforms"),
                table(
                    "Manifests of the index",
                    ["Platform", "Digest", "Size", "Media type", "Image"],
                    rows,
                    "No manifests.",
                ),
            )
        )
    else:
        layers = [
            [
                index + 1,
                short_digest(layer.digest),
                el("span", {"title": f"{layer.size} bytes"}, size(layer.size)),
                layer.media_type,
            ]
            for index, layer in enumerate(parsed.layers)
        ]
        sections.append(
            el(
                "section",
                {"aria-labelledby": "layers-h"},
                el("h2", {"id": "layers-h"}, f"Layers ({len(parsed.layers)})"),
                table(
                    "Layers, base first",
                    ["#", "Digest", "Size", "Media type"],
                    layers,
                    "No layers.",
                ),
            )
        )
        config = image_config(reg, image)
        if config is not None:
            sections.append(
                el(
                    "section",
                    {"aria-labelledby": "config-h"},
                    el("h2", {"id": "config-h"}, "Config"),
                    json_block(config, "Image config"),
                )
            )
    found = referrers(backend, repo, digest)
    ref_rows = [
        [
            artifact_type(ref) or "-",
            el("a", {"href": image_url(account, region, name, ref.digest)}, ref.digest[:19]),
            size(ref.size),
            when(ref.pushed_at),
        ]
        for ref in found
    ]
    sections.append(
        el(
            "section",
            {"aria-labelledby": "referrers-h"},
            el("h2", {"id": "referrers-h"}, f"Referrers ({len(found)})"),
            table(
                "Signatures, SBOMs and other artifacts about this image",
                ["Artifact type", "Digest", "Size", "Pushed"],
                ref_rows,
                "No referrers.",
            ),
        )
    )
    sections.append(
        el(
            "section",
            {"aria-labelledby": "findings-h"},
            el("h2", {"id": "findings-h"}, "Scan findings"),
            _findings(repo, image),
            post_form(view, f"{UI}/actions/scan", "Start a scan", fields)
            if is_scannable(image)
            else el("p", {"class": "muted"}, "Only container images can be scanned."),
        )
    )
    try:
        manifest_doc: Any = json.loads(image.manifest)
    except ValueError:
        manifest_doc = image.manifest.decode("utf-8", "replace")
    sections.append(
        el(
            "section",
            {"aria-labelledby": "manifest-h"},
            el("h2", {"id": "manifest-h"}, "Manifest"),
            json_block(manifest_doc, "Manifest"),
        )
    )
    body = Markup(
        repository_crumbs(account, region, name)
        + el("h1", {}, f"{name}@{digest[:19]}")
        + el("dl", {"class": "settings"}, ((el("dt", {}, k), el("dd", {}, v)) for k, v in facts))
        + el("h2", {}, "Pull")
        + _pull_commands(backend, repo, digest)
        + join(sections)
        + el(
            "section",
            {"aria-labelledby": "danger-h"},
            el("h2", {"id": "danger-h"}, "Delete"),
            post_form(view, f"{UI}/actions/delete-image", "Delete this image", fields, danger=True),
        )
    )
    return Page(f"{name}@{digest[:19]}", body)
