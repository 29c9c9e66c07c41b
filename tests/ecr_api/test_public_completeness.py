"""Every operation of botocore's ECR Public model is served: none answers UnknownOperationException."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError

from ecr_mock.protocols.ecr_api.ecr_public.operations import HANDLERS as SERVED
from tests.ecr_api import test_completeness
from tests.ecr_api.test_completeness import minimal

SERVICE_MODEL = botocore.session.get_session().get_service_model("ecr-public")
OPERATIONS = sorted(SERVICE_MODEL.operation_names)

PUBLIC_VALUES = {
    "resourceArn": "arn:aws:ecr-public::123456789012:repository/completeness/repo",
    "registryId": "123456789012",
}


def test_the_model_has_23_operations_and_each_has_a_handler() -> None:
    assert len(OPERATIONS) == 23
    assert sorted(SERVED) == OPERATIONS


@pytest.mark.parametrize("name", OPERATIONS)
def test_operation_is_served(
    ecr_public_client: Any, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        test_completeness, "KNOWN_VALUES", {**test_completeness.KNOWN_VALUES, **PUBLIC_VALUES}
    )
    operation = SERVICE_MODEL.operation_model(name)
    shape = operation.input_shape
    params = minimal(shape) if shape is not None else {}
    method = getattr(ecr_public_client, botocore.xform_name(name))
    try:
        method(**params)
    except ClientError as error:
        code = error.response["Error"]["Code"]
        assert code != "UnknownOperationException", f"{name} is not served"
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] < 500, error.response
        modelled = {shape.name for shape in operation.error_shapes}
        assert code in modelled | {"AccessDeniedException"}, (name, code)
