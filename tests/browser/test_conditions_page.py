"""Conditional blocks on /blocks, served by the real Dash app in headless Chromium: the form in
its dialog shows each problem under its field and saves nothing; a valid condition is listed as
waiting, in words; its Cancel button cancels it; a next step saves a chain of two. On the chart, a
waiting condition of its market is a labelled line, cancelled from the list under the chart. Set
TRADEBLOCK_SCREENSHOTS=1 to save the dialog, the lists and the chart."""

from __future__ import annotations

from decimal import Decimal

import pytest
from dash import Dash
from playwright.sync_api import Page, expect
from sqlalchemy import delete, func, select

from db.enums import Role
from db.models import BlockCondition
from engine.conditions import api as conditions
from engine.exchanges.demo import DemoExchange
from engine.market.markets import sync_markets
from engine.runtime import Runtime
from engine.users.api import account_choices
from tests.helpers.browser import NewPage, shot, sign_in
from tests.helpers.dashboard import NOW, app_runtime, make_user, watch_backfilled

pytestmark = pytest.mark.browser
VIEWPORT = {"width": 1400, "height": 900}


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


@pytest.fixture
def runtime(app: Dash) -> Runtime:
    rt = app_runtime(app)
    with rt.sessions.begin() as s:
        s.execute(delete(BlockCondition))
    return rt


def saved(runtime: Runtime) -> list[BlockCondition]:
    with runtime.sessions() as s:
        return list(s.scalars(select(BlockCondition)))


def open_form(page: Page, base_url: str) -> None:
    sign_in(page, base_url, "trader", path="/blocks")
    page.wait_for_selector("#conditions-section #cf-open")
    page.click("#cf-open")
    page.wait_for_selector("#cf-modal")  # the dialog (dbc puts the id on .modal-dialog)


def fill(page: Page, price: str, stop: str) -> None:
    page.select_option("#cf-kind", "close_above")
    page.select_option("#cf-timeframe", "15m")
    page.fill("#cf-price", price)
    page.select_option("#cf-side", "long")
    page.select_option("#cf-entry-type", "limit")
    page.fill("#cf-entry-price", "41000")
    page.fill("#cf-stop", stop)
    page.fill("#cf-target", "43000")
    page.select_option("#cf-size-mode", "base")
    page.fill("#cf-size", "0.01")


def test_a_refused_condition_shows_each_problem_at_its_field(
    new_page: NewPage, base_url: str, runtime: Runtime
) -> None:
    page = new_page()
    open_form(page, base_url)
    fill(page, "50,000.5", "41500")
    page.click("#cf-save")
    expect(page.locator("#cf-price-msg")).to_contain_text("positive number")
    page.fill("#cf-price", "50000")  # the price is right now: the block's own check speaks
    page.click("#cf-save")
    expect(page.locator("#cf-stop-msg")).to_contain_text("below the entry")
    expect(page.locator("#cf-price-msg")).to_be_empty()
    expect(page.locator("#cf-size-msg")).to_be_empty()
    shot(page, "condition-form-refused")
    assert saved(runtime) == []


def test_a_saved_condition_waits_in_the_list_and_is_canceled_there(
    new_page: NewPage, base_url: str, runtime: Runtime
) -> None:
    page = new_page()
    open_form(page, base_url)
    fill(page, "50000", "40000")
    page.click("#cf-save")
    expect(page.locator("#cf-saved")).to_contain_text("saved", timeout=15_000)
    expect(page.locator("#cf-modal")).to_be_hidden()
    page.wait_for_timeout(3_500)  # the page's 3 s poll refreshes the list: what was said stays
    expect(page.locator("#cf-saved")).to_contain_text("saved")
    row = page.locator(".condition-row[data-status='waiting']")
    expect(row).to_contain_text("when BTC/USDT closes above 50,000 on 15m")
    expect(row).to_contain_text("long BTC/USDT (limit entry)")
    shot(page, "conditions-waiting")
    (condition,) = saved(runtime)
    assert (condition.status, condition.kind, condition.price) == ("waiting", "close_above", Decimal(50000))
    row.get_by_role("button", name="Cancel").click()
    expect(page.locator("#condition-alert")).to_contain_text("canceled")
    expect(page.locator(".condition-row[data-status='canceled']")).to_contain_text("Canceled by you.")
    with runtime.sessions() as s:
        assert (
            s.scalar(select(func.count()).select_from(BlockCondition).where(BlockCondition.status == "canceled")) == 1
        )


def test_a_condition_with_a_next_step_saves_the_chain_and_lists_both(
    new_page: NewPage, base_url: str, runtime: Runtime
) -> None:
    page = new_page()
    open_form(page, base_url)
    fill(page, "50000", "40000")
    expect(page.locator("#cf-then-kind")).to_be_hidden()
    page.locator("#cf-then-on").check()
    page.select_option("#cf-then-kind", "crosses")
    page.fill("#cf-then-price", "45000")
    page.select_option("#cf-then-side", "long")
    page.select_option("#cf-then-entry-type", "limit")
    page.fill("#cf-then-entry-price", "40000")
    page.fill("#cf-then-stop", "40500")  # a long's stop above its entry: refused at the step's field
    page.fill("#cf-then-target", "42000")
    page.select_option("#cf-then-size-mode", "base")
    page.fill("#cf-then-size", "0.01")
    page.click("#cf-save")
    expect(page.locator("#cf-then-stop-msg")).to_contain_text("below the entry")
    expect(page.locator("#cf-stop-msg")).to_be_empty()
    assert saved(runtime) == []
    page.fill("#cf-then-stop", "39000")
    page.click("#cf-save")
    expect(page.locator("#cf-saved")).to_contain_text("saved", timeout=15_000)
    first, then = sorted(saved(runtime), key=lambda c: c.id)
    assert (first.status, first.kind, first.parent_id) == ("waiting", "close_above", None)
    assert (then.status, then.kind, then.parent_id, then.price) == ("pending", "crosses", first.id, Decimal(45000))
    expect(page.locator("#cf-saved")).to_contain_text(f"#{first.id}, then #{then.id}")
    pending = page.locator(".condition-row[data-status='pending']")
    expect(pending).to_contain_text("when BTC/USDT crosses 45,000")
    expect(pending).to_contain_text(f"after step #{first.id} fires")
    expect(pending).to_contain_text("long BTC/USDT (limit entry)")
    shot(page, "conditions-chain")


# Null-safe: the plot's div is briefly absent while the chart is rebuilt, and a throw ends the wait.
SHAPE_NAMES = (
    "() => (((document.querySelector('#chart-graph .js-plotly-plot') || {}).layout || {}).shapes || [])"
    ".map(s => s.name)"
)


def test_a_condition_is_drawn_on_its_chart_and_canceled_from_there(
    new_page: NewPage, base_url: str, runtime: Runtime, desk: dict
) -> None:
    (account, *_rest) = account_choices(runtime, desk["trader"])
    block = {"symbol": "BTC/USDT", "exchange": "demo", "side": "long", "entry_type": "limit", "entry_price": "41000",
             "stop_price": "40000", "target_prices": ["43000"], "target_shares": [None], "size_mode": "base",
             "size_value": "0.01"}  # fmt: skip
    raw = {"kind": "close_above", "account_id": account.id, "series_id": desk["series"], "timeframe": "15m",
           "price": "36000", "block": block}  # fmt: skip
    condition_id = conditions.create_condition(runtime, desk["trader"], raw)
    page = new_page()
    sign_in(page, base_url, "trader")
    item = page.locator(f".chart-condition[data-id='{condition_id}']")
    # The chart draws first (its candles, then the overlays): under load that takes a while.
    expect(item).to_contain_text("when close > 36,000.00 (15m) -> long block", timeout=30_000)
    name = f"tb-condition-{condition_id}"
    page.wait_for_function(f"() => ({SHAPE_NAMES})().includes('{name}')", timeout=15_000)
    shot(page, "chart-condition")
    item.get_by_role("button", name="Cancel").click()
    expect(page.locator("#chart-condition-alert")).to_contain_text(
        f"Condition #{condition_id} canceled.", timeout=15_000
    )
    page.wait_for_function(f"() => !({SHAPE_NAMES})().includes('{name}')", timeout=15_000)
    expect(item).to_have_count(0)
    assert conditions.get_condition(runtime, desk["trader"], condition_id).status == "canceled"
