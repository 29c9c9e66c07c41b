"""One declarative spec per registry route and method: its fault name, quota, IAM actions, change.

A :class:`RouteSpec` says what a request to one route with one method is: the name fault rules
and call records use, the API operation whose quota bucket it draws from, the IAM actions ECR
checks for it, and what it does to saved state (``reads``, ``deferred``: saved in the background,
``saved``: the answer waits for the save, of one ``repository`` or of everything). The fault
catalogue's route names, the quota keys and the server's "save before answering" rule for
``/v2/`` come from :data:`ROUTE_SPECS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from ecr_mock.services import registry_auth as actions

__all__ = ["ROUTE_SPECS", "RouteSpec", "route_spec"]

Change = Literal["reads", "deferred", "saved"]


@dataclass(frozen=True)
class RouteSpec:
    """Every fact about one (route, method) of the registry."""

    route: str
    method: str
    fault_name: str | None
    """The name fault rules and call records use (None: neither sees the route)."""
    change: Change = "reads"
    quota: str | None = None
    """The API operation whose rate quota the request counts against."""
    actions: tuple[str, ...] = ()
    """The IAM actions ECR checks (documentation of the handlers' checks)."""
    save_scope: Literal["all", "repository"] = "all"
    """What a ``saved`` request saves before answering: everything, or its repository."""

    @property
    def mutates(self) -> bool:
        """True when a request may change saved state."""
        return self.change != "reads"

    @property
    def saves(self) -> bool:
        """True when the answer waits for the save."""
        return self.change == "saved"


def _spec(
    route: str,
    method: str,
    name: str | None,
    change: Change = "reads",
    quota: str | None = None,
    *acts: str,
    scope: Literal["all", "repository"] = "all",
) -> RouteSpec:
    return RouteSpec(route, method, name, change, quota, acts, scope)


_SPECS = (
    _spec("base", "GET", "base"),
    _spec("base", "HEAD", "base"),
    _spec("catalog", "GET", "catalog", "reads", None, actions.DESCRIBE_REPOSITORIES),
    _spec("tags_list", "GET", "tags.list", "reads", None, actions.LIST_IMAGES),
    _spec("manifest", "HEAD", "manifest.head", "deferred", "BatchGetImage", actions.PULL_MANIFEST),
    _spec("manifest", "GET", "manifest.get", "deferred", "BatchGetImage", actions.PULL_MANIFEST),
    _spec(
        "manifest",
        "PUT",
        "manifest.put",
        "saved",
        "PutImage",
        actions.PUT_IMAGE,
        scope="repository",
    ),
    _spec(
        "manifest",
        "DELETE",
        "manifest.delete",
        "saved",
        None,
        actions.DELETE_IMAGE,
        scope="repository",
    ),
    _spec("blob", "HEAD", "blob.head", "reads", "BatchCheckLayerAvailability", actions.CHECK_BLOB),
    _spec("blob", "GET", "blob.get", "deferred", "GetDownloadUrlForLayer", actions.PULL_BLOB),
    _spec("blob", "DELETE", "blob.delete", "saved", None, actions.DELETE_IMAGE),
    _spec(
        "upload_start",
        "POST",
        "upload.start",
        "deferred",
        "InitiateLayerUpload",
        actions.INITIATE_UPLOAD,
    ),
    _spec("upload", "PATCH", "upload.chunk", "deferred", "UploadLayerPart", actions.UPLOAD_PART),
    _spec(
        "upload",
        "PUT",
        "upload.complete",
        "deferred",
        "CompleteLayerUpload",
        actions.COMPLETE_UPLOAD,
    ),
    _spec("upload", "GET", "upload.status", "reads", None, actions.UPLOAD_PART),
    _spec("upload", "DELETE", "upload.cancel", "deferred", None, actions.UPLOAD_PART),
    _spec("referrers", "GET", "referrers", "reads", None, actions.PULL_MANIFEST),
    _spec("layer_download", "GET", "layer.download", "deferred"),
    _spec("layer_download", "HEAD", "layer.download"),
    _spec("token", "GET", "token", "deferred"),
    _spec("token", "POST", "token", "saved"),
    _spec("public_logo", "GET", None),
    _spec("public_logo", "HEAD", None),
)

ROUTE_SPECS: Mapping[tuple[str, str], RouteSpec] = {(s.route, s.method): s for s in _SPECS}
"""(route name, method) -> its spec."""


def route_spec(route: str, method: str) -> RouteSpec | None:
    """The spec of a request to ``route`` with ``method``; None when the route lacks it."""
    return ROUTE_SPECS.get((route, method))
