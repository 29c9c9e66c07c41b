"""The OCI distribution workflows: pull, push (monolithic, chunked, mount), discovery, management."""

from __future__ import annotations

import json
import os
import threading
from typing import Any

from ecr_mock.domain.manifests import DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST
from tests.support.registry import Registry, error_code, sha256, sha512

# ----- push: monolithic ----------------------------------------------------------------------


def test_monolithic_post_then_put_stores_the_blob(registry: Registry) -> None:
    registry.create_repo("app")
    data = b"layer bytes" * 100
    started = registry.request("POST", "/v2/app/blobs/uploads/")
    assert started.status_code == 202
    location = started.headers["Location"]
    assert location.startswith("/v2/app/blobs/uploads/")
    assert started.headers["Docker-Upload-UUID"] == location.rsplit("/", 1)[1]
    assert started.headers["Range"] == "0-0"
    done = registry.request("PUT", location, query_string={"digest": sha256(data)}, data=data)
    assert done.status_code == 201
    assert done.headers["Docker-Content-Digest"] == sha256(data)
    assert done.headers["Location"] == f"/v2/app/blobs/{sha256(data)}"
    fetched = registry.request("GET", f"/v2/app/blobs/{sha256(data)}")
    assert fetched.status_code == 200
    assert fetched.get_data() == data


def test_monolithic_post_with_digest_stores_in_one_request(registry: Registry) -> None:
    registry.create_repo("app")
    data = os.urandom(2000)
    response = registry.request(
        "POST", "/v2/app/blobs/uploads/", query_string={"digest": sha256(data)}, data=data
    )
    assert response.status_code == 201
    assert response.headers["Docker-Content-Digest"] == sha256(data)
    assert registry.reg.blobs[sha256(data)].read() == data
    assert registry.reg.uploads == {}


def test_blob_head_reports_size_and_digest_without_body(registry: Registry) -> None:
    registry.create_repo("app")
    digest = registry.push_blob("app", b"x" * 321)
    response = registry.request("HEAD", f"/v2/app/blobs/{digest}")
    assert response.status_code == 200
    assert response.headers["Content-Length"] == "321"
    assert response.headers["Docker-Content-Digest"] == digest
    assert response.get_data() == b""


# ----- push: chunked -------------------------------------------------------------------------


def test_chunked_upload_with_content_range_reports_progress(registry: Registry) -> None:
    registry.create_repo("app")
    data = os.urandom(3000)
    location = registry.request("POST", "/v2/app/blobs/uploads/").headers["Location"]
    first = registry.request(
        "PATCH", location, data=data[:1000], headers={"Content-Range": "0-999"}
    )
    assert first.status_code == 202
    assert first.headers["Range"] == "0-999"
    assert first.headers["Location"] == location
    second = registry.request(
        "PATCH", location, data=data[1000:2500], headers={"Content-Range": "1000-2499"}
    )
    assert second.headers["Range"] == "0-2499"
    status = registry.request("GET", location)
    assert status.status_code == 204
    assert status.headers["Range"] == "0-2499"
    assert status.headers["Docker-Upload-UUID"] == location.rsplit("/", 1)[1]
    done = registry.request(
        "PUT",
        location,
        query_string={"digest": sha256(data)},
        data=data[2500:],
        headers={"Content-Range": "2500-2999"},
    )
    assert done.status_code == 201
    assert registry.reg.blobs[sha256(data)].read() == data


def test_streamed_patch_without_content_range_appends(registry: Registry) -> None:
    registry.create_repo("app")
    data = os.urandom(500)
    location = registry.request("POST", "/v2/app/blobs/uploads/").headers["Location"]
    assert registry.request("PATCH", location, data=data[:200]).headers["Range"] == "0-199"
    assert registry.request("PATCH", location, data=data[200:]).headers["Range"] == "0-499"
    done = registry.request("PUT", location, query_string={"digest": sha256(data)})
    assert done.status_code == 201
    assert registry.reg.blobs[sha256(data)].read() == data


def test_repeated_or_out_of_order_chunk_is_416_with_current_range(registry: Registry) -> None:
    registry.create_repo("app")
    location = registry.request("POST", "/v2/app/blobs/uploads/").headers["Location"]
    registry.request("PATCH", location, data=b"a" * 10, headers={"Content-Range": "0-9"})
    repeated = registry.request("PATCH", location, data=b"a" * 10, headers={"Content-Range": "0-9"})
    assert repeated.status_code == 416
    assert repeated.headers["Range"] == "0-9"
    assert repeated.headers["Location"] == location
    gap = registry.request("PATCH", location, data=b"b" * 5, headers={"Content-Range": "20-24"})
    assert gap.status_code == 416
    assert gap.headers["Range"] == "0-9"
    assert registry.request("GET", location).headers["Range"] == "0-9"


def test_cancel_upload_then_it_is_unknown(registry: Registry) -> None:
    registry.create_repo("app")
    location = registry.request("POST", "/v2/app/blobs/uploads/").headers["Location"]
    registry.request("PATCH", location, data=b"abc")
    assert registry.request("DELETE", location).status_code == 204
    response = registry.request("GET", location)
    assert response.status_code == 404
    assert error_code(response) == "BLOB_UPLOAD_UNKNOWN"
    assert registry.reg.uploads == {}


def test_layer_api_upload_id_continues_through_v2(registry: Registry) -> None:
    repo = registry.create_repo("app")
    session = registry.backend.start_upload(registry.reg, repo)
    data = b"shared session bytes"
    location = f"/v2/app/blobs/uploads/{session.upload_id}"
    registry.request("PATCH", location, data=data)
    done = registry.request("PUT", location, query_string={"digest": sha256(data)})
    assert done.status_code == 201
    assert registry.backend.get_blob(registry.reg, repo, sha256(data)).read() == data


# ----- push: mount ---------------------------------------------------------------------------


def test_mount_of_a_blob_referenced_in_the_source_is_201(registry: Registry) -> None:
    registry.create_repo("source")
    target = registry.create_repo("target")
    registry.push_image("source", "v1", [b"shared layer"])
    digest = sha256(b"shared layer")
    response = registry.request(
        "POST", "/v2/target/blobs/uploads/", query_string={"mount": digest, "from": "source"}
    )
    assert response.status_code == 201
    assert response.headers["Docker-Content-Digest"] == digest
    assert response.headers["Location"] == f"/v2/target/blobs/{digest}"
    assert digest in target.blobs
    assert registry.request("GET", f"/v2/target/blobs/{digest}").get_data() == b"shared layer"


def test_mount_of_an_unreferenced_blob_falls_back_to_an_upload_session(registry: Registry) -> None:
    registry.create_repo("source")
    registry.create_repo("target")
    digest = registry.push_blob("source", b"uploaded but never in an image")
    response = registry.request(
        "POST", "/v2/target/blobs/uploads/", query_string={"mount": digest, "from": "source"}
    )
    assert response.status_code == 202
    assert response.headers["Location"].startswith("/v2/target/blobs/uploads/")
    assert registry.request("HEAD", f"/v2/target/blobs/{digest}").status_code == 404


def test_mount_from_a_missing_repository_falls_back(registry: Registry) -> None:
    registry.create_repo("target")
    response = registry.request(
        "POST",
        "/v2/target/blobs/uploads/",
        query_string={"mount": sha256(b"x"), "from": "nowhere"},
    )
    assert response.status_code == 202


def test_mount_disabled_by_account_setting_falls_back(registry: Registry) -> None:
    registry.create_repo("source")
    registry.create_repo("target")
    registry.push_image("source", "v1", [b"shared layer"])
    registry.reg.settings["BLOB_MOUNTING"] = "DISABLED"
    response = registry.request(
        "POST",
        "/v2/target/blobs/uploads/",
        query_string={"mount": sha256(b"shared layer"), "from": "source"},
    )
    assert response.status_code == 202


# ----- manifests and pull --------------------------------------------------------------------


def test_pull_by_tag_and_digest_returns_the_bytes_as_pushed(registry: Registry) -> None:
    registry.create_repo("app")
    digest, manifest = registry.push_image("app", "v1", [b"layer-1", b"layer-2"])
    assert digest == sha256(manifest)
    for reference in ("v1", digest):
        response = registry.request("GET", f"/v2/app/manifests/{reference}")
        assert response.status_code == 200
        assert response.get_data() == manifest
        assert response.headers["Content-Type"] == OCI_MANIFEST
        assert response.headers["Docker-Content-Digest"] == digest
    head = registry.request("HEAD", "/v2/app/manifests/v1")
    assert head.status_code == 200
    assert head.headers["Content-Length"] == str(len(manifest))
    assert head.get_data() == b""


def test_manifest_put_answers_location_and_digest(registry: Registry) -> None:
    registry.create_repo("app")
    manifest = registry.image_manifest("app", [b"l"])
    response = registry.put_manifest("app", "latest", manifest)
    assert response.status_code == 201
    assert response.headers["Location"] == f"/v2/app/manifests/{sha256(manifest)}"
    assert response.headers["Docker-Content-Digest"] == sha256(manifest)


def test_repeated_manifest_push_is_idempotent(registry: Registry) -> None:
    registry.create_repo("app")
    manifest = registry.image_manifest("app", [b"l"])
    assert registry.put_manifest("app", "v1", manifest).status_code == 201
    assert registry.put_manifest("app", "v1", manifest).status_code == 201
    assert registry.put_manifest("app", sha256(manifest), manifest).status_code == 201


def test_unknown_fields_are_kept_byte_for_byte(registry: Registry) -> None:
    registry.create_repo("app")
    manifest = registry.image_manifest("app", [b"l"], extra={"x-custom": {"kept": [1, 2]}})
    registry.put_manifest("app", "v1", manifest)
    assert registry.request("GET", "/v2/app/manifests/v1").get_data() == manifest


def test_docker_manifest_and_manifest_list(registry: Registry) -> None:
    registry.create_repo("app")
    amd, _ = registry.push_image("app", "amd64", [b"amd"], media_type=DOCKER_MANIFEST)
    arm, _ = registry.push_image("app", "arm64", [b"arm"], media_type=DOCKER_MANIFEST)
    sizes = {
        d: len(registry.request("GET", f"/v2/app/manifests/{d}").get_data()) for d in (amd, arm)
    }
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST_LIST,
            "manifests": [
                {
                    "mediaType": DOCKER_MANIFEST,
                    "digest": d,
                    "size": sizes[d],
                    "platform": {"architecture": arch, "os": "linux"},
                }
                for d, arch in ((amd, "amd64"), (arm, "arm64"))
            ],
        }
    ).encode()
    response = registry.put_manifest("app", "multi", index, DOCKER_MANIFEST_LIST)
    assert response.status_code == 201
    fetched = registry.request(
        "GET", "/v2/app/manifests/multi", headers={"Accept": DOCKER_MANIFEST_LIST}
    )
    assert fetched.headers["Content-Type"] == DOCKER_MANIFEST_LIST
    assert fetched.get_data() == index
    image = registry.request("GET", f"/v2/app/manifests/{amd}", headers={"Accept": OCI_INDEX})
    assert image.status_code == 200
    assert image.headers["Content-Type"] == DOCKER_MANIFEST


def test_index_is_not_served_to_a_client_accepting_only_image_manifests(
    registry: Registry,
) -> None:
    registry.create_repo("app")
    child, _ = registry.push_image("app", "one", [b"l"])
    size = len(registry.request("GET", f"/v2/app/manifests/{child}").get_data())
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [{"mediaType": OCI_MANIFEST, "digest": child, "size": size}],
        }
    ).encode()
    registry.put_manifest("app", "idx", index, OCI_INDEX)
    refused = registry.request("GET", "/v2/app/manifests/idx", headers={"Accept": DOCKER_MANIFEST})
    assert refused.status_code == 404
    assert error_code(refused) == "MANIFEST_UNKNOWN"
    anything = registry.request("GET", "/v2/app/manifests/idx", headers={"Accept": "*/*"})
    assert anything.status_code == 200


def test_manifest_get_records_a_pull_and_head_does_not(registry: Registry) -> None:
    repo = registry.create_repo("app")
    digest, _ = registry.push_image("app", "v1", [b"l"])
    registry.backend.clock.freeze()
    registry.request("HEAD", "/v2/app/manifests/v1")
    assert repo.images[digest].last_pulled_at is None
    registry.request("GET", f"/v2/app/manifests/{digest}")
    assert repo.images[digest].last_pulled_at == registry.backend.now()


def test_archived_image_cannot_be_pulled(registry: Registry) -> None:
    repo = registry.create_repo("app")
    digest, _ = registry.push_image("app", "v1", [b"l"])
    repo.images[digest].storage_class = "ARCHIVE"
    repo.images[digest].status = "ARCHIVED"
    response = registry.request("GET", "/v2/app/manifests/v1")
    assert (
        response.status_code == 404
    )  # AWS: "Requests to pull the archived image will fail with a 404"
    assert error_code(response) == "MANIFEST_UNKNOWN"


def test_sha512_blob_and_manifest(registry: Registry) -> None:
    registry.create_repo("app")
    data = os.urandom(4000)
    digest = registry.push_blob("app", data, sha512(data))
    assert digest.startswith("sha512:")
    assert registry.request("GET", f"/v2/app/blobs/{digest}").get_data() == data
    manifest = registry.image_manifest("app", [b"l"])
    response = registry.put_manifest("app", sha512(manifest), manifest)
    assert response.status_code == 201
    assert response.headers["Docker-Content-Digest"] == sha512(manifest)
    fetched = registry.request("GET", f"/v2/app/manifests/{sha512(manifest)}")
    assert fetched.get_data() == manifest


def test_names_with_slashes_work_everywhere(registry: Registry) -> None:
    name = "team/blobs/manifests/app"
    registry.create_repo(name)
    digest, manifest = registry.push_image(name, "v1", [b"deep"])
    assert registry.request("GET", f"/v2/{name}/manifests/v1").get_data() == manifest
    assert registry.request("GET", f"/v2/{name}/blobs/{sha256(b'deep')}").get_data() == b"deep"
    tags = json.loads(registry.request("GET", f"/v2/{name}/tags/list").get_data())
    assert tags == {"name": name, "tags": ["v1"]}
    assert registry.request("DELETE", f"/v2/{name}/manifests/{digest}").status_code == 202


def test_manifest_put_by_digest_with_tag_parameters_tags_it(registry: Registry) -> None:
    repo = registry.create_repo("app")
    manifest = registry.image_manifest("app", [b"l"])
    response = registry.request(
        "PUT",
        f"/v2/app/manifests/{sha256(manifest)}",
        query_string=[("tag", "a"), ("tag", "b")],
        data=manifest,
        headers={"Content-Type": OCI_MANIFEST},
    )
    assert response.status_code == 201
    assert sorted(repo.images[sha256(manifest)].tags) == ["a", "b"]


# ----- content discovery ---------------------------------------------------------------------


def test_tags_list_sorted_and_paginated_with_link(registry: Registry) -> None:
    registry.create_repo("app")
    manifest = registry.image_manifest("app", [b"l"])
    for tag in ["c", "a", "e", "b", "d"]:
        registry.put_manifest("app", tag, manifest)
    everything = registry.request("GET", "/v2/app/tags/list")
    assert json.loads(everything.get_data())["tags"] == ["a", "b", "c", "d", "e"]
    assert "Link" not in everything.headers
    first = registry.request("GET", "/v2/app/tags/list", query_string={"n": 2})
    assert json.loads(first.get_data())["tags"] == ["a", "b"]
    assert first.headers["Link"] == '</v2/app/tags/list?n=2&last=b>; rel="next"'
    second = registry.request("GET", "/v2/app/tags/list", query_string={"n": 2, "last": "b"})
    assert json.loads(second.get_data())["tags"] == ["c", "d"]
    last = registry.request("GET", "/v2/app/tags/list", query_string={"n": 2, "last": "d"})
    assert json.loads(last.get_data())["tags"] == ["e"]
    assert "Link" not in last.headers


def test_tags_list_follows_tags_moved_and_deleted(registry: Registry) -> None:
    registry.create_repo("app")
    one = registry.image_manifest("app", [b"one"])
    two = registry.image_manifest("app", [b"two"])
    for tag in ["v3", "latest", "v1", "v2"]:
        registry.put_manifest("app", tag, one)
    registry.put_manifest("app", "latest", two)  # the tag moves: listed once
    second_digest = registry.put_manifest("app", "v0", two).headers["Docker-Content-Digest"]
    listed = json.loads(registry.request("GET", "/v2/app/tags/list").get_data())["tags"]
    assert listed == ["latest", "v0", "v1", "v2", "v3"]
    deleted = registry.request("DELETE", f"/v2/app/manifests/{second_digest}")
    assert deleted.status_code == 202
    pages = [
        json.loads(registry.request("GET", "/v2/app/tags/list", query_string=q).get_data())["tags"]
        for q in ({"n": 2}, {"n": 2, "last": "v2"})
    ]
    assert pages == [["v1", "v2"], ["v3"]]


def test_tags_list_without_n_pages_by_100_as_ecr(registry: Registry) -> None:
    registry.create_repo("app")
    manifest = registry.image_manifest("app", [b"l"])
    for i in range(105):
        registry.put_manifest("app", f"t{i:03d}", manifest)
    first = registry.request("GET", "/v2/app/tags/list")
    assert len(json.loads(first.get_data())["tags"]) == 100
    assert first.headers["Link"] == '</v2/app/tags/list?n=100&last=t099>; rel="next"'


def test_tags_list_n_above_1000_is_refused_as_ecr(registry: Registry) -> None:
    registry.create_repo("app")
    response = registry.request("GET", "/v2/app/tags/list", query_string={"n": 1001})
    assert response.status_code == 400
    body = json.loads(response.get_data())["errors"][0]
    assert body["code"] == "UNSUPPORTED"
    assert "less than or equal to 1000" in body["message"]
    assert registry.request("GET", "/v2/app/tags/list", query_string={"n": 1000}).status_code == 200


def test_catalog_lists_only_the_tokens_registry_paginated(registry: Registry) -> None:
    for name in ("zeta", "alpha", "team/mid"):
        registry.create_repo(name)
    registry.backend.create_repository(registry.backend.registry("210987654321"), "elsewhere")
    response = registry.request("GET", "/v2/_catalog")
    assert json.loads(response.get_data()) == {"repositories": ["alpha", "team/mid", "zeta"]}
    page = registry.request("GET", "/v2/_catalog", query_string={"n": 1, "last": "alpha"})
    assert json.loads(page.get_data()) == {"repositories": ["team/mid"]}
    assert page.headers["Link"] == '</v2/_catalog?n=1&last=team%2Fmid>; rel="next"'


def _catalog_walk(registry: Registry, size: int, between: Any = None) -> list[str]:
    """Every name the catalog lists, following its Link pages of ``size`` names."""
    names: list[str] = []
    query: dict[str, Any] = {"n": size}
    while True:
        page = registry.request("GET", "/v2/_catalog", query_string=query)
        assert page.status_code == 200
        names += json.loads(page.get_data())["repositories"]
        link = page.headers.get("Link")
        if link is None:
            return names
        query = {"n": size, "last": names[-1]}
        if between is not None:
            between(names)


def test_catalog_pages_follow_repositories_created_and_deleted(registry: Registry) -> None:
    made = ["mm/22", "bb", "zz", "aa-1", "mm/10", "cc", "aa", "yy", "mm"]
    for name in made:
        registry.create_repo(name)
    assert _catalog_walk(registry, 2) == sorted(made)
    registry.backend.delete_repository(registry.reg, "cc")
    registry.backend.delete_repository(registry.reg, "aa")
    kept = sorted(set(made) - {"aa", "cc"})
    assert _catalog_walk(registry, 3) == kept
    added: list[str] = []

    def create_behind_and_ahead(seen: list[str]) -> None:
        if not added:
            added.extend(["00-behind", "zzz-ahead"])
            for name in added:
                registry.create_repo(name)

    assert _catalog_walk(registry, 2, create_behind_and_ahead) == [*kept, "zzz-ahead"]
    assert _catalog_walk(registry, 1000) == sorted([*kept, *added])


def _artifact(registry: Registry, subject: tuple[str, int], artifact_type: str, note: str) -> bytes:
    empty = registry.push_blob("app", b"{}")
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": artifact_type,
            "config": {
                "mediaType": "application/vnd.oci.empty.v1+json",
                "digest": empty,
                "size": 2,
            },
            "layers": [
                {
                    "mediaType": "application/octet-stream",
                    "digest": registry.push_blob("app", note.encode()),
                    "size": len(note),
                }
            ],
            "subject": {"mediaType": OCI_MANIFEST, "digest": subject[0], "size": subject[1]},
            "annotations": {"note": note},
        }
    ).encode()


def test_referrers_with_subject_header_and_artifact_type_filter(registry: Registry) -> None:
    registry.create_repo("app")
    subject, manifest = registry.push_image("app", "v1", [b"l"])
    sbom = _artifact(registry, (subject, len(manifest)), "application/spdx+json", "sbom")
    sig = _artifact(registry, (subject, len(manifest)), "application/vnd.dev.cosign", "sig")
    for artifact in (sbom, sig):
        response = registry.put_manifest("app", sha256(artifact), artifact)
        assert response.status_code == 201
        assert response.headers["OCI-Subject"] == subject
    listed = registry.request("GET", f"/v2/app/referrers/{subject}")
    assert listed.status_code == 200
    assert listed.headers["Content-Type"] == OCI_INDEX
    index = json.loads(listed.get_data())
    assert index["schemaVersion"] == 2 and index["mediaType"] == OCI_INDEX
    by_digest = {d["digest"]: d for d in index["manifests"]}
    assert by_digest[sha256(sbom)] == {
        "mediaType": OCI_MANIFEST,
        "digest": sha256(sbom),
        "size": len(sbom),
        "artifactType": "application/spdx+json",
        "annotations": {"note": "sbom"},
    }
    assert set(by_digest) == {sha256(sbom), sha256(sig)}
    assert "OCI-Filters-Applied" not in listed.headers
    filtered = registry.request(
        "GET",
        f"/v2/app/referrers/{subject}",
        query_string={"artifactType": "application/spdx+json"},
    )
    assert filtered.headers["OCI-Filters-Applied"] == "artifactType"
    assert [d["digest"] for d in json.loads(filtered.get_data())["manifests"]] == [sha256(sbom)]


def test_referrers_of_a_digest_without_any_is_an_empty_index(registry: Registry) -> None:
    registry.create_repo("app")
    response = registry.request("GET", f"/v2/app/referrers/{sha256(b'nothing')}")
    assert response.status_code == 200
    assert json.loads(response.get_data())["manifests"] == []


def test_referrer_without_artifact_type_reports_config_media_type(registry: Registry) -> None:
    registry.create_repo("app")
    subject, manifest = registry.push_image("app", "v1", [b"l"])
    config = registry.push_blob("app", b'{"sig":1}')
    doc = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.example.sig", "digest": config, "size": 9},
            "layers": [],
            "subject": {"mediaType": OCI_MANIFEST, "digest": subject, "size": len(manifest)},
        }
    ).encode()
    registry.put_manifest("app", sha256(doc), doc)
    index = json.loads(registry.request("GET", f"/v2/app/referrers/{subject}").get_data())
    assert index["manifests"][0]["artifactType"] == "application/vnd.example.sig"


# ----- content management --------------------------------------------------------------------


def test_tag_delete_removes_only_the_tag(registry: Registry) -> None:
    repo = registry.create_repo("app")
    manifest = registry.image_manifest("app", [b"l"])
    registry.put_manifest("app", "a", manifest)
    registry.put_manifest("app", "b", manifest)
    assert registry.request("DELETE", "/v2/app/manifests/a").status_code == 202
    assert registry.request("GET", "/v2/app/manifests/a").status_code == 404
    assert registry.request("GET", "/v2/app/manifests/b").status_code == 200
    registry.request("DELETE", "/v2/app/manifests/b")
    assert sha256(manifest) in repo.images
    assert repo.images[sha256(manifest)].tags == []


def test_manifest_delete_by_digest_removes_image_and_tags(registry: Registry) -> None:
    repo = registry.create_repo("app")
    digest, _ = registry.push_image("app", "v1", [b"l"])
    assert registry.request("DELETE", f"/v2/app/manifests/{digest}").status_code == 202
    assert digest not in repo.images and "v1" not in repo.tags
    again = registry.request("DELETE", f"/v2/app/manifests/{digest}")
    assert again.status_code == 404
    assert error_code(again) == "MANIFEST_UNKNOWN"


def test_blob_delete_then_blob_unknown(registry: Registry) -> None:
    registry.create_repo("app")
    digest = registry.push_blob("app", b"goes away")
    assert registry.request("DELETE", f"/v2/app/blobs/{digest}").status_code == 202
    response = registry.request("GET", f"/v2/app/blobs/{digest}")
    assert response.status_code == 404
    assert error_code(response) == "BLOB_UNKNOWN"


# ----- ranges --------------------------------------------------------------------------------


def test_blob_range_requests(registry: Registry) -> None:
    registry.create_repo("app")
    data = bytes(range(256)) * 4
    digest = registry.push_blob("app", data)
    part = registry.request("GET", f"/v2/app/blobs/{digest}", headers={"Range": "bytes=10-19"})
    assert part.status_code == 206
    assert part.get_data() == data[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
    assert part.headers["Content-Length"] == "10"
    tail = registry.request("GET", f"/v2/app/blobs/{digest}", headers={"Range": "bytes=-5"})
    assert tail.get_data() == data[-5:]
    open_ended = registry.request(
        "GET", f"/v2/app/blobs/{digest}", headers={"Range": "bytes=1000-"}
    )
    assert open_ended.get_data() == data[1000:]
    bad = registry.request("GET", f"/v2/app/blobs/{digest}", headers={"Range": "bytes=5000-6000"})
    assert bad.status_code == 416
    assert bad.headers["Content-Range"] == f"bytes */{len(data)}"


# ----- shared state --------------------------------------------------------------------------


def test_image_pushed_through_v2_is_in_the_backend_with_same_digest_and_size(
    registry: Registry,
) -> None:
    repo = registry.create_repo("app")
    digest, manifest = registry.push_image("app", "v1", [b"a" * 100, b"b" * 50])
    image = repo.images[digest]
    assert image.manifest == manifest
    assert image.size == 150
    assert repo.tags["v1"] == digest


def test_image_put_through_the_backend_pulls_through_v2(registry: Registry) -> None:
    repo = registry.create_repo("app")
    backend = registry.backend
    layer, config = b"api layer", b'{"os":"linux"}'
    for data in (layer, config):
        session = backend.start_upload(registry.reg, repo)
        session.append(data)
        backend.complete_upload(registry.reg, repo, session.upload_id, [sha256(data)])
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST,
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "digest": sha256(config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "digest": sha256(layer),
                    "size": len(layer),
                }
            ],
        }
    ).encode()
    backend.put_image(registry.reg, repo, manifest, tag="api")
    pulled = registry.request("GET", "/v2/app/manifests/api")
    assert pulled.get_data() == manifest
    assert pulled.headers["Content-Type"] == DOCKER_MANIFEST
    assert registry.request("GET", f"/v2/app/blobs/{sha256(layer)}").get_data() == layer


# ----- concurrency and streaming -------------------------------------------------------------


def test_concurrent_pushes_into_one_repository_all_succeed(registry: Registry) -> None:
    repo = registry.create_repo("app")
    blobs = [os.urandom(50_000 + i) for i in range(16)]
    results: dict[int, int] = {}

    def push(i: int) -> None:
        client = Registry(registry.backend)
        data = blobs[i]
        location = client.request("POST", "/v2/app/blobs/uploads/").headers["Location"]
        client.request("PATCH", location, data=data[:20_000], headers={"Content-Range": "0-19999"})
        client.request("PATCH", location, data=data[20_000:])
        results[i] = client.request(
            "PUT", location, query_string={"digest": sha256(data)}
        ).status_code

    threads = [threading.Thread(target=push, args=(i,)) for i in range(len(blobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == dict.fromkeys(range(len(blobs)), 201)
    for data in blobs:
        assert sha256(data) in repo.blobs
        assert registry.reg.blobs[sha256(data)].read() == data


def test_large_chunked_blob_spills_to_a_file_and_reads_back(registry: Registry) -> None:
    registry.create_repo("app")
    chunk = 8 * 1024 * 1024
    data = os.urandom(50 * 1024 * 1024)
    location = registry.request("POST", "/v2/app/blobs/uploads/").headers["Location"]
    for start in range(0, len(data), chunk):
        part = data[start : start + chunk]
        response = registry.request(
            "PATCH",
            location,
            data=part,
            headers={"Content-Range": f"{start}-{start + len(part) - 1}"},
        )
        assert response.status_code == 202
    done = registry.request("PUT", location, query_string={"digest": sha256(data)})
    assert done.status_code == 201
    blob = registry.reg.blobs[sha256(data)]
    assert blob.in_memory is False
    assert blob.size == len(data)
    fetched = registry.request("GET", f"/v2/app/blobs/{sha256(data)}")
    assert fetched.get_data() == data
    ranged = registry.request(
        "GET", f"/v2/app/blobs/{sha256(data)}", headers={"Range": "bytes=30000000-30000099"}
    )
    assert ranged.get_data() == data[30_000_000:30_000_100]
