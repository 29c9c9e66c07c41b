"""The ECR JSON 1.1 API: dispatch, validation, access table; ``ecr/`` and ``ecr_public/`` operations."""
