"""The Content-Security-Policy in the real browser: signing in and opening every page of the shell
(chart, blocks, settings, admin users, the P&L calendar) raises no CSP violation, and the chart
draws, so Dash runs without 'unsafe-eval' and with its inline scripts allowed only by hash."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dash import Dash
from playwright.sync_api import Browser

from db.enums import Role
from engine.config import Settings
from engine.runtime import Runtime
from tests.helpers.browser import serve, wait_for_js
from tests.helpers.dashboard import PASSWORD, build_app, make_user
from tests.helpers.db import empty_tables

pytestmark = pytest.mark.browser
PAGES = ("/", "/blocks", "/calendar", "/settings", "/admin/users", "/admin/calendar")
# A page listens for the browser's own report of each blocked script, style, frame or request.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


@pytest.fixture(scope="module")
def app(test_settings: Settings, runtime_session: Runtime) -> Dash:
    empty_tables(runtime_session)
    make_user(runtime_session, "admin", Role.ADMIN)
    return build_app(test_settings)


@pytest.fixture(scope="module")
def base_url(app: Dash) -> Iterator[str]:
    with serve(app.server) as url:
        yield url


def test_the_pages_raise_no_csp_violation(browser: Browser, base_url: str) -> None:
    context = browser.new_context()
    context.add_init_script(RECORD_VIOLATIONS)
    console: list[str] = []
    page = context.new_page()
    page.on("console", lambda message: console.append(message.text))
    page.goto(base_url + "/login")
    page.fill("#username", "admin")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("#nav-username", timeout=15_000)
    for path in PAGES:
        page.goto(base_url + path)
        page.wait_for_selector("#nav-username", timeout=15_000)
        page.wait_for_load_state("networkidle")  # the page's first callbacks answered
        assert page.evaluate("window.__cspViolations") == [], path
    page.goto(base_url + "/")
    wait_for_js(page, "document.querySelector('#chart-graph .js-plotly-plot') !== null", timeout=20_000)
    assert page.evaluate("window.__cspViolations") == []
    assert not [line for line in console if "Content Security Policy" in line]
    context.close()
