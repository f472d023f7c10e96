"""The journal page in headless Chromium on the real app: the trader's trades (never the rival's),
filters, editing a block's setup, tags and notes (an error at the field, then a save the grid
shows), and a trade's link opening the chart at its time with its block's lines and fills.
Set TRADEBLOCK_SCREENSHOTS=1 for journal-light.png and journal-dark.png."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from db.enums import Role, Side
from db.models import Trade
from engine.exchanges.demo import DemoExchange
from engine.journal.api import save_journal
from engine.market.markets import sync_markets
from engine.runtime import Runtime
from engine.users.directory import set_theme
from tests.helpers.browser import NewPage, shot, sign_in, wait_for_js
from tests.helpers.dashboard import NOW, make_user, watch_backfilled
from tests.helpers.portfolio import add_account, add_close, add_replay_account, add_trade

pytestmark = pytest.mark.browser
VIEWPORT = {"width": 1500, "height": 1000}
MIN = 60_000
GD = "document.querySelector('#chart-graph .js-plotly-plot')"
ROWS = "#jr-grid .ag-center-cols-container .ag-row"


@pytest.fixture(scope="module")
def desk(fresh_database: Runtime) -> dict[str, int]:
    """A trader with two closed BTC trades (a win, a loss), a closed ETH short and an open BTC one,
    all in the last hours of the demo feed's candles; a rival with one trade."""
    rt = fresh_database
    rt.sources["demo"] = DemoExchange(seed=7, clock=lambda: NOW)
    trader = make_user(rt, "trader", Role.TRADER).id
    rival = make_user(rt, "rival", Role.TRADER).id
    watch_backfilled(rt, trader)
    sync_markets(rt.sessions, DemoExchange(seed=7, clock=lambda: NOW))
    rt.sources.clear()
    acc, rival_acc = add_account(rt.sessions, trader), add_account(rt.sessions, rival)
    ids = {"trader": trader, "rival": rival}
    ids["win"] = add_trade(rt.sessions, trader, acc, NOW - 90 * MIN, [(NOW - 60 * MIN, "43012.5")], entry="42850")
    ids["loss"] = add_trade(rt.sessions, trader, acc, NOW - 55 * MIN, [(NOW - 40 * MIN, "42790")], entry="42880")
    ids["short"] = add_trade(
        rt.sessions,
        trader,
        acc,
        NOW - 300 * MIN,
        [(NOW - 200 * MIN, "2290")],
        symbol="ETH/USDT",
        entry="2300",
        side=Side.SHORT,
    )
    ids["open"] = add_trade(rt.sessions, trader, acc, NOW - 20 * MIN, [], entry="42900", amount="0.5")
    ids["rival_trade"] = add_trade(rt.sessions, rival, rival_acc, NOW - 30 * MIN, [(NOW - 10 * MIN, "99")])
    add_close(rt.sessions, trader, acc, date(2024, 1, 30), "10000")
    with rt.sessions() as s:
        blocks = dict(s.execute(select(Trade.id, Trade.block_id)).all())
    ids.update({f"{k}_block": blocks[ids[k]] for k in ("win", "loss", "short", "open")})
    save_journal(rt, trader, ids["loss_block"], "Breakout", "Chased it.", "fomo")
    # A backtest's trade on the trader's replay account: left out until the switch asks for it.
    replay = add_replay_account(rt.sessions, trader, "Backtest #1", "1000")
    ids["replay"] = add_trade(rt.sessions, trader, replay, NOW - 50 * MIN, [(NOW - 45 * MIN, "43100")], entry="42900")
    return ids


def rows(page: Page) -> list[str]:
    return page.locator(f"{ROWS} .ag-cell[col-id='block_id']").all_inner_texts()


def test_the_journal_lists_filters_and_edits_the_traders_trades(new_page: NewPage, base_url: str, desk: dict) -> None:
    page = new_page()
    sign_in(page, base_url, "trader", path="/journal")
    expect(page.locator(ROWS)).to_have_count(4, timeout=15_000)
    assert rows(page) == [str(desk[k]) for k in ("open", "loss", "win", "short")]  # newest first
    expect(page.locator("#jr-summary")).to_have_text("4 trades · page 1 of 1")
    # Prices in the market's precision, money to cents, the open trade's duration so far.
    win = page.locator(f"{ROWS}[row-id='{desk['win']}']")
    expect(win.locator(".ag-cell[col-id='exit']")).to_have_text("43,012.50")
    expect(win.locator(".ag-cell[col-id='pnl']")).to_have_text("+162.50")
    expect(win.locator(".ag-cell[col-id='r']")).to_have_text("+16.25R")
    expect(win.locator(".ag-cell[col-id='duration']")).to_have_text("30m")
    expect(page.locator("#jr-setup-stats")).to_contain_text("Breakout")
    expect(page.locator("#jr-tag-stats")).to_contain_text("fomo")
    expect(page.locator("#jr-symbol-stats tbody tr")).to_have_count(2)  # BTC (a win, a loss) and ETH
    expect(page.locator("#jr-symbol-stats tbody tr").first).to_contain_text("BTC/USDT")
    expect(page.locator("#jr-profit .js-plotly-plot")).to_be_visible()
    shot(page, "journal-light")

    # Filters: closed only, then the wins among them, then the ETH ones.
    page.get_by_label("Closed").check()
    expect(page.locator(ROWS)).to_have_count(3)
    page.click("#jr-outcome")
    page.get_by_role("option", name="Wins", exact=True).click()
    expect(page.locator(ROWS)).to_have_count(2)
    assert rows(page) == [str(desk["win"]), str(desk["short"])]
    page.click("#jr-symbol")
    page.get_by_role("option", name="ETH/USDT", exact=True).click()
    expect(page.locator(ROWS)).to_have_count(1)
    expect(page.locator("#jr-summary")).to_have_text("1 trade · page 1 of 1")

    # Edit the win's journal: a tag too long is refused at the field, then a clean save.
    page.goto(base_url + "/journal")  # filters are not kept: every trade again
    expect(page.locator(ROWS)).to_have_count(4, timeout=15_000)
    win.locator(".ag-cell[col-id='symbol']").click()
    expect(page.locator("#jr-form-title")).to_contain_text(f"Block #{desk['win_block']}")
    page.fill("#jr-setup-input", "  Opening range ")
    page.fill("#jr-tags-input", "News, " + "x" * 41)
    page.fill("#jr-notes-input", "Waited for the retest.")
    page.click("#jr-save")
    expect(page.locator("#jr-tags-feedback")).to_contain_text("at most 40 characters")
    expect(page.locator("#jr-tags-input")).to_have_class(re.compile("is-invalid"))
    page.fill("#jr-tags-input", "News, breakout, news")
    page.click("#jr-save")
    expect(page.locator("#jr-saved")).to_contain_text(f"Saved the journal of block #{desk['win_block']}")
    expect(page.locator("#jr-tags-input")).to_have_value("breakout, news")
    expect(win.locator(".ag-cell[col-id='tags']")).to_have_text("breakout, news")
    expect(win.locator(".ag-cell[col-id='setup']")).to_have_text("Opening range")
    expect(page.locator("#jr-tag-stats")).to_contain_text("breakout")

    # The trade on the chart: its series centred on its time, its block's lines and both fills.
    page.click("#jr-chart-link")
    page.wait_for_url(re.compile(r"/\?exchange=demo&symbol=BTC%2FUSDT&timeframe=1m&at=\d+&block=\d+"))
    names = f"(({GD} || {{}}).layout || {{}}).shapes || []"
    block = f"tb-block-{desk['win_block']}-"
    wait_for_js(page, f"({names}).some(s => (s.name || '').startsWith('{block}entry'))", timeout=20_000)
    shapes = page.evaluate(f"({names}).map(s => s.name)")
    assert f"{block}entry" in shapes
    assert any(n.startswith(f"{block}stop") for n in shapes)
    assert f"{block}target-0" in shapes
    fills = page.evaluate(f"{GD}.data[2].x")
    assert {NOW - 90 * MIN, NOW - 60 * MIN} <= set(fills)  # its entry and exit (and the live open block's entry)
    # The trade's middle (22:45 UTC) comes into view: plotly holds the range as dates or as ms.
    mid = int(datetime(2024, 1, 31, 22, 30, tzinfo=UTC).timestamp() * 1000)
    ms = "(v => typeof v === 'number' ? v : Date.parse(String(v).replace(' ', 'T') + 'Z'))"
    wait_for_js(page, f"(r => r && {ms}(r[0]) < {mid} && {mid} < {ms}(r[1]))({GD}.layout.xaxis.range)", timeout=20_000)


def test_the_journal_in_the_dark_theme(new_page: NewPage, base_url: str, desk: dict, fresh_database: Runtime) -> None:
    set_theme(fresh_database, desk["trader"], "dark")
    try:
        page = new_page(dark=True)
        sign_in(page, base_url, "trader", path="/journal")
        expect(page.locator(ROWS)).to_have_count(4, timeout=15_000)
        assert page.evaluate("document.documentElement.getAttribute('data-bs-theme')") == "dark"
        assert page.evaluate("document.documentElement.getAttribute('data-ag-theme-mode')") == "dark"
        page.locator(f"{ROWS}[row-id='{desk['loss']}'] .ag-cell[col-id='symbol']").click()
        expect(page.locator("#jr-setup-input")).to_have_value("Breakout")
        expect(page.locator("#jr-notes-input")).to_have_value("Chased it.")
        shot(page, "journal-dark")
        page.click("#theme-switch")  # the shell's theme switch turns the grid too
        wait_for_js(page, "document.documentElement.getAttribute('data-ag-theme-mode') === 'light'")
    finally:
        set_theme(fresh_database, desk["trader"], "light")


def test_replay_trades_show_only_when_asked_for_with_a_badge(new_page: NewPage, base_url: str, desk: dict) -> None:
    page = new_page()
    sign_in(page, base_url, "trader", path="/journal")
    expect(page.locator(ROWS)).to_have_count(4, timeout=15_000)
    assert str(desk["replay"]) not in page.locator(ROWS).evaluate_all("rs => rs.map(r => r.getAttribute('row-id'))")
    page.click("label[for='jr-replay']")
    expect(page.locator(ROWS)).to_have_count(5, timeout=10_000)
    replay = page.locator(f"{ROWS}[row-id='{desk['replay']}']")
    expect(replay.locator(".ag-cell[col-id='account']")).to_have_text("replay")
    expect(replay.locator(".ag-cell[col-id='pnl']")).to_have_text("+200.00")
    expect(replay.locator(".ag-cell[col-id='pct']")).to_have_text("+20.00%")  # of the replay's own 1,000
    win = page.locator(f"{ROWS}[row-id='{desk['win']}']")
    expect(win.locator(".ag-cell[col-id='account']")).to_have_text("")
    shot(page, "journal-replay-light")
    page.click("label[for='jr-replay']")
    expect(page.locator(ROWS)).to_have_count(4, timeout=10_000)


def test_the_rival_sees_only_their_trade(new_page: NewPage, base_url: str, desk: dict) -> None:
    page = new_page()
    sign_in(page, base_url, "rival", path="/journal")
    expect(page.locator(ROWS)).to_have_count(1, timeout=15_000)
    assert page.locator(ROWS).first.get_attribute("row-id") == str(desk["rival_trade"])
