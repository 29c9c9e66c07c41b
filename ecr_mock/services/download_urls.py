"""Signed, expiring layer download URLs (GetDownloadUrlForLayer) and their verification."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from urllib.parse import quote, urlencode

from ecr_mock.domain.blobs import Blob
from ecr_mock.domain.models import Repository
from ecr_mock.store.state import Store

DOWNLOAD_URL_TTL = timedelta(hours=1)
LAYER_PATH_PREFIX = "/ecr-mock/layers"
"""Download URLs: ``<proxyEndpoint>/ecr-mock/layers/<account>/<region>/<name>/<digest>?...``."""


def _secret(store: Store) -> bytes:
    found = store.download_url_secret
    if found is None:
        with store.lock:
            if store.download_url_secret is None:
                store.download_url_secret = secrets.token_bytes(32)
            found = store.download_url_secret
    return found


def _signature(
    store: Store, account: str, region: str, name: str, digest: str, expires: int
) -> str:
    message = f"{account}\n{region}\n{name}\n{digest}\n{expires}".encode()
    return hmac.new(_secret(store), message, hashlib.sha256).hexdigest()


def layer_download_path(account: str, region: str, name: str, digest: str) -> str:
    """The path (without query) of a layer download URL."""
    return f"{LAYER_PATH_PREFIX}/{account}/{region}/{quote(name)}/{quote(digest)}"


def layer_download_url(store: Store, repo: Repository, digest: str) -> str:
    """A URL serving the layer's bytes without credentials, signed and valid for one hour."""
    expires = int((store.now() + DOWNLOAD_URL_TTL).timestamp())
    signature = _signature(store, repo.account, repo.region, repo.name, digest, expires)
    path = layer_download_path(repo.account, repo.region, repo.name, digest)
    query = urlencode({"X-Ecr-Mock-Expires": expires, "X-Ecr-Mock-Signature": signature})
    return f"{store.proxy_endpoint(repo.account, repo.region)}{path}?{query}"


def check_download_signature(
    store: Store,
    account: str,
    region: str,
    name: str,
    digest: str,
    expires: str,
    signature: str,
) -> str | None:
    """None when the signature is right and unexpired, else the reason it is refused."""
    if not (expires.isascii() and expires.isdigit()) or len(expires) > 20:
        return "Request is missing a valid expiry"
    expected = _signature(store, account, region, name, digest, int(expires))
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        return "The request signature we calculated does not match the signature you provided"
    if store.now().timestamp() >= int(expires):
        return "Request has expired"
    return None


def layer_blob(store: Store, account: str, region: str, digest: str) -> Blob | None:
    """The blob a download URL with a valid signature serves (None: the registry has none)."""
    registry = store.registries.get((account, region))
    return registry.blobs.get(digest) if registry is not None else None
