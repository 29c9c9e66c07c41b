"""Layer operations: the upload API, BatchCheckLayerAvailability and GetDownloadUrlForLayer."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from ecr_mock.domain.errors import ItemFailure, SerializationFailed
from ecr_mock.protocols.ecr_api.dispatch import Context, Handler, Params, Result
from ecr_mock.services import images, reclaim, uploads
from ecr_mock.services.download_urls import layer_download_url
from ecr_mock.services.uploads import PART_SIZE


def initiate_layer_upload(ctx: Context, params: Params) -> Result:
    """InitiateLayerUpload: a new upload session and the part size ECR expects."""
    reg = ctx.registry(params)
    repo = ctx.repository(params, reg)
    session = uploads.start_upload(ctx.backend, reg, repo)
    return {"uploadId": session.upload_id, "partSize": PART_SIZE}


def _part_bytes(value: Any) -> bytes:
    """The ``layerPartBlob`` bytes: base64 text in JSON 1.1."""
    if isinstance(value, bytes):
        return value
    if not isinstance(value, str):
        raise SerializationFailed("layerPartBlob must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise SerializationFailed("Invalid base64 content for 'layerPartBlob'") from None


def upload_layer_part(ctx: Context, params: Params) -> Result:
    """UploadLayerPart: the next consecutive byte range of an upload."""
    reg = ctx.registry(params)
    repo = ctx.repository(params, reg)
    data = _part_bytes(params["layerPartBlob"])
    session = uploads.upload_part(
        ctx.backend,
        reg,
        repo,
        params["uploadId"],
        int(params["partFirstByte"]),
        int(params["partLastByte"]),
        data,
    )
    return {
        "registryId": reg.account,
        "repositoryName": repo.name,
        "uploadId": session.upload_id,
        "lastByteReceived": session.size - 1,
    }


def complete_layer_upload(ctx: Context, params: Params) -> Result:
    """CompleteLayerUpload: check the digest and keep the layer."""
    reg = ctx.registry(params)
    repo = ctx.repository(params, reg)
    digest = uploads.complete_upload(
        ctx.backend, reg, repo, params["uploadId"], list(params["layerDigests"])
    )
    return {
        "registryId": reg.account,
        "repositoryName": repo.name,
        "uploadId": params["uploadId"],
        "layerDigest": digest,
    }


def batch_check_layer_availability(ctx: Context, params: Params) -> Result:
    """BatchCheckLayerAvailability: known layers with size and media type; failures otherwise."""
    reg = ctx.registry(params)
    repo = ctx.repository(params, reg)
    layers: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    seen: set[str] = set()
    for digest in params["layerDigests"]:
        if digest in seen:
            continue
        seen.add(digest)
        try:
            blob = uploads.check_layer(ctx.backend, reg, repo, digest)
        except ItemFailure as exc:
            size = (
                reclaim.was_reclaimed(reg, digest)
                if exc.failure_code == "MissingLayerDigest"
                else None
            )
            if size is not None:  # reclaimed once no image referenced it
                layers.append(
                    {"layerDigest": digest, "layerAvailability": "UNAVAILABLE", "layerSize": size}
                )
                continue
            failures.append(
                {
                    "layerDigest": digest,
                    "failureCode": exc.failure_code,
                    "failureReason": exc.message,
                }
            )
            continue
        entry: dict[str, Any] = {
            "layerDigest": digest,
            "layerAvailability": "AVAILABLE",
            "layerSize": blob.size,
        }
        media_type = images.layer_media_type(ctx.backend, repo, digest)
        if media_type:
            entry["mediaType"] = media_type
        layers.append(entry)
    return {"layers": layers, "failures": failures}


def get_download_url_for_layer(ctx: Context, params: Params) -> Result:
    """GetDownloadUrlForLayer: a URL serving a layer an image of the repository references."""

    reg = ctx.registry(params)
    repo = ctx.repository(params, reg)
    digest = params["layerDigest"]
    uploads.download_layer(ctx.backend, reg, repo, digest)
    return {"downloadUrl": layer_download_url(ctx.backend, repo, digest), "layerDigest": digest}


HANDLERS: dict[str, Handler] = {
    "BatchCheckLayerAvailability": batch_check_layer_availability,
    "CompleteLayerUpload": complete_layer_upload,
    "GetDownloadUrlForLayer": get_download_url_for_layer,
    "InitiateLayerUpload": initiate_layer_upload,
    "UploadLayerPart": upload_layer_part,
}
"""The ECR operations this module serves, by name."""
