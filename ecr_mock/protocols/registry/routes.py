"""The registry's named routes: path patterns (names may hold slashes) and allowed methods."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ecr_mock.services.download_urls import LAYER_PATH_PREFIX
from ecr_mock.services.public import LOGO_PATH_PREFIX

TOKEN_PATH = "/token"
"""ECR Public's token endpoint (the ``realm`` of its Bearer challenge)."""


@dataclass(frozen=True)
class Route:
    """A named route: a full-path pattern, the methods it serves, and whether it needs a token."""

    name: str
    pattern: re.Pattern[str]
    methods: frozenset[str]
    authenticated: bool = True


def _route(name: str, pattern: str, methods: str, authenticated: bool = True) -> Route:
    return Route(name, re.compile(pattern), frozenset(methods.split()), authenticated)


# Order matters: a repository name may contain any path segment, so the most specific suffixes
# come first and the name group is greedy (digests, references and ids hold no slash).
ROUTES: tuple[Route, ...] = (
    _route("base", r"/v2/?", "GET HEAD"),
    _route("catalog", r"/v2/_catalog", "GET"),
    _route(
        "upload", r"/v2/(?P<name>.+)/blobs/uploads/(?P<upload_id>[^/]+)", "GET PATCH PUT DELETE"
    ),
    _route("upload_start", r"/v2/(?P<name>.+)/blobs/uploads/?", "POST"),
    _route("blob", r"/v2/(?P<name>.+)/blobs/(?P<digest>[^/]+)", "GET HEAD DELETE"),
    _route("manifest", r"/v2/(?P<name>.+)/manifests/(?P<reference>[^/]+)", "GET HEAD PUT DELETE"),
    _route("referrers", r"/v2/(?P<name>.+)/referrers/(?P<digest>[^/]+)", "GET"),
    _route("tags_list", r"/v2/(?P<name>.+)/tags/list", "GET"),
    _route(
        "layer_download",
        re.escape(LAYER_PATH_PREFIX)
        + r"/(?P<account>[0-9]{12})/(?P<region>[a-z0-9-]+)/(?P<name>.+)/(?P<digest>[^/]+)",
        "GET HEAD",
        authenticated=False,
    ),
    _route("token", re.escape(TOKEN_PATH), "GET POST", authenticated=False),
    _route(
        "public_logo",
        re.escape(LOGO_PATH_PREFIX) + r"/(?P<account>[0-9]{12})/(?P<name>.+)",
        "GET HEAD",
        authenticated=False,
    ),
)


@dataclass(frozen=True)
class Match:
    """The route a request goes to, with the path parameters."""

    route: Route
    params: dict[str, str]


def match(path: str, method: str) -> Match | tuple[str, ...] | None:
    """The matching route; the allowed methods when only the method is wrong; None otherwise."""
    allowed: set[str] = set()
    for route in ROUTES:
        found = route.pattern.fullmatch(path)
        if found is None:
            continue
        if method in route.methods:
            return Match(route, {k: v for k, v in found.groupdict().items() if v is not None})
        allowed.update(route.methods)
    if allowed:
        return tuple(sorted(allowed))
    return None


def is_registry_path(path: str) -> bool:
    """True for paths this app serves (``/v2``, ``/token``, layer download URLs and logos)."""
    return path in ("/v2", TOKEN_PATH) or path.startswith(
        ("/v2/", LAYER_PATH_PREFIX + "/", LOGO_PATH_PREFIX + "/")
    )
