"""skopeo against ECR Public through a live server: pushes with the public token, pulls back
with no credentials, and cannot push without them."""

from __future__ import annotations

from pathlib import Path

from ecr_mock.services.public import default_alias
from tests.integration.oci_layout import Layout
from tests.integration.test_skopeo import skopeo
from tests.registry.test_public import public_client, public_password
from tests.support.live import Live

ACCOUNT = "123456789012"
ALIAS = default_alias(ACCOUNT)


def test_skopeo_pushes_with_the_public_token_and_pulls_back_anonymously(
    live: Live, layout: Layout, tmp_path: Path
) -> None:
    uri = public_client(live).create_repository(repositoryName="tools/app")["repository"][
        "repositoryUri"
    ]
    assert uri.endswith(f"/{ALIAS}/tools/app")
    built = layout.image("v1", layers=2)
    pushed = skopeo(
        "copy",
        "--preserve-digests",
        "--dest-tls-verify=false",
        "--dest-creds",
        f"AWS:{public_password(live)}",
        f"oci:{layout.path}:v1",
        f"docker://{uri}:v1",
        check=False,
    )
    assert pushed.returncode == 0, pushed.stderr
    detail = public_client(live).describe_images(repositoryName="tools/app")["imageDetails"][0]
    assert detail["imageDigest"] == built.digest
    assert detail["imageTags"] == ["v1"]
    out = tmp_path / "pulled"
    pulled = skopeo(
        "copy",
        "--src-tls-verify=false",
        "--src-no-creds",
        "--preserve-digests",
        f"docker://{uri}:v1",
        f"oci:{out}:v1",
        check=False,
    )
    assert pulled.returncode == 0, pulled.stderr
    for digest, data in built.blobs.items():
        assert (out / "blobs" / "sha256" / digest.split(":")[1]).read_bytes() == data
    assert (out / "blobs" / "sha256" / built.digest.split(":")[1]).read_bytes() == built.manifest


def test_skopeo_cannot_push_without_credentials(live: Live, layout: Layout) -> None:
    uri = public_client(live).create_repository(repositoryName="app")["repository"]["repositoryUri"]
    layout.image("v1")
    pushed = skopeo(
        "copy",
        "--dest-tls-verify=false",
        "--dest-no-creds",
        f"oci:{layout.path}:v1",
        f"docker://{uri}:v1",
        check=False,
    )
    assert pushed.returncode != 0
    assert public_client(live).describe_images(repositoryName="app")["imageDetails"] == []
