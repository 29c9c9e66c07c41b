"""One module per group of ECR operations; importing this package registers them all."""

from ecr_mock.ecr_api.operations import repositories

__all__ = ["repositories"]
