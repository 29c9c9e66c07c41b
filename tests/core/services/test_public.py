"""The ECR Public service: tag listings."""

from __future__ import annotations

from ecr_mock.core.services import Store, public


def test_tagged_images_of_an_empty_repository() -> None:
    store = Store()
    reg = public.public_registry(store, "123456789012")
    repo = public.create_repository(store, reg, "app")
    assert public.tagged_images(store, repo) == []
