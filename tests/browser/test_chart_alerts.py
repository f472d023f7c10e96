"""Price alerts on the chart, served by the real Dash app in headless Chromium: "Pick" then a click in
the price pane writes that level into the alert bar; a typed level set with "Alert" is drawn as a
labelled line with its badge; when the price (a new stored candle) crosses it and the engine's
check runs, the desk's toast says so and the line and badge leave the chart. Set
TRADEBLOCK_SCREENSHOTS=1 to save the chart with its alert (light and dark) and the toast (dark)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from dash import Dash
from playwright.sync_api import expect

from db.enums import AlertState, Role
from engine.alerts import api as alerts
from engine.conditions.api import market_price
from engine.exchanges.demo import DemoExchange
from engine.market.api import ingest_candles, stored_window
from engine.market.markets import sync_markets
from engine.runtime import Runtime
from tests.helpers.browser import NewPage, shot, sign_in, wait_for_js
from tests.helpers.dashboard import NOW, app_runtime, make_user, watch_backfilled

pytestmark = pytest.mark.browser
VIEWPORT = {"width": 1400, "height": 900}
CHART_DRAWN = "(document.querySelector('#chart-graph .js-plotly-plot') || {}).data"
ALERT_LINES = (
    "(((document.querySelector('#chart-graph .js-plotly-plot') || {}).layout || {}).shapes || [])"
    ".filter(function (s) { return String(s.name).indexOf('tb-alert-') === 0; })"
)


@pytest.fixture(scope="module")
def desk(fresh_database: Runtime) -> dict[str, int]:
    """A trader with a backfilled BTC/USDT 1m on the demo exchange."""
    runtime = fresh_database
    runtime.sources["demo"] = DemoExchange(seed=7, clock=lambda: NOW)
    trader = make_user(runtime, "trader", Role.TRADER)
    series = watch_backfilled(runtime, trader.id)
    sync_markets(runtime.sessions, DemoExchange(seed=7, clock=lambda: NOW))
    runtime.sources.clear()
    return {"trader": trader.id, "series": series.id}


def cross(runtime: Runtime, desk: dict, close: Decimal) -> None:
    """The next 1m candle closes at `close`, stored as the scheduler's fetch would."""
    window = stored_window(runtime, desk["trader"], desk["series"])
    assert window is not None
    price = float(close)
    with runtime.db.begin() as conn:
        ingest_candles(conn, desk["series"], "1m", [(window.end_ms, price, price, price, price, 1.0)])


def test_an_alert_set_on_the_chart_toasts_when_crossed_and_leaves_the_chart(
    new_page: NewPage, base_url: str, app: Dash, desk: dict
) -> None:
    runtime = app_runtime(app)
    page = new_page()
    sign_in(page, base_url, "trader", ready=CHART_DRAWN)
    expect(page.locator("#alert-bar")).to_be_visible()
    page.click("#alert-pick")  # the crosshair picks the level
    box = page.locator("#chart-graph .nsewdrag").first.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.2)
    expect(page.locator("#alert-price")).to_have_value(re.compile(r"^[0-9]+\.[0-9]{2}$"))
    last = market_price(runtime, desk["trader"], desk["series"], "demo", "BTC/USDT")
    assert last is not None
    level = (last + 150).quantize(Decimal("0.01"))
    page.fill("#alert-price", str(level))
    page.fill("#alert-note", "range high: take half off")
    page.click("#alert-add")
    shown = f"{level:,.2f}"
    expect(page.locator("#alert-said")).to_have_text(f"Alert set: BTC/USDT crosses above {shown}.")
    expect(page.locator(".alert-badge")).to_contain_text(shown)
    expect(page.locator("#alert-note")).to_have_value("")
    assert "range high: take half off" in (page.locator(".alert-badge button").get_attribute("title") or "")
    wait_for_js(page, f"({ALERT_LINES}).length === 1")
    label = page.evaluate(f"({ALERT_LINES})[0].label.text")
    assert label == f"alert {shown}"
    shot(page, "chart-alert-light")
    page.click("#theme-switch")  # the rest in the dark theme, to look at both
    wait_for_js(page, "document.documentElement.getAttribute('data-bs-theme') === 'dark'")
    shot(page, "chart-alert-dark")

    (alert,) = alerts.list_alerts(runtime, desk["trader"], AlertState.ACTIVE)
    cross(runtime, desk, level + 5)
    assert alerts.check_alerts(runtime).triggered == [alert.id]
    toast = page.locator(".alert-toast")
    expect(toast).to_contain_text(f"BTC/USDT crosses above {shown}", timeout=15_000)
    expect(toast).to_contain_text(f"was at {level + 5:,.2f}")
    expect(toast).to_contain_text("range high: take half off")
    wait_for_js(page, f"({ALERT_LINES}).length === 0", timeout=15_000)
    expect(page.locator(".alert-badge")).to_have_count(0)
    shot(page, "chart-alert-toast-dark")
    page.locator(".alert-toast .btn-close").click()
    expect(toast).to_have_count(0)
