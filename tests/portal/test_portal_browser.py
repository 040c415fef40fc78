"""The portal in a real browser (Debian's Chromium driven by Playwright) against a live
server: sign in through the instance's authorization page, submit an indicator with a
field error first, import a CSV and watch its progress complete, run the listing check,
switch to Chinese, sign out; write a guide with a photo that a second person approves and
publishes, then read it in Chinese. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.alliance.auth.conftest import PASSWORD
from tests.portal.conftest import ANALYST, Alliance
from tests.portal.workers import run_import_job

REVIEWER = "trust@shopmart.example"

CSV = "type,value\ndomain,imported-in-browser.example\ndomain,\nemail,sales@imported-in-browser.example\n"

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"
)


@contextmanager
def chromium() -> Iterator[Any]:
    """Started and stopped inside each test: Playwright's sync API runs an event loop of its
    own, which must be gone before the async server fixture tears down."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield launched
        finally:
            launched.close()


def shot(page: Any, name: str, backend: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"portal-{backend}-{name}.png"), full_page=True)


def sign_in(page: Any, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/portal")
    page.click("#sign-in")
    page.wait_for_url("**/oauth/authorize**")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[value=allow]")
    page.wait_for_url(f"{base_url}/portal")


def test_sign_in_submit_switch_language_sign_out(
    alliance: Alliance, request: pytest.FixtureRequest
) -> None:
    backend = request.node.callspec.params.get("alliance", "db")
    alliance.person(ANALYST)
    with chromium() as browser:
        _sign_in_submit_switch_language_sign_out(alliance, browser, backend)


def _sign_in_submit_switch_language_sign_out(
    alliance: Alliance, browser: Any, backend: str
) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    base = alliance.base_url
    try:
        sign_in(page, base, ANALYST)
        assert page.get_by_role("heading", name="Automotive Parts").is_visible()
        shot(page, "home", backend)
        cookie = next(c for c in context.cookies() if c["name"] == "alliance_portal")
        assert cookie["httpOnly"] is True
        assert cookie["sameSite"] == "Lax"

        page.get_by_role("link", name="Submit an indicator").click()
        page.get_by_label("Type").select_option("domain")
        page.get_by_label("Value").fill("HTTPS://Browser-Fakes.EXAMPLE/")
        # The live preview (the CSP forbids eval, so wait on the element, not a JS predicate).
        page.locator("#value-preview", has_text="browser-fakes.example").wait_for()
        assert page.locator("#value-preview").inner_text() == "browser-fakes.example"
        page.get_by_label("Confidence (0-100)").fill("very")
        page.get_by_role("button", name="Submit").click()
        error = page.locator("#confidence-error")
        assert error.is_visible()
        assert page.get_by_label("Confidence (0-100)").get_attribute("aria-invalid") == "true"
        shot(page, "submit-errors", backend)
        page.get_by_label("Confidence (0-100)").fill("80")
        page.get_by_role("button", name="Submit").click()
        page.wait_for_url("**/portal/indicators/*?submitted=1")
        assert page.get_by_role("heading", name="domain browser-fakes.example").is_visible()
        shot(page, "indicator", backend)

        page.get_by_role("link", name="Import a file").click()
        page.get_by_label("File").set_input_files(
            files=[{"name": "fakes.csv", "mimeType": "text/csv", "buffer": CSV.encode()}]
        )
        page.get_by_label("Working group for rows that name none").select_option(
            label="Automotive Parts"
        )
        page.get_by_role("button", name="Upload and import").click()
        page.wait_for_url("**/portal/imports/*")
        assert page.locator("#import-progress").get_attribute("data-finished") == "false"
        job_id = uuid.UUID(page.url.rsplit("/", 1)[1])
        run_import_job(alliance, job_id)  # the worker; the page follows it by itself
        page.wait_for_selector("#import-summary")
        assert page.locator("#import-bar").get_attribute("value") == "3"
        assert page.locator("#import-errors tbody tr").count() == 1
        shot(page, "import-done", backend)

        page.get_by_role("link", name="Listing check").click()
        page.get_by_label("Title").fill("Original brake pads from browser-fakes.example")
        page.get_by_label("Shop URL").fill("https://browser-fakes.example/shop")
        page.get_by_role("button", name="Check").click()
        assert page.locator("#verdict").is_visible()
        shot(page, "listing-check", backend)

        page.get_by_role("link", name="中文").click()
        page.wait_for_selector("html[lang=zh-Hans]")
        page.goto(f"{base}/portal")
        assert page.get_by_role("heading", name="您的工作组").is_visible()
        shot(page, "home-zh", backend)

        page.get_by_role("button", name="退出").click()
        assert page.get_by_text("您已退出。").is_visible()
        assert not [c for c in context.cookies() if c["name"] == "alliance_portal"]
    finally:
        context.close()


def test_write_a_guide_with_a_photo_second_person_publishes_read_in_chinese(
    alliance: Alliance, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    backend = request.node.callspec.params.get("alliance", "db")
    alliance.person(ANALYST)
    alliance.person(REVIEWER)
    photo = tmp_path / "etched-code.png"
    from PIL import Image

    Image.new("RGB", (120, 80), (30, 90, 200)).save(photo)
    with chromium() as browser:
        author = browser.new_context()
        page = author.new_page()
        page.set_default_timeout(15_000)
        base = alliance.base_url
        sign_in(page, base, ANALYST)
        page.get_by_role("link", name="Guides").click()
        page.get_by_role("link", name="Write a guide").click()
        page.get_by_label("Working group").select_option(label="Automotive Parts")
        page.get_by_label("Title", exact=True).fill("Genuine airbag modules")
        page.get_by_label("Summary").fill("Tells of counterfeit airbag modules.")
        page.get_by_label("Feature title").fill("Hologram seal")
        page.get_by_label("Feature description").fill("A genuine seal shifts colour.")
        page.get_by_role("button", name="Save the draft").click()
        page.wait_for_url("**/edit")
        page.get_by_label("Photo", exact=True).set_input_files(str(photo))
        page.get_by_label("Caption").fill("The seal")
        page.get_by_role("button", name="Upload the photo").click()
        page.wait_for_url("**/edit?saved=1")
        assert page.locator(".gallery img").count() == 1
        shot(page, "guide-editor", backend)
        page.get_by_role("link", name="Read the draft").click()
        page.get_by_role("button", name="Submit for review").click()
        assert page.get_by_text("Submitted for review.").is_visible()
        guide_url = page.url.split("?")[0]

        reviewer = browser.new_context()
        second = reviewer.new_page()
        second.set_default_timeout(15_000)
        sign_in(second, base, REVIEWER)
        second.goto(f"{guide_url}?draft=1")
        second.get_by_role("button", name="Approve").click()
        assert second.get_by_text("Approved.").is_visible()
        second.get_by_role("button", name="Publish").click()
        assert second.locator("#guide-status").inner_text() == "PUBLISHED"
        reviewer.close()

        page.goto(f"{guide_url}/translate?to=zh")
        page.get_by_label(re.compile(r"^title · text")).fill("正品安全气囊模块")
        page.get_by_role("button", name="Save the translation").click()
        page.wait_for_url("**lang=zh")
        assert page.locator("#guide-title").inner_text() == "正品安全气囊模块"
        assert page.locator(".gallery img").count() == 1
        shot(page, "guide-zh", backend)
        author.close()


def test_search_and_narrow_by_a_facet(alliance: Alliance, request: pytest.FixtureRequest) -> None:
    from tests.portal.test_portal_search import index_everything

    backend = request.node.callspec.params.get("alliance", "db")
    alliance.person(ANALYST)
    index_everything(alliance)
    with chromium() as browser:
        page = browser.new_context().new_page()
        page.set_default_timeout(15_000)
        sign_in(page, alliance.base_url, ANALYST)
        page.get_by_role("link", name="Search", exact=True).click()
        page.get_by_label("Search for").fill("automotiv")
        page.get_by_role("button", name="Search", exact=True).click()
        page.wait_for_url("**/portal/search?q=automotiv*")
        assert page.locator("#results mark").first.is_visible()
        page.locator('#facets a[data-facet="kind"][data-value="working_group"]').click()
        page.wait_for_url("**kind=working_group*")
        assert page.locator("#results li.hit").count() >= 1
        assert page.locator('#results li.hit:not([data-kind="working_group"])').count() == 0
        shot(page, "search", backend)
