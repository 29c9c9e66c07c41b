"""ecr_mock: a local, offline emulator of Amazon ECR (the ECR API and an OCI registry)."""

from ecr_mock import _moved
from ecr_mock.domain.errors import EcrError
from ecr_mock.domain.models import Principal
from ecr_mock.services.backend import Backend
from ecr_mock.store.clock import Clock
from ecr_mock.testing.mock import mock_ecr

__all__ = ["Backend", "Clock", "EcrError", "Principal", "mock_ecr"]
__version__ = "0.1.0"

_moved.install()  # the paths modules had before the layers keep importing, with a warning
