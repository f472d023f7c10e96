"""Fixtures of the browser tests: the real app on the test database served on a local port, its
base URL, and fresh browser pages (closed after the test). The session-wide headless Chromium is
`browser` in tests/conftest.py; signing in and screenshots are in tests/helpers/browser.py.

Each module brings what differs: a module-scoped `desk` fixture (its users and data, built on
`fresh_database` before the app starts), `VIEWPORT`, and optionally `FEED_DELAY_S` (seconds each
page of the demo exchange takes, so a backfill's progress can be seen).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dash import Dash
from playwright.sync_api import Browser, BrowserContext, Page

from engine.config import Settings
from engine.runtime import Runtime
from tests.helpers.browser import NewPage, serve
from tests.helpers.dashboard import build_app
from tests.helpers.db import empty_tables

DEFAULT_VIEWPORT = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def fresh_database(runtime_session: Runtime) -> Runtime:
    """The shared runtime with empty tables, no venues and no sources: where a module's `desk` starts."""
    empty_tables(runtime_session)
    runtime_session.reset_trading()
    runtime_session.sources.clear()
    return runtime_session


@pytest.fixture(scope="module")
def app(request: pytest.FixtureRequest, test_settings: Settings, desk: dict[str, int]) -> Dash:
    """The real app (engine off) on the module's desk."""
    return build_app(test_settings, delay_s=getattr(request.module, "FEED_DELAY_S", 0.0))


@pytest.fixture(scope="module")
def base_url(app: Dash) -> Iterator[str]:
    with serve(app.server) as url:
        yield url


@pytest.fixture
def new_page(request: pytest.FixtureRequest, browser: Browser) -> Iterator[NewPage]:
    """Open a page in a fresh browser context (empty cookies and local storage) at the module's
    VIEWPORT; `dark=True` asks for a dark colour scheme. Every context is closed after the test."""
    viewport = getattr(request.module, "VIEWPORT", DEFAULT_VIEWPORT)
    contexts: list[BrowserContext] = []

    def open_page(dark: bool = False) -> Page:
        context = browser.new_context(viewport=viewport, color_scheme="dark" if dark else "light")
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()
