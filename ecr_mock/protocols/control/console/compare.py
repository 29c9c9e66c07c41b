"""Comparing two images of a repository: layers and config fields added, removed or changed."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ecr_mock.domain.manifests import Descriptor
from ecr_mock.protocols.control.console.html import Markup, el, join
from ecr_mock.protocols.control.console.layout import (
    Page,
    View,
    image_url,
    repository_crumbs,
    short_digest,
    size,
    table,
)
from ecr_mock.protocols.control.console.repository import NotFound, find_repository, image_config

__all__ = ["ConfigChange", "ImageDiff", "compare_page", "diff_configs", "diff_layers"]


@dataclass(frozen=True)
class ConfigChange:
    """One config field (a dotted path) that differs: its value in each image (None: absent)."""

    path: str
    kind: str
    """``added``, ``removed`` or ``changed``."""
    before: Any = None
    after: Any = None


@dataclass
class ImageDiff:
    """What changed from a base image to another: layers and config fields."""

    layers_added: list[Descriptor] = field(default_factory=list)
    layers_removed: list[Descriptor] = field(default_factory=list)
    layers_kept: int = 0
    config: list[ConfigChange] = field(default_factory=list)


def diff_layers(base: tuple[Descriptor, ...], other: tuple[Descriptor, ...]) -> ImageDiff:
    """Layers of ``other`` not in ``base`` (added), of ``base`` not in ``other`` (removed)."""
    before = {layer.digest for layer in base}
    after = {layer.digest for layer in other}
    return ImageDiff(
        layers_added=[layer for layer in other if layer.digest not in before],
        layers_removed=[layer for layer in base if layer.digest not in after],
        layers_kept=len(before & after),
    )


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}" if prefix else str(key), out)
    else:
        out[prefix or "(config)"] = value


def _scalar_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, (str, int, float, bool)) for v in value)


def diff_configs(base: Any, other: Any) -> list[ConfigChange]:
    """The config fields (dotted paths) added, removed or changed from ``base`` to ``other``.

    Objects are compared field by field; lists of plain values (``Env``, ``Cmd``) item by item
    so one new variable shows as one ``added`` item (a reordering alone shows as ``changed``).
    """
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    _flatten(base if isinstance(base, dict) else {"(config)": base}, "", before)
    _flatten(other if isinstance(other, dict) else {"(config)": other}, "", after)
    changes: list[ConfigChange] = []
    for path in sorted(before.keys() | after.keys()):
        if path not in after:
            changes.append(ConfigChange(path, "removed", before=before[path]))
        elif path not in before:
            changes.append(ConfigChange(path, "added", after=after[path]))
        elif before[path] != after[path]:
            old, new = before[path], after[path]
            if _scalar_list(old) and _scalar_list(new):
                gone = [v for v in old if v not in new]
                came = [v for v in new if v not in old]
                if gone or came:
                    changes.extend(ConfigChange(f"{path}[]", "removed", before=v) for v in gone)
                    changes.extend(ConfigChange(f"{path}[]", "added", after=v) for v in came)
                    continue
            changes.append(ConfigChange(path, "changed", before=old, after=new))
    return changes


def _value(value: Any) -> Markup:
    if value is None:
        return el("span", {"class": "muted"}, "-")
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return el("code", {}, text)


def compare_page(view: View, account: str, region: str, name: str) -> Page:
    """Two images of one repository side by side: layers and config fields that differ."""
    reg, repo = find_repository(view.backend, account, region, name)
    wanted = (view.query.get("base", ""), view.query.get("other", ""))
    images = [repo.images.get(digest) for digest in wanted]
    base, other = images
    if base is None or other is None:
        raise NotFound("Choose two images of this repository to compare (base and other)")
    diff = diff_layers(base.parsed.layers, other.parsed.layers)
    diff.config = diff_configs(image_config(reg, base), image_config(reg, other))

    def layer_rows(layers: list[Descriptor]) -> list[list[object]]:
        return [
            [short_digest(layer.digest), size(layer.size), layer.media_type] for layer in layers
        ]

    def heading(label: str, image: Any) -> Markup:
        tags = ", ".join(sorted(image.tags)) or "untagged"
        link = el("a", {"href": image_url(account, region, name, image.digest)}, image.digest[:19])
        return el("li", {}, f"{label}: {tags} ", link, f" ({size(image.size)})")

    config_rows = [
        [el("code", {}, change.path), change.kind, _value(change.before), _value(change.after)]
        for change in diff.config
    ]
    body = join(
        [
            repository_crumbs(account, region, name),
            el("h1", {}, f"Compare two images of {name}"),
            el("ul", {}, heading("Base", base), heading("Other", other)),
            el(
                "p",
                {"id": "layer-summary"},
                f"{len(diff.layers_added)} layer(s) added, {len(diff.layers_removed)} removed, "
                f"{diff.layers_kept} shared.",
            ),
            el("h2", {}, "Layers added"),
            table(
                "Layers only in the other image",
                ["Digest", "Size", "Media type"],
                layer_rows(diff.layers_added),
                "None.",
            ),
            el("h2", {}, "Layers removed"),
            table(
                "Layers only in the base image",
                ["Digest", "Size", "Media type"],
                layer_rows(diff.layers_removed),
                "None.",
            ),
            el("h2", {}, "Config fields"),
            table(
                "Config fields that differ",
                ["Field", "Change", "Base", "Other"],
                config_rows,
                "The configs are the same.",
            ),
        ]
    )
    return Page(f"Compare · {name}", body)
