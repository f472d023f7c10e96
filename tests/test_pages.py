"""Every page, served by the real Dash app and read in headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser import CHROMIUM_ARGS, require_chromium, serve
from playwright.sync_api import Browser, sync_playwright

from app import create_app
from engine.config import Settings

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = require_chromium()
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def base_url(test_settings: Settings, runtime_session) -> Iterator[str]:
    app = create_app(test_settings, start_engine=False)
    with serve(app.server) as url:
        yield url


def test_home_page_renders(browser: Browser, base_url: str) -> None:
    page = browser.new_page()
    page.goto(base_url + "/")
    page.wait_for_selector("#home-text", timeout=15_000)
    assert page.title() == "Tradeblock"
    assert "Candles are flowing" in page.inner_text("#home-text")
    # Bootstrap comes from assets/, not a CDN: styled even with no network.
    assert "system-ui" in page.evaluate("getComputedStyle(document.body).fontFamily")
    page.close()
