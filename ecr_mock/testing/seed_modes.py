"""Seeding a kept state once: the applied seed's hash is recorded, and a changed seed is applied
only as the chosen ``--seed-mode`` says (``once``, ``replace`` or ``merge``).

* ``once`` (the default): a directory with no seed recorded gets the seed; a restart with the
  same seed starts on the kept state without applying it again; a different seed is refused
  (exit 2, nothing changed), naming the two modes that take it.
* ``replace``: same seed, as ``once``; a different seed (or a directory seeded with none)
  empties the kept state (reset) and applies the new seed.
* ``merge``: same seed, as ``once``; a different seed is applied on top of the kept state:
  repositories, pull-through cache rules and creation templates that exist are kept as they
  are (with their images), new ones are created, and registry settings the seed gives are set.

The hash (sha256 of the document in canonical JSON) is saved with the state in the same
transaction, so a kill before that save leaves a directory that is seeded again on restart.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from typing import TYPE_CHECKING, Any

from ecr_mock.services.errors import SeedModeError as SeedModeError
from ecr_mock.services.seed import SeedError

if TYPE_CHECKING:
    from ecr_mock.services.backend import Backend

__all__ = ["SEED_MODES", "SeedModeError", "seed_hash", "seed_kept_state"]

SEED_MODES = ("once", "replace", "merge")


def seed_hash(doc: Any) -> str:
    """sha256 of the document in canonical JSON (key order and formatting do not count)."""
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def seed_kept_state(backend: Backend, path: str, mode: str = "once") -> str:
    """Apply the seed file ``path`` to ``backend`` as ``mode`` says; returns what was done:
    ``applied``, ``kept`` (same seed), ``replaced`` or ``merged``.

    SeedError for a refused document; SeedModeError for a changed seed under ``once``.
    """
    from ecr_mock.testing.seeding import load_seed_file, seed_backend

    if mode not in SEED_MODES:
        raise SeedError("", f"unknown seed mode {mode!r}; the modes are: {', '.join(SEED_MODES)}")
    doc = load_seed_file(path)
    digest = seed_hash(doc)
    base_dir = os.path.dirname(os.path.abspath(path))
    recorded = backend.applied_seed
    if recorded is not None and recorded.get("hash") == digest:
        return "kept"
    outcome = "applied"
    if recorded is not None or _holds_state(backend):
        if mode == "once":
            seeded = f"seed {recorded['hash']}" if recorded else "no seed"
            raise SeedModeError(
                "",
                f"the state directory was made with {seeded}, not this one ({digest}); start "
                "with --seed-mode replace to empty it and apply this seed, or --seed-mode merge "
                "to add what this seed adds",
            )
        if mode == "replace":
            with backend.lock:
                backend.reset()
            outcome = "replaced"
        else:
            doc = _new_parts(backend, doc)
            outcome = "merged"
    with backend.lock:
        seed_backend(backend, doc, base_dir=base_dir)
        backend.applied_seed = {"hash": digest, "mode": mode}
    backend.save()
    return outcome


def _holds_state(backend: Backend) -> bool:
    return any(reg.repositories for reg in backend.registries.values())


def _new_parts(backend: Backend, doc: Any) -> Any:
    """``doc`` without the repositories, pull-through rules and templates that exist."""
    if not isinstance(doc, dict):
        return doc
    doc = copy.deepcopy(doc)
    _drop_existing(backend, doc, backend.default_account, backend.default_region)
    for section in doc.get("registries") or []:
        if isinstance(section, dict):
            account = str(section.get("account") or backend.default_account)
            region = str(section.get("region") or backend.default_region)
            _drop_existing(backend, section, account, region)
    return doc


def _drop_existing(backend: Backend, section: dict[str, Any], account: str, region: str) -> None:
    reg = backend.registries.get((account, region))
    if reg is None:
        return
    kinds = (
        ("repositories", "name", reg.repositories),
        ("pullThroughCacheRules", "ecrRepositoryPrefix", reg.pull_through_rules),
        ("repositoryCreationTemplates", "prefix", reg.creation_templates),
    )
    for key, name, existing in kinds:
        items = section.get(key)
        if isinstance(items, list):
            section[key] = [
                item
                for item in items
                if not (isinstance(item, dict) and item.get(name) in existing)
            ]
