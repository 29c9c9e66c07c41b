"""The state is typed: models keep every piece of state in a declared field, none in a bag."""

from __future__ import annotations

import dataclasses

import pytest

from ecr_mock.domain.models import Image, Registry, Repository
from ecr_mock.services.backend import Backend
from ecr_mock.store.state import Store


@pytest.mark.parametrize("model", [Image, Repository, Registry])
def test_models_declare_their_fields_and_take_no_others(model: type) -> None:
    names = {f.name for f in dataclasses.fields(model)}
    assert "extra" not in names
    assert "__dict__" not in dir(model)  # slots: an undeclared attribute cannot be set


def test_an_undeclared_attribute_is_refused_on_an_image() -> None:
    backend = Backend()
    reg = backend.registry()
    repo = backend.create_repository(reg, "app")
    image = backend.put_image(
        reg,
        repo,
        b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}',
    )
    with pytest.raises(AttributeError):
        image.scan_state = {}  # type: ignore[attr-defined]
    assert image.pullable()


def test_the_store_has_no_string_keyed_bag() -> None:
    assert not hasattr(Store(), "extra")
    assert not hasattr(Backend(), "extra")
