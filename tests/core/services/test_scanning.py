"""Core scanning: filters, effective scanning, deterministic findings, set findings, events."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ecr_mock.domain.blobs import Blob
from ecr_mock.domain.errors import InvalidParameter, LimitExceeded, ScanNotFound
from ecr_mock.domain.manifests import OCI_CONFIG, OCI_MANIFEST
from ecr_mock.domain.models import Image
from ecr_mock.protocols.control import build_router
from ecr_mock.services import scanning
from ecr_mock.services.backend import Backend


def push(backend: Backend, repo_name: str, tag: str, seed: bytes = b"layer") -> Image:
    """Push a one-layer OCI image through the core."""
    reg = backend.registry()
    repo = reg.repositories.get(repo_name) or backend.create_repository(reg, repo_name)
    config = Blob.from_bytes(b'{"architecture":"amd64","os":"linux","seed":"' + seed + b'"}')
    layer = Blob.from_bytes(b"layer bytes " + seed)
    backend.store_blob(reg, repo, config)
    backend.store_blob(reg, repo, layer)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config.digest, "size": config.size},
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": layer.digest,
                "size": layer.size,
            }
        ],
    }
    return backend.put_image(reg, repo, json.dumps(manifest).encode(), tag=tag)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("prod", [True, True, True, True, True]),
        ("*prod", [True, True, False, False, False]),
        ("prod*", [True, False, True, False, True]),
        ("*prod*", [True, True, True, True, True]),
        ("prod*repo", [False, False, True, False, True]),
    ],
)
def test_filter_matches_follows_the_ecr_user_guide_table(
    pattern: str, expected: list[bool]
) -> None:
    names = ["prod", "repo-prod", "prod-repo", "repo-prod-repo", "prodrepo"]
    assert [scanning.filter_matches(pattern, n) for n in names] == expected


def test_built_in_findings_are_deterministic_per_digest() -> None:
    first = scanning.built_in_findings("sha256:" + "a" * 64)
    assert first == scanning.built_in_findings("sha256:" + "a" * 64)
    many = {len(scanning.built_in_findings(f"sha256:{i:064x}")) for i in range(40)}
    assert len(many) > 3  # different digests get different selections
    for finding in first:
        keys = {a["key"] for a in finding["attributes"]}
        assert {"package_name", "package_version", "CVSS2_SCORE", "CVSS2_VECTOR"} <= keys
        assert finding["severity"] in scanning.SEVERITIES


def test_scan_on_push_under_a_basic_rule_records_status_summary_and_event(
    ecr_backend: Backend,
) -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    ecr_backend.listeners.append(lambda kind, detail: events.append((kind, detail)))
    scanning.put_registry_scanning_configuration(
        ecr_backend,
        ecr_backend.registry(),
        "BASIC",
        [
            {
                "scanFrequency": "SCAN_ON_PUSH",
                "repositoryFilters": [{"filter": "app*", "filterType": "WILDCARD"}],
            }
        ],
    )
    scanned = push(ecr_backend, "app-web", "v1")
    unscanned = push(ecr_backend, "other", "v1")
    assert scanned.scan_status["status"] == "COMPLETE"
    summary = scanned.scan_summary
    expected = scanning.severity_counts(scanning.built_in_findings(scanned.digest))
    assert summary["findingSeverityCounts"] == expected
    assert unscanned.scan_status is None
    completed = [d for kind, d in events if kind == "scan-completed"]
    assert [d["image"].digest for d in completed] == [scanned.digest]
    assert completed[0]["findings_summary"]["findingSeverityCounts"] == expected


def test_repository_scan_on_push_flag_scans_under_basic_without_rules(ecr_backend: Backend) -> None:
    reg = ecr_backend.registry()
    ecr_backend.create_repository(reg, "flagged", scan_on_push=True)
    image = push(ecr_backend, "flagged", "v1")
    assert image.scan_status["status"] == "COMPLETE"


def test_start_image_scan_is_refused_within_24_hours_and_allowed_after(
    ecr_backend: Backend,
) -> None:
    image = push(ecr_backend, "repo", "v1")
    reg = ecr_backend.registry()
    repo = reg.repositories["repo"]
    with pytest.raises(ScanNotFound):
        scanning.scan_report(repo, image)
    assert scanning.start_image_scan(ecr_backend, reg, repo, image) == {"status": "IN_PROGRESS"}
    first = scanning.scan_report(repo, image).completed_at
    ecr_backend.clock.advance(hours=23)
    with pytest.raises(LimitExceeded) as refused:
        scanning.start_image_scan(ecr_backend, reg, repo, image)
    assert refused.value.message == scanning.LIMIT_MESSAGE
    assert scanning.scan_report(repo, image).completed_at == first
    ecr_backend.clock.advance(hours=1)
    scanning.start_image_scan(ecr_backend, reg, repo, image)
    assert scanning.scan_report(repo, image).completed_at > first


def test_set_scan_findings_for_repository_and_digest_rewrites_completed_scans(
    ecr_backend: Backend,
) -> None:
    reg = ecr_backend.registry()
    ecr_backend.create_repository(reg, "gated", scan_on_push=True)
    one = push(ecr_backend, "gated", "one", b"1")
    two = push(ecr_backend, "gated", "two", b"2")
    scanning.set_scan_findings(ecr_backend, "gated", [{"name": "CVE-1", "severity": "CRITICAL"}])
    scanning.set_scan_findings(
        ecr_backend,
        "gated",
        [{"name": "CVE-2", "severity": "LOW", "attributes": {"package_name": "zlib"}}],
        digest=two.digest,
    )
    repo = reg.repositories["gated"]
    assert [f["name"] for f in scanning.scan_report(repo, one).findings] == ["CVE-1"]
    report = scanning.scan_report(repo, two)
    assert report.findings == [
        {
            "name": "CVE-2",
            "severity": "LOW",
            "attributes": [{"key": "package_name", "value": "zlib"}],
        }
    ]
    assert two.scan_summary["findingSeverityCounts"] == {"LOW": 1}
    scanning.set_scan_findings(ecr_backend, "gated", None, digest=two.digest)
    assert [f["name"] for f in scanning.scan_report(repo, two).findings] == ["CVE-1"]


def test_set_scan_findings_rejects_malformed_findings_and_keeps_previous(
    ecr_backend: Backend,
) -> None:
    scanning.set_scan_findings(ecr_backend, "repo", [{"name": "CVE-1", "severity": "HIGH"}])
    with pytest.raises(InvalidParameter):
        scanning.set_scan_findings(ecr_backend, "repo", [{"name": "CVE-2", "severity": "SEVERE"}])
    table = ecr_backend.registry().scan_findings
    assert [f["name"] for f in table["repo"][None]] == ["CVE-1"]


def handle_findings_request(
    backend: Backend, method: str, path: str, body: bytes
) -> tuple[int, bytes]:
    answer = build_router().handle(backend, method, path, body)
    return answer.status, answer.body()


def test_findings_endpoint_sets_reads_and_clears_findings(ecr_backend: Backend) -> None:
    reg = ecr_backend.registry()
    ecr_backend.create_repository(reg, "team/app", scan_on_push=True)
    image = push(ecr_backend, "team/app", "v1")
    path = f"/ecr-mock/findings/{reg.account}/{reg.region}/team/app@{image.digest}"
    body = json.dumps([{"name": "CVE-9", "severity": "HIGH", "uri": "https://example.com"}])
    status, answer = handle_findings_request(ecr_backend, "PUT", path, body.encode())
    assert (status, json.loads(answer)["findings"]) == (200, 1)
    repo = reg.repositories["team/app"]
    assert [f["name"] for f in scanning.scan_report(repo, image).findings] == ["CVE-9"]
    status, answer = handle_findings_request(ecr_backend, "GET", path, b"")
    assert status == 200
    assert json.loads(answer)[0]["uri"] == "https://example.com"
    assert handle_findings_request(ecr_backend, "DELETE", path, b"")[0] == 204
    assert handle_findings_request(ecr_backend, "GET", path, b"")[0] == 404


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("PUT", "/ecr-mock/findings/123456789012/us-east-1/repo", b"{}", 400),
        ("PUT", "/ecr-mock/findings/123456789012/us-east-1/repo", b"not json", 400),
        ("PUT", "/ecr-mock/findings/123456789012/us-east-1/repo", b'[{"name": "x"}]', 400),
        ("PUT", "/ecr-mock/findings/123456789012/us-east-1/repo@nodigest", b"[]", 400),
        ("PUT", "/ecr-mock/other", b"[]", 404),
        ("POST", "/ecr-mock/findings/123456789012/us-east-1/repo", b"[]", 405),
    ],
)
def test_findings_endpoint_refuses_bad_requests(
    ecr_backend: Backend, method: str, path: str, body: bytes, status: int
) -> None:
    assert handle_findings_request(ecr_backend, method, path, body)[0] == status
    assert not ecr_backend.registry().scan_findings.get("repo")
