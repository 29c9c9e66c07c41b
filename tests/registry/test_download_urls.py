"""Signed layer download URLs: served without credentials, refused when tampered or expired."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from ecr_mock.services.download_urls import layer_download_url
from tests.support.registry import HOST, Registry, sha256


def _fetch(registry: Registry, url: str, **kwargs: object) -> object:
    parts = urlsplit(url)
    return registry.client.get(
        parts.path, query_string=parts.query, base_url=f"{parts.scheme}://{parts.netloc}", **kwargs
    )


def test_download_url_serves_the_layer_without_credentials(registry: Registry) -> None:
    repo = registry.create_repo("team/app")
    registry.push_image("team/app", "v1", [b"layer content"])
    url = layer_download_url(registry.backend, repo, sha256(b"layer content"))
    assert url.startswith(f"https://{HOST}/")
    parts = urlsplit(url)
    response = registry.client.get(
        parts.path, query_string=parts.query, base_url=f"https://{parts.netloc}"
    )
    assert response.status_code == 200
    assert response.get_data() == b"layer content"
    assert response.headers["Docker-Content-Digest"] == sha256(b"layer content")
    ranged = registry.client.get(
        parts.path,
        query_string=parts.query,
        base_url=f"https://{parts.netloc}",
        headers={"Range": "bytes=0-4"},
    )
    assert ranged.status_code == 206
    assert ranged.get_data() == b"layer"


def test_download_url_uses_the_live_server_endpoint(registry: Registry) -> None:
    repo = registry.create_repo("app")
    registry.backend.public_endpoint = "127.0.0.1:5123"
    url = layer_download_url(registry.backend, repo, sha256(b"x"))
    assert url.startswith("http://127.0.0.1:5123/ecr-mock/layers/")


def test_tampered_signature_is_403(registry: Registry) -> None:
    repo = registry.create_repo("app")
    registry.push_image("app", "v1", [b"layer"])
    url = layer_download_url(registry.backend, repo, sha256(b"layer"))
    parts = urlsplit(url)
    query = parts.query[:-4] + "0000"
    response = registry.client.get(parts.path, query_string=query, base_url=f"https://{HOST}")
    assert response.status_code == 403
    other_path = parts.path.replace("/app/", "/other/")
    assert (
        registry.client.get(other_path, query_string=parts.query, base_url=f"https://{HOST}")
    ).status_code == 403


def test_download_url_expires_after_an_hour(registry: Registry) -> None:
    repo = registry.create_repo("app")
    registry.push_image("app", "v1", [b"layer"])
    url = layer_download_url(registry.backend, repo, sha256(b"layer"))
    parts = urlsplit(url)
    registry.backend.clock.advance(timedelta(minutes=59))
    ok = registry.client.get(parts.path, query_string=parts.query, base_url=f"https://{HOST}")
    assert ok.status_code == 200
    registry.backend.clock.advance(timedelta(minutes=2))
    late = registry.client.get(parts.path, query_string=parts.query, base_url=f"https://{HOST}")
    assert late.status_code == 403
    assert "expired" in late.get_data(as_text=True)


def test_download_urls_differ_between_backends(registry: Registry) -> None:
    from ecr_mock.services.backend import Backend

    repo = registry.create_repo("app")
    other = Backend()
    other_repo = other.create_repository(other.registry(), "app")
    other.clock.freeze(registry.backend.now())
    registry.backend.clock.freeze(registry.backend.now())
    assert layer_download_url(registry.backend, repo, sha256(b"x")) != layer_download_url(
        other, other_repo, sha256(b"x")
    )
