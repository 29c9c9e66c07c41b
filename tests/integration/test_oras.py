"""oras-py: push and pull an artifact with a subject, over a socket and in-process."""

from __future__ import annotations

import base64
from pathlib import Path

import boto3
import oras.client
import oras.oci
import pytest

from ecr_mock import mock_ecr
from tests.integration.oci_layout import Layout
from tests.integration.test_skopeo import push
from tests.support.live import Live


def oras_client(host: str, password: str, insecure: bool) -> oras.client.OrasClient:
    """An oras client logged in with ECR's Basic credentials."""
    client = oras.client.OrasClient(hostname=host, insecure=insecure, auth_backend="basic")
    client.login(username="AWS", password=password, hostname=host)
    return client


def test_oras_pushes_an_artifact_with_a_subject_and_pulls_it(
    live: Live, layout: Layout, tmp_path: Path
) -> None:
    live.client.create_repository(repositoryName="app")
    image = layout.image("v1")
    assert push(live, layout, "app:v1").returncode == 0
    sbom = tmp_path / "sbom.json"
    sbom.write_text('{"packages": []}')
    client = oras_client(live.endpoint, live.password, insecure=True)
    response = client.push(
        target=f"{live.endpoint}/app:sbom",
        files=[str(sbom)],
        subject=oras.oci.Subject(
            mediaType=image.media_type, digest=image.digest, size=len(image.manifest)
        ),
        disable_path_validation=True,
    )
    assert response.status_code == 201
    details = live.client.describe_images(repositoryName="app", imageIds=[{"imageTag": "sbom"}])
    assert details["imageDetails"][0]["subjectManifestDigest"] == image.digest
    out = tmp_path / "out"
    files = client.pull(target=f"{live.endpoint}/app:sbom", outdir=str(out))
    assert [Path(f).read_text() for f in files] == ['{"packages": []}']


def test_oras_works_in_process_without_a_socket(tmp_path: Path) -> None:
    with mock_ecr():
        ecr = boto3.client("ecr", region_name="eu-west-1")
        ecr.create_repository(repositoryName="artifacts")
        data = ecr.get_authorization_token()["authorizationData"][0]
        password = base64.b64decode(data["authorizationToken"]).decode().split(":", 1)[1]
        host = data["proxyEndpoint"].removeprefix("https://")
        assert host == "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
        notes = tmp_path / "notes.txt"
        notes.write_text("hello")
        client = oras_client(host, password, insecure=False)
        response = client.push(
            target=f"{host}/artifacts:notes", files=[str(notes)], disable_path_validation=True
        )
        assert response.status_code == 201
        listed = ecr.list_images(repositoryName="artifacts")["imageIds"]
        assert [i.get("imageTag") for i in listed] == ["notes"]
        files = client.pull(target=f"{host}/artifacts:notes", outdir=str(tmp_path / "out"))
        assert [Path(f).read_text() for f in files] == ["hello"]


def test_oras_with_wrong_password_is_refused(live: Live, tmp_path: Path) -> None:
    live.client.create_repository(repositoryName="app")
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    client = oras_client(live.endpoint, "wrong", insecure=True)
    with pytest.raises(ValueError, match="UNAUTHORIZED"):
        client.push(
            target=f"{live.endpoint}/app:notes", files=[str(notes)], disable_path_validation=True
        )
    assert live.client.list_images(repositoryName="app")["imageIds"] == []
