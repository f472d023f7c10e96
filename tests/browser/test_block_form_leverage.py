"""The trade-block form on a perpetual, in headless Chromium: leverage and margin mode are offered
on the perpetual's chart only, the preview shows the margin and the liquidation price, a stop beyond
liquidation is refused at the stop field with nothing stored, and a placed block keeps its leverage.
"""

from __future__ import annotations

import pytest
from dash import Dash
from playwright.sync_api import Page, expect
from sqlalchemy import delete, select

from db.enums import MarginMode, Role
from db.models import (
    Block,
    ExchangeAccount,
    Fill,
    Order,
    PaperAccount,
    PaperBalance,
    PaperFeedCursor,
    PaperFill,
    PaperOrder,
    Trade,
)
from engine.exchanges.demo import DemoExchange
from engine.market.markets import sync_markets
from engine.runtime import Runtime
from tests.helpers.block_form import enter, fill_form
from tests.helpers.browser import NewPage, shot, sign_in
from tests.helpers.dashboard import NOW, app_runtime, make_user, watch_backfilled

pytestmark = pytest.mark.browser
VIEWPORT = {"width": 1400, "height": 900}
CHART_DRAWN = "(((document.querySelector('#chart-graph .js-plotly-plot') || {}).data || [])[0] || {x: []}).x.length > 0"


@pytest.fixture(scope="module")
def desk(fresh_database: Runtime) -> dict[str, int]:
    """A trader watching the demo perpetual and BTC/USDT spot, backfilled (the form opens their account)."""
    rt = fresh_database
    rt.sources["demo"] = DemoExchange(seed=7, clock=lambda: NOW)
    trader = make_user(rt, "perp-trader", Role.TRADER)
    watch_backfilled(rt, trader.id, "BTC/USDT")
    watch_backfilled(rt, trader.id, "BTC/USDT:USDT")
    sync_markets(rt.sessions, DemoExchange(seed=7, clock=lambda: NOW))
    rt.sources.clear()
    return {"trader": trader.id}


@pytest.fixture
def runtime(app: Dash) -> Runtime:
    rt = app_runtime(app)
    models = (Fill, Order, Trade, Block, ExchangeAccount, PaperFill, PaperOrder, PaperFeedCursor, PaperBalance)
    with rt.sessions.begin() as s:
        for model in (*models, PaperAccount):
            s.execute(delete(model))
    rt.reset_trading()
    return rt


def open_perpetual(page: Page, base_url: str) -> None:
    sign_in(page, base_url, "perp-trader", ready=CHART_DRAWN)
    page.locator("#watchlist").get_by_text("BTC/USDT:USDT", exact=True).click()  # the watchlist's entry
    expect(page.locator("#bf-derivatives")).to_be_visible(timeout=15_000)


def test_a_perpetual_block_takes_a_leverage_previews_its_liquidation_and_keeps_it(
    new_page: NewPage, base_url: str, runtime: Runtime
) -> None:
    page = new_page()
    open_perpetual(page, base_url)
    fill_form(page, "35000", "34500", ("36000",), size="1")
    enter(page, "#bf-leverage", "100")
    # 35,000 x (1 - 1/100) / (1 - 0.005) = 34,824.12, up to the tick: the stop at 34,500 would never be reached
    stop_note = page.locator("#bf-preview-errors")
    expect(stop_note).to_contain_text("lies beyond the liquidation price ≈ 34,824.2 at 100x isolated", timeout=10_000)
    page.click("#bf-submit")
    expect(page.locator("#bf-stop-price")).to_contain_class("is-invalid", timeout=10_000)
    expect(page.locator("#bf-stop-price-feedback")).to_contain_text("Lower the leverage or raise the stop.")
    with runtime.sessions() as s:
        assert s.scalar(select(Block.id)) is None  # refused: nothing stored

    enter(page, "#bf-leverage", "10")
    expect(page.locator("#bf-preview-margin")).to_have_text("3,500.00 USDT at 10x isolated", timeout=10_000)
    expect(page.locator("#bf-preview-liquidation")).to_have_text("≈ 31,658.3")  # 35,000 x 0.9 / 0.995
    # the stop's refusal "at 100x" is gone with the leverage that caused it
    expect(page.locator("#bf-stop-price")).not_to_contain_class("is-invalid")
    expect(page.locator("#bf-stop-price-feedback")).to_have_text("")
    shot(page, "chart-form-leverage-light")
    page.click("#bf-submit")
    expect(page.locator("#bf-placed")).to_contain_text("placed on BTC/USDT:USDT", timeout=15_000)
    with runtime.sessions() as s:
        assert s.execute(select(Block.leverage, Block.margin_mode)).one() == (10, MarginMode.ISOLATED)


def test_a_spot_chart_offers_no_leverage_and_ignores_what_was_typed_for_a_perpetual(
    new_page: NewPage, base_url: str, runtime: Runtime
) -> None:
    page = new_page()
    open_perpetual(page, base_url)
    enter(page, "#bf-leverage", "20")
    page.locator("#watchlist").get_by_text("BTC/USDT", exact=True).click()  # the entry, not the symbol box
    expect(page.locator("#bf-derivatives")).to_be_hidden(timeout=10_000)
    fill_form(page, "35000", "34500", ("36000",))
    expect(page.locator("#bf-preview-size")).to_have_text("0.01 BTC", timeout=10_000)
    expect(page.locator("#bf-preview-margin")).to_have_count(0)
    page.click("#bf-submit")
    expect(page.locator("#bf-placed")).to_contain_text("placed on BTC/USDT", timeout=15_000)
    with runtime.sessions() as s:
        assert s.execute(select(Block.leverage, Block.margin_mode)).one() == (None, None)
