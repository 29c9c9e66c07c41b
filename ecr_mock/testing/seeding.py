"""Seed documents from files and request bodies, and the in-process ECR API calls that apply them.

The document format is described in :mod:`ecr_mock.services.seed`. JSON always works;
YAML needs PyYAML (``pip install 'ecr-mock[yaml]'``), which is used only when installed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ecr_mock.protocols.control.seed_documents import load_seed_file, parse_seed_text
from ecr_mock.runtime.emulator import assemble, call_operation
from ecr_mock.services.seed import SeedError, apply_seed

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


def attach(backend: Backend) -> Backend:
    """Give ``backend`` in-process ECR API calls, so ``backend.seed(doc)`` works; returns it
    (:func:`ecr_mock.runtime.emulator.assemble` without the providers)."""

    return assemble(backend, providers=False)


def seed_backend(
    backend: Backend,
    doc: Mapping[str, Any] | str | os.PathLike[str],
    base_dir: str | None = None,
) -> dict[str, Any]:
    """Apply a seed document, or the seed file at a path, to ``backend`` (all or nothing).

    Relative image paths are read from the file's directory (for a file) or ``base_dir``.
    """

    if isinstance(doc, (str, os.PathLike)):
        base_dir = base_dir or os.path.dirname(os.path.abspath(os.fspath(doc)))
        doc = load_seed_file(doc)
    return apply_seed(backend, doc, call=call_operation, base_dir=base_dir)
