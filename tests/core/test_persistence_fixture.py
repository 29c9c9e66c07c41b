"""A state directory written by an earlier version opens, and holds exactly what it held then."""

from __future__ import annotations

import dataclasses
import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecr_mock import Backend
from ecr_mock.domain.models import Registry
from ecr_mock.store.persistence.codec import (
    ALIASES,
    PERSISTED_TYPES,
    decode,
    encode,
    resolve_class,
    type_name,
)
from tests.core.test_persistence import full_state

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "statedir-v1"


@pytest.fixture
def reopened(tmp_path: Path) -> Iterator[Backend]:
    path = tmp_path / "state"
    shutil.copytree(FIXTURE / "state", path)
    backend = Backend.open(path, read_only=False)
    yield backend
    backend.close()


def test_a_state_directory_of_the_first_layout_holds_what_it_was_written_with(
    reopened: Backend,
) -> None:
    expected = json.loads((FIXTURE / "expected.json").read_text(encoding="utf-8"))
    tokens = decode(expected.pop("tokens"))
    # Decoding the expected document resolves the class names that version wrote, too.
    got = full_state(reopened)
    # Registry fields added since come back as their defaults (and are compared as such).
    defaults = encode(
        {
            f.name: f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
            for f in dataclasses.fields(Registry)
            if f.init
            and (
                f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
            )
        }
    )
    for (_, fields), (_, written) in zip(
        got["registries"]["$map"], expected["registries"]["$map"], strict=True
    ):
        for name in set(fields) - set(written):
            assert fields.pop(name) == defaults[name], name
    assert got == encode(decode(expected))
    assert tokens
    for token in tokens:  # that version stored passwords; they verify against salted hashes
        found = reopened.tokens.find(token.password)
        assert found is not None
        assert (found.principal, found.account, found.region, found.expires_at) == (
            token.principal,
            token.account,
            token.region,
            token.expires_at,
        )


def test_the_passwords_that_version_stored_are_gone_once_it_is_reopened(
    reopened: Backend,
) -> None:
    expected = json.loads((FIXTURE / "expected.json").read_text(encoding="utf-8"))
    passwords = [token.password for token in decode(expected["tokens"])]
    assert reopened.state_dir is not None
    reopened.close()
    stored = b"".join(p.read_bytes() for p in reopened.state_dir.path.rglob("*") if p.is_file())
    assert not [p for p in passwords if p.encode() in stored]


def test_the_reopened_state_serves_its_images(reopened: Backend) -> None:
    repo = reopened.registries[("123456789012", "us-east-1")].repositories["team/app"]
    assert {"v1", "v2", "latest", "multi", "replicated"} <= set(repo.tags)
    image = repo.images[repo.tags["v1"]]
    body = reopened.registries[("123456789012", "us-east-1")].blobs[image.parsed.layers[0].digest]
    assert body.size == len(b"layer one" * 100)
    assert repo.lifecycle_policy_text is not None
    assert repo.policy_text is not None


def test_the_fixture_names_classes_by_their_first_module_paths() -> None:
    """The fixture keeps the names the first layout wrote (what the codec's aliases cover)."""
    text = (FIXTURE / "expected.json").read_text(encoding="utf-8")
    assert '"ecr_mock.core.models:Principal"' in text
    assert '"ecr_mock.core.models:Image"' in text


def _type_names(data: object) -> set[str]:
    if isinstance(data, list):
        return {name for item in data for name in _type_names(item)}
    if isinstance(data, dict):
        own = {data["$dc"]} if isinstance(data.get("$dc"), str) else set()
        return own | {name for value in data.values() for name in _type_names(value)}
    return set()


def test_the_state_is_written_under_stable_type_names(reopened: Backend) -> None:
    """Saved again, every class is stored under its stable name, never its module path."""
    reopened.save()
    names = _type_names(full_state(reopened))
    with sqlite3.connect(reopened.state_dir.path / "state.db") as db:  # type: ignore[union-attr]
        for (doc,) in db.execute("SELECT doc FROM rows"):
            names |= _type_names(json.loads(doc))
    assert names, "the state holds dataclasses"
    assert names <= set(PERSISTED_TYPES), names - set(PERSISTED_TYPES)


def test_every_earlier_type_name_resolves_to_a_persisted_class() -> None:
    for old, stable in ALIASES.items():
        assert resolve_class(old) is PERSISTED_TYPES[stable]
        assert old.rpartition(":")[2] == PERSISTED_TYPES[stable].__qualname__


@pytest.mark.parametrize("name", sorted(PERSISTED_TYPES))
def test_a_persisted_class_round_trips_under_its_stable_name(name: str) -> None:
    cls = PERSISTED_TYPES[name]
    assert type_name(cls) == name
    assert resolve_class(name) is cls
