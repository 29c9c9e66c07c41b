"""Moved to :mod:`ecr_mock.protocols.wire`; this name keeps importing."""

from ecr_mock.protocols.wire import *  # noqa: F403
from ecr_mock.protocols.wire import __all__ as __all__
