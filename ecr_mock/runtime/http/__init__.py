"""HTTP for the live server: the engine (socket, threads, handler), the front, the server.

The wire rules (framing, chunked coding, ranges) are in :mod:`ecr_mock.protocols.wire` and the
environ keys, header names and the body reader in :mod:`ecr_mock.protocols.wsgi`, since the
protocol applications use them too.
"""

from ecr_mock.runtime.http.front import EcrMockApp
from ecr_mock.runtime.http.server import EcrMockServer, serve_backend

__all__ = ["EcrMockApp", "EcrMockServer", "serve_backend"]
