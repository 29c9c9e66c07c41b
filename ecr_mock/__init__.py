"""ecr_mock: a local, offline emulator of Amazon ECR (the ECR API and an OCI registry)."""

from ecr_mock.core.backend import Backend
from ecr_mock.core.clock import Clock
from ecr_mock.core.errors import EcrError
from ecr_mock.core.models import Principal
from ecr_mock.mock import mock_ecr

__all__ = ["Backend", "Clock", "EcrError", "Principal", "mock_ecr"]
__version__ = "0.1.0"
