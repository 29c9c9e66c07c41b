"""The web console in a real browser (Debian's chromium through chromedriver, headless).

Every page renders from a world built through boto3, links lead where they say, actions change
what the ECR API sees, the browser logs no error and loads nothing from another host. The tests
also take the README's screenshots at 1280 px and at phone width; they replace those in
``docs/screenshots`` when missing or with ``UPDATE_SCREENSHOTS=1`` in the environment.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ecr_mock import Backend
from ecr_mock.server import EcrMockServer
from tests.console_world import REPO, World, build_world, outside_address

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DESKTOP = (1280, 900)
PHONE = (390, 844)
SHOT_HEIGHT = 1500
"""The tallest screenshot (pixels): the top of a long page."""
WAIT = 30
"""Seconds a wait for the page to change gives up after (it polls; nothing is timed)."""


def _binary(*names: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(f"{names[0]} is not installed (.ci/run installs chromium and chromium-driver)")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    chromium = _binary("chromium", "chromium-browser")
    driver_path = _binary("chromedriver")
    options = Options()
    options.binary_location = chromium
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
        f"--window-size={DESKTOP[0]},{DESKTOP[1]}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def world(own_server: EcrMockServer, browser: Any) -> World:
    browser.set_window_size(*DESKTOP)
    browser.delete_all_cookies()
    return build_world(own_server)


def visit(browser: Any, world: World, path: str) -> None:
    """Open ``path``, then check the page: a heading, no browser error, nothing from elsewhere."""
    browser.get(world.url(path))
    check_page(browser, world)


def check_page(browser: Any, world: World) -> None:
    assert browser.find_element(By.TAG_NAME, "h1").text
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name).concat([location.href])"
    )
    origin = world.server.url + "/"
    assert [url for url in resources if not url.startswith(origin)] == []
    fonts = browser.execute_script("return document.fonts ? document.fonts.size : 0")
    assert fonts == 0  # no web fonts
    unlabelled = browser.execute_script(
        "return [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]"
        ".filter(e => e.labels.length === 0 && !e.getAttribute('aria-label')).map(e => e.name)"
    )
    assert unlabelled == []
    nameless = browser.execute_script(
        "return [...document.querySelectorAll('button, a')]"
        ".filter(e => !(e.textContent.trim() || e.getAttribute('aria-label'))).length"
    )
    assert nameless == 0
    assert browser.execute_script("return document.querySelectorAll('h1').length") == 1
    assert browser.execute_script("return document.documentElement.lang") == "en"


def heading(browser: Any) -> str:
    return str(browser.find_element(By.TAG_NAME, "h1").text)


def click(browser: Any, world: World, selector: str, text: str | None = None) -> None:
    """Click the element (a link or a form's button) and wait for the next page to load."""
    elements = browser.find_elements(By.CSS_SELECTOR, selector)
    if text is not None:
        elements = [e for e in elements if e.text == text]
    assert elements, f"nothing matches {selector!r} {text!r}"
    _mark_page(browser)
    elements[0].click()
    WebDriverWait(browser, WAIT).until(_next_page_loaded)
    check_page(browser, world)


def _next_page_loaded(driver: Any) -> bool:
    """Whether the page marked by :func:`_mark_page` was replaced by one that has loaded."""
    from selenium.common.exceptions import WebDriverException

    try:
        return bool(
            driver.execute_script(
                "return window.__leaving === undefined && document.readyState === 'complete'"
            )
        )
    except WebDriverException:  # between two documents
        return False


def _mark_page(driver: Any) -> None:
    driver.execute_script("window.__leaving = true")


def test_every_page_renders_without_errors_or_foreign_resources(browser: Any, world: World) -> None:
    pages = {
        "/ecr-mock/ui/": "ecr-mock",
        world.repo_path(): REPO,
        world.image_path(world.v2): f"{REPO}@{world.v2[:19]}",
        world.image_path(world.index): f"{REPO}@{world.index[:19]}",
        world.image_path(world.sbom): f"{REPO}@{world.sbom[:19]}",
        world.compare_path(): f"Compare two images of {REPO}",
        "/ecr-mock/ui/calls": "Call record",
        "/ecr-mock/ui/faults": "Fault rules",
    }
    for path, title in pages.items():
        visit(browser, world, path)
        assert heading(browser) == title
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= DESKTOP[0]  # nothing wider than the window at 1280 px


def test_links_lead_where_they_say(browser: Any, world: World) -> None:
    visit(browser, world, "/ecr-mock/ui/")
    click(browser, world, "main a", REPO)
    assert heading(browser) == REPO
    details = browser.find_elements(By.LINK_TEXT, "Details")
    assert len(details) == 5
    click(browser, world, f'a[href="{world.image_path(world.index)}"]')
    assert heading(browser) == f"{REPO}@{world.index[:19]}"
    click(browser, world, "#main table a", "Open")  # the first platform of the index
    assert heading(browser) == f"{REPO}@{world.v1[:19]}"
    click(browser, world, ".crumbs a", REPO)
    assert heading(browser) == REPO
    click(browser, world, "#compare-h ~ form button", "Compare")
    assert heading(browser) == f"Compare two images of {REPO}"
    click(browser, world, "nav a", "Calls")
    assert heading(browser) == "Call record"
    click(browser, world, "nav a", "Faults")
    assert heading(browser) == "Fault rules"
    click(browser, world, ".brand")
    assert heading(browser) == "ecr-mock"


def test_actions_change_what_the_api_sees(browser: Any, world: World) -> None:
    client = world.client
    visit(browser, world, "/ecr-mock/ui/")
    before = browser.find_element(By.ID, "clock-now").text
    click(browser, world, "form button", "Advance 1 hour")  # a day would make lifecycle due
    after = browser.find_element(By.ID, "clock-now").text
    assert after > before
    assert "The clock moved forward." in browser.find_element(By.CLASS_NAME, "notice").text

    visit(browser, world, world.image_path(world.v1))
    click(browser, world, "form button", "Start a scan")
    found = client.describe_image_scan_findings(
        repositoryName=REPO, imageId={"imageDigest": world.v1}
    )
    assert found["imageScanStatus"]["status"] == "COMPLETE"
    assert "Scan COMPLETE" in browser.find_element(By.ID, "main").text

    visit(browser, world, world.repo_path())
    preview = browser.find_element(By.XPATH, "//h3[text()='Preview']/following-sibling::div")
    assert f"sha256:{world.untagged[7:19]}" in preview.text
    assert "rule 1: keep one untagged image" in preview.text
    click(browser, world, "form button", "Run lifecycle now")
    assert world.untagged not in world.digests()
    assert "1 image(s) expired" in browser.find_element(By.CLASS_NAME, "notice").text

    row = browser.find_element(By.XPATH, f"//tr[td//code[@title='{world.sbom}']]")
    _mark_page(browser)
    row.find_element(By.XPATH, ".//button[text()='Delete']").click()
    WebDriverWait(browser, WAIT).until(_next_page_loaded)
    check_page(browser, world)
    assert world.sbom not in world.digests()
    assert browser.find_element(By.CLASS_NAME, "notice").text == "Image deleted."

    visit(browser, world, "/ecr-mock/ui/faults")
    browser.find_element(By.NAME, "operation").send_keys("ListImages")
    browser.find_element(By.NAME, "error").send_keys("ThrottlingException")
    click(browser, world, "#add-fault button", "Add rule")
    with pytest.raises(ClientError) as failed:
        client.list_images(repositoryName=REPO)
    assert failed.value.response["Error"]["Code"] == "ThrottlingException"
    click(browser, world, "form button", "Remove")
    assert "No fault rules are set." in browser.find_element(By.ID, "main").text
    assert client.list_images(repositoryName=REPO)["imageIds"]


def test_call_record_refreshes_by_itself(browser: Any, world: World) -> None:
    visit(browser, world, f"/ecr-mock/ui/calls?repository={REPO}&operation=DescribeImages")
    assert "No calls match." in browser.find_element(By.ID, "call-rows").text
    world.client.describe_images(repositoryName=REPO)
    WebDriverWait(browser, WAIT).until(
        lambda d: "DescribeImages" in d.find_element(By.ID, "call-rows").text
    )
    check_page(browser, world)


def test_copy_button_copies_the_full_digest(browser: Any, world: World) -> None:
    visit(browser, world, world.image_path(world.v2))
    button = browser.find_element(By.CSS_SELECTOR, f'button[data-copy="{world.v2}"]')
    button.click()
    WebDriverWait(browser, WAIT).until(lambda d: button.text == "Copied")
    check_page(browser, world)


def test_hostile_values_show_as_text(browser: Any, world: World) -> None:
    visit(browser, world, world.repo_path())
    assert "team=<script>alert(1)</script>" in browser.find_element(By.ID, "main").text
    assert browser.execute_script("return document.scripts.length") == 1


@pytest.mark.parametrize(
    ("size", "suffix"), [(DESKTOP, "desktop"), (PHONE, "phone")], ids=["1280px", "phone"]
)
def test_screenshots(
    browser: Any, world: World, size: tuple[int, int], suffix: str, tmp_path: Path
) -> None:
    world.client.describe_images(repositoryName=REPO)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.set_window_size(*size)
    shots = {
        "home": "/ecr-mock/ui/",
        "repository": world.repo_path(),
        "image": world.image_path(world.v2),
        "compare": world.compare_path(),
    }
    for path in ("/ecr-mock/ui/calls", "/ecr-mock/ui/faults", world.image_path(world.index)):
        visit(browser, world, path)
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= browser.execute_script("return window.innerWidth")  # no sideways page
    for name, path in shots.items():
        visit(browser, world, path)
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= browser.execute_script("return window.innerWidth")
        target = SCREENSHOTS / f"{name}-{suffix}.png"
        if target.exists() and not os.environ.get("UPDATE_SCREENSHOTS"):
            target = tmp_path / target.name  # the committed pictures change only when asked
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(size[0], min(height, SHOT_HEIGHT))
        assert browser.save_screenshot(str(target))
        browser.set_window_size(*size)


def test_a_non_loopback_console_asks_for_the_token_once(browser: Any) -> None:
    address = outside_address()
    with EcrMockServer(Backend(), host=address, control_token="s3cret") as server:
        world = build_world(server)
        browser.get(world.url("/ecr-mock/ui/faults"))
        assert heading(browser) == "Log in"
        browser.find_element(By.NAME, "token").send_keys("s3cret")
        click(browser, world, ".login button")
        assert heading(browser) == "Fault rules"
        assert browser.execute_script("return document.cookie") == ""  # HttpOnly
        visit(browser, world, world.repo_path())  # the cookie keeps the session
        assert heading(browser) == REPO
        click(browser, world, "form button", "Run lifecycle now")
        assert world.untagged not in world.digests()
