"""Seed documents as text: JSON, or YAML with PyYAML installed, from a request body or a file."""

from __future__ import annotations

import json
import os
from typing import Any

from ecr_mock.services.errors import SeedError

__all__ = ["load_seed_file", "parse_seed_text"]

_YAML_TYPES = ("yaml", "yml")


def _parse_yaml(text: str, where: str) -> Any:
    try:
        import yaml
    except ImportError:
        raise SeedError(
            "",
            f"{where} is YAML, which needs PyYAML: pip install 'ecr-mock[yaml]' (or send JSON)",
        ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SeedError("", f"{where} is not valid YAML: {exc}") from None


def parse_seed_text(data: bytes | str, content_type: str = "", where: str = "the body") -> Any:
    """A seed document from JSON text, or YAML when ``content_type`` says so (or JSON fails)."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    if any(kind in content_type.lower() for kind in _YAML_TYPES):
        return _parse_yaml(text, where)
    try:
        return json.loads(text or "{}")
    except (ValueError, RecursionError) as exc:
        if content_type.lower().startswith("application/json"):
            raise SeedError("", f"{where} is not valid JSON: {exc}") from None
    return _parse_yaml(text, where)


def load_seed_file(path: str | os.PathLike[str]) -> Any:
    """The document of a ``.json``, ``.yaml`` or ``.yml`` seed file."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise SeedError("", f"cannot read the seed file {name}: {exc.strerror}") from None
    suffix = name.rsplit(".", 1)[-1].lower()
    kind = "application/yaml" if suffix in _YAML_TYPES else ""
    if suffix == "json":
        kind = "application/json"
    return parse_seed_text(data, kind, where=name)
