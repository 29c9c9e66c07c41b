"""Example: delete the untagged images of a repository with ListImages and BatchDeleteImage.

Every push that moves a tag leaves the previous image untagged. This cleanup lists them with
``filter={"tagStatus": "UNTAGGED"}`` and deletes them 100 at a time. Run it as
``python examples/cleanup_untagged.py`` to see it against an in-process ecr_mock.
"""

from __future__ import annotations

from typing import Any

from ecr_mock import mock_ecr

BATCH_DELETE_LIMIT = 100


def delete_untagged(ecr: Any, repository: str) -> list[str]:
    """Delete every untagged image of ``repository``; returns the deleted digests.

    Raises RuntimeError listing the failures when ECR refuses to delete some image.
    """
    pages = ecr.get_paginator("list_images").paginate(
        repositoryName=repository, filter={"tagStatus": "UNTAGGED"}
    )
    untagged = [image_id for page in pages for image_id in page["imageIds"]]
    deleted: list[str] = []
    for start in range(0, len(untagged), BATCH_DELETE_LIMIT):
        batch = untagged[start : start + BATCH_DELETE_LIMIT]
        result = ecr.batch_delete_image(repositoryName=repository, imageIds=batch)
        deleted.extend(image_id["imageDigest"] for image_id in result["imageIds"])
        if result.get("failures"):
            raise RuntimeError(f"could not delete: {result['failures']}")
    return deleted


def main() -> None:
    """Push three releases under one tag, then delete the two left untagged."""
    import boto3
    from push_with_layer_api import push_image

    with mock_ecr():
        ecr = boto3.client("ecr", region_name="us-east-1")
        ecr.create_repository(repositoryName="batch/worker")
        for release in (b"1", b"2", b"3"):
            push_image(ecr, "batch/worker", "latest", {"worker": b"release " + release})
        for digest in delete_untagged(ecr, "batch/worker"):
            print("deleted", digest)
        left = ecr.list_images(repositoryName="batch/worker")["imageIds"]
        print("left", [image_id.get("imageTag") for image_id in left])


if __name__ == "__main__":
    main()
