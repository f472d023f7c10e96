"""Studies on the chart in headless Chromium (issue 10's analysis and history): an indicator added
from the toolbar is drawn and still there after a reload (kept per user); the form's ATR stop
suggestion fills the stop field with one click; a closed trade's entry and exit markers with their
tooltip text, hidden by the toolbar's switch.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from dash import Dash
from playwright.sync_api import Page, expect

from db.enums import Role
from engine.common.precision import format_money, format_number
from engine.common.timeframes import floor_ts
from engine.exchanges.demo import DemoExchange
from engine.market import api as market
from engine.market import chart as charts
from tests.helpers.browser import NewPage, screenshots_dir, shot, sign_in, wait_for_js
from tests.helpers.dashboard import NOW, app_runtime, make_user, watch_backfilled
from tests.helpers.portfolio import add_account, add_trade

pytestmark = pytest.mark.browser
VIEWPORT = {"width": 1400, "height": 900}
GD = "document.querySelector('#chart-graph .js-plotly-plot')"
TRADES = f"{GD}.data.find(t => t.name === 'tb-trades')"


@pytest.fixture(scope="module")
def desk(fresh_database) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A trader watching a backfilled BTC/USDT 1m with one closed winning trade an hour ago."""
    fresh_database.sources["demo"] = DemoExchange(seed=7, clock=lambda: NOW)
    trader = make_user(fresh_database, "trader", Role.TRADER)
    series = watch_backfilled(fresh_database, trader.id)
    fresh_database.sources.clear()
    start = floor_ts(NOW, "1m") - 90 * 60_000
    shown = charts.chart_candles(fresh_database, trader.id, series.id, start, start + 31 * 60_000, "1m")
    entry, exit_ = Decimal(repr(shown.close[0])), Decimal(repr(shown.close[30]))
    account = add_account(fresh_database.sessions, trader.id)
    add_trade(
        fresh_database.sessions,
        trader.id,
        account,
        shown.ts[0],
        [(shown.ts[30], str(exit_))],
        entry=str(entry),
        amount="0.1",
        risk="20",
    )
    return {"trader": trader.id, "series": series.id, "entry": str(entry), "exit": str(exit_)}


@pytest.fixture(autouse=True)
def demo_feed(app: Dash) -> None:
    app_runtime(app).sources["demo"] = DemoExchange(seed=7, clock=lambda: NOW)
    app_runtime(app).forming.clear()


def open_chart(new_page: NewPage, base_url: str, dark: bool = False) -> Page:
    page = new_page(dark=dark)
    sign_in(page, base_url, "trader")
    wait_for_js(page, f"{GD} && {GD}.data && {GD}.data[0].x && {GD}.data[0].x.length > 0", timeout=20_000)
    wait_for_js(page, f"{GD}.data.some(t => t.name === 'tb-trades')", timeout=15_000)
    return page


def names(page: Page) -> list[str]:
    return page.evaluate(f"{GD}.data.map(t => t.name || '').filter(n => n.startsWith('ind:'))")


def test_an_indicator_added_stays_after_a_reload(new_page: NewPage, base_url: str, app: Dash, desk: dict) -> None:
    page = open_chart(new_page, base_url)
    page.select_option("#ind-pick", "sma")
    page.fill("#ind-period", "9")
    page.click("#ind-add")
    wait_for_js(page, f"{GD}.data.some(t => t.name === 'ind:sma-9:sma')")
    page.select_option("#ind-pick", "rsi")
    page.fill("#ind-period", "")
    page.click("#ind-add")
    wait_for_js(page, f"{GD}.data.some(t => t.name === 'ind:rsi-14:rsi') && {GD}._fullLayout.yaxis3")
    # Its pane's guides at 30 and 70, drawn as the pane's two grid lines.
    guides = page.evaluate(f"[{GD}._fullLayout.yaxis3.tickvals, {GD}.querySelectorAll('.gridlayer .y3grid').length]")
    assert guides == [[30, 70], 2]
    page.select_option("#ind-pick", "bb")
    page.fill("#ind-period", "0")
    page.click("#ind-add")
    expect(page.locator("#ind-error")).to_contain_text("the period is a whole number from 1 to 500")
    # The SMA's values are the chart's own candles' (same times), warmed up: no gap at the left edge.
    same = page.evaluate(
        f"(() => {{ const s = {GD}.data.find(t => t.name === 'ind:sma-9:sma'), c = {GD}.data[0];"
        f" return s.x.length === c.x.length && s.x[0] === c.x[0] && s.y[0] !== null; }})()"
    )
    assert same
    page.fill("#ind-period", "")
    page.click("#ind-add")
    wait_for_js(page, f"{GD}.data.some(t => t.name === 'ind:bb-20-2:upper')")
    stored = market.chart_prefs(app_runtime(app), desk["trader"])
    assert [s.label for s in stored.indicators] == ["SMA 9", "RSI 14", "BB 20 2"]

    page.reload()
    wait_for_js(page, f"{GD} && {GD}.data && {GD}.data.some(t => t.name === 'ind:rsi-14:rsi')", timeout=20_000)
    bands = ["ind:bb-20-2:lower", "ind:bb-20-2:middle", "ind:bb-20-2:upper"]
    assert names(page) == ["ind:sma-9:sma", "ind:rsi-14:rsi", *bands]
    expect(page.locator(".ind-chip")).to_have_count(3)
    page.locator(".ind-chip", has_text="RSI 14").click()
    wait_for_js(page, f"!{GD}.data.some(t => t.name === 'ind:rsi-14:rsi') && !{GD}._fullLayout.yaxis3")
    assert [s.label for s in market.chart_prefs(app_runtime(app), desk["trader"]).indicators] == ["SMA 9", "BB 20 2"]


def test_the_atr_suggestion_fills_the_stop(new_page: NewPage, base_url: str, app: Dash, desk: dict) -> None:
    page = open_chart(new_page, base_url)
    page.fill("#bf-entry-price", "40000")
    page.locator("#bf-entry-price").blur()
    expect(page.locator("#bf-atr-use")).to_be_enabled(timeout=10_000)
    atr = market.chart_atr(app_runtime(app), desk["trader"], desk["series"], "1m", 14)
    assert atr is not None
    expect(page.locator("#bf-atr-text")).to_contain_text("ATR(14) 1m = ")
    label = page.locator("#bf-atr-use").inner_text()
    suggested = Decimal(label.removeprefix("Use ").replace(",", ""))
    exact = Decimal("40000") - Decimal("1.5") * atr
    assert exact - Decimal("0.01") <= suggested <= exact  # on the 0.01 tick, not nearer the entry
    page.click("#bf-atr-use")
    expect(page.locator("#bf-stop-price")).to_have_value(format(suggested.normalize(), "f"))
    page.fill("#bf-atr-k", "2")
    page.locator("#bf-atr-k").blur()
    expect(page.locator("#bf-atr-use")).not_to_have_text(label)


def hover_exit(page: Page) -> None:
    x, y = page.evaluate(
        f"""(() => {{ const gd = {GD}, t = {TRADES}, fl = gd._fullLayout, b = gd.getBoundingClientRect();
          return [b.left + fl.xaxis._offset + fl.xaxis.l2p(t.x[1]), b.top + fl.yaxis._offset + fl.yaxis.l2p(t.y[1])];
        }})()"""
    )
    page.mouse.move(x, y)


def dark_shot(new_page: NewPage, base_url: str) -> None:
    dark = open_chart(new_page, base_url, dark=True)
    dark.click("#theme-switch")
    wait_for_js(dark, "document.documentElement.getAttribute('data-bs-theme') === 'dark'")
    wait_for_js(dark, f"{TRADES}.x.length === 2 && {GD}._fullLayout.yaxis3")
    dark.wait_for_timeout(800)
    hover_exit(dark)
    expect(dark.locator(".hoverlayer .hovertext").filter(has_text="exit (target)")).to_have_count(1)
    shot(dark, "chart-studies-dark")
    dark.click("#theme-switch")  # back to light for the next sign-in
    dark.wait_for_timeout(300)
    dark.context.close()


def test_closed_trade_markers_with_tooltips_hidden_by_the_switch(
    new_page: NewPage, base_url: str, app: Dash, desk: dict
) -> None:
    shown = market.parse_specs([{"name": "ema", "period": 21}, {"name": "vwap"}, {"name": "atr"}])
    market.keep_chart_prefs(app_runtime(app), desk["trader"], indicators=shown, show_trades=True)
    page = open_chart(new_page, base_url)
    wait_for_js(page, f"{TRADES}.x.length === 2")
    texts = page.evaluate(f"{TRADES}.text")
    entry, exit_ = Decimal(desk["entry"]), Decimal(desk["exit"])
    pnl = (exit_ - entry) * Decimal("0.1")
    sign = "+" if pnl > 0 else ""
    result = f"P&L {sign}{format_money(pnl)} USDT · {sign}{format_money(pnl / 20)} R"
    assert texts == [
        f"#1 T1 long entry @ {format_number(entry, Decimal('0.01'))}<br>{result}",
        f"#1 T1 long exit (target) @ {format_number(exit_, Decimal('0.01'))}<br>{result}",
    ]
    # Hovering the exit marker shows its tooltip.
    wait_for_js(page, f"{GD}.data.some(t => t.name === 'ind:atr-14:atr') && {GD}._fullLayout.yaxis3")
    hover_exit(page)
    expect(page.locator(".hoverlayer .hovertext").filter(has_text="exit (target)")).to_have_count(1)
    shot(page, "chart-studies-light")
    if screenshots_dir() is not None:  # the dark one only when screenshots are made (CI's time)
        dark_shot(new_page, base_url)
    page.locator("#ind-trades").click()
    wait_for_js(page, f"{TRADES}.x.length === 0")
    page.reload()
    wait_for_js(page, f"{GD} && {GD}.data && {GD}.data.some(t => t.name === 'tb-trades')", timeout=20_000)
    assert page.evaluate(f"{TRADES}.x.length") == 0
    expect(page.locator("#ind-trades")).not_to_be_checked()
    page.locator("#ind-trades").click()
    wait_for_js(page, f"{TRADES}.x.length === 2")
