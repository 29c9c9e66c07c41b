"""Fixtures for the ECR API tests beyond the plugin's: the backend's clock stopped at an instant."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "frozen_at(when): stop the plugin's clock (ecr_clock) at this instant before the test",
    )


@pytest.fixture(autouse=True)
def _frozen_clock(request: pytest.FixtureRequest) -> None:
    """With ``@pytest.mark.frozen_at(when)``: the test's ``ecr_clock`` stands still at ``when``."""
    marker = request.node.get_closest_marker("frozen_at")
    if marker is not None:
        request.getfixturevalue("ecr_clock").freeze(marker.args[0])
