"""A werkzeug test client speaking ``/v2/`` to the registry app as an ECR host, with push
helpers, and the digests and error code readers the registry tests share."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from werkzeug.test import Client, TestResponse

from ecr_mock.domain.manifests import OCI_MANIFEST
from ecr_mock.domain.models import Repository
from ecr_mock.protocols.registry.app import RegistryApp, basic_auth_headers
from ecr_mock.services.backend import Backend

ACCOUNT = "123456789012"
REGION = "us-east-1"
HOST = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def sha512(data: bytes) -> str:
    return "sha512:" + hashlib.sha512(data).hexdigest()


class Registry:
    """A werkzeug test client speaking to RegistryApp as an ECR host, with push helpers."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.app = RegistryApp(backend)
        self.client = Client(self.app)
        self.auth = basic_auth_headers(backend, ACCOUNT, REGION)
        self.reg = backend.registry(ACCOUNT, REGION)

    def request(
        self,
        method: str,
        path: str,
        *,
        auth: bool = True,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> TestResponse:
        all_headers = dict(self.auth if auth else {})
        all_headers.update(headers or {})
        kwargs.setdefault("base_url", f"https://{HOST}")
        return self.client.open(path, method=method, headers=all_headers, **kwargs)

    def create_repo(self, name: str, **kwargs: Any) -> Repository:
        return self.backend.create_repository(self.reg, name, **kwargs)

    def push_blob(self, name: str, data: bytes, digest: str | None = None) -> str:
        digest = digest or sha256(data)
        response = self.request(
            "POST", f"/v2/{name}/blobs/uploads/", query_string={"digest": digest}, data=data
        )
        assert response.status_code == 201, response.get_data(as_text=True)
        return digest

    def image_manifest(
        self,
        name: str,
        layers: list[bytes],
        config: bytes = b'{"architecture":"amd64","os":"linux"}',
        media_type: str = OCI_MANIFEST,
        extra: dict[str, Any] | None = None,
    ) -> bytes:
        config_digest = self.push_blob(name, config)
        doc: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json"
                if media_type == OCI_MANIFEST
                else "application/vnd.docker.container.image.v1+json",
                "digest": config_digest,
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip"
                    if media_type == OCI_MANIFEST
                    else "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "digest": self.push_blob(name, layer),
                    "size": len(layer),
                }
                for layer in layers
            ],
        }
        doc.update(extra or {})
        return json.dumps(doc, indent=3).encode()

    def put_manifest(
        self, name: str, reference: str, manifest: bytes, media_type: str = OCI_MANIFEST
    ) -> TestResponse:
        return self.request(
            "PUT",
            f"/v2/{name}/manifests/{reference}",
            data=manifest,
            headers={"Content-Type": media_type},
        )

    def push_image(
        self, name: str, tag: str, layers: list[bytes], media_type: str = OCI_MANIFEST
    ) -> tuple[str, bytes]:
        manifest = self.image_manifest(name, layers, media_type=media_type)
        response = self.put_manifest(name, tag, manifest, media_type)
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.headers["Docker-Content-Digest"], manifest


def error_code(response: TestResponse) -> str:
    body = json.loads(response.get_data())
    code: str = body["errors"][0]["code"]
    return code
