"""Seed documents: settings through ECR's own checks, images from three sources, all or nothing."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from ecr_mock import Backend, mock_ecr
from ecr_mock.runtime.http import EcrMockServer
from ecr_mock.services.seed import SeedError
from ecr_mock.testing.seeding import load_seed_file, seed_backend
from tests.integration.oci_layout import Layout
from tests.support.live import require

ACCOUNT = "123456789012"
OTHER = "111122223333"

POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "pull",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        }
    ],
}


def keep_last(count: int) -> dict[str, Any]:
    return {
        "rules": [
            {
                "rulePriority": 1,
                "selection": {
                    "tagStatus": "any",
                    "countType": "imageCountMoreThan",
                    "countNumber": count,
                },
                "action": {"type": "expire"},
            }
        ]
    }


def repositories(backend: Backend) -> set[tuple[str, str, str]]:
    return {
        (reg.account, reg.region, name)
        for reg in backend.registries.values()
        for name in reg.repositories
    }


def test_a_full_document_sets_every_setting_as_the_api_reports_it() -> None:
    with mock_ecr() as backend:
        backend.seed(
            {
                "accountSettings": {"BLOB_MOUNTING": "DISABLED"},
                "registryScanningConfiguration": {
                    "scanType": "BASIC",
                    "rules": [
                        {
                            "scanFrequency": "SCAN_ON_PUSH",
                            "repositoryFilters": [{"filter": "*", "filterType": "WILDCARD"}],
                        }
                    ],
                },
                "registryPolicy": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "replicate",
                            "Effect": "Allow",
                            "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
                            "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
                            "Resource": f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/*",
                        }
                    ],
                },
                "pullThroughCacheRules": [
                    {"ecrRepositoryPrefix": "quay", "upstreamRegistryUrl": "quay.io"}
                ],
                "repositoryCreationTemplates": [
                    {"prefix": "auto", "appliedFor": ["CREATE_ON_PUSH"]},
                ],
                "replicationConfiguration": {
                    "rules": [{"destinations": [{"region": "eu-west-1", "registryId": ACCOUNT}]}]
                },
                "repositories": [
                    {
                        "name": "team/app",
                        "imageTagMutability": "IMMUTABLE",
                        "scanOnPush": True,
                        "encryptionConfiguration": {"encryptionType": "KMS"},
                        "tags": {"team": "platform"},
                        "repositoryPolicy": POLICY,
                        "lifecyclePolicy": keep_last(5),
                    }
                ],
            }
        )
        ecr = boto3.client("ecr", region_name="us-east-1")
        [repo] = ecr.describe_repositories()["repositories"]
        assert repo["repositoryName"] == "team/app"
        assert repo["imageTagMutability"] == "IMMUTABLE"
        assert repo["imageScanningConfiguration"] == {"scanOnPush": True}
        assert repo["encryptionConfiguration"]["encryptionType"] == "KMS"
        tags = ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"])["tags"]
        assert tags == [{"Key": "team", "Value": "platform"}]
        policy = ecr.get_repository_policy(repositoryName="team/app")["policyText"]
        assert json.loads(policy)["Statement"][0]["Sid"] == "pull"
        lifecycle = ecr.get_lifecycle_policy(repositoryName="team/app")["lifecyclePolicyText"]
        assert json.loads(lifecycle) == keep_last(5)
        registry_policy = json.loads(ecr.get_registry_policy()["policyText"])
        assert registry_policy["Statement"][0]["Sid"] == "replicate"
        setting = ecr.get_account_setting(name="BLOB_MOUNTING")
        assert setting["value"] == "DISABLED"
        rules = ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"]
        assert [r["upstreamRegistryUrl"] for r in rules] == ["quay.io"]
        templates = ecr.describe_repository_creation_templates()["repositoryCreationTemplates"]
        assert [t["prefix"] for t in templates] == ["auto"]
        replication = ecr.describe_registry()["replicationConfiguration"]["rules"]
        assert replication[0]["destinations"][0]["region"] == "eu-west-1"
        scanning = ecr.get_registry_scanning_configuration()["scanningConfiguration"]
        assert scanning["rules"][0]["scanFrequency"] == "SCAN_ON_PUSH"


def test_other_accounts_and_regions_get_their_own_registries() -> None:
    with mock_ecr() as backend:
        backend.seed(
            {
                "repositories": [{"name": "home"}],
                "registries": [
                    {"account": OTHER, "region": "eu-west-1", "repositories": [{"name": "away"}]},
                    {"region": "ap-south-1", "repositories": [{"name": "east"}]},
                ],
            }
        )
        assert repositories(backend) == {
            (ACCOUNT, "us-east-1", "home"),
            (OTHER, "eu-west-1", "away"),
            (ACCOUNT, "ap-south-1", "east"),
        }
        ecr = boto3.client("ecr", region_name="ap-south-1")
        names = ecr.describe_repositories()["repositories"]
        assert [r["repositoryName"] for r in names] == ["east"]


def test_images_have_their_tags_sizes_and_past_push_times() -> None:
    with mock_ecr() as backend:
        now = backend.clock.now()
        created = backend.seed(
            {
                "repositories": [
                    {
                        "name": "app",
                        "images": [
                            {
                                "synthetic": {"layers": 3, "layerSize": 1000},
                                "tags": ["v1", "stable"],
                                "pushedAt": "2024-02-03T04:05:06Z",
                            },
                            {
                                "synthetic": {"layerSizes": [10, 20]},
                                "tag": "v2",
                                "pushedDaysAgo": 3,
                            },
                        ],
                    }
                ]
            }
        )
        ecr = boto3.client("ecr", region_name="us-east-1")
        details = {
            tuple(sorted(d["imageTags"])): d
            for d in ecr.describe_images(repositoryName="app")["imageDetails"]
        }
        first, second = details[("stable", "v1")], details[("v2",)]
        assert first["imagePushedAt"] == datetime(2024, 2, 3, 4, 5, 6, tzinfo=timezone.utc)
        assert abs(second["imagePushedAt"] - (now - timedelta(days=3))) < timedelta(minutes=5)
        assert first["imageDigest"] == created["images"][0]["digest"]
        manifest = json.loads(
            ecr.batch_get_image(repositoryName="app", imageIds=[{"imageTag": "v1"}])["images"][0][
                "imageManifest"
            ]
        )
        assert len(manifest["layers"]) == 3
        assert first["imageSizeInBytes"] == sum(layer["size"] for layer in manifest["layers"])


def test_synthetic_images_are_deterministic() -> None:
    doc = {"repositories": [{"name": "app", "images": [{"synthetic": {"layers": 2}}]}]}
    with mock_ecr() as first, mock_ecr() as second:
        assert first.seed(doc)["images"][0]["digest"] == second.seed(doc)["images"][0]["digest"]


@pytest.mark.parametrize(
    ("doc", "path", "words"),
    [
        (
            {
                "repositories": [
                    {"name": "one"},
                    {"name": "two", "images": [{"synthetic": {}}]},
                    {
                        "name": "three",
                        "lifecyclePolicy": {
                            "rules": [
                                {
                                    "rulePriority": 1,
                                    "selection": {
                                        "tagStatus": "any",
                                        "countType": "imageCountMoreThen",
                                        "countNumber": 1,
                                    },
                                    "action": {"type": "expire"},
                                }
                            ]
                        },
                    },
                ]
            },
            "repositories[2].lifecyclePolicy.rules[0].selection.countType",
            "InvalidParameterException",
        ),
        (
            {"repositories": [{"name": "ok"}, {"name": "bad", "imageTagMutability": "SOMETIMES"}]},
            "repositories[1].imageTagMutability",
            "imageTagMutability",
        ),
        (
            {"repositories": [{"name": "app", "repositoryPolicy": "{not json"}]},
            "repositories[0].repositoryPolicy",
            "InvalidParameterException",
        ),
        (
            {"repositories": [{"name": "app", "imagez": []}]},
            "repositories[0].imagez",
            "unknown field",
        ),
        (
            {
                "repositories": [
                    {
                        "name": "app",
                        "images": [{"synthetic": {}, "pushedAt": "2999-01-01T00:00:00Z"}],
                    }
                ]
            },
            "repositories[0].images[0].pushedAt",
            "future",
        ),
        (
            {"registries": [{"account": "12", "repositories": [{"name": "x1"}]}]},
            "registries[0].account",
            "12-digit",
        ),
        (
            {"accountSettings": {"BLOB_MOUNTING": "SOMETIMES"}, "repositories": [{"name": "a1"}]},
            "accountSettings.BLOB_MOUNTING",
            "InvalidParameterException",
        ),
        (
            {"repositories": [{"name": "a1"}, {"name": "a1"}]},
            "repositories[1].name",
            "repositories[0]",
        ),
        (
            {"repositories": [{"name": "a1", "images": [{"ociLayout": "no/such/dir"}]}]},
            "repositories[0].images[0].ociLayout",
            "no OCI layout",
        ),
    ],
)
def test_a_bad_document_is_refused_whole_naming_the_field(
    doc: dict[str, Any], path: str, words: str
) -> None:
    with mock_ecr() as backend:
        with pytest.raises(SeedError) as refused:
            backend.seed(doc)
        assert refused.value.path == path
        assert words in refused.value.message
        assert repositories(backend) == set()
        assert backend.account_setting(backend.registry(), "BLOB_MOUNTING") == "ENABLED"


def test_seeding_a_repository_that_exists_changes_nothing() -> None:
    with mock_ecr() as backend:
        backend.seed({"repositories": [{"name": "taken", "imageTagMutability": "IMMUTABLE"}]})
        with pytest.raises(SeedError) as refused:
            backend.seed({"repositories": [{"name": "fresh"}, {"name": "taken"}]})
        assert refused.value.path == "repositories[1].name"
        assert "RepositoryAlreadyExistsException" in refused.value.message
        assert repositories(backend) == {(ACCOUNT, "us-east-1", "taken")}


def test_an_oci_layout_image_is_served_byte_for_byte(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "layout")
    single = layout.image("v1")
    multi = layout.multi_platform("multi")
    with mock_ecr() as backend, EcrMockServer(backend) as server:
        created = backend.seed(
            {
                "repositories": [
                    {
                        "name": "app",
                        "images": [
                            {"ociLayout": "layout", "ref": "v1", "tags": ["v1"]},
                            {"ociLayout": str(tmp_path / "layout"), "ref": "multi", "tag": "all"},
                        ],
                    }
                ]
            },
            base_dir=str(tmp_path),
        )
        assert [i["digest"] for i in created["images"]] == [single.digest, multi.digest]
        token = backend.issue_token()
        auth = ("AWS", token.password)
        got = requests.get(
            f"{server.url}/v2/app/manifests/v1",
            auth=auth,
            headers={"Accept": single.media_type},
            timeout=30,
        )
        assert got.content == single.manifest
        for digest, data in single.blobs.items():
            blob = requests.get(f"{server.url}/v2/app/blobs/{digest}", auth=auth, timeout=30)
            assert blob.content == data
        index = requests.get(
            f"{server.url}/v2/app/manifests/all",
            auth=auth,
            headers={"Accept": multi.media_type},
            timeout=30,
        )
        assert index.content == multi.manifest
        child = multi.children[1]
        pulled = requests.get(
            f"{server.url}/v2/app/manifests/{child.digest}",
            auth=auth,
            headers={"Accept": child.media_type},
            timeout=30,
        )
        assert pulled.content == child.manifest


def test_a_layout_with_several_images_needs_a_ref(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "layout")
    layout.image("v1")
    layout.image("v2")
    with mock_ecr() as backend:
        with pytest.raises(SeedError) as refused:
            backend.seed(
                {"repositories": [{"name": "app", "images": [{"ociLayout": str(layout.path)}]}]}
            )
        assert refused.value.path == "repositories[0].images[0].ref"
        assert "v1" in refused.value.message and "v2" in refused.value.message


def _legacy_docker_save(path: Path) -> tuple[bytes, bytes]:
    """A ``docker save`` archive in the pre-OCI form: manifest.json, config, layer.tar."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as tar:
        data = b"hello from a saved image\n"
        info = tarfile.TarInfo("hello.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    layer_bytes = layer.getvalue()
    diff_id = "sha256:" + hashlib.sha256(layer_bytes).hexdigest()
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        }
    ).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    files = {
        "manifest.json": json.dumps(
            [{"Config": config_name, "RepoTags": ["app:1.0"], "Layers": ["abc/layer.tar"]}]
        ).encode(),
        config_name: config,
        "abc/layer.tar": layer_bytes,
    }
    with tarfile.open(path, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return config, layer_bytes


def test_a_legacy_docker_save_archive_becomes_an_oci_image(tmp_path: Path) -> None:
    config, layer = _legacy_docker_save(tmp_path / "app.tar")
    with mock_ecr() as backend:
        backend.seed(
            {
                "repositories": [
                    {
                        "name": "app",
                        "images": [{"dockerArchive": "app.tar", "ref": "1.0", "tag": "1.0"}],
                    }
                ]
            },
            base_dir=str(tmp_path),
        )
        ecr = boto3.client("ecr", region_name="us-east-1")
        image = ecr.batch_get_image(repositoryName="app", imageIds=[{"imageTag": "1.0"}])["images"][
            0
        ]
        manifest = json.loads(image["imageManifest"])
        assert manifest["config"]["digest"] == "sha256:" + hashlib.sha256(config).hexdigest()
        assert manifest["layers"] == [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": "sha256:" + hashlib.sha256(layer).hexdigest(),
                "size": len(layer),
            }
        ]


def test_a_skopeo_docker_archive_seeds_and_skopeo_pulls_it_back(tmp_path: Path) -> None:
    skopeo = require("skopeo")
    layout = Layout(tmp_path / "layout")
    layout.image("v1")
    archive = tmp_path / "saved.tar"
    made = subprocess.run(
        [skopeo, "copy", f"oci:{layout.path}:v1", f"docker-archive:{archive}:app:v1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    with mock_ecr() as backend, EcrMockServer(backend) as server:
        created = backend.seed(
            {
                "repositories": [
                    {
                        "name": "app",
                        "images": [
                            {"dockerArchive": str(archive), "tags": ["v1"]},
                            {"synthetic": {"layers": 2, "layerSize": 5000}, "tags": ["gen"]},
                        ],
                    }
                ]
            }
        )
        token = backend.issue_token()
        for tag in ("v1", "gen"):
            out = tmp_path / f"out-{tag}"
            pulled = subprocess.run(
                [
                    skopeo,
                    "copy",
                    "--src-tls-verify=false",
                    "--src-creds",
                    f"AWS:{token.password}",
                    f"docker://{server.endpoint}/app:{tag}",
                    f"oci:{out}:{tag}",
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            assert pulled.returncode == 0, pulled.stderr
        index = json.loads((tmp_path / "out-gen" / "index.json").read_text())
        assert index["manifests"][0]["digest"] == created["images"][1]["digest"]


def test_seed_files_load_as_json_or_yaml(tmp_path: Path) -> None:
    pytest.importorskip("yaml", reason="PyYAML is an optional extra (ecr-mock[yaml])")
    (tmp_path / "seed.yaml").write_text(
        "repositories:\n  - name: from-yaml\n    images:\n      - synthetic: {layers: 1}\n        tags: [v1]\n"
    )
    (tmp_path / "seed.json").write_text(json.dumps({"repositories": [{"name": "from-json"}]}))
    assert load_seed_file(tmp_path / "seed.yaml")["repositories"][0]["name"] == "from-yaml"
    backend = Backend()
    seed_backend(backend, tmp_path / "seed.yaml")
    seed_backend(backend, str(tmp_path / "seed.json"))
    assert repositories(backend) == {
        (ACCOUNT, "us-east-1", "from-yaml"),
        (ACCOUNT, "us-east-1", "from-json"),
    }


def test_a_bare_backend_explains_how_to_seed_it() -> None:
    with pytest.raises(SeedError) as refused:
        Backend().seed({"repositories": [{"name": "app"}]})
    assert "seed_backend" in refused.value.message
