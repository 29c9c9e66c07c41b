"""The core's services: the entry points adapters call, one module per capability.

Every service is a function over a :class:`Store` (re-exported here as the one type an adapter
names); it takes the store's lock for every change it makes.
"""

from ecr_mock.store.state import Store

__all__ = ["Store"]
