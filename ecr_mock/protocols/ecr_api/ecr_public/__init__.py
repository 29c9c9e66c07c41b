"""The ECR Public API (``ecr-public``): its operations beside ECR's in ``ecr_api/ecr/``."""
