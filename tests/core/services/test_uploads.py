"""The uploads service: the per-digest answers of BatchCheckLayerAvailability."""

from __future__ import annotations

import pytest

from ecr_mock.core.errors import ItemFailure
from ecr_mock.core.services import Store, repositories, uploads


def test_check_layer_failure_codes() -> None:
    store = Store()
    reg = store.registry()
    repo = repositories.create_repository(store, reg, "app")
    for digest, code in (
        ("", "MissingLayerDigest"),
        ("sha256:xyz", "InvalidLayerDigest"),
        ("sha256:" + "0" * 64, "MissingLayerDigest"),
    ):
        with pytest.raises(ItemFailure) as caught:
            uploads.check_layer(store, reg, repo, digest)
        assert caught.value.failure_code == code
