"""A live server as real clients see it (``Live``) and ``require(binary)``, which skips a test
whose client binary is missing."""

from __future__ import annotations

import base64
import shutil
from dataclasses import dataclass
from typing import Any

import pytest

from ecr_mock import Backend


@dataclass
class Live:
    """A running server, its backend, a boto3 client and a valid registry password."""

    backend: Backend
    endpoint: str
    url: str
    client: Any
    password: str

    @property
    def creds(self) -> str:
        """``AWS:<password>`` for skopeo."""
        return f"AWS:{self.password}"

    def fresh_password(self) -> str:
        """A new token's password from GetAuthorizationToken."""
        data = self.client.get_authorization_token()["authorizationData"][0]
        return base64.b64decode(data["authorizationToken"]).decode().split(":", 1)[1]


def require(binary: str) -> str:
    """The path of ``binary``, or skip the test saying it is missing."""
    path = shutil.which(binary)
    if path is None:
        pytest.skip(f"{binary} is not installed (.ci/run installs it)")
    return path
