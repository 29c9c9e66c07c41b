"""skopeo against a live server: copy (push and pull), inspect, list-tags, delete, refusals."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.integration.oci_layout import Layout
from tests.support.live import Live, require


def skopeo(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run skopeo with TLS off (the live server speaks plain HTTP on loopback)."""
    return subprocess.run(
        [require("skopeo"), *args], capture_output=True, text=True, check=check, timeout=120
    )


def push(
    live: Live, layout: Layout, ref: str, *extra: str, creds: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``skopeo copy oci:<layout>:<tag> docker://<endpoint>/<ref>``."""
    tag = ref.rsplit(":", 1)[1]
    return skopeo(
        "copy",
        "--preserve-digests",
        "--dest-tls-verify=false",
        "--dest-creds",
        creds or live.creds,
        *extra,
        f"oci:{layout.path}:{tag}",
        f"docker://{live.endpoint}/{ref}",
        check=False,
    )


def test_skopeo_push_is_listed_by_the_api_with_same_digest_and_size(
    live: Live, layout: Layout
) -> None:
    live.client.create_repository(repositoryName="team/app")
    built = layout.image("v1", layers=3)
    result = push(live, layout, "team/app:v1")
    assert result.returncode == 0, result.stderr
    detail = live.client.describe_images(repositoryName="team/app")["imageDetails"][0]
    assert detail["imageDigest"] == built.digest
    assert detail["imageTags"] == ["v1"]
    assert detail["imageSizeInBytes"] == built.layer_size
    got = live.client.batch_get_image(repositoryName="team/app", imageIds=[{"imageTag": "v1"}])
    assert got["images"][0]["imageManifest"].encode() == built.manifest


def test_skopeo_pull_returns_the_same_bytes(live: Live, layout: Layout, tmp_path: Path) -> None:
    live.client.create_repository(repositoryName="app")
    built = layout.image("v1")
    assert push(live, layout, "app:v1").returncode == 0
    out = tmp_path / "pulled"
    result = skopeo(
        "copy",
        "--preserve-digests",
        "--src-tls-verify=false",
        "--src-creds",
        live.creds,
        f"docker://{live.endpoint}/app:v1",
        f"oci:{out}:v1",
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for digest, data in built.blobs.items():
        assert (out / "blobs" / "sha256" / digest.split(":")[1]).read_bytes() == data
    assert (out / "blobs" / "sha256" / built.digest.split(":")[1]).read_bytes() == built.manifest


def test_skopeo_pushes_a_multi_platform_index(live: Live, layout: Layout) -> None:
    live.client.create_repository(repositoryName="multi")
    index = layout.multi_platform("latest")
    result = push(live, layout, "multi:latest", "--all")
    assert result.returncode == 0, result.stderr
    details = live.client.describe_images(repositoryName="multi")["imageDetails"]
    by_digest = {d["imageDigest"]: d for d in details}
    assert set(by_digest) == {index.digest, *(c.digest for c in index.children)}
    assert (
        by_digest[index.digest]["imageManifestMediaType"]
        == "application/vnd.oci.image.index.v1+json"
    )
    assert by_digest[index.digest]["imageTags"] == ["latest"]


def test_skopeo_inspect_list_tags_and_delete(live: Live, layout: Layout) -> None:
    live.client.create_repository(repositoryName="app")
    first = layout.image("b-tag")
    layout.image("a-tag")
    assert push(live, layout, "app:b-tag").returncode == 0
    assert push(live, layout, "app:a-tag").returncode == 0
    raw = skopeo(
        "inspect",
        "--raw",
        "--tls-verify=false",
        "--creds",
        live.creds,
        f"docker://{live.endpoint}/app:b-tag",
    )
    assert raw.stdout.encode() == first.manifest
    tags = json.loads(
        skopeo(
            "list-tags",
            "--tls-verify=false",
            "--creds",
            live.creds,
            f"docker://{live.endpoint}/app",
        ).stdout
    )
    assert tags["Tags"] == ["a-tag", "b-tag"]
    skopeo(
        "delete",
        "--tls-verify=false",
        "--creds",
        live.creds,
        f"docker://{live.endpoint}/app@{first.digest}",
    )
    left = live.client.list_images(repositoryName="app")["imageIds"]
    assert [i["imageTag"] for i in left] == ["a-tag"]


def test_skopeo_wrong_password_is_refused(live: Live, layout: Layout) -> None:
    live.client.create_repository(repositoryName="app")
    layout.image("v1")
    result = push(live, layout, "app:v1", creds="AWS:not-a-token")
    assert result.returncode != 0
    assert "unauthorized" in result.stderr.lower() or "401" in result.stderr
    assert live.client.list_images(repositoryName="app")["imageIds"] == []


def test_skopeo_expired_token_gets_ecr_message(live: Live, layout: Layout) -> None:
    live.client.create_repository(repositoryName="app")
    layout.image("v1")
    live.backend.clock.advance(hours=12, seconds=1)
    result = push(live, layout, "app:v1")
    assert result.returncode != 0
    assert "403" in result.stderr  # a HEAD answer has no body to carry the message
    inspect = skopeo(
        "inspect",
        "--raw",
        "--tls-verify=false",
        "--creds",
        live.creds,
        f"docker://{live.endpoint}/app:v1",
        check=False,
    )
    assert inspect.returncode != 0
    assert "Your authorization token has expired" in inspect.stderr


def test_skopeo_unknown_repository_is_refused_with_name_unknown(live: Live, layout: Layout) -> None:
    layout.image("v1")
    result = push(live, layout, "missing:v1")
    assert result.returncode != 0
    assert (
        "does not exist in the registry" in result.stderr or "name unknown" in result.stderr.lower()
    )


@pytest.mark.parametrize("mutability", ["IMMUTABLE"])
def test_skopeo_cannot_overwrite_an_immutable_tag(
    live: Live, layout: Layout, mutability: str
) -> None:
    live.client.create_repository(repositoryName="app", imageTagMutability=mutability)
    layout.image("v1")
    assert push(live, layout, "app:v1").returncode == 0
    other = Layout(layout.path.parent / "other")
    other.image("v1")
    result = push(live, other, "app:v1")
    assert result.returncode != 0
    assert "already exists" in result.stderr
