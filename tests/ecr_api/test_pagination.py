"""Pagination of ListImages and DescribeImages: maxResults, nextToken, paginators, laziness."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ecr_mock.domain.models import Image, Repository
from ecr_mock.services.backend import Backend
from tests.ecr_api.helpers import call, config_blob, error, image_manifest, upload_layer

REPO = "team/paged"

pytestmark = pytest.mark.ecr_seed({"repositories": [{"name": REPO}]})


def fill(client: Any, backend: Backend, count: int, tagged_every: int = 1) -> list[str]:
    """Put ``count`` distinct images (sharing blobs); every ``tagged_every``-th one tagged."""
    config = config_blob("paged")
    layer = b"shared layer bytes"
    upload_layer(client, REPO, config)
    upload_layer(client, REPO, layer)
    reg = backend.registry()
    repo = reg.repositories[REPO]
    digests = []
    for i in range(count):
        manifest = image_manifest(config, [layer], extra={"annotations": {"n": str(i)}})
        tag = f"v{i}" if i % tagged_every == 0 else None
        digests.append(backend.put_image(reg, repo, manifest.encode(), tag=tag).digest)
    return digests


def test_list_images_default_page_is_100_and_tokens_walk_every_entry(
    ecr_client: Any, ecr_backend: Backend
) -> None:
    digests = fill(ecr_client, ecr_backend, 250)
    seen: list[str] = []
    sizes = []
    kwargs: dict[str, Any] = {}
    while True:
        page = ecr_client.list_images(repositoryName=REPO, **kwargs)
        sizes.append(len(page["imageIds"]))
        seen.extend(i["imageDigest"] for i in page["imageIds"])
        if "nextToken" not in page:
            break
        kwargs = {"nextToken": page["nextToken"]}
    assert sizes == [100, 100, 50]
    assert seen == digests


def test_describe_images_default_page_is_100_and_tokens_walk_every_image(
    ecr_client: Any, ecr_backend: Backend
) -> None:
    digests = fill(ecr_client, ecr_backend, 150)
    first = ecr_client.describe_images(repositoryName=REPO)
    assert len(first["imageDetails"]) == 100
    second = ecr_client.describe_images(repositoryName=REPO, nextToken=first["nextToken"])
    assert "nextToken" not in second
    got = [d["imageDigest"] for d in first["imageDetails"] + second["imageDetails"]]
    assert got == digests


def test_max_results_sets_the_page_size(ecr_client: Any, ecr_backend: Backend) -> None:
    fill(ecr_client, ecr_backend, 7)
    page = ecr_client.describe_images(repositoryName=REPO, maxResults=3)
    assert len(page["imageDetails"]) == 3
    listed = ecr_client.list_images(repositoryName=REPO, maxResults=1000)
    assert len(listed["imageIds"]) == 7
    assert "nextToken" not in listed


def test_last_full_page_has_no_next_token(ecr_client: Any, ecr_backend: Backend) -> None:
    fill(ecr_client, ecr_backend, 4)
    page = ecr_client.list_images(repositoryName=REPO, maxResults=4)
    assert len(page["imageIds"]) == 4
    assert "nextToken" not in page


def test_list_images_pages_count_tags_not_images(ecr_client: Any, ecr_backend: Backend) -> None:
    digest = fill(ecr_client, ecr_backend, 1)[0]
    repo = ecr_backend.registry().repositories[REPO]
    image = repo.images[digest]
    for tag in ("a", "b"):
        ecr_backend.put_image(ecr_backend.registry(), repo, image.manifest, tag=tag)
    first = ecr_client.list_images(repositoryName=REPO, maxResults=2)
    second = ecr_client.list_images(repositoryName=REPO, maxResults=2, nextToken=first["nextToken"])
    tags = [i["imageTag"] for i in first["imageIds"] + second["imageIds"]]
    assert tags == ["v0", "a", "b"]


def test_filtered_listings_paginate_over_matching_images_only(
    ecr_client: Any, ecr_backend: Backend
) -> None:
    digests = fill(ecr_client, ecr_backend, 30, tagged_every=3)
    untagged = [d for i, d in enumerate(digests) if i % 3 != 0]
    paginator = ecr_client.get_paginator("describe_images")
    pages = list(
        paginator.paginate(
            repositoryName=REPO,
            filter={"tagStatus": "UNTAGGED"},
            PaginationConfig={"PageSize": 7},
        )
    )
    assert [len(p["imageDetails"]) for p in pages] == [7, 7, 6]
    assert [d["imageDigest"] for p in pages for d in p["imageDetails"]] == untagged
    listed = ecr_client.get_paginator("list_images").paginate(
        repositoryName=REPO, filter={"tagStatus": "TAGGED"}, PaginationConfig={"PageSize": 4}
    )
    assert [i["imageTag"] for p in listed for i in p["imageIds"]] == [
        f"v{i}" for i in range(0, 30, 3)
    ]


def test_boto3_paginators_return_every_image_once(ecr_client: Any, ecr_backend: Backend) -> None:
    digests = fill(ecr_client, ecr_backend, 23)
    listed = ecr_client.get_paginator("list_images").paginate(
        repositoryName=REPO, PaginationConfig={"PageSize": 5}
    )
    assert [i["imageDigest"] for p in listed for i in p["imageIds"]] == digests
    described = ecr_client.get_paginator("describe_images").paginate(
        repositoryName=REPO, PaginationConfig={"PageSize": 5}
    )
    assert [d["imageDigest"] for p in described for d in p["imageDetails"]] == digests


def test_malformed_next_token_raises_invalid_parameter(
    ecr_client: Any, ecr_backend: Backend
) -> None:
    fill(ecr_client, ecr_backend, 2)
    for operation in (ecr_client.list_images, ecr_client.describe_images):
        with pytest.raises(ClientError) as exc:
            operation(repositoryName=REPO, nextToken="garbage!")
        assert error(exc)[0] == "InvalidParameterException"


@pytest.mark.parametrize("operation", ["ListImages", "DescribeImages"])
@pytest.mark.parametrize("size", [0, 1001])
def test_max_results_outside_1_to_1000_is_refused(
    ecr_backend: Backend, operation: str, size: int
) -> None:
    status, body = call(ecr_backend, operation, {"repositoryName": REPO, "maxResults": size})
    assert status == 400
    assert body["__type"] == "InvalidParameterException"
    assert "maxResults" in body["message"]


class CountingImages(dict[str, Image]):
    """The images of a repository, counting how many a listing reads."""

    read = 0

    def values(self) -> Any:
        def counted() -> Iterator[Image]:
            for image in super(CountingImages, self).values():
                self.read += 1
                yield image

        return counted()


def count_reads(repo: Repository) -> CountingImages:
    counting = CountingImages(repo.images)
    repo.images = counting
    return counting


def test_first_page_reads_only_as_far_as_the_page_in_a_large_repository(
    ecr_client: Any, ecr_backend: Backend
) -> None:
    fill(ecr_client, ecr_backend, 3000)
    counting = count_reads(ecr_backend.registry().repositories[REPO])
    page = ecr_client.describe_images(repositoryName=REPO, maxResults=100)
    assert len(page["imageDetails"]) == 100
    assert counting.read <= 101
    counting.read = 0
    listed = ecr_client.list_images(repositoryName=REPO, maxResults=50)
    assert len(listed["imageIds"]) == 50
    assert counting.read <= 51
