"""The web console over plain HTTP: pages, escaping, access rules, CSRF, actions the API sees."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import unquote

import pytest
import requests
from botocore.exceptions import ClientError

from ecr_mock import Backend
from ecr_mock.domain.manifests import Descriptor
from ecr_mock.protocols.control.console.compare import diff_configs, diff_layers
from ecr_mock.protocols.control.console.html import Markup, el
from ecr_mock.server import EcrMockServer
from tests.console_world import (
    ACCOUNT,
    HOSTILE,
    REGION,
    REPO,
    World,
    build_world,
    csrf_of,
    outside_address,
)
from tests.h11_client import Connection

UI = "/ecr-mock/ui/"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def world(own_server: EcrMockServer) -> World:
    return build_world(own_server)


def page(world: World, path: str, session: requests.Session | None = None) -> requests.Response:
    answer = (session or requests).get(world.url(path), timeout=30)
    assert answer.status_code == 200, answer.text[:500]
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    return answer


def post(
    session: requests.Session, world: World, path: str, fields: dict[str, str], from_page: str = UI
) -> requests.Response:
    """Submit a console form as a browser does: the CSRF token of the page it is on."""
    token = csrf_of(page(world, from_page, session).text)
    return session.post(
        world.url(path), data={"csrf": token, **fields}, allow_redirects=False, timeout=30
    )


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# ----- pages -----------------------------------------------------------------------------


def test_home_shows_each_registry_with_counts_and_stored_bytes(world: World) -> None:
    html = page(world, UI).text
    stored = sum(blob.size for blob in world.server.backend.registry().blobs.values())
    row = re.search(r"<tr><td[^>]*>123456789012</td><td[^>]*>us-east-1</td>(.*?)</tr>", html)
    assert row is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))
    assert cells[:2] == ["1", "5"]  # one repository; v1, v2, untagged, the index, the SBOM
    assert f'title="{stored} bytes"' in cells[2]
    assert f'href="{world.repo_path()}"' in html


def test_repository_page_shows_settings_policies_preview_and_pull_commands(world: World) -> None:
    html = page(world, world.repo_path()).text
    text = text_of(html)
    assert "Tag mutability MUTABLE" in text
    assert "Scan on push no" in text
    assert "Encryption AES256" in text
    assert "&quot;Sid&quot;: &quot;ReadOnly&quot;" in html  # the policy, formatted
    assert "&quot;countType&quot;: &quot;imageCountMoreThan&quot;" in html
    preview = html.split('id="lifecycle-h"', 1)[1].split('id="compare-h"', 1)[0]
    assert world.untagged[:19] in preview
    assert "rule 1: keep one untagged image" in text_of(preview)
    assert world.v1[:19] not in preview
    endpoint = world.server.endpoint
    assert f"docker pull {endpoint}/{REPO}@{world.v1}" in html
    assert f"docker://{endpoint}/{REPO}@{world.v1}" in html


def test_a_long_repository_is_listed_a_page_at_a_time(own_server: EcrMockServer) -> None:
    images = [
        {
            "synthetic": {"layers": 1, "layerSize": 16, "seed": str(n)},
            "tags": [f"t{n}"],
            "pushedDaysAgo": n,
        }
        for n in range(101)
    ]
    own_server.backend.seed({"repositories": [{"name": "long", "images": images}]})
    url = f"{own_server.url}{UI}repositories/{ACCOUNT}/{REGION}/long"
    first = requests.get(url, timeout=30).text
    assert "Images 1 to 100 of 101, newest first." in first
    assert first.count('data-label="Tags">t') == 100
    assert 'data-label="Tags">t0<' in first and 'data-label="Tags">t100<' not in first
    older = re.search(r'<a href="([^"]+)" rel="next">Older images</a>', first)
    assert older is not None
    second = requests.get(own_server.url + older.group(1), timeout=30).text
    assert "Images 101 to 101 of 101, newest first." in second
    assert second.count('data-label="Tags">t') == 1 and 'data-label="Tags">t100<' in second
    assert 'rel="prev">Newer images</a>' in second and 'rel="next"' not in second


def test_archived_images_show_their_storage_class(world: World) -> None:
    world.client.update_image_storage_class(
        repositoryName=REPO, imageId={"imageDigest": world.untagged}, targetStorageClass="ARCHIVE"
    )
    html = page(world, world.repo_path()).text
    row = html.split(f'title="{world.untagged}"', 1)[1].split("</tr>", 1)[0]
    assert re.search(r'data-label="Storage">archive\b', row)


def test_image_page_shows_layers_config_referrers_and_manifest(world: World) -> None:
    html = page(world, world.image_path(world.v2)).text
    layers = world.server.backend.registry().repositories[REPO].images[world.v2].parsed.layers
    assert len(layers) == 3
    for layer in layers:
        assert layer.digest in html  # short digest shown, the full one in its title
    assert "SEED=two" in html  # the config
    assert world.sbom[:19] in html and "application/spdx+json" in html  # the referrer
    assert "&quot;schemaVersion&quot;: 2" in html


def test_index_page_lists_its_platforms_with_links(world: World) -> None:
    html = page(world, world.image_path(world.index)).text
    platforms = html.split('id="platforms-h"', 1)[1].split("</section>", 1)[0]
    assert "linux/amd64" in platforms and "linux/arm64" in platforms
    assert f'href="{world.image_path(world.v1)}"' in platforms
    assert f'href="{world.image_path(world.v2)}"' in platforms


def test_compare_shows_layers_and_config_fields_that_differ(world: World) -> None:
    html = page(world, world.compare_path()).text
    assert "3 layer(s) added, 2 removed, 0 shared." in text_of(html)
    config = html.split("Config fields that differ", 1)[1]
    assert "architecture" in config and "amd64" in config and "arm64" in config
    assert "SEED=one" in config and "SEED=two" in config


def test_every_value_is_escaped(world: World) -> None:
    world.server.backend.faults.add_rule(
        {"operation": "ListImages", "error": "ThrottlingException", "message": HOSTILE}
    )
    for path in (world.repo_path(), f"{UI}faults"):
        html = page(world, path).text
        assert HOSTILE not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert html.count("<script") == 1  # the console's own, from its own path


def test_markup_escapes_text_attributes_and_concatenated_text() -> None:
    built = el("a", {"href": '"><script>'}, "<b>", Markup("<i>ok</i>")) + "<u>"
    assert built == '<a href="&quot;&gt;&lt;script&gt;">&lt;b&gt;<i>ok</i></a>&lt;u&gt;'


def test_calls_page_lists_newest_first_and_filters(world: World) -> None:
    world.client.describe_repositories()
    with pytest.raises(ClientError):
        world.client.describe_images(repositoryName="missing")
    rows = page(world, f"{UI}calls/rows").text
    operations = re.findall(r"<td[^>]*>(DescribeImages|DescribeRepositories|PutImage)</td>", rows)
    assert operations[:2] == ["DescribeImages", "DescribeRepositories"]
    only = page(world, f"{UI}calls/rows?status=400").text
    assert "DescribeImages" in only and "RepositoryNotFoundException" in only
    assert "PutImage" not in only
    by_repo = page(world, f"{UI}calls/rows?repository={REPO}&operation=PutImage").text
    assert by_repo.count("<tr>") == 5  # v1, v2, untagged, the index, the SBOM
    assert (
        'data-refresh="/ecr-mock/ui/calls/rows?status=400"'
        in page(world, f"{UI}calls?status=400").text
    )


def test_unknown_pages_are_404_pages(world: World) -> None:
    for path in (
        f"{UI}nowhere",
        f"{UI}repositories/{ACCOUNT}/{REGION}/nope",
        world.image_path("sha256:" + "0" * 64),
    ):
        answer = requests.get(world.url(path), timeout=30)
        assert answer.status_code == 404
        assert "<h1>Not found</h1>" in answer.text


def test_pages_load_nothing_from_another_host(world: World) -> None:
    answer = page(world, world.repo_path())
    policy = answer.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    for url in re.findall(r'(?:src|href|action)="([^"]*)"', answer.text):
        assert url.startswith(("/", "#")), url
    for name in ("console.css", "console.js"):
        static = requests.get(world.url(f"{UI}static/{name}"), timeout=30).text
        assert "http://" not in static and "https://" not in static and "@import" not in static


def test_console_answers_are_well_framed_on_one_connection(world: World) -> None:
    with Connection(world.server) as conn:
        home = conn.request("GET", UI)
        assert home.status == 200 and home.header("content-length") == str(len(home.body))
        head = conn.request("HEAD", UI)
        assert head.status == 200 and head.body == b""
        moved = conn.request("GET", "/ecr-mock/ui")
        assert moved.status == 303 and moved.header("location") == UI and moved.body == b""
        refused = conn.request("POST", f"{UI}clock", {"Content-Type": FORM}, b"advance_seconds=1")
        assert refused.status == 403
        missing = conn.request("GET", f"{UI}static/missing.css")
        assert missing.status == 404
        conn.sentinel()


# ----- actions: POST forms with CSRF, seen by the ECR API --------------------------------


def test_post_without_csrf_is_refused_and_changes_nothing(world: World) -> None:
    session = requests.Session()
    page(world, UI, session)  # has a session cookie, but sends no token
    before = world.server.backend.clock.now()
    for fields in ({}, {"csrf": "0" * 64}):
        answer = session.post(
            world.url(f"{UI}clock"), data={"advance_seconds": "86400", **fields}, timeout=30
        )
        assert answer.status_code == 403
        assert "CSRF" in answer.text
    deleted = session.post(
        world.url(f"{UI}actions/delete-image"),
        data={"account": ACCOUNT, "region": REGION, "repository": REPO, "digest": world.v1},
        timeout=30,
    )
    assert deleted.status_code == 403
    assert world.v1 in world.digests()
    assert (world.server.backend.clock.now() - before).total_seconds() < 86400


def test_post_from_another_origin_is_refused(world: World) -> None:
    session = requests.Session()
    token = csrf_of(page(world, UI, session).text)
    answer = session.post(
        world.url(f"{UI}clock"),
        data={"csrf": token, "advance_seconds": "60"},
        headers={"Origin": "http://evil.example"},
        timeout=30,
    )
    assert answer.status_code == 403


def test_csrf_token_of_one_session_does_not_work_in_another(world: World) -> None:
    first, second = requests.Session(), requests.Session()
    token = csrf_of(page(world, UI, first).text)
    page(world, UI, second)
    answer = second.post(
        world.url(f"{UI}clock"), data={"csrf": token, "advance_seconds": "60"}, timeout=30
    )
    assert answer.status_code == 403


def test_advancing_the_clock_is_what_the_control_api_reports(world: World) -> None:
    session = requests.Session()
    before = requests.get(world.url("/ecr-mock/clock"), timeout=30).json()["now"]
    answer = post(session, world, f"{UI}clock", {"advance_seconds": "86400"})
    assert answer.status_code == 303 and answer.headers["Location"].startswith(UI)
    after = requests.get(world.url("/ecr-mock/clock"), timeout=30).json()["now"]
    assert after[:10] > before[:10]


def test_delete_image_removes_it_from_the_api(world: World) -> None:
    session = requests.Session()
    fields = {"account": ACCOUNT, "region": REGION, "repository": REPO, "digest": world.untagged}
    answer = post(session, world, f"{UI}actions/delete-image", fields, world.repo_path())
    assert answer.status_code == 303
    assert world.untagged not in world.digests()


def test_deleting_an_image_an_index_names_is_refused_with_the_api_reason(world: World) -> None:
    session = requests.Session()
    fields = {"account": ACCOUNT, "region": REGION, "repository": REPO, "digest": world.v1}
    answer = post(session, world, f"{UI}actions/delete-image", fields, world.repo_path())
    assert answer.status_code == 409
    assert "ImageReferencedByManifestList" in answer.text
    assert world.v1 in world.digests()


def test_scan_from_the_console_is_the_scan_the_api_reports(world: World) -> None:
    session = requests.Session()
    fields = {"account": ACCOUNT, "region": REGION, "repository": REPO, "digest": world.v2}
    answer = post(session, world, f"{UI}actions/scan", fields, world.repo_path())
    assert answer.status_code == 303
    found = world.client.describe_image_scan_findings(
        repositoryName=REPO, imageId={"imageDigest": world.v2}
    )
    assert found["imageScanStatus"]["status"] == "COMPLETE"
    counts = found["imageScanFindings"].get("findingSeverityCounts", {})
    html = page(world, world.image_path(world.v2)).text
    for severity, count in counts.items():
        assert f"{severity} ({count})" in html
    again = post(session, world, f"{UI}actions/scan", fields, world.repo_path())
    assert again.status_code == 409 and "LimitExceededException" in again.text


def test_run_lifecycle_expires_what_the_preview_showed(world: World) -> None:
    session = requests.Session()
    fields = {"account": ACCOUNT, "region": REGION, "repository": REPO}
    answer = post(session, world, f"{UI}actions/lifecycle", fields, world.repo_path())
    assert answer.status_code == 303
    assert world.untagged not in world.digests()
    assert {world.v1, world.v2, world.index} <= world.digests()
    notice = page(world, answer.headers["Location"], session).text
    assert "Lifecycle policy applied" in notice


def test_fault_rule_added_in_the_console_fails_the_api_until_removed(world: World) -> None:
    session = requests.Session()
    rule = {"operation": "ListImages", "error": "ThrottlingException", "times": "5"}
    answer = post(session, world, f"{UI}faults", rule, f"{UI}faults")
    assert answer.status_code == 303
    with pytest.raises(ClientError) as failed:
        world.client.list_images(repositoryName=REPO)
    assert failed.value.response["Error"]["Code"] == "ThrottlingException"
    listed = page(world, f"{UI}faults", session).text
    rule_id = re.search(r'name="id" value="([^"]+)"', listed)
    assert rule_id is not None
    removed = post(session, world, f"{UI}faults/remove", {"id": rule_id.group(1)}, f"{UI}faults")
    assert removed.status_code == 303
    assert world.client.list_images(repositoryName=REPO)["imageIds"]


def test_a_bad_fault_rule_is_refused_with_the_service_message(world: World) -> None:
    session = requests.Session()
    answer = post(session, world, f"{UI}faults", {"operation": "ListImages"}, f"{UI}faults")
    assert answer.status_code == 400
    assert "needs an effect" in answer.text
    assert len(world.server.backend.faults) == 0


# ----- access: the control API's rule ----------------------------------------------------


def test_loopback_server_without_token_is_open(world: World) -> None:
    answer = requests.get(world.url(UI), timeout=30)
    assert answer.status_code == 200
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/ecr-mock/ui/" in cookie


@pytest.fixture
def outside() -> Iterator[EcrMockServer]:
    with EcrMockServer(Backend(), host=outside_address()) as running:
        yield running


@pytest.fixture
def outside_with_token() -> Iterator[EcrMockServer]:
    with EcrMockServer(Backend(), host=outside_address(), control_token="s3cret") as running:
        yield running


def test_non_loopback_server_without_token_refuses_the_console(outside: EcrMockServer) -> None:
    for path in (UI, f"{UI}calls", f"{UI}faults"):
        answer = requests.get(outside.url + path, timeout=30)
        assert answer.status_code == 403
        assert "--control-token" in answer.text
    refused = requests.post(outside.url + f"{UI}clock", data={"advance_seconds": "60"}, timeout=30)
    assert refused.status_code == 403


def test_non_loopback_server_asks_for_the_token_once_then_keeps_a_cookie(
    outside_with_token: EcrMockServer,
) -> None:
    server = outside_with_token
    session = requests.Session()
    first = session.get(server.url + f"{UI}calls", allow_redirects=False, timeout=30)
    assert first.status_code == 303
    assert unquote(first.headers["Location"]) == "/ecr-mock/ui/login?next=/ecr-mock/ui/calls"
    form = session.get(server.url + first.headers["Location"], timeout=30)
    assert 'type="password" name="token"' in form.text
    wrong = session.post(
        server.url + f"{UI}login", data={"token": "guess", "next": f"{UI}calls"}, timeout=30
    )
    assert wrong.status_code == 401
    assert not session.cookies
    right = session.post(
        server.url + f"{UI}login",
        data={"token": "s3cret", "next": f"{UI}calls"},
        allow_redirects=False,
        timeout=30,
    )
    assert right.status_code == 303 and right.headers["Location"] == f"{UI}calls"
    cookie = right.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "s3cret" not in cookie
    later = session.get(server.url + f"{UI}calls", timeout=30)
    assert later.status_code == 200 and "<h1>Call record</h1>" in later.text
    advanced = post(
        session, World(server, None, "", "", "", "", ""), f"{UI}clock", {"advance_seconds": "3600"}
    )
    assert advanced.status_code == 303
    assert (
        requests.get(server.url + f"{UI}calls", allow_redirects=False, timeout=30).status_code
        == 303
    )


def test_non_loopback_console_takes_the_bearer_token_too(outside_with_token: EcrMockServer) -> None:
    url = outside_with_token.url + UI
    assert (
        requests.get(url, headers={"Authorization": "Bearer s3cret"}, timeout=30).status_code == 200
    )
    wrong = requests.get(
        url, headers={"Authorization": "Bearer nope"}, allow_redirects=False, timeout=30
    )
    assert wrong.status_code == 303


def test_login_does_not_redirect_to_another_site(outside_with_token: EcrMockServer) -> None:
    answer = requests.post(
        outside_with_token.url + f"{UI}login",
        data={"token": "s3cret", "next": "//evil.example/"},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 303 and answer.headers["Location"] == UI


# ----- the comparison, as data -----------------------------------------------------------


def test_diff_configs_names_added_removed_and_changed_fields() -> None:
    base = {"architecture": "amd64", "config": {"Env": ["A=1", "B=2"], "User": "root"}}
    other = {"architecture": "arm64", "config": {"Env": ["A=1", "C=3"], "WorkingDir": "/app"}}
    changes = {
        (c.path, c.kind, json.dumps(c.before), json.dumps(c.after))
        for c in diff_configs(base, other)
    }
    assert changes == {
        ("architecture", "changed", '"amd64"', '"arm64"'),
        ("config.Env[]", "removed", '"B=2"', "null"),
        ("config.Env[]", "added", "null", '"C=3"'),
        ("config.User", "removed", '"root"', "null"),
        ("config.WorkingDir", "added", "null", '"/app"'),
    }


def test_diff_layers_keeps_the_order_of_each_image() -> None:
    def layer(n: int) -> Descriptor:
        return Descriptor("application/vnd.oci.image.layer.v1.tar", f"sha256:{n:064x}", n)

    diff = diff_layers((layer(1), layer(2), layer(3)), (layer(1), layer(4), layer(3), layer(5)))
    assert [d.size for d in diff.layers_added] == [4, 5]
    assert [d.size for d in diff.layers_removed] == [2]
    assert diff.layers_kept == 2
