"""Which answers wait for a save, from the operation and route specs: a change is saved first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecr_mock.protocols.ecr_api.spec import operation, target_operation
from ecr_mock.protocols.registry.routes import Match, match
from ecr_mock.protocols.registry.spec import route_spec
from ecr_mock.protocols.wsgi import TARGET_ENVIRON

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

__all__ = ["changes_an_upload", "saves_at_once"]

_READS = frozenset({"GET", "HEAD", "OPTIONS", "PATCH"})
"""Methods whose requests never wait for a save (PATCH: an upload chunk, saved with its blob)."""


def saves_at_once(environ: WSGIEnvironment) -> bool | str:
    """Whether a request may change saved state, so its answer waits for the save.

    The spec of the ECR operation or registry route decides: False for those that only read
    or whose changes are saved in the background (uploads, blobs, pull times); a repository
    name for manifest pushes and deletions (only that repository's images need looking at);
    True for the rest, and for every other request that is not a read (the control API).
    """
    method = environ.get("REQUEST_METHOD", "GET")
    if method in _READS:
        return False
    path = environ.get("PATH_INFO") or "/"
    if path == "/" and method == "POST":
        service, name = target_operation(str(environ.get(TARGET_ENVIRON, "")))
        if service is None:
            return True  # not ECR's: moto's services, or a refusal
        spec = operation(service, name)
        return spec is not None and spec.saves
    if path.startswith("/v2/") or path == "/token":
        found = match(path, method)
        if not isinstance(found, Match):
            return False  # refused: nothing changed
        route = route_spec(found.route.name, method)
        if route is None or not route.saves:
            return False
        return found.params["name"] if route.save_scope == "repository" else True
    return True


def changes_an_upload(environ: WSGIEnvironment) -> bool:
    """Whether a request may start, extend or end an upload session (saved at once, so a
    client may resume its upload after a restart)."""
    method = environ.get("REQUEST_METHOD", "GET")
    if method in ("GET", "HEAD", "OPTIONS"):
        return False
    path = environ.get("PATH_INFO") or "/"
    if "/blobs/uploads" in path:
        return True
    if path != "/":
        return False
    _, name = target_operation(str(environ.get(TARGET_ENVIRON, "")))
    return name in _UPLOAD_API


_UPLOAD_API = frozenset({"InitiateLayerUpload", "UploadLayerPart", "CompleteLayerUpload"})
