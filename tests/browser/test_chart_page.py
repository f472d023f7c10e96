"""Every page, served by the real Dash app and driven in headless Chromium.

One app, server and browser for the module (fast); the demo exchange runs on a fixed clock and its
pages are slowed a little so a backfill's progress bar can be seen. Set TRADEBLOCK_SCREENSHOTS=1
to save light and dark screenshots of each page there (docs/screenshots/ in the repository).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from dash import Dash
from playwright.sync_api import Page, expect

from db.enums import Role
from engine.common.timeframes import floor_ts
from engine.exchanges.demo import DemoExchange
from engine.market import chart as charts
from engine.runtime import Runtime
from pages.components.figures import FIRST_LOAD_CANDLES
from tests.helpers.browser import NewPage, shot, sign_in, wait_for_js
from tests.helpers.dashboard import NOW, PASSWORD, make_user, watch_backfilled

pytestmark = pytest.mark.browser
VIEWPORT = {"width": 1280, "height": 800}
FEED_DELAY_S = 0.4  # slow pages of the demo exchange, so a backfill's progress can be seen
FIGURE_JS = "document.querySelector('#chart-graph .js-plotly-plot')"


@pytest.fixture(scope="module")
def desk(fresh_database: Runtime) -> dict[str, int]:
    """Users (admin with a backfilled BTC/USDT 1m, analyst with an empty watchlist)."""
    runtime_session = fresh_database
    runtime_session.sources["demo"] = DemoExchange(seed=7, clock=lambda: NOW)
    admin = make_user(runtime_session, "admin", Role.ADMIN)
    make_user(runtime_session, "analyst", Role.ANALYST)
    series = watch_backfilled(runtime_session, admin.id)
    runtime_session.sources.clear()
    return {"admin": admin.id, "series": series.id}


FIRST_TRACE_JS = f"((({FIGURE_JS} || {{}}).data || [])[0] || {{}})"


def figure_size(page: Page) -> int:
    return page.evaluate(f"({FIRST_TRACE_JS}.x || []).length")


def wait_for_candles(page: Page, more_than: int = 0) -> int:
    """Wait until the graph holds more than `more_than` candles; return how many it holds."""
    wait_for_js(page, f"({FIRST_TRACE_JS}.x || []).length > {more_than}", timeout=20_000)
    return figure_size(page)


def figure_column(page: Page, trace: int, column: str) -> list:
    return page.evaluate(f"Array.from({FIGURE_JS}.data[{trace}].{column})")


def test_sign_in_refuses_a_wrong_password_then_signs_in_and_out(new_page: NewPage, base_url: str) -> None:
    page = new_page()
    page.goto(base_url + "/")
    assert page.url.startswith(base_url + "/login?next=/")
    # Bootstrap comes from assets/, not a CDN: styled even with no network.
    assert "system-ui" in page.evaluate("getComputedStyle(document.body).fontFamily")
    page.fill("#username", "admin")
    page.fill("#password", "not the password")
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_have_text("Wrong username or password.")
    shot(page, "login-light")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#nav-username")).to_have_text("admin", timeout=15_000)
    assert page.title() == "Tradeblock"
    # To the sign-in page; a live poll answered 401 after the sign-out may get there first with ?next=.
    with page.expect_navigation(url=re.compile(re.escape(base_url) + r"/login(\?next=.*)?$"), timeout=10_000):
        page.click("#logout-button")
    page.goto(base_url + "/")
    assert "/login" in page.url
    page.context.close()


def test_the_chart_shows_the_stored_candles_then_live_and_zoomed_ones(
    new_page: NewPage, base_url: str, app: Dash, desk: dict[str, int]
) -> None:
    page = new_page()
    sign_in(page, base_url, "admin")
    count = wait_for_candles(page)
    runtime = app.server.config["TRADEBLOCK_RUNTIME"]
    window = charts.recent_window(runtime, desk["admin"], desk["series"], FIRST_LOAD_CANDLES)
    expected = charts.chart_candles(runtime, desk["admin"], desk["series"], window.start_ms, window.end_ms)
    assert len(expected) == FIRST_LOAD_CANDLES  # the newest 1m candles, and maybe the live one already
    assert count in (FIRST_LOAD_CANDLES, FIRST_LOAD_CANDLES + 1)
    # One read of the figure: the live candle may be appended at any moment after the first draw
    # (between two reads it once was: the volumes came one candle later than the closes).
    drawn = page.evaluate(
        f"(() => {{ const d = {FIGURE_JS}.data;"
        " return {x: Array.from(d[0].x), close: Array.from(d[0].close), volume: Array.from(d[1].y)}; })()"
    )
    last = drawn["x"].index(expected.ts[-1]) + 1  # the stored candles end there; a live one may follow
    assert last >= len(drawn["x"]) - 1
    assert drawn["close"][last - 5 : last] == expected.close[-5:]
    assert drawn["volume"][last - 5 : last] == expected.volume[-5:]
    expect(page.locator("#chart-status")).to_contain_text("BTC/USDT · demo · 1m")

    # Live: the candle forming at the exchange's "now" is appended by a partial update.
    wait_for_candles(page, more_than=FIRST_LOAD_CANDLES)
    assert figure_column(page, 0, "x")[-1] == floor_ts(NOW, "1m")

    # Zooming out past the budget re-reads the window at a coarser level, and says so.
    stored = charts.stored_window(runtime, desk["admin"], desk["series"])
    page.evaluate(f"Plotly.relayout({FIGURE_JS}, {{'xaxis.range': [{stored.start_ms}, {stored.end_ms}]}})")
    expect(page.locator("#chart-level")).to_have_text("showing 5m candles", timeout=10_000)
    xs = figure_column(page, 0, "x")
    assert all(ts % 300_000 == 0 for ts in xs)
    assert len(xs) <= 2_000
    shot(page, "chart-light")
    page.context.close()


def test_the_first_figure_is_asked_for_with_the_first_callbacks_not_after_the_watchlist(
    new_page: NewPage, base_url: str
) -> None:
    """Dash holds a callback until every callback upstream of its inputs has answered: the first
    draw must have none that runs on page load (it once waited on four, ~190 ms before candles).
    The watchlist's answer is held back until the draw is asked for, so a slow machine cannot
    make the order of the two a race."""
    page = new_page()
    sign_in(page, base_url, "admin")
    held: list[Any] = []

    def output(request: Any) -> str:
        return json.loads(request.post_data or "{}").get("output", "") if "update-component" in request.url else ""

    def hold_watchlist(route: Any) -> None:
        if output(route.request).startswith("..watchlist.children"):
            held.append(route)
        else:
            route.continue_()

    page.route("**/_dash-update-component*", hold_watchlist)

    def is_draw(request: Any) -> bool:
        return output(request).startswith("..chart-graph.figure...chart-view.data")

    try:
        with page.expect_request(is_draw, timeout=15_000):
            page.goto(base_url + "/")
    except Exception as error:  # Playwright's TimeoutError
        raise AssertionError("the first draw waited for the watchlist's answer") from error
    assert held, "the watchlist was asked for and held"
    for route in held:
        route.continue_()
    page.unroute("**/_dash-update-component*")
    wait_for_candles(page)
    page.context.close()


def test_the_chart_draws_with_the_finance_bundle_not_the_full_plotly(new_page: NewPage, base_url: str) -> None:
    """assets/vendor's partial bundle is the page's Plotly: the full 4.8 MB one is never fetched."""
    page = new_page()
    sign_in(page, base_url, "admin")
    scripts: list[str] = []
    page.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)
    page.goto(base_url + "/")
    wait_for_candles(page)
    assert any(url.split("?")[0].endswith("/vendor/plotly-finance.min.js") for url in scripts)
    assert not [url for url in scripts if "plotly.min.js" in url]
    assert page.evaluate("document.querySelectorAll('#chart-graph .boxlayer .trace path').length") > 0
    page.context.close()


def test_adding_a_series_shows_progress_then_candles(new_page: NewPage, base_url: str) -> None:
    page = new_page()
    sign_in(page, base_url, "analyst")
    expect(page.locator("#watchlist")).to_contain_text("Your watchlist is empty")
    expect(page.locator("#bar-timeframe")).to_contain_text("1m")
    page.click("#bar-symbol")
    page.keyboard.type("ETH")
    page.get_by_role("option", name="ETH/USDT", exact=True).click()
    page.click("#bar-add")
    expect(page.locator("#backfill-progress")).to_be_visible(timeout=10_000)
    assert figure_size(page) == 0
    count = wait_for_candles(page)
    assert count == FIRST_LOAD_CANDLES
    expect(page.locator("#backfill-progress")).to_have_count(0)
    expect(page.locator("#watchlist")).to_contain_text("ETH/USDT1m · demo")
    expect(page.locator("#bar-message")).to_contain_text("Added ETH/USDT")
    page.click("#bar-add")  # the same series again: said so, not "Added" twice
    expect(page.locator("#bar-message")).to_have_text("ETH/USDT · 1m is already on your watchlist.")
    # The choice survives a reload (the URL holds the chart's state, pages/components/chart_view.py).
    assert "symbol=ETH%2FUSDT" in page.url
    page.reload()
    assert wait_for_candles(page) > 0
    expect(page.locator("#chart-status")).to_contain_text("ETH/USDT")
    page.context.close()


def test_an_admin_creates_a_user_and_an_analyst_is_refused_the_users_page(new_page: NewPage, base_url: str) -> None:
    page = new_page()
    sign_in(page, base_url, "admin")
    page.click("#nav-admin-users")
    expect(page.locator("#users")).to_contain_text("analyst")
    page.fill("#new-username", "newbie")
    page.fill("#new-password", "long enough password")
    page.click("#create-user")
    expect(page.locator("#admin-alert")).to_have_text("Created newbie (analyst).")
    expect(page.locator("#new-username")).to_have_value("")
    expect(page.locator("#user-row-newbie")).to_contain_text("active")
    shot(page, "admin-light")
    page.context.close()

    analyst = new_page()
    sign_in(analyst, base_url, "analyst")
    assert analyst.locator("#nav-admin-users").count() == 0
    response = analyst.goto(base_url + "/admin/users")
    assert response is not None
    assert response.status == 403
    analyst.context.close()


def test_the_theme_switch_is_saved_for_the_user_and_applied_at_their_next_sign_in(
    new_page: NewPage, base_url: str
) -> None:
    page = new_page()
    sign_in(page, base_url, "admin")
    wait_for_candles(page)
    assert page.get_attribute("html", "data-bs-theme") == "light"
    page.click("#theme-switch")
    wait_for_js(page, "document.documentElement.getAttribute('data-bs-theme') === 'dark'")
    wait_for_js(page, f"{FIGURE_JS}.layout.template.layout.paper_bgcolor === 'rgb(17,17,17)'", timeout=10_000)
    page.wait_for_timeout(300)  # the save is a callback of its own
    # Another browser signing in as the same user gets the dark theme from the server.
    other = new_page()
    sign_in(other, base_url, "admin")
    assert other.get_attribute("html", "data-bs-theme") == "dark"
    wait_for_candles(other)
    other.wait_for_timeout(500)
    shot(other, "chart-dark")
    other.click("#nav-admin-users")
    other.wait_for_selector("#users")
    shot(other, "admin-dark")
    other.click("#theme-switch")
    wait_for_js(other, "document.documentElement.getAttribute('data-bs-theme') === 'light'")
    other.wait_for_timeout(300)
    other.context.close()
    page.context.close()
    login = new_page(dark=True)
    login.goto(base_url + "/login")
    assert login.get_attribute("html", "data-bs-theme") == "dark"
    shot(login, "login-dark")
    login.context.close()
