"""The ECR domain: state, rules and errors, free of any transport."""

from ecr_mock.core.backend import Backend
from ecr_mock.core.clock import Clock
from ecr_mock.core.errors import EcrError
from ecr_mock.core.models import Image, Principal, Registry, Repository

__all__ = ["Backend", "Clock", "EcrError", "Image", "Principal", "Registry", "Repository"]
