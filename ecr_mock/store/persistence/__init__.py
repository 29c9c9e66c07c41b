"""Keeping the state across restarts: a generic codec and the state directory format."""

from ecr_mock.store.persistence.statedir import SCHEMA_VERSION, StateDir, StateDirError

__all__ = ["SCHEMA_VERSION", "StateDir", "StateDirError"]
