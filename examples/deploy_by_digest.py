"""Example: a deploy step that pins a tag to its immutable digest with DescribeImages.

Tags move; digests do not. A deploy script resolves ``repository:tag`` once and deploys
``<repositoryUri>@sha256:...`` so every host runs the same bytes. Run it as
``python examples/deploy_by_digest.py`` to see it against an in-process ecr_mock.
"""

from __future__ import annotations

from typing import Any

from ecr_mock import mock_ecr


def image_reference(ecr: Any, repository: str, tag: str) -> str:
    """``<repositoryUri>@<digest>`` of the image ``repository:tag`` points at now.

    Raises botocore's ``ImageNotFoundException`` (or ``RepositoryNotFoundException``) when
    there is nothing to deploy.
    """
    details = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
    digest = details["imageDetails"][0]["imageDigest"]
    repo = ecr.describe_repositories(repositoryNames=[repository])["repositories"][0]
    return f"{repo['repositoryUri']}@{digest}"


def main() -> None:
    """Push an image, move its tag, and print the references a deploy would pin."""
    import boto3
    from push_with_layer_api import push_image

    with mock_ecr():
        ecr = boto3.client("ecr", region_name="us-west-2")
        ecr.create_repository(repositoryName="shop/api")
        push_image(ecr, "shop/api", "prod", {"app": b"release 1"})
        print("deploy", image_reference(ecr, "shop/api", "prod"))
        push_image(ecr, "shop/api", "prod", {"app": b"release 2"})
        print("deploy", image_reference(ecr, "shop/api", "prod"))


if __name__ == "__main__":
    main()
