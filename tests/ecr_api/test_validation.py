"""Tests for ecr_mock.protocols.ecr_api.validation: ECR request bodies checked against botocore's model."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import botocore.loaders  # type: ignore[import-untyped]
import botocore.model  # type: ignore[import-untyped]
import botocore.serialize  # type: ignore[import-untyped]
import pytest

from ecr_mock.protocols.ecr_api.validation import ValidationError, validate_input

MODEL: dict[str, Any] = botocore.loaders.Loader().load_service_model("ecr", "service-2")
SHAPES: dict[str, Any] = MODEL["shapes"]
OPERATIONS = sorted(MODEL["operations"])
REPO_ROOT = Path(__file__).resolve().parents[2]

# Valid values for string shapes whose pattern is hard to generate from.
KNOWN_STRINGS = {
    "RegistryId": "123456789012",
    "RepositoryName": "team/my-repo",
    "LayerDigest": "sha256:" + "a" * 64,
    "UploadId": "0f8fad5b-d9cb-469f-a165-70867728950e",
    "ReplicationBackfillId": "0f8fad5b-d9cb-469f-a165-70867728950e",
    "PrincipalArn": "arn:aws:iam::123456789012:role/builder",
    "Prefix": "team/",
    "PullThroughCacheRuleRepositoryPrefix": "ecr-public",
    "Region": "us-east-1",
    "CredentialArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/hub",
    "KmsKeyForRepositoryCreationTemplate": "arn:aws:kms:us-east-1:123456789012:key/abcd-1234",
    "SigningProfileArn": "arn:aws:signer:us-east-1:123456789012:/signing-profiles/MyProfile",
    "RepositoryFilterValue": "team",
    "ScanningRepositoryFilterValue": "team*",
    "SigningRepositoryFilterValue": "team*",
    "ImageTagMutabilityExclusionFilterValue": "release-*",
    "Base64": "c2lnbmF0dXJl",
}


def value_for(shape_name: str, full: bool) -> Any:
    """A valid value for a shape: required members only, or every member when ``full``."""
    shape = SHAPES[shape_name]
    kind = shape["type"]
    if kind == "structure":
        wanted = shape["members"] if full else shape.get("required", [])
        return {name: value_for(shape["members"][name]["shape"], full) for name in wanted}
    if kind == "list":
        count = max(shape.get("min", 0), 1 if full else 0)
        return [value_for(shape["member"]["shape"], full) for _ in range(count)]
    if kind == "map":
        if not full:
            return {}
        return {value_for(shape["key"]["shape"], full): value_for(shape["value"]["shape"], full)}
    if kind == "string":
        if "enum" in shape:
            return shape["enum"][0]
        text = KNOWN_STRINGS.get(shape_name, "x" * max(shape.get("min", 1), 1))
        pattern = shape.get("pattern")
        if pattern is not None and not re.fullmatch(pattern, text):
            raise AssertionError(f"add a value matching {shape_name}'s pattern {pattern!r}")
        return text
    if kind in ("integer", "long"):
        return max(shape.get("min", 1), 1) if "max" not in shape else shape["max"]
    if kind == "boolean":
        return True
    if kind == "double":
        return 1.5
    if kind == "timestamp":
        return 1700000000
    if kind == "blob":
        return "aGVsbG8="
    raise AssertionError(f"no value for {shape_name} of type {kind}")


def rejection(operation: str, params: Any) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        validate_input(operation, params)
    return caught.value


def put_image_body(**changes: Any) -> dict[str, Any]:
    body = {
        "registryId": "123456789012",
        "repositoryName": "team/app",
        "imageManifest": json.dumps({"schemaVersion": 2, "layers": []}),
        "imageManifestMediaType": "application/vnd.oci.image.manifest.v1+json",
        "imageTag": "v1.2.3",
        "imageDigest": "sha256:" + "b" * 64,
    }
    body.update(changes)
    return body


# ----- every operation in the model


@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_operation_accepts_a_minimal_body_of_its_required_members(operation: str) -> None:
    body = value_for(MODEL["operations"][operation]["input"]["shape"], full=False)
    validate_input(operation, body)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_operation_accepts_a_body_with_every_member_set(operation: str) -> None:
    body = value_for(MODEL["operations"][operation]["input"]["shape"], full=True)
    validate_input(operation, body)


def test_a_body_botocore_serialises_passes_unchanged() -> None:
    service = botocore.model.ServiceModel(MODEL, "ecr")
    serializer = botocore.serialize.create_serializer("json", include_validation=False)
    request = serializer.serialize_to_request(
        {
            "repositoryName": "team/app",
            "uploadId": "0f8fad5b-d9cb-469f-a165-70867728950e",
            "partFirstByte": 0,
            "partLastByte": 4,
            "layerPartBlob": b"hello",
        },
        service.operation_model("UploadLayerPart"),
    )
    validate_input("UploadLayerPart", json.loads(request["body"]))


def test_unknown_top_level_members_are_ignored() -> None:
    validate_input("PutImage", put_image_body(somethingNew={"nested": [1, 2]}, other=5))


def test_null_members_count_as_absent() -> None:
    validate_input("PutImage", put_image_body(imageTag=None, registryId=None))


def test_an_empty_body_is_an_empty_object() -> None:
    validate_input("DescribeRepositories", None)


# ----- ECR's InvalidParameterException wording (long-standing operations)


def test_repository_name_with_bad_characters_is_an_invalid_parameter() -> None:
    error = rejection("CreateRepository", {"repositoryName": "abc!"})
    assert error.code == "InvalidParameterException"
    assert error.message == (
        "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy "
        "regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''"
    )


def test_repository_name_too_short_uses_ecr_wording() -> None:
    error = rejection("CreateRepository", {"repositoryName": "a"})
    assert error.code == "InvalidParameterException"
    assert error.message == (
        "Invalid parameter at 'repositoryName' failed to satisfy constraint: "
        "'must have length greater than or equal to 2'"
    )


def test_repository_name_too_long_uses_ecr_wording() -> None:
    error = rejection("CreateRepository", {"repositoryName": "a" * 257})
    assert error.code == "InvalidParameterException"
    assert error.message == (
        "Invalid parameter at 'repositoryName' failed to satisfy constraint: "
        "'must have length less than or equal to 256'"
    )


def test_repository_names_the_model_allows_pass() -> None:
    for name in ("ab", "team/app", "a__b", "a---b", "a.b_c-d/e", "x" * 256):
        validate_input("CreateRepository", {"repositoryName": name})


def test_unknown_tag_mutability_names_the_enum_values() -> None:
    error = rejection(
        "CreateRepository", {"repositoryName": "app", "imageTagMutability": "SOMETIMES"}
    )
    assert error.code == "InvalidParameterException"
    assert error.message == (
        "Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member must "
        "satisfy enum value set: [IMMUTABLE, MUTABLE, MUTABLE_WITH_EXCLUSION, "
        "IMMUTABLE_WITH_EXCLUSION]'"
    )


@pytest.mark.parametrize(
    ("max_results", "constraint"),
    [
        (0, "Member must have value greater than or equal to 1"),
        (1001, "Member must have value less than or equal to 1000"),
    ],
)
def test_describe_images_max_results_out_of_range(max_results: int, constraint: str) -> None:
    error = rejection("DescribeImages", {"repositoryName": "app", "maxResults": max_results})
    assert error.code == "InvalidParameterException"
    assert error.message == (
        f"Invalid parameter at 'maxResults' failed to satisfy constraint: '{constraint}'"
    )


@pytest.mark.parametrize("max_results", [1, 1000])
def test_describe_images_max_results_at_the_limits_passes(max_results: int) -> None:
    validate_input("DescribeImages", {"repositoryName": "app", "maxResults": max_results})


def test_put_image_without_manifest_says_member_must_not_be_null() -> None:
    body = put_image_body()
    del body["imageManifest"]
    error = rejection("PutImage", body)
    assert error.code == "InvalidParameterException"
    assert error.message == (
        "Invalid parameter at 'imageManifest' failed to satisfy constraint: "
        "'Member must not be null'"
    )


def test_batch_get_image_with_more_than_100_image_ids_is_refused() -> None:
    ids = [{"imageTag": f"t{i}"} for i in range(101)]
    error = rejection("BatchGetImage", {"repositoryName": "app", "imageIds": ids})
    assert error.code == "InvalidParameterException"
    assert error.message == (
        "Invalid parameter at 'imageIds' failed to satisfy constraint: "
        "'Member must have length less than or equal to 100'"
    )


def test_batch_delete_image_with_no_image_ids_is_refused() -> None:
    error = rejection("BatchDeleteImage", {"repositoryName": "app", "imageIds": []})
    assert error.message == (
        "Invalid parameter at 'imageIds' failed to satisfy constraint: "
        "'Member must have length greater than or equal to 1'"
    )


def test_nested_member_path_uses_one_based_member_index() -> None:
    ids = [{"imageTag": "ok"}, {"imageTag": "t" * 301}]
    error = rejection("BatchGetImage", {"repositoryName": "app", "imageIds": ids})
    assert error.message == (
        "Invalid parameter at 'imageIds.2.member.imageTag' failed to satisfy constraint: "
        "'Member must have length less than or equal to 300'"
    )


def test_bad_scalar_in_a_list_is_reported_at_the_list() -> None:
    error = rejection("GetAuthorizationToken", {"registryIds": ["123456789012", "12"]})
    assert error.code == "InvalidParameterException"
    assert error.message == (
        "Invalid parameter at 'registryIds' failed to satisfy constraint: 'Member must satisfy "
        "constraint: [Member must satisfy regular expression pattern: [0-9]{12}]'"
    )


def test_pattern_must_match_the_whole_value() -> None:
    error = rejection("DescribeRepositories", {"registryId": "1234567890123"})
    assert error.message == (
        "Invalid parameter at 'registryId' failed to satisfy constraint: "
        "'must satisfy regular expression [0-9]{12}'"
    )


def test_invalid_parameter_reports_only_the_first_violation() -> None:
    error = rejection(
        "CreateRepository", {"repositoryName": "a", "imageTagMutability": "SOMETIMES"}
    )
    assert "repositoryName" in error.message
    assert "imageTagMutability" not in error.message


def test_nested_structure_member_path_is_dotted() -> None:
    body = {"repositoryName": "app", "encryptionConfiguration": {"encryptionType": "ROT13"}}
    error = rejection("CreateRepository", body)
    assert error.message.startswith(
        "Invalid parameter at 'encryptionConfiguration.encryptionType' failed to satisfy "
        "constraint: 'Member must satisfy enum value set: ["
    )


def test_missing_required_member_of_a_nested_structure() -> None:
    body = {"repositoryName": "app", "encryptionConfiguration": {}}
    error = rejection("CreateRepository", body)
    assert error.message == (
        "Invalid parameter at 'encryptionConfiguration.encryptionType' failed to satisfy "
        "constraint: 'Member must not be null'"
    )


def test_layer_part_blob_counts_decoded_bytes() -> None:
    body = {
        "repositoryName": "app",
        "uploadId": "0f8fad5b-d9cb-469f-a165-70867728950e",
        "partFirstByte": 0,
        "partLastByte": 4,
        "layerPartBlob": "aGVsbG8=",
    }
    validate_input("UploadLayerPart", body)
    error = rejection("UploadLayerPart", {**body, "partFirstByte": -1})
    assert error.message == (
        "Invalid parameter at 'partFirstByte' failed to satisfy constraint: "
        "'Member must have value greater than or equal to 0'"
    )


# ----- ECR rules beyond the model


def test_tag_key_longer_than_128_is_an_invalid_tag_parameter() -> None:
    arn = "arn:aws:ecr:us-east-1:123456789012:repository/app"
    error = rejection(
        "TagResource", {"resourceArn": arn, "tags": [{"Key": "k" * 129, "Value": "v"}]}
    )
    assert error.code == "InvalidTagParameterException"
    assert "128" in error.message


def test_tag_value_longer_than_256_is_an_invalid_tag_parameter() -> None:
    body = {"repositoryName": "app", "tags": [{"Key": "team", "Value": "v" * 257}]}
    assert rejection("CreateRepository", body).code == "InvalidTagParameterException"


def test_tags_at_the_limits_pass() -> None:
    arn = "arn:aws:ecr:us-east-1:123456789012:repository/app"
    validate_input(
        "TagResource", {"resourceArn": arn, "tags": [{"Key": "k" * 128, "Value": "v" * 256}]}
    )


def test_tag_without_key_is_a_model_violation() -> None:
    arn = "arn:aws:ecr:us-east-1:123456789012:repository/app"
    error = rejection("TagResource", {"resourceArn": arn, "tags": [{"Value": "v"}]})
    assert error.message == (
        "Invalid parameter at 'tags.1.member.Key' failed to satisfy constraint: "
        "'Member must not be null'"
    )


# ----- ValidationException wording (operations whose model lists ValidationException)


def test_validation_exception_lists_every_violation() -> None:
    error = rejection("CreatePullThroughCacheRule", {})
    assert error.code == "ValidationException"
    assert error.message == (
        "2 validation errors detected: "
        "Value null at 'ecrRepositoryPrefix' failed to satisfy constraint: "
        "Member must not be null; "
        "Value null at 'upstreamRegistryUrl' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_validation_exception_quotes_the_value_and_the_pattern() -> None:
    body = {"ecrRepositoryPrefix": "Bad!", "upstreamRegistryUrl": "public.ecr.aws"}
    error = rejection("CreatePullThroughCacheRule", body)
    pattern = SHAPES["PullThroughCacheRuleRepositoryPrefix"]["pattern"]
    assert error.code == "ValidationException"
    assert error.message == (
        "1 validation error detected: Value 'Bad!' at 'ecrRepositoryPrefix' failed to satisfy "
        f"constraint: Member must satisfy regular expression pattern: {pattern}"
    )


def test_validation_exception_gives_each_broken_constraint_of_one_value() -> None:
    body = {"ecrRepositoryPrefix": "A", "upstreamRegistryUrl": "public.ecr.aws"}
    error = rejection("CreatePullThroughCacheRule", body)
    assert error.message.startswith("2 validation errors detected: ")
    assert "Member must have length greater than or equal to 2; Value 'A'" in error.message


def test_validation_exception_renders_lists_like_aws() -> None:
    body = {"repositoryNames": ["ok", "B"]}
    error = rejection("BatchGetRepositoryScanningConfiguration", body)
    assert error.code == "ValidationException"
    assert error.message.startswith(
        "1 validation error detected: Value '[ok, B]' at 'repositoryNames' failed to satisfy "
        "constraint: Member must satisfy constraint: [Member must have length greater than or "
        "equal to 2, Member must satisfy regular expression pattern: "
    )


def test_validation_exception_for_a_list_too_long() -> None:
    body = {"repositoryNames": [f"repo{i}" for i in range(26)]}
    error = rejection("BatchGetRepositoryScanningConfiguration", body)
    assert error.message.endswith("Member must have length less than or equal to 25")


# ----- wrong JSON types


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"repositoryName": 5}, "NUMBER_VALUE can not be converted to a String"),
        ({"repositoryName": True}, "BOOLEAN_VALUE can not be converted to a String"),
        ({"repositoryName": {"a": 1}}, "Start of structure or map found where not expected."),
        ({"repositoryName": ["app"]}, "Start of list found where not expected."),
        (
            {"repositoryName": "app", "tags": {"k": "v"}},
            "Start of structure or map found where not expected.",
        ),
        (
            {"repositoryName": "app", "imageScanningConfiguration": {"scanOnPush": "yes"}},
            "STRING_VALUE can not be converted to a Boolean",
        ),
    ],
)
def test_wrong_json_types_are_serialization_exceptions(body: dict[str, Any], message: str) -> None:
    error = rejection("CreateRepository", body)
    assert error.code == "SerializationException"
    assert error.message == message


def test_wrong_integer_types_are_serialization_exceptions() -> None:
    error = rejection("DescribeImages", {"repositoryName": "app", "maxResults": "10"})
    assert (error.code, error.message) == (
        "SerializationException",
        "STRING_VALUE can not be converted to an Integer",
    )
    error = rejection("DescribeImages", {"repositoryName": "app", "maxResults": 2**40})
    assert error.code == "SerializationException"


def test_a_type_error_wins_over_constraint_violations_found_before_it() -> None:
    error = rejection("CreateRepository", {"repositoryName": "a", "imageTagMutability": 3})
    assert error.code == "SerializationException"


@pytest.mark.parametrize("body", [[], "text", 5])
def test_a_body_that_is_not_an_object_is_a_serialization_exception(body: Any) -> None:
    assert rejection("DescribeRepositories", body).code == "SerializationException"


def test_blob_must_be_a_string() -> None:
    body = {
        "repositoryName": "app",
        "uploadId": "0f8fad5b-d9cb-469f-a165-70867728950e",
        "partFirstByte": 0,
        "partLastByte": 4,
        "layerPartBlob": [1, 2, 3],
    }
    assert rejection("UploadLayerPart", body).code == "SerializationException"


def test_unknown_operation_is_refused() -> None:
    error = rejection("MakeCoffee", {})
    assert error.code == "UnknownOperationException"


def test_validation_error_carries_code_and_message() -> None:
    error = ValidationError("ValidationException", "1 validation error detected: x")
    assert (error.code, error.message, str(error)) == (
        "ValidationException",
        "1 validation error detected: x",
        "1 validation error detected: x",
    )


def test_repeated_calls_give_the_same_answer() -> None:
    for _ in range(3):
        validate_input("PutImage", put_image_body())
        assert rejection("PutImage", put_image_body(imageTag="")).code == (
            "InvalidParameterException"
        )


def test_validation_works_in_a_fresh_process() -> None:
    script = (
        "from ecr_mock.protocols.ecr_api.validation import validate_input, ValidationError\n"
        "validate_input('PutImage', {'repositoryName': 'app', 'imageManifest': '{}'})\n"
        "try:\n"
        "    validate_input('DescribeImages', {'repositoryName': 'app', 'maxResults': 0})\n"
        "except ValidationError as e:\n"
        "    print(e.code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["InvalidParameterException"]
