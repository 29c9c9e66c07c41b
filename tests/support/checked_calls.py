"""Calls through a boto3 client whose raw answer is checked against botocore's output shape."""

from __future__ import annotations

import json
from typing import Any

import botocore

from tests.ecr_api.model_check import check_output


class CheckedCalls:
    """Calls operations by model name on ``client`` and keeps which ones answered with success.

    Each successful answer's wire JSON (before botocore parses it) must fit the operation's
    output shape: required members present, types, enums, patterns and lengths right.
    """

    def __init__(self, client: Any, service: str) -> None:
        self.client = client
        self.service = service
        self.succeeded: list[str] = []
        self._bodies: dict[str, bytes] = {}
        client.meta.events.register("after-call", self._keep_body)

    def _keep_body(self, http_response: Any, model: Any, **_: Any) -> None:
        self._bodies[model.name] = http_response.content

    def __call__(self, operation: str, **params: Any) -> dict[str, Any]:
        """Call ``operation`` (e.g. ``"DescribeImages"``), check its answer, return it parsed."""
        self._bodies.pop(operation, None)
        parsed: dict[str, Any] = getattr(self.client, botocore.xform_name(operation))(**params)
        raw = self._bodies[operation]
        problems = check_output(operation, json.loads(raw or b"{}"), self.service)
        assert problems == [], f"{operation} answer breaks the {self.service} model: {problems}"
        self.succeeded.append(operation)
        return parsed
