"""The portal in a real browser (Debian's Chromium driven by Playwright) against a live
server: sign in through the instance's authorization page, submit an indicator with a
field error first, switch to Chinese, sign out. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.alliance.auth.conftest import PASSWORD
from tests.portal.conftest import ANALYST, Alliance

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
        page.get_by_label("Value").fill("browser-fakes.example")
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
