"""Replication in the core: rules, copies into destination registries, statuses, loops, policies."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from werkzeug.test import Client

from ecr_mock.domain.blobs import Blob
from ecr_mock.domain.errors import InvalidParameter
from ecr_mock.domain.models import Image, Registry, Repository
from ecr_mock.services import replication
from ecr_mock.services.backend import Backend
from ecr_mock.services.templates import REPLICATION, TemplateSettings, create_template

SOURCE = "111111111111"
OTHER = "222222222222"
EAST, WEST, EU = "us-east-1", "us-west-2", "eu-west-1"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def manifest_for(config: bytes, layers: list[bytes]) -> bytes:
    doc = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": sha256(config),
            "size": len(config),
        },
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": sha256(layer),
                "size": len(layer),
            }
            for layer in layers
        ],
    }
    return json.dumps(doc).encode()


def push(backend: Backend, reg: Registry, name: str, tag: str | None, seed: str = "a") -> Image:
    repo = reg.repositories.get(name) or backend.create_repository(reg, name)
    config = json.dumps({"architecture": "amd64", "os": "linux", "seed": seed}).encode()
    layers = [f"layer-{seed}-1".encode(), f"layer-{seed}-2".encode()]
    for data in [config, *layers]:
        backend.store_blob(reg, repo, Blob.from_bytes(data))
    return backend.put_image(reg, repo, manifest_for(config, layers), tag=tag)


def configure(backend: Backend, reg: Registry, *rules: dict[str, Any]) -> None:
    replication.put_replication_configuration(backend, reg, list(rules))


def dest(region: str, account: str = SOURCE) -> dict[str, str]:
    return {"region": region, "registryId": account}


def allow_replication_policy(source_account: str, actions: list[str]) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ReplicationAccess",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{source_account}:root"},
                    "Action": actions,
                    "Resource": "arn:aws:ecr:*:*:repository/*",
                }
            ],
        }
    )


pytestmark = pytest.mark.ecr_mock(account_id=SOURCE, region=EAST)


@pytest.fixture
def source(ecr_backend: Backend) -> Registry:
    return ecr_backend.registry(SOURCE, EAST)


# ----- configuration ---------------------------------------------------------------------------


def test_rules_are_stored_on_the_registry_as_given(ecr_backend: Backend, source: Registry) -> None:
    rule = {
        "destinations": [dest(WEST)],
        "repositoryFilters": [{"filter": "prod", "filterType": "PREFIX_MATCH"}],
    }
    configure(ecr_backend, source, rule)
    assert source.replication_rules == [rule]
    assert replication.replication_configuration(source) == {"rules": [rule]}


def test_a_destination_equal_to_the_source_registry_is_refused(
    ecr_backend: Backend, source: Registry
) -> None:
    with pytest.raises(InvalidParameter) as caught:
        configure(ecr_backend, source, {"destinations": [dest(EAST)]})
    assert "same as the source registry" in caught.value.message
    assert source.replication_rules == []


def test_more_rules_than_the_model_allows_are_refused(
    ecr_backend: Backend, source: Registry
) -> None:
    configure(ecr_backend, source, *[{"destinations": [dest(WEST)]} for _ in range(25)])
    assert len(source.replication_rules) == 25
    with pytest.raises(InvalidParameter):
        configure(ecr_backend, source, *[{"destinations": [dest(WEST)]} for _ in range(26)])
    assert len(source.replication_rules) == 25


# ----- delete replication ----------------------------------------------------------------------


def test_deletions_and_tag_removals_follow_only_with_delete_replication(
    ecr_backend: Backend, source: Registry
) -> None:
    configure(
        ecr_backend,
        source,
        {
            "destinations": [dest(WEST)],
            "repositoryFilters": [{"filter": "prod", "filterType": "PREFIX_MATCH"}],
            "deleteReplication": True,
        },
        {"destinations": [dest("eu-west-1")]},
    )
    assert source.replication_rules[0]["deleteReplication"] is True
    image = push(ecr_backend, source, "prod/api", "v1")
    ecr_backend.put_image(source, source.repositories["prod/api"], image.manifest, tag="stable")
    west = ecr_backend.registry(SOURCE, WEST).repositories["prod/api"]
    europe = ecr_backend.registry(SOURCE, "eu-west-1").repositories["prod/api"]
    assert west.tags == {"v1": image.digest, "stable": image.digest}
    ecr_backend.delete_image(source.repositories["prod/api"], tag="stable")
    assert west.tags == {"v1": image.digest}
    assert europe.tags == {"v1": image.digest, "stable": image.digest}
    ecr_backend.delete_image(source.repositories["prod/api"], digest=image.digest)
    assert west.images == {}
    assert image.digest in europe.images


def test_more_than_25_unique_destinations_are_refused(
    ecr_backend: Backend, source: Registry
) -> None:
    destinations = [dest(WEST, f"{n:012d}") for n in range(1, 27)]
    with pytest.raises(InvalidParameter) as caught:
        configure(ecr_backend, source, {"destinations": destinations})
    assert "25" in caught.value.message
    configure(ecr_backend, source, {"destinations": destinations[:25]})
    assert len(source.replication_rules[0]["destinations"]) == 25


def test_a_filter_type_other_than_prefix_match_is_refused(
    ecr_backend: Backend, source: Registry
) -> None:
    rule = {
        "destinations": [dest(WEST)],
        "repositoryFilters": [{"filter": "ab", "filterType": "X"}],
    }
    with pytest.raises(InvalidParameter):
        configure(ecr_backend, source, rule)


# ----- copying ---------------------------------------------------------------------------------


def test_a_push_is_copied_with_its_blobs_into_another_region(
    ecr_backend: Backend, source: Registry
) -> None:
    configure(ecr_backend, source, {"destinations": [dest(WEST)]})
    image = push(ecr_backend, source, "team/app", "v1")
    west = ecr_backend.registry(SOURCE, WEST)
    copy = ecr_backend.resolve_reference(west.repositories["team/app"], "v1")
    assert copy.digest == image.digest
    assert copy.manifest == image.manifest
    for digest in image.parsed.blob_digests():
        assert west.blobs[digest].read() == source.blobs[digest].read()
    assert replication.replication_statuses(image) == [
        {"region": WEST, "registryId": SOURCE, "status": "COMPLETE"}
    ]


def test_only_repositories_matching_a_prefix_filter_are_copied(
    ecr_backend: Backend, source: Registry
) -> None:
    configure(
        ecr_backend,
        source,
        {
            "destinations": [dest(WEST)],
            "repositoryFilters": [{"filter": "prod", "filterType": "PREFIX_MATCH"}],
        },
    )
    kept = push(ecr_backend, source, "prod-api", "v1")
    skipped = push(ecr_backend, source, "dev-api", "v1", seed="b")
    west = ecr_backend.registry(SOURCE, WEST)
    assert set(west.repositories) == {"prod-api"}
    assert replication.replication_statuses(kept)[0]["status"] == "COMPLETE"
    assert replication.replication_statuses(skipped) == []


def test_every_destination_of_every_matching_rule_gets_the_image(
    ecr_backend: Backend, source: Registry
) -> None:
    configure(
        ecr_backend,
        source,
        {"destinations": [dest(WEST), dest(EU)]},
        {"destinations": [dest(WEST), dest(EAST, OTHER)]},
    )
    ecr_backend.registry(OTHER, EAST).policy_text = allow_replication_policy(
        SOURCE, ["ecr:ReplicateImage", "ecr:CreateRepository"]
    )
    image = push(ecr_backend, source, "app", "v1")
    for account, region in [(SOURCE, WEST), (SOURCE, EU), (OTHER, EAST)]:
        copied = ecr_backend.registry(account, region).repositories["app"]
        assert image.digest in copied.images
    statuses = replication.replication_statuses(image)
    assert sorted((s["registryId"], s["region"], s["status"]) for s in statuses) == [
        (SOURCE, EU, "COMPLETE"),
        (SOURCE, WEST, "COMPLETE"),
        (OTHER, EAST, "COMPLETE"),
    ]


def test_a_new_tag_on_an_existing_image_is_replicated(
    ecr_backend: Backend, source: Registry
) -> None:
    configure(ecr_backend, source, {"destinations": [dest(WEST)]})
    image = push(ecr_backend, source, "app", "v1")
    ecr_backend.put_image(source, source.repositories["app"], image.manifest, tag="latest")
    west_repo = ecr_backend.registry(SOURCE, WEST).repositories["app"]
    assert west_repo.tags == {"v1": image.digest, "latest": image.digest}


def test_an_index_is_copied_with_the_manifests_it_references(
    ecr_backend: Backend, source: Registry
) -> None:
    configure(ecr_backend, source, {"destinations": [dest(WEST)]})
    amd = push(ecr_backend, source, "multi", None, seed="amd")
    arm = push(ecr_backend, source, "multi", None, seed="arm")
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {"mediaType": OCI_MANIFEST, "digest": amd.digest, "size": len(amd.manifest)},
                {"mediaType": OCI_MANIFEST, "digest": arm.digest, "size": len(arm.manifest)},
            ],
        }
    ).encode()
    pushed = ecr_backend.put_image(source, source.repositories["multi"], index, tag="v1")
    west_repo = ecr_backend.registry(SOURCE, WEST).repositories["multi"]
    assert {pushed.digest, amd.digest, arm.digest} <= set(west_repo.images)
    assert west_repo.tags["v1"] == pushed.digest


def test_images_pushed_before_the_rules_existed_are_not_copied(
    ecr_backend: Backend, source: Registry
) -> None:
    push(ecr_backend, source, "old", "v1")
    configure(ecr_backend, source, {"destinations": [dest(WEST)]})
    assert "old" not in ecr_backend.registry(SOURCE, WEST).repositories


def test_deleting_the_source_image_leaves_the_replica(
    ecr_backend: Backend, source: Registry
) -> None:
    configure(ecr_backend, source, {"destinations": [dest(WEST)]})
    image = push(ecr_backend, source, "app", "v1")
    ecr_backend.delete_manifest(source.repositories["app"], image.digest)
    assert image.digest in ecr_backend.registry(SOURCE, WEST).repositories["app"].images


# ----- loops -----------------------------------------------------------------------------------


def test_a_rule_loop_copies_once_and_never_back(ecr_backend: Backend, source: Registry) -> None:
    west = ecr_backend.registry(SOURCE, WEST)
    configure(ecr_backend, source, {"destinations": [dest(WEST)]})
    configure(ecr_backend, west, {"destinations": [dest(EAST)]})
    image = push(ecr_backend, source, "app", "v1")
    replica = west.repositories["app"].images[image.digest]
    assert replica.replicated_from == {
        "registryId": SOURCE,
        "region": EAST,
        "repositoryName": "app",
    }
    assert replication.replication_statuses(replica) == []
    assert list(source.repositories["app"].images) == [image.digest]
    assert len(replication.replication_statuses(image)) == 1


def test_a_push_in_the_other_registry_of_a_loop_replicates_back(
    ecr_backend: Backend, source: Registry
) -> None:
    west = ecr_backend.registry(SOURCE, WEST)
    configure(ecr_backend, source, {"destinations": [dest(WEST)]})
    configure(ecr_backend, west, {"destinations": [dest(EAST)]})
    image = push(ecr_backend, west, "from-west", "v1")
    assert image.digest in source.repositories["from-west"].images
    assert "from-west" in west.repositories


def test_a_rule_naming_the_source_set_directly_is_skipped(
    ecr_backend: Backend, source: Registry
) -> None:
    replication.install(ecr_backend)
    source.replication_rules = [{"destinations": [dest(EAST), dest(WEST)]}]
    image = push(ecr_backend, source, "app", "v1")
    statuses = replication.replication_statuses(image)
    assert [(s["region"], s["status"]) for s in statuses] == [(WEST, "COMPLETE")]
    assert list(source.repositories["app"].images) == [image.digest]


# ----- cross-account ---------------------------------------------------------------------------


def test_cross_account_without_a_registry_policy_fails_and_copies_nothing(
    ecr_backend: Backend, source: Registry
) -> None:
    configure(ecr_backend, source, {"destinations": [dest(EAST, OTHER)]})
    image = push(ecr_backend, source, "app", "v1")
    other = ecr_backend.registry(OTHER, EAST)
    assert other.repositories == {}
    assert other.blobs == {}
    [status] = replication.replication_statuses(image)
    assert status["status"] == "FAILED"
    assert status["failureCode"].startswith("REGISTRY_POLICY_DENIED")


def test_cross_account_needs_create_repository_when_the_repository_is_missing(
    ecr_backend: Backend, source: Registry
) -> None:
    configure(ecr_backend, source, {"destinations": [dest(EAST, OTHER)]})
    other = ecr_backend.registry(OTHER, EAST)
    other.policy_text = allow_replication_policy(SOURCE, ["ecr:ReplicateImage"])
    image = push(ecr_backend, source, "app", "v1")
    [status] = replication.replication_statuses(image)
    assert status["status"] == "FAILED"
    assert "ecr:CreateRepository" in status["failureCode"]
    ecr_backend.create_repository(other, "app")
    image = push(ecr_backend, source, "app", "v2", seed="b")
    [status] = replication.replication_statuses(image)
    assert status["status"] == "COMPLETE"
    assert other.repositories["app"].tags == {"v2": image.digest}


def test_cross_account_policy_of_another_account_does_not_allow(
    ecr_backend: Backend, source: Registry
) -> None:
    configure(ecr_backend, source, {"destinations": [dest(EAST, OTHER)]})
    ecr_backend.registry(OTHER, EAST).policy_text = allow_replication_policy(
        "333333333333", ["ecr:ReplicateImage", "ecr:CreateRepository"]
    )
    image = push(ecr_backend, source, "app", "v1")
    assert replication.replication_statuses(image)[0]["status"] == "FAILED"


# ----- destination repositories and templates --------------------------------------------------


def test_the_destination_repository_is_created_from_a_replication_template(
    ecr_backend: Backend, source: Registry
) -> None:
    west = ecr_backend.registry(SOURCE, WEST)
    create_template(
        ecr_backend,
        west,
        "prod",
        TemplateSettings(
            applied_for=[REPLICATION],
            tag_mutability="IMMUTABLE",
            resource_tags={"team": "core"},
            encryption={"encryptionType": "KMS"},
        ),
    )
    configure(ecr_backend, source, {"destinations": [dest(WEST)]})
    push(ecr_backend, source, "prod/api", "v1")
    push(ecr_backend, source, "dev/api", "v1", seed="b")
    templated: Repository = west.repositories["prod/api"]
    assert templated.tag_mutability == "IMMUTABLE"
    assert templated.resource_tags == {"team": "core"}
    assert templated.encryption["encryptionType"] == "KMS"
    assert templated.encryption["kmsKey"].startswith(f"arn:aws:kms:{WEST}:{SOURCE}:key/")
    plain = west.repositories["dev/api"]
    assert plain.tag_mutability == "MUTABLE"
    assert plain.resource_tags == {}


def test_an_immutable_tag_in_the_destination_fails_without_changing_it(
    ecr_backend: Backend, source: Registry
) -> None:
    west = ecr_backend.registry(SOURCE, WEST)
    ecr_backend.create_repository(west, "app", tag_mutability="IMMUTABLE")
    first = push(ecr_backend, west, "app", "v1", seed="west")
    configure(ecr_backend, source, {"destinations": [dest(WEST)]})
    image = push(ecr_backend, source, "app", "v1", seed="east")
    [status] = replication.replication_statuses(image)
    assert status["status"] == "FAILED"
    assert status["failureCode"].startswith("ImageTagAlreadyExistsException")
    assert west.repositories["app"].tags == {"v1": first.digest}
    assert image.digest not in west.repositories["app"].images


# ----- /v2/ in the destination -----------------------------------------------------------------


def test_a_replica_is_pulled_through_v2_in_the_destination_region(
    ecr_backend: Backend, source: Registry
) -> None:
    from ecr_mock.protocols.registry.app import RegistryApp, basic_auth_headers

    configure(ecr_backend, source, {"destinations": [dest(WEST)]})
    image = push(ecr_backend, source, "team/app", "v1")
    client = Client(RegistryApp(ecr_backend))
    headers = basic_auth_headers(ecr_backend, SOURCE, WEST)
    base = f"https://{SOURCE}.dkr.ecr.{WEST}.amazonaws.com"
    manifest = client.get(
        "/v2/team/app/manifests/v1",
        base_url=base,
        headers={**headers, "Accept": OCI_MANIFEST},
    )
    assert manifest.status_code == 200
    assert manifest.get_data() == image.manifest
    assert manifest.headers["Docker-Content-Digest"] == image.digest
    for digest in image.parsed.blob_digests():
        blob = client.get(
            f"/v2/team/app/blobs/{digest}", base_url=base, headers=headers, follow_redirects=True
        )
        assert blob.status_code == 200
        assert sha256(blob.get_data()) == digest
