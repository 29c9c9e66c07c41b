"""One handler per registry route and method: parse the request, call services, write the answer."""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable
from typing import IO, Any, Protocol, cast
from urllib.parse import urlencode

from werkzeug.exceptions import ClientDisconnected
from werkzeug.wrappers import Request, Response

from ecr_mock.domain.errors import EcrError, RangeInvalid, SizeInvalid
from ecr_mock.domain.models import Repository
from ecr_mock.protocols.registry.auth import RequestContext, basic_credentials
from ecr_mock.protocols.registry.errors import RegistryError, translate
from ecr_mock.protocols.wire import UNSATISFIABLE, byte_range
from ecr_mock.services import (
    Store,
    images,
    public,
    referrers,
    registry_auth,
    resolution,
    uploads,
)
from ecr_mock.services.download_urls import (
    check_download_signature,
    layer_blob,
    presigned_url,
)

JSON_TYPE = "application/json"
DEFAULT_PAGE_SIZE = 100
"""ECR answers tags/list and _catalog without ``n`` with at most 100 entries and a Link."""
MAX_PAGE_SIZE = 1000

Handler = Callable[[RequestContext, dict[str, str]], Response]
PublicHandler = Callable[[Store, Request, dict[str, str]], Response]

_CONTENT_RANGE_RE = re.compile(
    r"(?:bytes[ =])?(\d{1,20})-(\d{1,20})(?:/(?:\d{1,20}|\*))?", re.ASCII
)


class _Upload(Protocol):
    """What the answers about an upload session show of it."""

    @property
    def upload_id(self) -> str: ...

    @property
    def size(self) -> int: ...


class _Blob(Protocol):
    """What a blob answer streams."""

    @property
    def digest(self) -> str: ...

    @property
    def size(self) -> int: ...

    def body(self, start: int = 0, end: int | None = None) -> Iterable[bytes]: ...


# ----- helpers ------------------------------------------------------------------------------


def _response(status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> Response:
    return Response(body, status=status, headers=headers or {})


def _json(status: int, doc: Any, content_type: str = JSON_TYPE, **headers: str) -> Response:
    response = Response(json.dumps(doc).encode(), status=status, content_type=content_type)
    response.headers.update(headers)
    return response


def _authorize(ctx: RequestContext, action: str, name: str) -> None:
    registry_auth.authorize(ctx.store, ctx.caller, action, ctx.repository_arn(name))


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

    def readinto(self, buffer: memoryview) -> int:
        try:
            readinto = getattr(self._stream, "readinto", None)
            if readinto is None:
                data = self._stream.read(len(buffer))
                memoryview(buffer)[: len(data)] = data
                return len(data)
            return int(readinto(buffer))
        except (ClientDisconnected, OSError, ValueError):
            raise SizeInvalid("The request body ended before it was complete") from None


def _input(request: Request) -> IO[bytes]:
    return cast("IO[bytes]", _RequestBody(request.environ["wsgi.input"]))


def _upload_path(name: str, upload_id: str) -> str:
    return f"/v2/{name}/blobs/uploads/{upload_id}"


def _upload_headers(name: str, session: _Upload) -> dict[str, str]:
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


def _parse_content_range(value: str, session: _Upload, name: str) -> tuple[int, int]:
    found = _CONTENT_RANGE_RE.fullmatch(value.strip())
    if found is None or int(found[2]) < int(found[1]):
        error = RegistryError("RANGE_INVALID", 416, f"Invalid Content-Range '{value}'", headers={})
        error.headers.update(_upload_headers(name, session))
        raise error
    return int(found[1]), int(found[2])


def _append_body(ctx: RequestContext, repo: Repository, name: str, session: _Upload) -> None:
    """Stream the request body into the upload, honouring ``Content-Range``; a range that does
    not continue the upload answers 416 with where the upload stands."""
    request = ctx.request
    header = request.headers.get("Content-Range")
    content_range = _parse_content_range(header, session, name) if header else None
    try:
        uploads.append_body(
            ctx.store,
            ctx.registry,
            repo,
            session.upload_id,
            _input(request),
            _content_length(request),
            content_range,
        )
    except RangeInvalid as exc:
        error = translate(exc)
        error.headers.update(_upload_headers(name, session))
        raise error from None


def _blob_response(request: Request, blob: _Blob) -> Response:
    """Stream a blob (or the one range asked for, RFC 9110 14.2); HEAD answers as GET would."""
    start, stop, status = 0, blob.size, 200
    headers = {
        "Docker-Content-Digest": blob.digest,
        "Accept-Ranges": "bytes",
        "ETag": f'"{blob.digest}"',
        "Cache-Control": "max-age=31536000",
    }
    wanted = byte_range(
        request.headers.get("Range"), blob.size, headers["ETag"], request.headers.get("If-Range")
    )
    if wanted == UNSATISFIABLE:
        raise RegistryError(
            "RANGE_INVALID",
            416,
            f"The requested range cannot be satisfied for a blob of {blob.size} bytes",
            headers={"Content-Range": f"bytes */{blob.size}"},
        )
    if isinstance(wanted, tuple):
        start, stop = wanted
        status = 206
        headers["Content-Range"] = f"bytes {start}-{stop - 1}/{blob.size}"
    body: Iterable[bytes] = blob.body(start, stop) if request.method != "HEAD" else ()
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


def _listing(status: int, doc: dict[str, Any], link: str | None) -> Response:
    response = _json(status, doc)
    if link:
        response.headers["Link"] = link
    return response


# ----- base and catalog ----------------------------------------------------------------------


def base(ctx: RequestContext, params: dict[str, str]) -> Response:
    """``GET /v2/``: 200 ``{}`` for an authenticated caller (how ``docker login`` probes)."""
    return _json(200, {})


def catalog(ctx: RequestContext, params: dict[str, str]) -> Response:
    """``GET /v2/_catalog``: the repositories of the token's registry, sorted and paginated."""
    _authorize(ctx, registry_auth.DESCRIBE_REPOSITORIES, "*")
    page, link = _page(ctx.registry.sorted_repository_names(), ctx.request, "/v2/_catalog")
    return _listing(200, {"repositories": page}, link)


def tags_list(ctx: RequestContext, params: dict[str, str]) -> Response:
    """``GET /v2/<name>/tags/list``: tags sorted, ``n`` (at most 1000) and ``last``."""
    name = params["name"]
    repo = resolution.repository(ctx.store, ctx.caller, name, registry_auth.LIST_IMAGES)
    page, link = _page(repo.sorted_tags(), ctx.request, f"/v2/{name}/tags/list")
    return _listing(200, {"name": name, "tags": page}, link)


# ----- blobs ---------------------------------------------------------------------------------


def get_blob(ctx: RequestContext, params: dict[str, str]) -> Response:
    """``GET``/``HEAD /v2/<name>/blobs/<digest>``: the bytes, streamed, honouring ``Range``."""
    action = registry_auth.PULL_BLOB if ctx.request.method == "GET" else registry_auth.CHECK_BLOB
    repo = resolution.repository(ctx.store, ctx.caller, params["name"], action)
    digest = images.checked_digest(params["digest"])
    blob = uploads.get_blob(ctx.store, ctx.registry, repo, digest)
    if ctx.request.method == "GET" and ctx.store.presigned_downloads:
        direct = presigned_url(ctx.store, blob)
        if direct is not None:  # the bytes come from the object store, as ECR's from S3
            return Response(b"", status=307, headers={"Location": direct, "Content-Length": "0"})
    return _blob_response(ctx.request, blob)


def delete_blob(ctx: RequestContext, params: dict[str, str]) -> Response:
    """``DELETE /v2/<name>/blobs/<digest>``: forget the blob in this repository (202)."""
    repo = resolution.repository(ctx.store, ctx.caller, params["name"], registry_auth.DELETE_IMAGE)
    digest = images.checked_digest(params["digest"])
    uploads.delete_blob(ctx.store, ctx.registry, repo, digest)
    return _response(202, {"Content-Length": "0"})


# ----- uploads -------------------------------------------------------------------------------


def start_upload(ctx: RequestContext, params: dict[str, str]) -> Response:
    """``POST /v2/<name>/blobs/uploads/``: mount, monolithic (``?digest=``) or a new session."""
    name = params["name"]
    store, registry = ctx.store, ctx.registry
    repo = resolution.push_repository(store, ctx.caller, name, registry_auth.INITIATE_UPLOAD)
    args = ctx.request.args
    mount = args.get("mount")
    if mount is not None and resolution.mount(store, ctx.caller, repo, mount, args.get("from", "")):
        return _blob_created(name, mount)
    digest = args.get("digest")
    if digest is not None:
        images.checked_digest(digest)
        _authorize(ctx, registry_auth.UPLOAD_PART, name)
        _authorize(ctx, registry_auth.COMPLETE_UPLOAD, name)
        session = uploads.start_upload(store, registry, repo)
        try:
            _append_body(ctx, repo, name, session)
            uploads.finish_upload(store, registry, repo, session, digest)
        except (EcrError, RegistryError):
            uploads.drop_upload(store, registry, repo, session.upload_id)
            raise
        return _blob_created(name, digest)
    session = uploads.start_upload(store, registry, repo)
    return _response(202, _upload_headers(name, session))


def upload_status(ctx: RequestContext, params: dict[str, str]) -> Response:
    """``GET /v2/<name>/blobs/uploads/<id>``: 204 with the ``Range`` received so far."""
    name = params["name"]
    repo = resolution.repository(ctx.store, ctx.caller, name, registry_auth.UPLOAD_PART)
    session = uploads.get_upload(ctx.store, ctx.registry, repo, params["upload_id"])
    return _response(204, _upload_headers(name, session))


def patch_upload(ctx: RequestContext, params: dict[str, str]) -> Response:
    """``PATCH /v2/<name>/blobs/uploads/<id>``: a chunk (with or without ``Content-Range``)."""
    name = params["name"]
    repo = resolution.repository(ctx.store, ctx.caller, name, registry_auth.UPLOAD_PART)
    session = uploads.get_upload(ctx.store, ctx.registry, repo, params["upload_id"])
    _append_body(ctx, repo, name, session)
    return _response(202, _upload_headers(name, session))


def put_upload(ctx: RequestContext, params: dict[str, str]) -> Response:
    """``PUT /v2/<name>/blobs/uploads/<id>?digest=``: the last chunk, if any, and completion."""
    name = params["name"]
    repo = resolution.repository(ctx.store, ctx.caller, name, registry_auth.COMPLETE_UPLOAD)
    session = uploads.get_upload(ctx.store, ctx.registry, repo, params["upload_id"])
    digest = images.checked_digest(ctx.request.args.get("digest", ""))
    if ctx.request.headers.get("Content-Range") or _content_length(ctx.request) != 0:
        _authorize(ctx, registry_auth.UPLOAD_PART, name)
        _append_body(ctx, repo, name, session)
    uploads.finish_upload(ctx.store, ctx.registry, repo, session, digest)
    return _blob_created(name, digest)


def cancel_upload(ctx: RequestContext, params: dict[str, str]) -> Response:
    """``DELETE /v2/<name>/blobs/uploads/<id>``: drop the session (204)."""
    repo = resolution.repository(ctx.store, ctx.caller, params["name"], registry_auth.UPLOAD_PART)
    uploads.cancel_upload(ctx.store, ctx.registry, repo, params["upload_id"])
    return _response(204, {"Content-Length": "0"})


# ----- manifests -----------------------------------------------------------------------------


def _accepted(request: Request) -> set[str]:
    return {value.split(";")[0].strip().lower() for value, _ in request.accept_mimetypes}


def get_manifest(ctx: RequestContext, params: dict[str, str]) -> Response:
    """``GET``/``HEAD /v2/<name>/manifests/<ref>``: the bytes as pushed; GET records a pull.

    HEAD answers exactly what GET would (an archived image is unknown to both).
    """
    repo, image = resolution.pull_manifest(
        ctx.store, ctx.caller, params["name"], params["reference"], _accepted(ctx.request)
    )
    if ctx.request.method == "GET":
        images.record_pull(ctx.store, repo, image, ctx.caller.principal_arn)
    response = Response(image.manifest, status=200, content_type=image.media_type)
    response.headers["Docker-Content-Digest"] = image.digest
    response.headers["ETag"] = f'"{image.digest}"'
    return response


def put_manifest(ctx: RequestContext, params: dict[str, str]) -> Response:
    """``PUT /v2/<name>/manifests/<ref>``: store by tag or digest (``?tag=`` adds tags)."""
    name, reference = params["name"], params["reference"]
    repo = resolution.push_repository(ctx.store, ctx.caller, name, registry_auth.PUT_IMAGE)
    target = images.manifest_target(reference, ctx.request.args.getlist("tag"))
    body = images.read_manifest(_input(ctx.request), _content_length(ctx.request))
    media_type = ctx.request.headers.get("Content-Type") or None
    image = images.push_manifest(ctx.store, ctx.registry, repo, body, target, media_type)
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
    repo = resolution.repository(ctx.store, ctx.caller, params["name"], registry_auth.DELETE_IMAGE)
    images.delete_reference(ctx.store, repo, params["reference"])
    return _response(202, {"Content-Length": "0"})


# ----- referrers -----------------------------------------------------------------------------


def list_referrers(ctx: RequestContext, params: dict[str, str]) -> Response:
    """``GET /v2/<name>/referrers/<digest>``: an OCI index of the manifests whose subject it is."""
    repo = resolution.repository(ctx.store, ctx.caller, params["name"], registry_auth.PULL_MANIFEST)
    digest = images.checked_digest(params["digest"])
    wanted = ctx.request.args.getlist("artifactType")
    index = referrers.referrers_index(ctx.store, repo, digest, wanted)
    headers = {"OCI-Filters-Applied": "artifactType"} if wanted else {}
    return _json(200, index, index["mediaType"], **headers)


# ----- signed layer downloads ----------------------------------------------------------------


def layer_download(store: Store, request: Request, params: dict[str, str]) -> Response:
    """A GetDownloadUrlForLayer URL: no credentials, a valid unexpired signature instead."""
    account, region, name, digest = (
        params["account"],
        params["region"],
        params["name"],
        params["digest"],
    )
    refused = check_download_signature(
        store,
        account,
        region,
        name,
        digest,
        request.args.get("X-Ecr-Mock-Expires", ""),
        request.args.get("X-Ecr-Mock-Signature", ""),
    )
    if refused is not None:
        raise RegistryError("DENIED", 403, refused)
    blob = layer_blob(store, account, region, digest)
    if blob is None:
        raise RegistryError("BLOB_UNKNOWN", 404, f"blob unknown to registry: {digest}")
    return _blob_response(request, blob)


# ----- ECR Public: the token endpoint and repository logos -------------------------------------


def token(store: Store, request: Request, params: dict[str, str]) -> Response:
    """``GET /token?service=...&scope=...``: a Bearer token for the registry.

    With Basic credentials (a GetAuthorizationToken password) the token speaks for their
    principal; without, it is anonymous and pulls public repositories only.
    """
    found = registry_auth.presented_token(
        store, request.headers.get("Authorization"), basic_credentials(request)
    )
    if request.method == "POST" and found is None:  # OAuth2 form, as docker posts it
        form = request.form
        found = registry_auth.granted_token(
            store,
            form.get("grant_type"),
            form.get("username", ""),
            form.get("password", ""),
            form.get("refresh_token", ""),
        )
    value, expires = registry_auth.bearer_token(store, found)
    now = store.now()
    doc = {
        "token": value,
        "access_token": value,
        "expires_in": max(int((expires - now).total_seconds()), 0),
        "issued_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return _json(200, doc, **{"Cache-Control": "no-store"})


def public_logo(store: Store, request: Request, params: dict[str, str]) -> Response:
    """``GET /ecr-mock/public-logos/<account>/<name>``: a public repository's logo."""
    data = public.logo(store, params["account"], params["name"])
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
    ("referrers", "GET"): list_referrers,
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
