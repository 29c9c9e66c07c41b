"""Fuzzing the ECR JSON 1.1 API: bad input gets a 4xx ``__type`` error and leaves state alone."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from functools import cache
from typing import Any

import botocore.session
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ecr_mock.protocols.ecr_api.ecr  # noqa: F401  (registers the handlers)
from ecr_mock.domain.models import Registry
from ecr_mock.protocols.ecr_api.dispatch import TARGET_PREFIX, handle
from ecr_mock.services.backend import Backend

EXAMPLES = int(os.environ.get("ECR_MOCK_FUZZ_EXAMPLES", "40"))
"""Examples per operation; raise it for a deeper run."""
ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
REGION = "us-east-1"
HEADERS = {
    "Content-Type": "application/x-amz-json-1.1",
    "Authorization": (
        "AWS4-HMAC-SHA256 Credential=AKIDFUZZ/20240101/us-east-1/ecr/aws4_request, "
        "SignedHeaders=host, Signature=0"
    ),
}

MODEL = botocore.session.get_session().get_service_model("ecr")
OPERATION_NAMES = sorted(MODEL.operation_names)

GENERIC_CODES = {
    "AccessDeniedException",
    "ExpiredTokenException",
    "SerializationException",
    "UnknownOperationException",
    "UnrecognizedClientException",
    "ValidationException",
}
ALLOWED_CODES = (
    {shape.name for op in OPERATION_NAMES for shape in MODEL.operation_model(op).error_shapes}
    | GENERIC_CODES
) - {"ServerException"}


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def token(doc: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode()


# ----- the pre-populated backend --------------------------------------------------------------

CONFIG = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
LAYERS = [b"layer-one" * 10, b"layer-two" * 20]
REPOSITORY_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "pull",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
                "Action": ["ecr:BatchGetImage"],
            }
        ],
    }
)
LIFECYCLE_POLICY = json.dumps(
    {
        "rules": [
            {
                "rulePriority": 1,
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": 30,
                },
                "action": {"type": "expire"},
            }
        ]
    }
)


def _call(backend: Backend, operation: str, body: dict[str, Any]) -> dict[str, Any]:
    status, payload = handle(backend, TARGET_PREFIX + operation, json.dumps(body).encode(), HEADERS)
    result: dict[str, Any] = json.loads(payload)
    if status != 200:
        raise RuntimeError(f"setup call {operation} failed: {result}")
    return result


def _upload(backend: Backend, repository: str, data: bytes) -> str:
    upload_id = _call(backend, "InitiateLayerUpload", {"repositoryName": repository})["uploadId"]
    _call(
        backend,
        "UploadLayerPart",
        {
            "repositoryName": repository,
            "uploadId": upload_id,
            "partFirstByte": 0,
            "partLastByte": len(data) - 1,
            "layerPartBlob": b64(data),
        },
    )
    digest = sha256(data)
    _call(
        backend,
        "CompleteLayerUpload",
        {"repositoryName": repository, "uploadId": upload_id, "layerDigests": [digest]},
    )
    return digest


def _manifest(layers: list[bytes]) -> str:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": len(CONFIG),
                "digest": sha256(CONFIG),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": len(layer),
                    "digest": sha256(layer),
                }
                for layer in layers
            ],
        }
    )


MANIFEST_A = _manifest(LAYERS)
MANIFEST_B = _manifest(LAYERS[:1])
DIGEST_A = sha256(MANIFEST_A.encode())
DIGEST_B = sha256(MANIFEST_B.encode())
INDEX = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
        "manifests": [
            {
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "size": len(MANIFEST_A),
                "digest": DIGEST_A,
                "platform": {"architecture": "amd64", "os": "linux"},
            }
        ],
    }
)
DIGEST_INDEX = sha256(INDEX.encode())


def populated_backend() -> Backend:
    """Two repositories, two images and an index, tags, policies and an upload in progress."""
    backend = Backend(ACCOUNT, REGION)
    _call(
        backend,
        "CreateRepository",
        {"repositoryName": "app", "tags": [{"Key": "team", "Value": "core"}]},
    )
    _call(
        backend,
        "CreateRepository",
        {"repositoryName": "team/locked", "imageTagMutability": "IMMUTABLE"},
    )
    for repository in ("app", "team/locked"):
        for data in [CONFIG, *LAYERS]:
            _upload(backend, repository, data)
        _call(
            backend,
            "PutImage",
            {"repositoryName": repository, "imageManifest": MANIFEST_A, "imageTag": "v1"},
        )
        _call(
            backend,
            "PutImage",
            {"repositoryName": repository, "imageManifest": MANIFEST_B, "imageTag": "v2"},
        )
    _call(
        backend, "PutImage", {"repositoryName": "app", "imageManifest": INDEX, "imageTag": "multi"}
    )
    _call(
        backend, "SetRepositoryPolicy", {"repositoryName": "app", "policyText": REPOSITORY_POLICY}
    )
    _call(
        backend,
        "PutLifecyclePolicy",
        {"repositoryName": "app", "lifecyclePolicyText": LIFECYCLE_POLICY},
    )
    _call(backend, "InitiateLayerUpload", {"repositoryName": "app"})
    return backend


def _registry_state(reg: Registry) -> Any:
    repositories = {
        name: (
            repo.tag_mutability,
            repr(repo.mutability_exclusions),
            repo.scan_on_push,
            repr(repo.encryption),
            repr(sorted(repo.resource_tags.items())),
            repo.policy_text,
            repo.lifecycle_policy_text,
            {
                digest: (
                    image.manifest,
                    image.media_type,
                    sorted(image.tags),
                    image.status,
                    image.storage_class,
                )
                for digest, image in repo.images.items()
            },
            dict(repo.tags),
            sorted(repo.blobs),
            repr(sorted((k, sorted(v)) for k, v in repo.referrers.items())),
        )
        for name, repo in reg.repositories.items()
    }
    blobs = {digest: (blob.size, sha256(blob.read())) for digest, blob in reg.blobs.items()}
    uploads = {upload_id: session.size for upload_id, session in reg.uploads.items()}
    return (
        repositories,
        blobs,
        uploads,
        reg.policy_text,
        repr(reg.replication_rules),
        repr(reg.scanning_configuration),
        dict(reg.settings),
        repr(reg.signing_configuration),
        dict(reg.pull_time_update_exclusions),
        repr(sorted(reg.pull_through_rules)),
        repr(sorted(reg.creation_templates)),
        repr(sorted(reg.replication_backfills)),
        repr(reg.scan_findings),
    )


def snapshot(backend: Backend) -> Any:
    """Everything stored, in comparable form (registries that hold nothing are left out)."""
    return {
        key: _registry_state(reg)
        for key, reg in backend.registries.items()
        if reg.repositories
        or reg.blobs
        or reg.policy_text
        or reg.settings
        or reg.pull_through_rules
        or reg.creation_templates
        or reg.replication_backfills
        or reg.scan_findings
    }


# ----- strategies ---------------------------------------------------------------------------

JUNK_STRINGS = [
    "",
    " ",
    "a",
    "x" * 300,
    "x" * 70_000,
    "\u00fc\u00df\u4e2d\U0001f600",
    "\x00",
    "..",
    "../../etc/passwd",
    "%2F",
    "a/../b",
    "null",
    "-1",
    "1e400",
    "NaN",
    "true",
    "{}",
    "[]",
    '{"a":',
    "*",
]
REPOSITORY_NAMES = [
    "app",
    "team/locked",
    "missing",
    "App",
    "a",
    "a" * 257,
    "team//locked",
    "team/",
    "/app",
    "app/",
    "ab__cd",
    "ab---cd",
    "app\u00fc",
]
DIGESTS = [
    DIGEST_A,
    DIGEST_B,
    DIGEST_INDEX,
    sha256(CONFIG),
    sha256(LAYERS[0]),
    "sha256:" + "0" * 64,
    "sha256:zz",
    "sha256:" + "A" * 64,
    "sha256:",
    "sha512:" + "0" * 128,
    "md5:d41d8cd98f00b204e9800998ecf8427e",
    "sha256:" + "0" * 65,
    DIGEST_A.upper(),
    "sha256",
    ":",
]
TAGS = ["v1", "v2", "multi", "latest", "", "x" * 301, "bad tag", "t\u00fc", "*", "a:b"]
ACCOUNTS = [ACCOUNT, OTHER_ACCOUNT, "12345678901", "1234567890123", "abcdefghijkl", "000000000000"]
ARNS = [
    f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/app",
    f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/team/locked",
    f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/missing",
    f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/app",
    f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/",
    f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/App",
    f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/../app",
    f"arn:aws:iam::{ACCOUNT}:root",
    f"arn:aws:iam::{ACCOUNT}:user/dev",
    f"arn:aws:iam::{ACCOUNT}:role/x/y",
    "arn:aws:ecr",
    "arn:::::",
    "arn:aws:kms:us-east-1:123456789012:key/abc",
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/x",
]
NEXT_TOKENS = [
    "abc",
    "!!!",
    "====",
    token({"o": -1}),
    token({"o": 10**30}),
    token({"o": 2**63}),
    token({"o": 1.5}),
    token({"o": "1"}),
    token({"o": True}),
    token({"o": None}),
    token([]),
    token("o"),
    token({"o": 1}),
    token({"o": 10**6}),
    b64(b"\xff\xfe"),
]
POLICIES = [
    REPOSITORY_POLICY,
    LIFECYCLE_POLICY,
    "{}",
    "[]",
    "null",
    "1",
    '"x"',
    "not json",
    "{" * 2000 + "}" * 2000,
    "[" * 5000 + "]" * 5000,
    json.dumps({"Version": "2012-10-17", "Statement": "x"}),
    json.dumps({"Version": "2012-10-17", "Statement": [None, 1, "x", []]}),
    json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow"}]}),
    json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Deny", "Principal": "*", "Action": "ecr:*", "Resource": ["*"]}
            ],
        }
    ),
    json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": [1, None]},
                    "Action": [[]],
                    "Condition": {"StringLike": {"aws:x": [None]}, "Bogus": "x"},
                }
            ],
        }
    ),
    json.dumps({"rules": [{"rulePriority": -1}]}),
    json.dumps({"rules": "x"}),
    json.dumps({"rules": [None]}),
    json.dumps({"rules": [{"rulePriority": 10**30, "selection": {}, "action": {}}]}),
    json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "selection": {
                        "tagStatus": "tagged",
                        "tagPrefixList": [None, 1],
                        "countType": "imageCountMoreThan",
                        "countNumber": 10**30,
                    },
                    "action": {"type": "expire"},
                }
            ]
        }
    ),
    json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "selection": {
                        "tagStatus": "any",
                        "countType": "sinceImagePushed",
                        "countUnit": "days",
                        "countNumber": -5,
                    },
                    "action": {"type": "transition", "targetStorageClass": "ARCHIVE"},
                }
            ]
        }
    ),
]
MANIFESTS = [
    MANIFEST_A,
    MANIFEST_B,
    INDEX,
    "",
    "{}",
    "[]",
    "null",
    "not json",
    "[" * 5000 + "]" * 5000,
    json.dumps({"schemaVersion": 2, "config": None, "layers": "x"}),
    json.dumps({"schemaVersion": 2, "manifests": [{"digest": 1}]}),
    json.dumps({"schemaVersion": 1, "fsLayers": [{"blobSum": None}, 1, "x"]}),
    json.dumps({"schemaVersion": 1, "fsLayers": "x"}),
    json.dumps({"schemaVersion": 1, "fsLayers": None}),
    json.dumps({"schemaVersion": 2, "mediaType": ["x"], "config": {}}),
    json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": 5, "digest": sha256(CONFIG), "size": len(CONFIG)},
            "layers": [],
            "subject": {"mediaType": "x", "digest": DIGEST_A, "size": 10**30},
            "annotations": {"a": [1]},
        }
    ),
    json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{"mediaType": "x", "digest": DIGEST_A, "size": 1, "platform": "x"}],
        }
    ),
    MANIFEST_A.replace('"schemaVersion": 2', '"schemaVersion": 2.0'),
    MANIFEST_A.replace('"schemaVersion": 2', '"schemaVersion": true'),
    MANIFEST_A + " " * 10,
    "\ufeff" + MANIFEST_A,
    "x" * (4 * 1024 * 1024 + 10),
]
MEDIA_TYPES = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/json",
    "text/plain; charset=utf-8",
    "application/vnd.oci.image.manifest.v1+json; x=y",
    "",
]
BLOBS = [
    b64(b""),
    b64(b"x"),
    b64(LAYERS[0]),
    b64(b"\x00" * 1000),
    "not base64!",
    "YQ",
    "=",
    "\u00fc",
]
TIMESTAMPS: list[Any] = [0, -1, 1e308, -1e308, 2**63, 1.5, "2024-01-01T00:00:00Z", "yesterday", ""]
INTEGERS: list[Any] = [0, 1, -1, 2, 99, 100, 1000, 1001, 2**31, 2**31 - 1, -(2**31), 2**63, 10**30]

UPSTREAM_URLS = [
    "registry-1.docker.io",
    "public.ecr.aws",
    "ghcr.io",
    "quay.io",
    f"{OTHER_ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com",
    "myregistry.azurecr.io",
    "localhost:5000",
    "http://127.0.0.1:1",
    "[]",
    "[::1",
    "[::1]:5000",
    "host:abc",
    "host:99999",
    "ftp://x.y",
    "http://",
    "a]b",
]
KEYWORD_POOLS: list[tuple[tuple[str, ...], list[Any]]] = [
    (("nexttoken",), NEXT_TOKENS),
    (("upstreamregistryurl", "url"), UPSTREAM_URLS),
    (("repositoryname", "repository", "prefix", "ecrrepository"), REPOSITORY_NAMES),
    (("digest",), DIGESTS),
    (("imagetag", "tag"), TAGS),
    (("registryid", "account", "registry"), ACCOUNTS),
    (("arn", "principal", "credential", "role"), ARNS),
    (("policytext", "policy", "text"), POLICIES),
    (("manifest",), MANIFESTS),
    (("mediatype",), MEDIA_TYPES),
    (("uploadid",), ["00000000-0000-0000-0000-000000000000", "x", ""]),
]


def junk(depth: int = 2) -> st.SearchStrategy[Any]:
    """Any JSON value (nested up to ``depth``), with some hostile scalars."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.sampled_from(INTEGERS),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20),
        st.sampled_from(JUNK_STRINGS),
    )
    if depth <= 0:
        return scalars
    inner = junk(depth - 1)
    return st.one_of(
        scalars,
        st.lists(inner, max_size=3),
        st.dictionaries(st.text(max_size=8), inner, max_size=3),
    )


def _pool_for(member: str) -> list[Any] | None:
    lowered = member.lower()
    for keywords, pool in KEYWORD_POOLS:
        if any(word in lowered for word in keywords):
            return pool
    return None


def _pattern(shape: Any) -> st.SearchStrategy[str] | None:
    pattern = shape.metadata.get("pattern")
    if not pattern:
        return None
    low = shape.metadata.get("min", 0)
    high = shape.metadata.get("max", 300)
    try:
        return st.from_regex(pattern, fullmatch=True).filter(lambda v: low <= len(v) <= high)
    except Exception:  # a Java-only regex construct: the pools and junk strings still apply
        return None


def _scalar(shape: Any, member: str) -> st.SearchStrategy[Any]:
    kind = shape.type_name
    if kind == "string":
        options: list[st.SearchStrategy[Any]] = []
        pool = _pool_for(member)
        if pool is not None:
            options += [st.sampled_from(pool)] * 4
        if shape.enum:
            options += [st.sampled_from(list(shape.enum))] * 4
        matching = _pattern(shape)
        if matching is not None:
            options += [matching] * 2
        options += [st.sampled_from(JUNK_STRINGS), st.text(max_size=30)]
        return st.one_of(options)
    if kind in ("integer", "long"):
        low = shape.metadata.get("min", -(2**31))
        high = shape.metadata.get("max", 2**31)
        return st.one_of(
            st.integers(low, high), st.integers(low, high), st.sampled_from(INTEGERS), st.integers()
        )
    if kind in ("float", "double"):
        return st.one_of(st.floats(allow_nan=False), st.sampled_from(INTEGERS))
    if kind == "boolean":
        return st.booleans()
    if kind == "blob":
        return st.sampled_from(BLOBS)
    if kind == "timestamp":
        return st.sampled_from(TIMESTAMPS)
    return junk(1)


def value_for(
    shape: Any, member: str, depth: int = 0, typed: bool = True
) -> st.SearchStrategy[Any]:
    """A value for a model shape with hostile contents; ``typed=False`` mixes in junk types."""
    kind = shape.type_name
    if depth > 5:
        return junk(0)
    if kind == "structure":
        right: st.SearchStrategy[Any] = structure_for(shape, depth + 1, typed)
    elif kind == "list":
        low = shape.metadata.get("min", 0)
        right = st.lists(
            value_for(shape.member, member, depth + 1, typed),
            min_size=min(low, 3) if typed else 0,
            max_size=max(min(low, 3), 3),
        )
    elif kind == "map":
        right = st.dictionaries(
            value_for(shape.key, member, depth + 1, typed),
            value_for(shape.value, member, depth + 1, typed),
            max_size=3,
        )
    else:
        right = _scalar(shape, member)
    if typed:
        return right
    return st.one_of(right, right, junk(1))


def structure_for(
    shape: Any, depth: int = 0, typed: bool = True
) -> st.SearchStrategy[dict[str, Any]]:
    """A dict of the structure's members (typed: every required one) from :func:`value_for`."""
    members = dict(shape.members)
    if not members:
        return st.fixed_dictionaries({}, optional={"x": junk(1)})
    required = set(shape.required_members) if typed else set()
    return st.fixed_dictionaries(
        {name: value_for(members[name], name, depth, typed) for name in required},
        optional={
            name: value_for(member, name, depth, typed)
            for name, member in members.items()
            if name not in required
        },
    )


@cache
def body_strategy(operation: str) -> st.SearchStrategy[bytes]:
    """Request bodies for ``operation``: model-shaped, non-object, invalid JSON, deep nesting."""
    input_shape = MODEL.operation_model(operation).input_shape
    typed = (structure_for(input_shape) if input_shape is not None else st.just({})).map(
        lambda doc: json.dumps(doc).encode()
    )
    loose = (
        structure_for(input_shape, typed=False) if input_shape is not None else st.just({})
    ).map(lambda doc: json.dumps(doc).encode())
    other = st.one_of(
        junk(2).map(lambda doc: json.dumps(doc).encode()),
        st.binary(max_size=40),
        st.sampled_from(
            [
                b"",
                b"{",
                b"\xff\xfe{}",
                b"{'a': 1}",
                b"[" * 100_000 + b"]" * 100_000,
                b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
                b'{"repositoryName": "app"' + b", " * 10 + b"}",
                b'{"repositoryName": NaN}',
                b'{"maxResults": 1e999}',
                b'{"maxResults": -0}',
                b'{"repositoryName": "app", "repositoryName": 5}',
                b'{"repositoryName": "\\ud800"}',
            ]
        ),
    )
    # one_of flattens nested one_ofs, so weight the kinds of body explicitly
    return st.integers(0, 9).flatmap(lambda k: typed if k < 7 else loose if k < 9 else other)


# ----- the tests ---------------------------------------------------------------------------


def check_answer(operation: str, status: int, payload: bytes) -> Any:
    assert status == 200 or 400 <= status < 500, (operation, status, payload[:500])
    doc = json.loads(payload)
    assert isinstance(doc, dict)
    if status != 200:
        assert isinstance(doc.get("__type"), str), doc
        assert doc["__type"] in ALLOWED_CODES, doc
        assert isinstance(doc.get("message"), str), doc
        assert "Traceback" not in doc["message"]
    return doc


@pytest.mark.parametrize("operation", OPERATION_NAMES)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
@given(data=st.data())
def test_random_bodies_get_200_or_a_4xx_error_and_failures_change_nothing(
    operation: str, data: st.DataObject
) -> None:
    body = data.draw(body_strategy(operation), label="body")
    backend = populated_backend()
    before = snapshot(backend)
    status, payload = handle(backend, TARGET_PREFIX + operation, body, HEADERS)
    check_answer(operation, status, payload)
    if status != 200:
        assert snapshot(backend) == before


@pytest.mark.parametrize(
    "target",
    ["", "AmazonEC2ContainerRegistry_V20150921.", TARGET_PREFIX + "Nope", "x" * 10_000, "\u00fc"],
)
def test_unknown_targets_get_unknown_operation(target: str) -> None:
    status, payload = handle(populated_backend(), target, b"{}", HEADERS)
    assert status == 400
    assert json.loads(payload)["__type"] == "UnknownOperationException"


@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000],
    ids=["deep-list", "deep-object"],
)
def test_deeply_nested_json_is_a_serialization_error(body: bytes) -> None:
    status, payload = handle(populated_backend(), TARGET_PREFIX + "DescribeRepositories", body, {})
    assert status == 400
    assert json.loads(payload)["__type"] == "SerializationException"


@pytest.mark.parametrize("next_token", NEXT_TOKENS[:12], ids=range(12))
@pytest.mark.parametrize("operation", ["DescribeRepositories", "DescribeImages", "ListImages"])
def test_bad_next_tokens_are_invalid_parameter(operation: str, next_token: str) -> None:
    backend = populated_backend()
    body: dict[str, Any] = {"nextToken": next_token}
    if operation != "DescribeRepositories":
        body["repositoryName"] = "app"
    status, payload = handle(backend, TARGET_PREFIX + operation, json.dumps(body).encode(), {})
    doc = check_answer(operation, status, payload)
    if status != 200:
        assert doc["__type"] == "InvalidParameterException"


@pytest.mark.parametrize("header", ["", "Credential=", "Credential=AK/2024/us/ecr/aws4_request"])
def test_odd_authorization_headers_still_get_a_service_answer(header: str) -> None:
    status, payload = handle(
        populated_backend(),
        TARGET_PREFIX + "DescribeRepositories",
        b"{}",
        {"Authorization": header},
    )
    check_answer("DescribeRepositories", status, payload)


# ----- patterns that used to backtrack for hours -----------------------------------------------

MANY_STARS = "*a*a*a*a*a*a*a*a*a*b"
LONG_NAME = "a" * 250


def _ok(backend: Backend, operation: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    status, payload = handle(backend, TARGET_PREFIX + operation, json.dumps(body).encode(), HEADERS)
    doc = check_answer(operation, status, payload)
    return status, doc


def test_a_near_miss_scanning_filter_is_refused_at_once() -> None:
    rules = [
        {
            "scanFrequency": "SCAN_ON_PUSH",
            "repositoryFilters": [{"filter": "a" * 200 + "!", "filterType": "WILDCARD"}],
        }
    ]
    status, doc = _ok(
        populated_backend(),
        "PutRegistryScanningConfiguration",
        {"scanType": "BASIC", "rules": rules},
    )
    assert status == 400
    assert doc["__type"] == "ValidationException"


def test_many_wildcards_against_a_long_name_answer_without_backtracking() -> None:
    backend = populated_backend()
    _call(backend, "CreateRepository", {"repositoryName": LONG_NAME})
    rules = [
        {
            "scanFrequency": "SCAN_ON_PUSH",
            "repositoryFilters": [{"filter": MANY_STARS, "filterType": "WILDCARD"}],
        }
    ]
    _call(backend, "PutRegistryScanningConfiguration", {"scanType": "BASIC", "rules": rules})
    status, doc = _ok(
        backend, "BatchGetRepositoryScanningConfiguration", {"repositoryNames": [LONG_NAME]}
    )
    assert status == 200
    assert doc["scanningConfigurations"][0]["appliedScanFilters"] == []
    profile = f"arn:aws:signer:{REGION}:{ACCOUNT}:/signing-profiles/fuzz_profile"
    signing = {
        "rules": [
            {
                "signingProfileArn": profile,
                "repositoryFilters": [{"filter": MANY_STARS, "filterType": "WILDCARD_MATCH"}],
            }
        ]
    }
    _call(backend, "PutSigningConfiguration", {"signingConfiguration": signing})
    deny = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "stars",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "ecr:*",
                "Resource": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{MANY_STARS}",
                "Condition": {"StringLike": {"aws:PrincipalArn": "?" + MANY_STARS}},
            }
        ],
    }
    _call(backend, "PutRegistryPolicy", {"policyText": json.dumps(deny)})
    status, doc = _ok(backend, "DescribeImages", {"repositoryName": LONG_NAME})
    assert status == 200


def test_four_wildcard_tag_patterns_against_long_tags_preview_without_backtracking() -> None:
    backend = populated_backend()
    long_tag = "a" * 300
    _call(
        backend,
        "PutImage",
        {"repositoryName": "app", "imageManifest": MANIFEST_B, "imageTag": long_tag},
    )
    policy = {
        "rules": [
            {
                "rulePriority": 1,
                "selection": {
                    "tagStatus": "tagged",
                    "tagPatternList": ["a*a*a*a*b"],
                    "countType": "imageCountMoreThan",
                    "countNumber": 1,
                },
                "action": {"type": "expire"},
            }
        ]
    }
    status, _ = _ok(
        backend,
        "StartLifecyclePolicyPreview",
        {"repositoryName": "app", "lifecyclePolicyText": json.dumps(policy)},
    )
    assert status == 200
    status, doc = _ok(backend, "GetLifecyclePolicyPreview", {"repositoryName": "app"})
    assert status == 200
    assert doc["previewResults"] == []
