"""One handler per registry route and method, each calling the core's operations."""

from __future__ import annotations

import contextlib
import json
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable
from typing import IO, Any, cast
from urllib.parse import urlencode

from werkzeug.exceptions import ClientDisconnected
from werkzeug.wrappers import Request, Response

from ecr_mock.core.backend import Backend
from ecr_mock.core.blobs import Blob, UploadSession
from ecr_mock.core.errors import (
    AccessDenied,
    DigestInvalid,
    EcrError,
    ImageNotFound,
    ImageTagAlreadyExists,
    RangeInvalid,
    RepositoryNotFound,
    SizeInvalid,
    UploadNotFound,
)
from ecr_mock.core.manifests import (
    DOCKER_MANIFEST,
    INDEX_TYPES,
    MAX_MANIFEST_BYTES,
    OCI_INDEX,
    OCI_MANIFEST,
    SCHEMA1_TYPES,
)
from ecr_mock.core.models import Image, Repository
from ecr_mock.core.names import is_digest, is_valid_repository_name, is_valid_tag
from ecr_mock.core.services import public
from ecr_mock.core.services.download_urls import check_download_signature
from ecr_mock.core.services.pull_through import fill_from_upstream, find_rule
from ecr_mock.core.services.templates import CREATE_ON_PUSH, create_from_template, find_template
from ecr_mock.registry import auth
from ecr_mock.registry.auth import RequestContext
from ecr_mock.registry.errors import (
    RegistryError,
    digest_invalid,
    name_invalid,
    tag_invalid,
    translate,
)

JSON_TYPE = "application/json"
DEFAULT_PAGE_SIZE = 100
"""ECR answers tags/list and _catalog without ``n`` with at most 100 entries and a Link."""
MAX_PAGE_SIZE = 1000
BLOB_MOUNTING_SETTING = "BLOB_MOUNTING"

Handler = Callable[[RequestContext, dict[str, str]], Response]
PublicHandler = Callable[[Backend, Request, dict[str, str]], Response]

_CONTENT_RANGE_RE = re.compile(
    r"(?:bytes[ =])?(\d{1,20})-(\d{1,20})(?:/(?:\d{1,20}|\*))?", re.ASCII
)


# ----- helpers ------------------------------------------------------------------------------


def _response(status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> Response:
    return Response(body, status=status, headers=headers or {})


def _json(status: int, doc: Any, content_type: str = JSON_TYPE, **headers: str) -> Response:
    response = Response(json.dumps(doc).encode(), status=status, content_type=content_type)
    response.headers.update(headers)
    return response


def _repository(ctx: RequestContext, name: str, *actions: str) -> Repository:
    """Check the name, authorize each action on the repository, then look it up."""
    if not is_valid_repository_name(name):
        raise name_invalid(name)
    arn = ctx.repository_arn(name)
    for action in actions:
        auth.authorize(ctx, action, arn)
    return ctx.backend.get_repository(ctx.registry, name)


CREATE_REPOSITORY = "ecr:CreateRepository"
IMPORT_UPSTREAM = "ecr:BatchImportUpstreamImage"


def _pushed_repository(ctx: RequestContext, name: str, *actions: str) -> Repository:
    """Like :func:`_repository` for a push: a missing repository is created when a
    CREATE_ON_PUSH creation template covers the name and the caller may create it."""
    try:
        return _repository(ctx, name, *actions)
    except RepositoryNotFound:
        template = find_template(ctx.registry, name, CREATE_ON_PUSH)
        if template is None:
            raise
    auth.authorize(ctx, CREATE_REPOSITORY, ctx.repository_arn(name))
    return create_from_template(ctx.backend, ctx.registry, name, CREATE_ON_PUSH, template)


def _pulled_through(ctx: RequestContext, name: str, reference: str) -> tuple[Repository, Image]:
    """A pull miss under a pull-through cache rule: fill the cache from the upstream.

    Raises the original miss when no rule covers the name, and MANIFEST_UNKNOWN (with the
    reason) when the upstream cannot give the image.
    """
    if find_rule(ctx.registry, name) is None:
        raise ImageNotFound()
    arn = ctx.repository_arn(name)
    auth.authorize(ctx, IMPORT_UPSTREAM, arn)
    if name not in ctx.registry.repositories:
        auth.authorize(ctx, CREATE_REPOSITORY, arn)
    try:
        image = fill_from_upstream(ctx.backend, ctx.registry, name, reference)
    except EcrError as exc:
        raise ImageNotFound(f"Requested image not found: {exc.message}") from None
    if image is None:
        raise ImageNotFound()
    return ctx.backend.get_repository(ctx.registry, name), image


def _content_length(request: Request) -> int | None:
    """The declared body length; None when the body runs to the end of a terminated stream."""
    raw = request.environ.get("CONTENT_LENGTH")
    if raw not in (None, ""):
        try:
            value = int(raw)
        except ValueError:
            raise RegistryError("SIZE_INVALID", 400, "Invalid Content-Length") from None
        if value < 0:
            raise RegistryError("SIZE_INVALID", 400, "Invalid Content-Length")
        return value
    if request.environ.get("wsgi.input_terminated"):
        return None
    return 0


class _RequestBody:
    """``wsgi.input`` on which a client that disconnects mid-body raises SizeInvalid.

    (werkzeug raises ClientDisconnected, a chunked body OSError/ValueError; a body cut short
    must fail the request as SIZE_INVALID and never pass for a complete one.)
    """

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        try:
            return self._stream.read(size)
        except (ClientDisconnected, OSError, ValueError):
            raise SizeInvalid("The request body ended before it was complete") from None


def _input(request: Request) -> IO[bytes]:
    return cast("IO[bytes]", _RequestBody(request.environ["wsgi.input"]))


def _upload_path(name: str, upload_id: str) -> str:
    return f"/v2/{name}/blobs/uploads/{upload_id}"


def _upload_headers(name: str, session: UploadSession) -> dict[str, str]:
    return {
        "Location": _upload_path(name, session.upload_id),
        "Range": f"0-{max(session.size - 1, 0)}",
        "Docker-Upload-UUID": session.upload_id,
        "Content-Length": "0",
    }


def _blob_created(name: str, digest: str) -> Response:
    return _response(
        201,
        {
            "Location": f"/v2/{name}/blobs/{digest}",
            "Docker-Content-Digest": digest,
            "Content-Length": "0",
        },
    )


def _parse_content_range(value: str, session: UploadSession, name: str) -> tuple[int, int]:
    found = _CONTENT_RANGE_RE.fullmatch(value.strip())
    if found is None or int(found[2]) < int(found[1]):
        error = RegistryError("RANGE_INVALID", 416, f"Invalid Content-Range '{value}'", headers={})
        error.headers.update(_upload_headers(name, session))
        raise error
    return int(found[1]), int(found[2])


def _cancel_quietly(ctx: RequestContext, repo: Repository, session: UploadSession) -> None:
    with contextlib.suppress(UploadNotFound):
        ctx.backend.cancel_upload(ctx.registry, repo, session.upload_id)


def _append_body(ctx: RequestContext, repo: Repository, session: UploadSession, name: str) -> None:
    """Stream the request body into the upload, checking ``Content-Range`` against it.

    An interrupted body (SizeInvalid) drops the whole session, so nothing partial survives.
    """
    request = ctx.request
    length = _content_length(request)
    content_range = request.headers.get("Content-Range")
    interrupted = False
    with session.lock:
        if session.closed:
            raise UploadNotFound(session.upload_id, repo.name, ctx.registry.account)
        try:
            if content_range:
                first, last = _parse_content_range(content_range, session, name)
                session.check_offset(first)
                declared = last - first + 1
                if length is not None and length != declared:
                    raise RegistryError(
                        "SIZE_INVALID",
                        400,
                        f"Content-Range {first}-{last} does not match Content-Length {length}",
                    )
                length = declared
            if length != 0:
                session.append_stream(_input(request), length)
        except RangeInvalid as exc:
            error = translate(exc)
            error.headers.update(_upload_headers(name, session))
            raise error from None
        except SizeInvalid:
            interrupted = True
    if interrupted:
        _cancel_quietly(ctx, repo, session)
        raise SizeInvalid("The request body ended before the declared length; upload dropped")


def _finish(ctx: RequestContext, repo: Repository, session: UploadSession, digest: str) -> Blob:
    """Complete an upload; a digest mismatch drops the session (nothing is stored)."""
    try:
        return ctx.backend.finish_upload(ctx.registry, repo, session, digest)
    except DigestInvalid:
        _cancel_quietly(ctx, repo, session)
        raise


def _blob_response(request: Request, blob: Blob) -> Response:
    """Stream a blob (or the one range asked for); HEAD sends the headers only."""
    start, stop, status = 0, blob.size, 200
    headers = {
        "Docker-Content-Digest": blob.digest,
        "Accept-Ranges": "bytes",
        "ETag": f'"{blob.digest}"',
        "Cache-Control": "max-age=31536000",
    }
    if request.method == "GET" and request.headers.get("Range"):
        wanted = request.range
        if wanted is not None and len(wanted.ranges) == 1:
            bounds = wanted.range_for_length(blob.size)
            if bounds is None:
                raise RegistryError(
                    "RANGE_INVALID",
                    416,
                    f"The requested range cannot be satisfied for a blob of {blob.size} bytes",
                    headers={"Content-Range": f"bytes */{blob.size}"},
                )
            start, stop = bounds
            status = 206
            headers["Content-Range"] = f"bytes {start}-{stop - 1}/{blob.size}"
    body: Iterable[bytes] = blob.body(start, stop)
    response = Response(
        body,
        status=status,
        headers=headers,
        content_type="application/octet-stream",
        direct_passthrough=True,
    )
    response.headers["Content-Length"] = str(stop - start)
    return response


def _page(items: list[str], request: Request, path: str) -> tuple[list[str], str | None]:
    """A page of sorted ``items`` after ``last`` with at most ``n`` entries, and its Link."""
    raw = request.args.get("n")
    if raw is None or raw == "":
        size = DEFAULT_PAGE_SIZE
    else:
        try:
            size = int(raw)
        except ValueError:
            raise RegistryError(
                "PAGINATION_NUMBER_INVALID", 400, f"Invalid page size n='{raw}'"
            ) from None
        if size > MAX_PAGE_SIZE:
            raise RegistryError(
                "UNSUPPORTED",
                400,
                "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must "
                "have value less than or equal to 1000'",
            )
        if size < 1:
            raise RegistryError(
                "UNSUPPORTED",
                400,
                "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must "
                "have value greater than or equal to 1'",
            )
    last = request.args.get("last")
    start = bisect_right(items, last) if last else 0
    page = items[start : start + size]
    link = None
    if page and start + size < len(items):
        query = urlencode({"n": size, "last": page[-1]})
        link = f'<{path}?{query}>; rel="next"'
    return page, link


# ----- base and catalog ----------------------------------------------------------------------


def base(ctx: RequestContext, params: dict[str, str]) -> Response:
    """``GET /v2/``: 200 ``{}`` for an authenticated caller (how ``docker login`` probes)."""
    return _json(200, {})


def catalog(ctx: RequestContext, params: dict[str, str]) -> Response:
    """``GET /v2/_catalog``: the repositories of the token's registry, sorted and paginated."""
    registry = ctx.registry
    auth.authorize(ctx, auth.DESCRIBE_REPOSITORIES, ctx.repository_arn("*"))
    names = sorted(registry.repositories)
    page, link = _page(names, ctx.request, "/v2/_catalog")
    response = _json(200, {"repositories": page})
    if link:
        response.headers["Link"] = link
    return response


def tags_list(ctx: RequestContext, params: dict[str, str]) -> Response:
    """``GET /v2/<name>/tags/list``: tags sorted, ``n`` (at most 1000) and ``last``."""
    name = params["name"]
    repo = _repository(ctx, name, auth.LIST_IMAGES)
    page, link = _page(sorted(repo.tags), ctx.request, f"/v2/{name}/tags/list")
    response = _json(200, {"name": name, "tags": page})
    if link:
        response.headers["Link"] = link
    return response


# ----- blobs ---------------------------------------------------------------------------------


def _checked_digest(digest: str) -> str:
    if not is_digest(digest):
        raise digest_invalid(digest)
    return digest


def get_blob(ctx: RequestContext, params: dict[str, str]) -> Response:
    """``GET``/``HEAD /v2/<name>/blobs/<digest>``: the bytes, streamed, honouring ``Range``."""
    action = auth.PULL_BLOB if ctx.request.method == "GET" else auth.CHECK_BLOB
    repo = _repository(ctx, params["name"], action)
    digest = _checked_digest(params["digest"])
    blob = ctx.backend.get_blob(ctx.registry, repo, digest)
    return _blob_response(ctx.request, blob)


def delete_blob(ctx: RequestContext, params: dict[str, str]) -> Response:
    """``DELETE /v2/<name>/blobs/<digest>``: forget the blob in this repository (202)."""
    repo = _repository(ctx, params["name"], auth.DELETE_IMAGE)
    digest = _checked_digest(params["digest"])
    ctx.backend.delete_blob(ctx.registry, repo, digest)
    return _response(202, {"Content-Length": "0"})


# ----- uploads -------------------------------------------------------------------------------


def _try_mount(ctx: RequestContext, repo: Repository, digest: str, source: str | None) -> bool:
    """Mount ``digest`` from ``source`` when allowed, enabled and referenced there."""
    if ctx.registry.settings.get(BLOB_MOUNTING_SETTING, "ENABLED").upper() == "DISABLED":
        return False
    if not source or not is_digest(digest) or not is_valid_repository_name(source):
        return False
    try:
        auth.authorize(ctx, auth.PULL_MANIFEST, ctx.repository_arn(source))
        auth.authorize(ctx, auth.PULL_BLOB, ctx.repository_arn(source))
    except AccessDenied:
        return False
    source_repo = ctx.registry.repositories.get(source)
    if source_repo is None:
        return False
    return ctx.backend.mount_blob(ctx.registry, source_repo, repo, digest) is not None


def start_upload(ctx: RequestContext, params: dict[str, str]) -> Response:
    """``POST /v2/<name>/blobs/uploads/``: mount, monolithic (``?digest=``) or a new session."""
    name = params["name"]
    repo = _pushed_repository(ctx, name, auth.INITIATE_UPLOAD)
    args = ctx.request.args
    mount = args.get("mount")
    if mount is not None and _try_mount(ctx, repo, mount, args.get("from")):
        return _blob_created(name, mount)
    digest = args.get("digest")
    if digest is not None:
        _checked_digest(digest)
        auth.authorize(ctx, auth.UPLOAD_PART, repo.arn)
        auth.authorize(ctx, auth.COMPLETE_UPLOAD, repo.arn)
        session = ctx.backend.start_upload(ctx.registry, repo)
        try:
            _append_body(ctx, repo, session, name)
            _finish(ctx, repo, session, digest)
        except (EcrError, RegistryError):
            _cancel_quietly(ctx, repo, session)
            raise
        return _blob_created(name, digest)
    session = ctx.backend.start_upload(ctx.registry, repo)
    return _response(202, _upload_headers(name, session))


def upload_status(ctx: RequestContext, params: dict[str, str]) -> Response:
    """``GET /v2/<name>/blobs/uploads/<id>``: 204 with the ``Range`` received so far."""
    name = params["name"]
    repo = _repository(ctx, name, auth.UPLOAD_PART)
    session = ctx.backend.get_upload(ctx.registry, repo, params["upload_id"])
    return _response(204, _upload_headers(name, session))


def patch_upload(ctx: RequestContext, params: dict[str, str]) -> Response:
    """``PATCH /v2/<name>/blobs/uploads/<id>``: a chunk (with or without ``Content-Range``)."""
    name = params["name"]
    repo = _repository(ctx, name, auth.UPLOAD_PART)
    session = ctx.backend.get_upload(ctx.registry, repo, params["upload_id"])
    _append_body(ctx, repo, session, name)
    return _response(202, _upload_headers(name, session))


def put_upload(ctx: RequestContext, params: dict[str, str]) -> Response:
    """``PUT /v2/<name>/blobs/uploads/<id>?digest=``: the last chunk, if any, and completion."""
    name = params["name"]
    repo = _repository(ctx, name, auth.COMPLETE_UPLOAD)
    session = ctx.backend.get_upload(ctx.registry, repo, params["upload_id"])
    digest = _checked_digest(ctx.request.args.get("digest", ""))
    if ctx.request.headers.get("Content-Range") or _content_length(ctx.request) != 0:
        auth.authorize(ctx, auth.UPLOAD_PART, repo.arn)
        _append_body(ctx, repo, session, name)
    _finish(ctx, repo, session, digest)
    return _blob_created(name, digest)


def cancel_upload(ctx: RequestContext, params: dict[str, str]) -> Response:
    """``DELETE /v2/<name>/blobs/uploads/<id>``: drop the session (204)."""
    repo = _repository(ctx, params["name"], auth.UPLOAD_PART)
    ctx.backend.cancel_upload(ctx.registry, repo, params["upload_id"])
    return _response(204, {"Content-Length": "0"})


# ----- manifests -----------------------------------------------------------------------------

_IMAGE_GROUP = frozenset({DOCKER_MANIFEST, OCI_MANIFEST})


def _accepts(request: Request, image: Image) -> bool:
    """Whether to serve ``image`` given ``Accept``: always, except an index to a client that
    names only single-image manifest types (it could not use one; ECR does not convert)."""
    accepted = {value.split(";")[0].strip().lower() for value, _ in request.accept_mimetypes}
    if image.media_type not in INDEX_TYPES or not accepted:
        return True
    if accepted & INDEX_TYPES or image.media_type in accepted:
        return True
    specific = accepted <= (_IMAGE_GROUP | SCHEMA1_TYPES)
    return not specific


def _read_manifest(request: Request) -> bytes:
    length = _content_length(request)
    limit = MAX_MANIFEST_BYTES + 1 if length is None else min(length, MAX_MANIFEST_BYTES + 1)
    stream = _input(request)
    chunks: list[bytes] = []
    received = 0
    while received < limit:
        chunk = stream.read(limit - received)
        if not chunk:
            break
        chunks.append(chunk)
        received += len(chunk)
    if length is not None and received < min(length, limit):
        raise SizeInvalid(f"The manifest body ended after {received} of {length} bytes")
    return b"".join(chunks)


def _find_image(ctx: RequestContext, repo: Repository, reference: str) -> Image:
    if ":" in reference:
        if not is_digest(reference):
            raise ImageNotFound()
    elif not is_valid_tag(reference):
        raise ImageNotFound()
    try:
        return ctx.backend.resolve_reference(repo, reference)
    except ImageNotFound:
        raise ImageNotFound() from None


def get_manifest(ctx: RequestContext, params: dict[str, str]) -> Response:
    """``GET``/``HEAD /v2/<name>/manifests/<ref>``: the bytes as pushed; GET records a pull."""
    name = params["name"]
    try:
        repo = _repository(ctx, name, auth.PULL_MANIFEST)
        image = _find_image(ctx, repo, params["reference"])
    except (RepositoryNotFound, ImageNotFound) as miss:
        if find_rule(ctx.registry, name) is None:
            raise miss from None
        repo, image = _pulled_through(ctx, name, params["reference"])
    if not _accepts(ctx.request, image):
        raise ImageNotFound()
    if ctx.request.method == "GET":
        principal = ctx.principal
        ctx.backend.record_pull(repo, image, principal.arn if principal is not None else None)
    response = Response(image.manifest, status=200, content_type=image.media_type)
    response.headers["Docker-Content-Digest"] = image.digest
    response.headers["ETag"] = f'"{image.digest}"'
    return response


def put_manifest(ctx: RequestContext, params: dict[str, str]) -> Response:
    """``PUT /v2/<name>/manifests/<ref>``: store by tag or digest (``?tag=`` adds tags)."""
    name, reference = params["name"], params["reference"]
    repo = _pushed_repository(ctx, name, auth.PUT_IMAGE)
    by_digest = ":" in reference
    if by_digest and not is_digest(reference):
        raise digest_invalid(reference)
    extra_tags = ctx.request.args.getlist("tag") if by_digest else []
    for tag in [reference, *extra_tags] if not by_digest else extra_tags:
        if not is_valid_tag(tag):
            raise tag_invalid(tag)
    body = _read_manifest(ctx.request)
    media_type = ctx.request.headers.get("Content-Type") or None
    backend = ctx.backend
    for tag in extra_tags:  # refuse before storing anything: no image half-tagged on failure
        current = repo.tags.get(tag)
        if current is not None and current != reference and repo.tag_is_immutable(tag):
            raise ImageTagAlreadyExists(tag, repo.name)
    if by_digest:
        image = backend.put_image(
            ctx.registry, repo, body, media_type=media_type, digest=reference, idempotent=True
        )
    else:
        image = backend.put_image(
            ctx.registry, repo, body, tag=reference, media_type=media_type, idempotent=True
        )
    for tag in extra_tags:
        backend.put_image(
            ctx.registry,
            repo,
            body,
            tag=tag,
            media_type=media_type,
            digest=image.digest,
            idempotent=True,
        )
    headers = {
        "Location": f"/v2/{name}/manifests/{image.digest}",
        "Docker-Content-Digest": image.digest,
        "Content-Length": "0",
    }
    if image.parsed.subject is not None:
        headers["OCI-Subject"] = image.parsed.subject.digest
    return _response(201, headers)


def delete_manifest(ctx: RequestContext, params: dict[str, str]) -> Response:
    """``DELETE /v2/<name>/manifests/<ref>``: by digest the image, by tag the tag only."""
    repo = _repository(ctx, params["name"], auth.DELETE_IMAGE)
    reference = params["reference"]
    if ":" in reference:
        if not is_digest(reference):
            raise digest_invalid(reference)
        ctx.backend.delete_manifest(repo, reference)
    else:
        if not is_valid_tag(reference):
            raise tag_invalid(reference)
        ctx.backend.untag(repo, reference)
    return _response(202, {"Content-Length": "0"})


# ----- referrers -----------------------------------------------------------------------------


def _referrer_descriptor(image: Image) -> dict[str, Any]:
    descriptor: dict[str, Any] = {
        "mediaType": image.media_type,
        "digest": image.digest,
        "size": len(image.manifest),
    }
    artifact_type = image.parsed.artifact_type or image.parsed.artifact_media_type
    if artifact_type:
        descriptor["artifactType"] = artifact_type
    if image.parsed.annotations:
        descriptor["annotations"] = dict(image.parsed.annotations)
    return descriptor


def referrers(ctx: RequestContext, params: dict[str, str]) -> Response:
    """``GET /v2/<name>/referrers/<digest>``: an OCI index of the manifests whose subject it is."""
    repo = _repository(ctx, params["name"], auth.PULL_MANIFEST)
    digest = _checked_digest(params["digest"])
    with ctx.backend.lock:
        found = [repo.images[d] for d in sorted(repo.referrers.get(digest, ())) if d in repo.images]
    descriptors = [_referrer_descriptor(image) for image in found]
    wanted = set(ctx.request.args.getlist("artifactType"))
    headers: dict[str, str] = {}
    if wanted:
        descriptors = [d for d in descriptors if d.get("artifactType") in wanted]
        headers["OCI-Filters-Applied"] = "artifactType"
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors}
    return _json(200, index, OCI_INDEX, **headers)


# ----- signed layer downloads ----------------------------------------------------------------


def layer_download(backend: Backend, request: Request, params: dict[str, str]) -> Response:
    """A GetDownloadUrlForLayer URL: no credentials, a valid unexpired signature instead."""
    account, region, name, digest = (
        params["account"],
        params["region"],
        params["name"],
        params["digest"],
    )
    refused = check_download_signature(
        backend,
        account,
        region,
        name,
        digest,
        request.args.get("X-Ecr-Mock-Expires", ""),
        request.args.get("X-Ecr-Mock-Signature", ""),
    )
    if refused is not None:
        raise RegistryError("DENIED", 403, refused)
    registry = backend.registries.get((account, region))
    blob = registry.blobs.get(digest) if registry is not None else None
    if blob is None:
        raise RegistryError("BLOB_UNKNOWN", 404, f"blob unknown to registry: {digest}")
    return _blob_response(request, blob)


# ----- ECR Public: the token endpoint and repository logos -------------------------------------


def token(backend: Backend, request: Request, params: dict[str, str]) -> Response:
    """``GET /token?service=...&scope=...``: a Bearer token for the registry.

    With Basic credentials (a GetAuthorizationToken password) the token speaks for their
    principal; without, it is anonymous and pulls public repositories only.
    """
    found = auth.credentials(backend, request)
    if request.method == "POST" and found is None:  # OAuth2 form, as docker posts it
        grant = request.form.get("grant_type")
        if grant == "password":
            found = backend.tokens.check_basic(
                request.form.get("username", ""), request.form.get("password", "")
            )
        elif grant == "refresh_token":
            found = backend.tokens.check(request.form.get("refresh_token", ""))
    if found is None:
        value, expires = backend.tokens.issue_anonymous()
    else:
        value, expires = found.password, found.expires_at
    now = backend.now()
    doc = {
        "token": value,
        "access_token": value,
        "expires_in": max(int((expires - now).total_seconds()), 0),
        "issued_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return _json(200, doc, **{"Cache-Control": "no-store"})


def public_logo(backend: Backend, request: Request, params: dict[str, str]) -> Response:
    """``GET /ecr-mock/public-logos/<account>/<name>``: a public repository's logo."""
    data = public.logo(backend, params["account"], params["name"])
    if data is None:
        raise RegistryError("NAME_UNKNOWN", 404, f"no logo for repository '{params['name']}'")
    if data.startswith(b"\x89PNG"):
        content_type = "image/png"
    elif data.startswith(b"\xff\xd8"):
        content_type = "image/jpeg"
    else:
        content_type = "application/octet-stream"
    body = b"" if request.method == "HEAD" else data
    response = Response(body, status=200, content_type=content_type)
    response.headers["Content-Length"] = str(len(data))
    return response


HANDLERS: dict[tuple[str, str], Handler] = {
    ("base", "GET"): base,
    ("base", "HEAD"): base,
    ("catalog", "GET"): catalog,
    ("tags_list", "GET"): tags_list,
    ("blob", "GET"): get_blob,
    ("blob", "HEAD"): get_blob,
    ("blob", "DELETE"): delete_blob,
    ("upload_start", "POST"): start_upload,
    ("upload", "GET"): upload_status,
    ("upload", "PATCH"): patch_upload,
    ("upload", "PUT"): put_upload,
    ("upload", "DELETE"): cancel_upload,
    ("manifest", "GET"): get_manifest,
    ("manifest", "HEAD"): get_manifest,
    ("manifest", "PUT"): put_manifest,
    ("manifest", "DELETE"): delete_manifest,
    ("referrers", "GET"): referrers,
}
"""(route name, method) -> handler for authenticated routes."""

PUBLIC_HANDLERS: dict[tuple[str, str], PublicHandler] = {
    ("layer_download", "GET"): layer_download,
    ("layer_download", "HEAD"): layer_download,
    ("token", "GET"): token,
    ("token", "POST"): token,
    ("public_logo", "GET"): public_logo,
    ("public_logo", "HEAD"): public_logo,
}
"""(route name, method) -> handler for routes that need no token."""
