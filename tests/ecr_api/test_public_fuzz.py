"""Fuzzing the ECR Public API: bad input gets a 4xx ``__type`` error and leaves state alone."""

from __future__ import annotations

import json
import os
from typing import Any

import botocore.session
import pytest
from botocore.model import ListShape, MapShape, Shape, StructureShape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecr_mock.protocols.ecr_api.dispatch import PUBLIC_TARGET_PREFIX, handle
from ecr_mock.services import public as svc
from ecr_mock.services.backend import Backend

EXAMPLES = int(os.environ.get("ECR_MOCK_FUZZ_EXAMPLES", "25"))
"""Examples per operation; raise it for a deeper run."""
MODEL = botocore.session.get_session().get_service_model("ecr-public")
OPERATIONS = sorted(MODEL.operation_names)
HEADERS = {
    "Authorization": (
        "AWS4-HMAC-SHA256 Credential=AKIDFUZZ/20240101/us-east-1/ecr-public/aws4_request, "
        "SignedHeaders=host, Signature=0"
    )
}
GENERIC = {
    "AccessDeniedException",
    "SerializationException",
    "UnrecognizedClientException",
    "ValidationException",
}
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=20),
)
KNOWN = {
    "repositoryName": st.sampled_from(["app", "team/app", "nope", "A", ""]),
    "registryId": st.sampled_from(["123456789012", svc.default_alias("123456789012"), "x"]),
    "resourceArn": st.sampled_from(
        [
            "arn:aws:ecr-public::123456789012:repository/app",
            "arn:aws:ecr:us-east-1:123456789012:repository/app",
            "arn",
        ]
    ),
    "logoImageBlob": st.sampled_from(["iVBORw0KGgo=", "not base64!", ""]),
    "layerPartBlob": st.sampled_from(["aGVsbG8=", "%%%", ""]),
}


def value_for(shape: Shape, name: str, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values of the shape's type (often valid, sometimes not) or any JSON scalar."""
    if name in KNOWN:
        return st.one_of(KNOWN[name], JSON_SCALARS)
    if depth > 3:
        return JSON_SCALARS
    if isinstance(shape, StructureShape):
        members = {key: value_for(member, key, depth + 1) for key, member in shape.members.items()}
        return st.one_of(st.fixed_dictionaries({}, optional=members), JSON_SCALARS)
    if isinstance(shape, ListShape):
        return st.one_of(
            st.lists(value_for(shape.member, name, depth + 1), max_size=4), JSON_SCALARS
        )
    if isinstance(shape, MapShape):
        return st.dictionaries(st.text(max_size=5), JSON_SCALARS, max_size=3)
    kind = shape.type_name
    if kind == "string":
        enum = shape.metadata.get("enum")
        return st.sampled_from(enum) if enum else st.text(max_size=40)
    if kind in ("integer", "long"):
        return st.integers(min_value=-5, max_value=2000)
    if kind == "boolean":
        return st.booleans()
    return JSON_SCALARS


def body_for(operation: str) -> st.SearchStrategy[Any]:
    shape = MODEL.operation_model(operation).input_shape
    if shape is None:
        return st.just({})
    return st.one_of(value_for(shape, ""), st.lists(JSON_SCALARS, max_size=2))


def fresh_backend() -> Backend:
    """A backend with one public repository holding nothing."""
    backend = Backend()
    svc.create_repository(backend, svc.public_registry(backend, "123456789012"), "app")
    return backend


def snapshot(backend: Backend) -> Any:
    reg = svc.public_registry(backend, "123456789012")
    return sorted(
        (key, repo.policy_text, sorted(repo.resource_tags.items()), sorted(repo.images))
        for key, repo in reg.repositories.items()
    )


@pytest.mark.parametrize("operation", OPERATIONS)
def test_random_bodies_get_200_or_a_modelled_4xx_error(operation: str) -> None:
    allowed = {e.name for e in MODEL.operation_model(operation).error_shapes} | GENERIC
    allowed.discard("ServerException")

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(body_for(operation))
    def check(body: Any) -> None:
        backend = fresh_backend()
        before = snapshot(backend)
        status, payload = handle(
            backend, PUBLIC_TARGET_PREFIX + operation, json.dumps(body).encode(), HEADERS
        )
        doc = json.loads(payload)
        if status == 200:
            return
        assert 400 <= status < 500, (status, doc)
        assert doc["__type"] in allowed, (operation, body, doc)
        assert isinstance(doc["message"], str) and doc["message"]
        assert snapshot(backend) == before

    check()
