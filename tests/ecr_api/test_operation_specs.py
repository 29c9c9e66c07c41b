"""Every ECR and ECR Public operation's spec says truly whether a call changes saved state."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from ecr_mock import Backend
from ecr_mock.protocols.ecr_api.dispatch import PUBLIC_TARGET_PREFIX, TARGET_PREFIX, handle
from ecr_mock.protocols.ecr_api.spec import ECR, ECR_PUBLIC, OPERATIONS, Operation
from ecr_mock.store.persistence.statedir import StateDir
from tests.support.policies import POLICY, REGISTRY_POLICY

ACCOUNT = "123456789012"
PREFIXES = {"ecr": TARGET_PREFIX, "ecr-public": PUBLIC_TARGET_PREFIX}
LAYER = b"a layer of the image"
CONFIG = b'{"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers"}}'
LIFECYCLE = json.dumps(
    {
        "rules": [
            {
                "rulePriority": 1,
                "selection": {
                    "tagStatus": "any",
                    "countType": "imageCountMoreThan",
                    "countNumber": 5,
                },
                "action": {"type": "expire"},
            }
        ]
    }
)
PRINCIPAL = f"arn:aws:iam::{ACCOUNT}:role/ci"
PART = b"more"


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _manifest() -> str:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": len(CONFIG),
                "digest": _digest(CONFIG),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": len(LAYER),
                    "digest": _digest(LAYER),
                }
            ],
        }
    )


def _call(store: Backend, service: str, name: str, params: dict[str, Any]) -> dict[str, Any]:
    status, body = handle(store, PREFIXES[service] + name, json.dumps(params).encode(), {})
    doc: dict[str, Any] = json.loads(body)
    doc["_status"] = status
    return doc


def _upload(store: Backend, service: str, repo: str, data: bytes) -> None:
    upload = _call(store, service, "InitiateLayerUpload", {"repositoryName": repo})["uploadId"]
    part = {"repositoryName": repo, "uploadId": upload, "partFirstByte": 0}
    part |= {"partLastByte": len(data) - 1, "layerPartBlob": base64.b64encode(data).decode()}
    _call(store, service, "UploadLayerPart", part)
    done = {"repositoryName": repo, "uploadId": upload, "layerDigests": [_digest(data)]}
    assert _call(store, service, "CompleteLayerUpload", done)["_status"] == 200


def _prepare(store: Backend) -> dict[str, str]:
    """A registry where every operation has something to act on; the values the inputs use."""
    for service, repo in (("ecr", "app"), ("ecr-public", "pub")):
        assert _call(store, service, "CreateRepository", {"repositoryName": repo})["_status"] == 200
        _upload(store, service, repo, LAYER)
        _upload(store, service, repo, CONFIG)
        put = {"repositoryName": repo, "imageManifest": _manifest(), "imageTag": "v1"}
        arn = f"arn:aws:{service}:{'' if service == 'ecr-public' else 'us-east-1'}:{ACCOUNT}"
        tags = {"resourceArn": f"{arn}:repository/{repo}", "tags": [{"Key": "team", "Value": "a"}]}
        assert _call(store, service, "PutImage", put)["_status"] == 200
        policy = {"repositoryName": repo, "policyText": POLICY.replace("ecr:", f"{service}:")}
        assert _call(store, service, "SetRepositoryPolicy", policy)["_status"] == 200
        assert _call(store, service, "TagResource", tags)["_status"] == 200
    for name, params in (
        ("PutLifecyclePolicy", {"repositoryName": "app", "lifecyclePolicyText": LIFECYCLE}),
        ("PutRegistryPolicy", {"policyText": REGISTRY_POLICY}),
        (
            "CreatePullThroughCacheRule",
            {"ecrRepositoryPrefix": "mirror", "upstreamRegistryUrl": "public.ecr.aws"},
        ),
        (
            "CreateRepositoryCreationTemplate",
            {"prefix": "tpl", "appliedFor": ["CREATE_ON_PUSH"]},
        ),
        ("RegisterPullTimeUpdateExclusion", {"principalArn": PRINCIPAL}),
        ("StartLifecyclePolicyPreview", {"repositoryName": "app"}),
    ):
        assert _call(store, "ecr", name, params)["_status"] == 200, name
    opened = {}
    for service, repo in (("ecr", "app"), ("ecr-public", "pub")):
        upload = _call(store, service, "InitiateLayerUpload", {"repositoryName": repo})["uploadId"]
        part = {"repositoryName": repo, "uploadId": upload, "partFirstByte": 0, "partLastByte": 3}
        part["layerPartBlob"] = base64.b64encode(PART).decode()
        assert _call(store, service, "UploadLayerPart", part)["_status"] == 200
        opened[service] = upload
    return {
        "digest": _digest(_manifest().encode()),
        "layer": _digest(LAYER),
        "upload": opened["ecr"],
        "public_upload": opened["ecr-public"],
        "arn": f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/app",
        "public_arn": f"arn:aws:ecr-public::{ACCOUNT}:repository/pub",
    }


def _inputs(spec: Operation, values: dict[str, str]) -> dict[str, Any]:
    """Valid input for ``spec``'s operation against the prepared registry."""
    public = spec.service == "ecr-public"
    repo = "pub" if public else "app"
    image = {"imageDigest": values["digest"]}
    part = base64.b64encode(b"tail").decode()
    upload = values["public_upload" if public else "upload"]
    arn = values["public_arn" if public else "arn"]
    table: dict[str, dict[str, Any]] = {
        "BatchCheckLayerAvailability": {"layerDigests": [values["layer"]]},
        "BatchDeleteImage": {"imageIds": [image]},
        "BatchGetImage": {"imageIds": [image]},
        "BatchGetRepositoryScanningConfiguration": {"repositoryNames": [repo]},
        "CompleteLayerUpload": {"uploadId": upload, "layerDigests": [_digest(PART)]},
        "CreatePullThroughCacheRule": {
            "ecrRepositoryPrefix": "quay",
            "upstreamRegistryUrl": "quay.io",
        },
        "CreateRepository": {"repositoryName": "new"},
        "CreateRepositoryCreationTemplate": {"prefix": "other", "appliedFor": ["REPLICATION"]},
        "DeletePullThroughCacheRule": {"ecrRepositoryPrefix": "mirror"},
        "DeleteRepository": {"force": True},
        "DeleteRepositoryCreationTemplate": {"prefix": "tpl"},
        "DeregisterPullTimeUpdateExclusion": {"principalArn": PRINCIPAL},
        "DescribeImageReplicationStatus": {"imageId": image},
        "DescribeImageScanFindings": {"imageId": image},
        "DescribeImageSigningStatus": {"imageId": image},
        "DescribeReplicationBackfillResults": {"replicationBackfillId": "0" * 36},
        "GetAccountSetting": {"name": "BASIC_SCAN_TYPE_VERSION"},
        "GetDownloadUrlForLayer": {"layerDigest": values["layer"]},
        "InitiateLayerUpload": {},
        "ListImageReferrers": {"subjectId": image},
        "ListTagsForResource": {"resourceArn": arn},
        "PutAccountSetting": {"name": "BASIC_SCAN_TYPE_VERSION", "value": "AWS_NATIVE"},
        "PutImage": {"imageManifest": _manifest(), "imageTag": "v2"},
        "PutImageScanningConfiguration": {"imageScanningConfiguration": {"scanOnPush": True}},
        "PutImageTagMutability": {"imageTagMutability": "IMMUTABLE"},
        "PutLifecyclePolicy": {"lifecyclePolicyText": LIFECYCLE.replace("5", "6")},
        "PutRegistryCatalogData": {"displayName": "team"},
        "PutRegistryPolicy": {"policyText": REGISTRY_POLICY.replace("replicate", "again")},
        "PutRegistryScanningConfiguration": {"scanType": "ENHANCED"},
        "PutReplicationConfiguration": {
            "replicationConfiguration": {
                "rules": [{"destinations": [{"region": "eu-west-1", "registryId": ACCOUNT}]}]
            }
        },
        "PutRepositoryCatalogData": {"catalogData": {"description": "an image"}},
        "PutSigningConfiguration": {
            "signingConfiguration": {
                "rules": [{"signingProfileArn": f"arn:aws:signer:us-east-1:{ACCOUNT}:/p/x"}]
            }
        },
        "RegisterPullTimeUpdateExclusion": {"principalArn": PRINCIPAL + "2"},
        "SetRepositoryPolicy": {"policyText": POLICY.replace("pull", "other")},
        "StartImageScan": {"imageId": image},
        "StartReplicationBackfill": {"destination": {"region": "eu-west-1", "registryId": ACCOUNT}},
        "StopReplicationBackfill": {"replicationBackfillId": "0" * 36},
        "TagResource": {"resourceArn": arn, "tags": [{"Key": "owner", "Value": "b"}]},
        "UntagResource": {"resourceArn": arn, "tagKeys": ["team"]},
        "UpdateImageStorageClass": {"imageId": image, "targetStorageClass": "ARCHIVE"},
        "UpdatePullThroughCacheRule": {"ecrRepositoryPrefix": "mirror"},
        "UpdateRepositoryCreationTemplate": {"prefix": "tpl", "description": "changed"},
        "UploadLayerPart": {
            "uploadId": upload,
            "partFirstByte": len(PART),
            "partLastByte": len(PART) + 3,
            "layerPartBlob": part,
        },
        "ValidatePullThroughCacheRule": {"ecrRepositoryPrefix": "mirror"},
    }
    params = dict(table.get(spec.name, {}))
    shape = botocore.session.get_session().get_service_model(spec.service)
    members = shape.operation_model(spec.name).input_shape
    if members is not None and "repositoryName" in members.members:
        params.setdefault("repositoryName", repo)
    return params


SPECS = [spec for table in OPERATIONS.values() for spec in table.values()]


def test_every_model_operation_has_exactly_one_spec() -> None:
    session = botocore.session.get_session()
    for service, table in (("ecr", ECR), ("ecr-public", ECR_PUBLIC)):
        assert set(table) == set(session.get_service_model(service).operation_names)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.service}:{s.name}")
def test_an_operation_that_changes_saved_state_is_marked_as_changing_it(
    spec: Operation, tmp_path: Path
) -> None:
    store = Backend()
    store.clock.freeze()
    state = StateDir(tmp_path / "state")
    try:
        state.load(store)
        store.state_dir = state
        store.listeners.append(state.listener(store))  # as Backend.open: events mark images
        values = _prepare(store)
        state.save(store)
        assert state.save(store) == 0  # nothing left to write: the next count is the call's
        answer = _call(store, spec.service, spec.name, _inputs(spec, values))
        written = state.save(store)
    finally:
        store.state_dir = None
        state.close()
    assert (answer["_status"] == 200) == (spec.name not in _REFUSED), answer
    if written:
        assert spec.mutates, f"{spec.name} changed {written} saved rows but is marked {spec.change}"
    if answer["_status"] == 200 and spec.saves:
        assert written or spec.name in _SAVED_WITHOUT_ROWS, f"{spec.name} saved nothing"


_SAVED_WITHOUT_ROWS: frozenset[str] = frozenset(
    {"GetAuthorizationToken"}  # a token is a keyed MAC: issuing one stores nothing new
)
"""Operations marked ``saved`` that may leave saved state as it was, for these inputs."""

_REFUSED = frozenset(
    {
        "DeleteSigningConfiguration",  # none is set: its refusal must leave state as it was
        "DescribeImageScanFindings",  # no scan ran
        "DescribeReplicationBackfillResults",  # no backfill with that id
        "GetSigningConfiguration",
        "PutSigningConfiguration",  # needs a signing profile this input does not name
        "StartLifecyclePolicyPreview",  # one is in progress already
        "StartReplicationBackfill",  # no replication rule to the destination
        "StopReplicationBackfill",
    }
)
"""Operations these inputs make fail: the test still checks that they change nothing."""
