"""The ECR Public service over a backend: aliases, the public host, repositories keyed by path,
catalog data."""

from __future__ import annotations

import pytest

from ecr_mock.domain.errors import (
    InvalidParameter,
    RegistryNotFound,
    RepositoryNotEmpty,
    RepositoryNotFound,
)
from ecr_mock.services import public, uploads
from ecr_mock.services.backend import Backend
from tests.support.services import Push

A = "123456789012"
B = "210987654321"


def test_default_aliases_are_stable_distinct_and_valid() -> None:
    assert public.default_alias(A) == public.default_alias(A)
    assert public.default_alias(A) != public.default_alias(B)
    for account in (A, B, "000000000000", "999999999999"):
        alias = public.default_alias(account)
        assert len(alias) == 8
        assert public.ALIAS_RE.fullmatch(alias)


def test_registries_are_found_by_account_or_alias(ecr_backend: Backend) -> None:
    reg = public.public_registry(ecr_backend, A)
    assert public.registry_by_id_or_alias(ecr_backend, A) is reg
    assert public.registry_by_id_or_alias(ecr_backend, public.alias_of(reg)) is reg
    with pytest.raises(RegistryNotFound):
        public.registry_by_id_or_alias(ecr_backend, "unknown-alias")
    assert public.is_public(reg)
    assert not public.is_public(ecr_backend.registry(A, "us-east-1"))


@pytest.mark.parametrize(
    ("endpoint", "host", "own_public_host"),
    [
        (None, "public.ecr.aws", True),
        ("127.0.0.1:5000", "localhost:5000", True),
        ("127.1.2.3:80", "localhost:80", True),
        ("localhost:5000", "127.0.0.1:5000", True),
        ("[::1]:5000", "localhost:5000", True),
        ("10.0.0.7:5000", "10.0.0.7:5000", False),
    ],
)
def test_public_host_is_a_second_name_of_a_loopback_server(
    ecr_backend: Backend, endpoint: str | None, host: str, own_public_host: bool
) -> None:
    ecr_backend.public_endpoint = endpoint
    assert public.host(ecr_backend) == host
    assert public.is_public_host(ecr_backend, host) is own_public_host
    assert public.is_public_host(ecr_backend, "public.ecr.aws:443")
    if endpoint is not None:
        assert not public.is_public_host(ecr_backend, endpoint) or not own_public_host


def test_repositories_are_keyed_by_their_path_and_named_without_the_alias(
    ecr_backend: Backend,
) -> None:
    reg = public.public_registry(ecr_backend, A)
    repo = public.create_repository(ecr_backend, reg, "tools/cli", {"description": "d"})
    alias = public.alias_of(reg)
    assert repo.name == "tools/cli"
    assert list(reg.repositories) == [f"{alias}/tools/cli"]
    assert public.addressed_repository(ecr_backend, f"{alias}/tools/cli") is reg
    assert public.addressed_repository(ecr_backend, "other/tools/cli") is None
    assert public.repository_uri(ecr_backend, reg, repo) == f"public.ecr.aws/{alias}/tools/cli"
    assert public.repository_arn(A, repo.name) == f"arn:aws:ecr-public::{A}:repository/tools/cli"
    assert public.parse_repository_arn(public.repository_arn(A, "tools/cli")) == (A, "tools/cli")
    assert public.parse_repository_arn(f"arn:aws:ecr:us-east-1:{A}:repository/x") is None
    empty_index = (
        b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}'
    )
    ecr_backend.put_image(reg, repo, empty_index, tag="v1")
    with pytest.raises(RepositoryNotEmpty):
        public.delete_repository(ecr_backend, reg, "tools/cli", force=False)
    public.delete_repository(ecr_backend, reg, "tools/cli", force=True)
    with pytest.raises(RepositoryNotFound):
        public.get_repository(ecr_backend, reg, "tools/cli")


def test_catalog_data_replaces_and_keeps_the_logo_within_its_limit(ecr_backend: Backend) -> None:
    reg = public.public_registry(ecr_backend, A)
    repo = public.create_repository(ecr_backend, reg, "app")
    assert public.logo_url(ecr_backend, reg, repo) is None
    public.put_catalog(ecr_backend, repo, {"logoImageBlob": b"png", "aboutText": "about"})
    assert public.logo(ecr_backend, A, "app") == b"png"
    assert public.logo_url(ecr_backend, reg, repo) == (
        f"https://public.ecr.aws/ecr-mock/public-logos/{A}/app"
    )
    public.put_catalog(ecr_backend, repo, {"description": "only this"})
    assert repo.catalog is not None
    assert (repo.catalog.description, repo.catalog.about_text, repo.catalog.logo) == (
        "only this",
        None,
        None,
    )
    with pytest.raises(InvalidParameter):
        public.put_catalog(ecr_backend, repo, {"logoImageBlob": b"x" * (public.MAX_LOGO_BYTES + 1)})
    assert repo.catalog.description == "only this"


def test_tagged_images_pair_each_tag_with_its_image(ecr_backend: Backend, push: Push) -> None:
    reg = public.public_registry(ecr_backend, A)
    repo = public.create_repository(ecr_backend, reg, "app")
    assert public.tagged_images(ecr_backend, repo) == []
    first, second = push(tag="v1", seed="a", into=repo), push(tag="v2", seed="b", into=repo)
    assert public.tagged_images(ecr_backend, repo) == [("v1", first), ("v2", second)]


def test_deleting_a_public_repository_frees_its_blobs_and_ends_its_uploads(
    ecr_backend: Backend, push: Push
) -> None:
    reg = public.public_registry(ecr_backend, A)
    repo = public.create_repository(ecr_backend, reg, "app")
    kept = public.create_repository(ecr_backend, reg, "kept")
    image = push(tag="v1", seed="a", into=repo)
    push(tag="v1", seed="b", into=kept)
    stored = {digest: reg.blobs[digest] for digest in repo.blobs}
    assert len(stored) == 2 and image.digest in repo.images
    session = uploads.start_upload(ecr_backend, reg, repo)
    other = uploads.start_upload(ecr_backend, reg, kept)
    public.delete_repository(ecr_backend, reg, "app", force=True)
    assert not set(stored) & set(reg.blobs)
    assert all(blob.freed for blob in stored.values())
    assert set(reg.uploads) == {other.upload_id}
    assert session.closed
    assert len(reg.blobs) == 2  # the other repository's config and layer stay
