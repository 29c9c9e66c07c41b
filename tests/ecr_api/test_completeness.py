"""Every operation of botocore's ECR model is served: none answers UnknownOperationException."""

from __future__ import annotations

import datetime
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError
from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

SERVICE_MODEL = botocore.session.get_session().get_service_model("ecr")
OPERATIONS = sorted(SERVICE_MODEL.operation_names)

# Values for members whose model pattern a generic string would not satisfy.
KNOWN_VALUES: dict[str, Any] = {
    "repositoryName": "completeness/repo",
    "registryId": "123456789012",
    "resourceArn": "arn:aws:ecr:us-east-1:123456789012:repository/completeness/repo",
    "principalArn": "arn:aws:iam::123456789012:role/completeness",
    "uploadId": "00000000-0000-0000-0000-000000000000",
    "replicationBackfillId": "00000000-0000-0000-0000-000000000000",
    "imageDigest": "sha256:" + "0" * 64,
    "layerDigest": "sha256:" + "0" * 64,
    "imageManifest": '{"schemaVersion": 2}',
    "policyText": '{"Version": "2012-10-17", "Statement": []}',
    "lifecyclePolicyText": '{"rules": []}'.ljust(100),
    "ecrRepositoryPrefix": "completeness",
    "upstreamRegistryUrl": "quay.io",
    "prefix": "completeness",
    "name": "BASIC_SCAN_TYPE_VERSION",
    "value": "AWS_NATIVE",
    "imageTag": "v1",
}


def minimal(shape: Shape, name: str = "") -> Any:
    """The smallest value boto3 accepts for ``shape``: required members only."""
    if name in KNOWN_VALUES:
        return KNOWN_VALUES[name]
    if isinstance(shape, StructureShape):
        return {member: minimal(shape.members[member], member) for member in shape.required_members}
    if isinstance(shape, ListShape):
        count = max(shape.metadata.get("min", 1), 1)
        return [minimal(shape.member, name) for _ in range(count)]
    if isinstance(shape, MapShape):
        return {}
    enum = getattr(shape, "enum", None)
    if enum:
        return enum[0]
    kind = shape.type_name
    if kind == "string":
        return "x" * max(shape.metadata.get("min", 1), 1)
    if kind in ("integer", "long"):
        return max(shape.metadata.get("min", 1), 1)
    if kind == "boolean":
        return False
    if kind == "blob":
        return b"x"
    if kind == "timestamp":
        return datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    if kind in ("float", "double"):
        return 1.0
    raise AssertionError(f"no minimal value for shape type {kind}")


def minimal_params(operation: OperationModel) -> dict[str, Any]:
    shape = operation.input_shape
    return minimal(shape) if shape is not None else {}


def test_the_model_has_the_58_operations_the_issue_names() -> None:
    assert len(OPERATIONS) >= 58


@pytest.mark.parametrize("name", OPERATIONS)
def test_operation_is_served(ecr_client: Any, name: str) -> None:
    operation = SERVICE_MODEL.operation_model(name)
    method = getattr(ecr_client, botocore.xform_name(name))
    try:
        method(**minimal_params(operation))
    except ClientError as error:
        code = error.response["Error"]["Code"]
        assert code != "UnknownOperationException", f"{name} is not served"
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] < 500, error.response
