"""Which answers wait for a save: a request that may change saved state is answered after it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

__all__ = ["saves_at_once"]

_READ_ONLY_API = frozenset(
    {
        "BatchCheckLayerAvailability",
        "BatchGetImage",
        "BatchGetRepositoryScanningConfiguration",
        "CompleteLayerUpload",
        "InitiateLayerUpload",
        "UploadLayerPart",
        "ValidatePullThroughCacheRule",
    }
)
"""ECR operations whose changes (pull times, uploads) need not be saved before answering."""


def saves_at_once(environ: WSGIEnvironment) -> bool | str:
    """Whether a request may change saved state, so its answer waits for the save.

    False for reads, upload starts, chunks and completions (blobs become durable in the
    background, and at the latest with the manifest that names them) and for pulls (pull
    times are saved within a second); a repository name for manifest pushes and deletions
    (only that repository's images need looking at); True for everything else.
    """
    method = environ.get("REQUEST_METHOD", "GET")
    if method in ("GET", "HEAD", "OPTIONS", "PATCH"):
        return False
    path = environ.get("PATH_INFO") or "/"
    if path.startswith("/v2/"):
        name, found, _ = path[len("/v2/") :].rpartition("/manifests/")
        if found:
            return name
        return "/blobs/uploads/" not in path
    if path == "/" and method == "POST":
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        operation = target.rsplit(".", 1)[-1]
        if operation in _READ_ONLY_API:
            return False
        if operation.startswith(("Describe", "List")):
            return False
        return not (operation.startswith("Get") and operation != "GetAuthorizationToken")
    return True
