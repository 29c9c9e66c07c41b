"""The emulator's control endpoint: tests set scan findings over HTTP (``/ecr-mock/findings/``)."""

from __future__ import annotations

import json
import re

from ecr_mock.core.backend import Backend
from ecr_mock.core.errors import EcrError
from ecr_mock.core.names import is_digest
from ecr_mock.core.services.scanning import set_scan_findings

FINDINGS_PREFIX = "/ecr-mock/findings/"
_FINDINGS_PATH = re.compile(
    r"^/ecr-mock/findings/(?P<account>[0-9]{12})/(?P<region>[a-z0-9-]+)/"
    r"(?P<repository>[^@]+?)(?:@(?P<digest>[^/@]+))?/?$"
)

Answer = tuple[int, bytes]


def _json(status: int, doc: object) -> Answer:
    return status, json.dumps(doc).encode()


def _error(status: int, message: str) -> Answer:
    return _json(status, {"message": message})


def handle_findings_request(backend: Backend, method: str, path: str, body: bytes) -> Answer:
    """Serve ``/ecr-mock/findings/<account>/<region>/<repository>[@<digest>]``.

    * ``PUT`` with a JSON list of ``{name, severity, description?, uri?, attributes?}``: scans
      of that image (or of every image of the repository) report these findings, including
      scans already completed. 200 ``{"repository", "digest", "findings": <count>}``.
    * ``GET``: the findings set there (200) or 404 when none were set.
    * ``DELETE``: back to the built-in deterministic findings (204).

    Returns (status, JSON body); 400 for a malformed body, 404 for another path, 405 for
    another method.
    """
    match = _FINDINGS_PATH.match(path.split("?", 1)[0])
    if match is None:
        return _error(
            404,
            f"Expected /ecr-mock/findings/<account>/<region>/<repository>[@<digest>], got {path!r}",
        )
    account, region = match.group("account"), match.group("region")
    repository, digest = match.group("repository"), match.group("digest")
    if digest is not None and not is_digest(digest):
        return _error(400, f"Invalid digest: {digest!r}")
    verb = method.upper()
    if verb == "PUT":
        try:
            findings = json.loads(body or b"null")
        except (ValueError, RecursionError):
            return _error(400, "The body must be a JSON list of findings")
        if not isinstance(findings, list):
            return _error(400, "The body must be a JSON list of findings")
        try:
            set_scan_findings(backend, repository, findings, digest, account, region)
        except EcrError as exc:
            return _error(400, exc.message)
        return _json(200, {"repository": repository, "digest": digest, "findings": len(findings)})
    if verb == "GET":
        table = backend.registry(account, region).scan_findings
        found = table.get(repository, {}).get(digest)
        if found is None:
            return _error(404, "No findings were set for this image or repository")
        return _json(200, found)
    if verb == "DELETE":
        set_scan_findings(backend, repository, None, digest, account, region)
        return 204, b""
    return _error(405, f"Method {verb} is not allowed here; use PUT, GET or DELETE")
