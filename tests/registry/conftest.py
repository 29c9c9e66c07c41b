"""Fixtures for the registry tests: the plugin's backend spoken to over ``/v2/``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ecr_mock.services.backend import Backend
from tests.support.registry import Registry


@pytest.fixture
def registry(ecr_backend: Backend) -> Iterator[Registry]:
    """The plugin's backend (account 123456789012, us-east-1) spoken to over ``/v2/``."""
    yield Registry(ecr_backend)
