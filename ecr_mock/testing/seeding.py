"""Seed documents from files and request bodies, and the in-process ECR API calls that apply them.

The document format is described in :mod:`ecr_mock.services.seed`. JSON always works;
YAML needs PyYAML (``pip install 'ecr-mock[yaml]'``), which is used only when installed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ecr_mock.domain.errors import EcrError
from ecr_mock.domain.models import Principal
from ecr_mock.protocols.ecr_api import dispatch
from ecr_mock.protocols.ecr_api.validation import ValidationError, validate_input
from ecr_mock.services.errors import SeedError

if TYPE_CHECKING:
    from ecr_mock.services.backend import Backend

__all__ = [
    "SeedError",
    "attach",
    "call_operation",
    "load_seed_file",
    "parse_seed_text",
    "seed_backend",
]

_YAML_TYPES = ("yaml", "yml")


def call_operation(
    backend: Backend, operation: str, params: dict[str, Any], account: str, region: str
) -> tuple[int, dict[str, Any]]:
    """One ECR API call as the root of ``account`` in ``region``: model check, then the handler.

    Answers ``(status, document)`` as the API would (``__type`` and ``message`` on errors).
    """

    handler = dispatch.ecr_handler(operation)
    if handler is None:
        return 400, {"__type": "UnknownOperationException", "message": operation}
    params = json.loads(json.dumps(params, default=str))
    ctx = dispatch.Context(backend, operation, Principal.root(account), region)
    try:
        validate_input(operation, params)
        result = handler(ctx, params)
    except ValidationError as exc:
        return 400, {"__type": exc.code, "message": exc.message}
    except EcrError as exc:
        return exc.status, {"__type": exc.code, "message": exc.message}
    return 200, json.loads(json.dumps(result, default=_encode))


def _encode(value: Any) -> Any:
    from datetime import datetime

    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)


def attach(backend: Backend) -> Backend:
    """Give ``backend`` in-process ECR API calls, so ``backend.seed(doc)`` works; returns it."""
    if backend.operation_caller is None:
        backend.operation_caller = call_operation
    return backend


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


def seed_backend(
    backend: Backend,
    doc: Mapping[str, Any] | str | os.PathLike[str],
    base_dir: str | None = None,
) -> dict[str, Any]:
    """Apply a seed document, or the seed file at a path, to ``backend`` (all or nothing).

    Relative image paths are read from the file's directory (for a file) or ``base_dir``.
    """
    from ecr_mock.services.seed import apply_seed

    if isinstance(doc, (str, os.PathLike)):
        base_dir = base_dir or os.path.dirname(os.path.abspath(os.fspath(doc)))
        doc = load_seed_file(doc)
    return apply_seed(backend, doc, call=call_operation, base_dir=base_dir)
