"""The download URLs service: signed, expiring layer URLs and their verification."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from ecr_mock import Backend, Clock
from ecr_mock.domain.blobs import Blob
from ecr_mock.domain.models import Repository
from ecr_mock.services import download_urls, uploads

DIGEST = "sha256:" + "a" * 64


def signed(ecr_backend: Backend, repo: Repository) -> tuple[str, str, str]:
    """(path, expires, signature) of a fresh download URL for DIGEST."""
    url = urlsplit(download_urls.layer_download_url(ecr_backend, repo, DIGEST))
    query = parse_qs(url.query)
    return url.path, query["X-Ecr-Mock-Expires"][0], query["X-Ecr-Mock-Signature"][0]


def check(ecr_backend: Backend, expires: str, signature: str, name: str = "app") -> str | None:
    return download_urls.check_download_signature(
        ecr_backend, "123456789012", "us-east-1", name, DIGEST, expires, signature
    )


def test_the_url_names_the_layer_on_the_registry_host(
    ecr_backend: Backend, repo: Repository
) -> None:
    url = download_urls.layer_download_url(ecr_backend, repo, DIGEST)
    assert url.startswith(ecr_backend.proxy_endpoint("123456789012", "us-east-1"))
    path, _, _ = signed(ecr_backend, repo)
    assert path == download_urls.layer_download_path("123456789012", "us-east-1", "app", DIGEST)
    assert path == f"/ecr-mock/layers/123456789012/us-east-1/app/{DIGEST.replace(':', '%3A')}"


def test_a_fresh_signature_is_accepted_for_one_hour(
    ecr_backend: Backend, ecr_clock: Clock, repo: Repository
) -> None:
    ecr_clock.freeze(ecr_clock.now())
    _, expires, signature = signed(ecr_backend, repo)
    assert check(ecr_backend, expires, signature) is None
    ecr_clock.advance(download_urls.DOWNLOAD_URL_TTL - timedelta(seconds=1))
    assert check(ecr_backend, expires, signature) is None
    ecr_clock.advance(timedelta(seconds=1))
    assert check(ecr_backend, expires, signature) == "Request has expired"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("expires", "Request is missing a valid expiry"),
        ("signature", "does not match the signature you provided"),
        ("name", "does not match the signature you provided"),
    ],
)
def test_a_tampered_url_is_refused_with_a_reason(
    ecr_backend: Backend, repo: Repository, change: str, reason: str
) -> None:
    _, expires, signature = signed(ecr_backend, repo)
    if change == "expires":
        expires = "soon"
    elif change == "signature":
        signature = "0" * len(signature)
    found = check(ecr_backend, expires, signature, name="other" if change == "name" else "app")
    assert found is not None and reason in found


def test_layer_blob_is_the_registrys_blob_or_none(ecr_backend: Backend, repo: Repository) -> None:
    blob = Blob.from_bytes(b"layer bytes")
    reg = ecr_backend.registry()
    uploads.store_blob(ecr_backend, reg, repo, blob)
    assert download_urls.layer_blob(ecr_backend, reg.account, reg.region, blob.digest) is blob
    assert download_urls.layer_blob(ecr_backend, reg.account, reg.region, DIGEST) is None
    assert download_urls.layer_blob(ecr_backend, reg.account, "eu-north-1", blob.digest) is None
