"""The /blocks page's Amend dialog in headless Chromium on the real app: a refused amend shows its
message at the field and changes nothing; a good one moves the stop and a target on the paper venue
and the table follows. TRADEBLOCK_SCREENSHOTS=1 saves the dialog with a refused stop."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from dash import Dash
from playwright.sync_api import Page, expect
from sqlalchemy import select

from db.enums import EntryType, OrderRole, OrderStatus, Role, Side, SizeMode
from db.models import Order, Trade
from engine.blocks.api import BlockRequest, TargetSpec, submit_block
from engine.exchanges.demo import DemoExchange
from engine.market.markets import sync_markets
from engine.runtime import Runtime
from engine.users.accounts import open_paper_account
from tests.helpers.browser import NewPage, shot, sign_in
from tests.helpers.dashboard import NOW, app_runtime, make_user

pytestmark = pytest.mark.browser
VIEWPORT = {"width": 1400, "height": 900}
D = Decimal


@pytest.fixture(scope="module")
def desk(fresh_database: Runtime) -> dict[str, int]:
    trader = make_user(fresh_database, "trader", Role.TRADER)
    sync_markets(fresh_database.sessions, DemoExchange(seed=7, clock=lambda: NOW))
    account = open_paper_account(fresh_database.sessions, trader.id, "Paper")
    return {"trader": trader.id, "account": account.id}


@pytest.fixture
def block_id(app: Dash, desk: dict[str, int]) -> int:
    """A limit long resting on the paper venue: entry 35,000, stop 34,500, targets 36,000 and 37,000."""
    req = BlockRequest(
        "BTC/USDT", Side.LONG, EntryType.LIMIT, D("35000"), D("34500"),
        (TargetSpec(D("36000")), TargetSpec(D("37000"))), SizeMode.BASE, D("0.02"),
    )  # fmt: skip
    return submit_block(app_runtime(app), desk["trader"], desk["account"], req)


def target_field(index: int) -> str:
    return f"[id='{json.dumps({'index': index, 'type': 'amend-target'}, separators=(',', ':'))}']"


def trades(app: Dash, block: int) -> list[tuple[Decimal, Decimal]]:
    with app_runtime(app).sessions() as s:
        rows = s.scalars(select(Trade).where(Trade.block_id == block).order_by(Trade.index))
        return [(t.stop_price, t.target_price) for t in rows]


def open_dialog(page: Page) -> None:
    grid = page.locator("#blocks-grid")
    expect(grid.locator(".ag-row")).to_have_count(2, timeout=10_000)
    grid.locator(".ag-row .ag-cell[col-id='symbol']").first.click()
    page.click("#blocks-amend")
    expect(page.locator("#amend-modal")).to_be_visible(timeout=5_000)


def test_a_refused_amend_says_why_at_the_field_and_a_good_one_moves_the_orders(
    new_page: NewPage, base_url: str, app: Dash, block_id: int
) -> None:
    page = new_page()
    sign_in(page, base_url, "trader", path="/blocks")
    expect(page.locator("#blocks-grid .ag-row")).to_have_count(2, timeout=10_000)
    page.click("#blocks-amend")
    expect(page.locator("#blocks-message")).to_contain_text("Select a block first.")
    open_dialog(page)
    expect(page.locator("#amend-stop")).to_have_attribute("placeholder", "now 34,500")
    expect(page.locator(target_field(1))).to_have_attribute("placeholder", "T2 now 37,000")

    page.fill("#amend-stop", "35500")  # above the entry of a long
    page.fill(target_field(0), "36000.005")  # off the 0.01 tick
    page.click("#amend-apply")
    expect(page.locator("#amend-stop")).to_contain_class("is-invalid", timeout=10_000)
    refusal = "Stop 35,500.00 must be below the entry 35,000.00 for a long."
    expect(page.locator("#amend-stop-feedback")).to_contain_text(refusal)
    expect(page.locator(target_field(0))).to_contain_class("is-invalid")
    expect(page.locator("#amend-target-0-row")).to_contain_text("use 36,000.00 or 36,000.01")
    expect(page.locator("#amend-stop")).to_have_value("35500")  # what was typed stays
    shot(page, "blocks-amend-refused")
    assert trades(app, block_id) == [(D("34500"), D("36000")), (D("34500"), D("37000"))]

    page.click("#amend-breakeven")  # nothing has filled: no break-even yet
    expect(page.locator("#amend-breakeven-feedback")).to_contain_text("needs an open position", timeout=10_000)

    page.fill("#amend-stop", "34000")
    page.fill(target_field(0), "")
    page.fill(target_field(1), "37500")
    page.click("#amend-apply")
    expect(page.locator("#blocks-alert")).to_contain_text(f"Block #{block_id} amended", timeout=10_000)
    expect(page.locator("#amend-modal")).to_be_hidden()
    assert trades(app, block_id) == [(D("34000"), D("36000")), (D("34000"), D("37500"))]
    expect(page.locator("#blocks-grid")).to_contain_text("37,500", timeout=10_000)  # the table follows
    with app_runtime(app).sessions() as s:
        entries = s.scalars(select(Order).where(Order.block_id == block_id, Order.role == OrderRole.ENTRY))
        assert {o.status for o in entries} == {OrderStatus.ACCEPTED}  # a price move replaces no entry
    page.context.close()
