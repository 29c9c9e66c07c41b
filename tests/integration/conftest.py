"""Fixtures for real clients: the plugin's live server and backend as ``live``, an OCI layout."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import boto3
import pytest

from ecr_mock import Backend
from tests.integration.oci_layout import Layout
from tests.support.live import Live


@pytest.fixture
def live(ecr_backend: Backend, ecr_server: Any) -> Live:
    """The plugin's backend served by the session's live server, a boto3 client over HTTP."""
    client = boto3.client("ecr", region_name="us-east-1", endpoint_url=ecr_server.url)
    data = client.get_authorization_token()["authorizationData"][0]
    password = base64.b64decode(data["authorizationToken"]).decode().split(":", 1)[1]
    return Live(ecr_backend, ecr_server.endpoint, ecr_server.url, client, password)


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    """An empty OCI image layout in a temporary folder."""
    return Layout(tmp_path / "layout")
