"""One module per group of ECR operations; importing this package registers them all."""

from ecr_mock.ecr_api.operations import auth, images, layers, policies, repositories, tagging

__all__ = ["auth", "images", "layers", "policies", "repositories", "tagging"]
