"""The seed service: checking a document into a plan, synthetic images, applying all or nothing."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from ecr_mock import Backend, Clock
from ecr_mock.domain.models import Registry
from ecr_mock.services import seed

NOW = datetime(2026, 8, 1, 12, 0, tzinfo=timezone.utc)


def plan(doc: Any) -> list[seed.RegistryPlan]:
    return seed.build_plan(doc, "123456789012", "us-east-1", NOW, ".")


def test_a_document_becomes_one_plan_per_registry() -> None:
    plans = plan(
        {
            "repositories": [
                {"name": "app", "images": [{"synthetic": {"layers": 2}, "tags": ["v1"]}]}
            ],
            "registries": [{"account": "111122223333", "region": "eu-west-1"}],
        }
    )
    assert [(p.account, p.region) for p in plans] == [
        ("123456789012", "us-east-1"),
        ("111122223333", "eu-west-1"),
    ]
    (repo,) = plans[0].repositories
    (image,) = repo.images
    assert (repo.name, image.tags) == ("app", ["v1"])
    assert len(image.blobs) == 3  # two layers and the config


@pytest.mark.parametrize(
    ("doc", "path"),
    [
        ({"version": 2}, "version"),
        ({"colour": "red"}, "colour"),
        ({"registries": [{"account": "12"}]}, "registries[0].account"),
        ({"registries": [{"region": "moon"}]}, "registries[0].region"),
        ({"repositories": [{"name": "app", "images": [{"synthetic": {"layers": -1}}]}]}, "layers"),
    ],
)
def test_a_bad_document_names_the_field(doc: dict[str, Any], path: str) -> None:
    with pytest.raises(seed.SeedError) as refused:
        plan(doc)
    assert path in refused.value.path


def test_synthetic_images_are_deterministic_per_seed() -> None:
    spec = {"layers": 2, "layerSize": 64, "seed": "s"}
    first = seed.synthetic_image(spec, "x", "default", NOW)
    again = seed.synthetic_image(spec, "x", "default", NOW)
    other = seed.synthetic_image({**spec, "seed": "t"}, "x", "default", NOW)
    assert first == again
    assert first[0] != other[0]
    manifest = json.loads(first[0][0][0])
    assert [layer["digest"] in first[1] for layer in manifest["layers"]] == [True, True]
    assert manifest["config"]["digest"] in first[1]


@pytest.mark.parametrize(
    ("policy", "path"),
    [
        ({}, ".rules"),
        ({"rules": [{"rulePriority": 0}]}, ".rules[0].rulePriority"),
        (
            {"rules": [{"rulePriority": 1, "selection": {"tagStatus": "sometimes"}}]},
            ".rules[0].selection.tagStatus",
        ),
        (
            {
                "rules": [
                    {
                        "rulePriority": 1,
                        "selection": {"tagStatus": "any", "countNumber": 1},
                        "action": {"type": "burn"},
                    }
                ]
            },
            ".rules[0].action",
        ),
    ],
)
def test_lifecycle_field_path_points_at_the_first_bad_field(
    policy: dict[str, Any], path: str
) -> None:
    assert seed.lifecycle_field_path(policy, json.dumps(policy)) == path


def test_apply_creates_repositories_images_and_settings(
    ecr_backend: Backend, ecr_clock: Clock, reg: Registry
) -> None:
    ecr_clock.freeze(NOW)
    created = seed.apply_seed(
        ecr_backend,
        {
            "accountSettings": {"BLOB_MOUNTING": "DISABLED"},
            "repositories": [
                {
                    "name": "team/app",
                    "imageTagMutability": "IMMUTABLE",
                    "images": [{"synthetic": {}, "tags": ["v1"], "pushedDaysAgo": 3}],
                }
            ],
        },
    )
    assert created["repositories"] and created["images"]
    repo = reg.repositories["team/app"]
    assert repo.tag_mutability == "IMMUTABLE"
    (image,) = repo.images.values()
    assert image.tags == ["v1"] and image.pushed_at == NOW - timedelta(days=3)
    assert reg.settings["BLOB_MOUNTING"] == "DISABLED"


def test_apply_is_all_or_nothing(ecr_backend: Backend, reg: Registry) -> None:
    with pytest.raises(seed.SeedError) as refused:
        seed.apply_seed(
            ecr_backend,
            {
                "repositories": [
                    {"name": "first"},
                    {"name": "second", "imageTagMutability": "FROZEN"},
                ]
            },
        )
    assert refused.value.path.startswith("repositories[1]")
    assert "InvalidParameterException" in refused.value.message
    assert reg.repositories == {}


def test_apply_refuses_what_exists_already(ecr_backend: Backend, reg: Registry) -> None:
    seed.apply_seed(ecr_backend, {"repositories": [{"name": "app"}]})
    with pytest.raises(seed.SeedError) as refused:
        seed.apply_seed(ecr_backend, {"repositories": [{"name": "new"}, {"name": "app"}]})
    assert "RepositoryAlreadyExists" in refused.value.message
    assert sorted(reg.repositories) == ["app"]


def test_a_backend_without_the_api_cannot_be_seeded() -> None:
    with pytest.raises(seed.SeedError, match="no ECR API attached"):
        seed.apply_seed(Backend(), {"repositories": [{"name": "app"}]})
