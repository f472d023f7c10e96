"""The backtest page in headless Chromium, its runs as real Dash background jobs on the diskcache
manager (processes forked from the served app): a file with bad rows is listed line by line and
makes no run; a good file runs with its progress shown ("... / 2,821 bars"), its report (statistics,
equity, trades, the calendar link); a second run with another fill variant, the two side by side;
a run canceled from its Cancel button is kept as canceled; a run deleted after the confirmation is
gone. And on an empty calendar, "Run a sample backtest" ends on the run's account in the calendar.
TRADEBLOCK_SCREENSHOTS=1 saves backtest-light.png and backtest-dark.png."""

from __future__ import annotations

import re
import time
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from db.enums import Role
from engine.exchanges.demo import DemoExchange
from engine.replay import play
from engine.runtime import Runtime
from engine.users.directory import set_theme
from pages.components import backtest as bc
from tests.helpers.browser import NewPage, shot, sign_in, wait_for_js
from tests.helpers.dashboard import MIN, NOW, make_user, watch_backfilled

pytestmark = pytest.mark.browser
VIEWPORT = {"width": 1360, "height": 1000}
RUN_ROW = "#bt-runs .ag-center-cols-container .ag-row"
HEADER = "time,symbol,side,entry_type,entry_price,stop_price,targets,size_mode,size_value\n"
SLOW_S = 4.0  # a run reports its progress slowly for this long, so the bar can be watched


@pytest.fixture(scope="module")
def desk(fresh_database: Runtime) -> dict[str, int]:
    """A trader and a newcomer (traders), an analyst, and two days of demo BTC/USDT 1m stored."""
    runtime = fresh_database
    ids = {name: make_user(runtime, name, role).id for name, role in
           (("trader", Role.TRADER), ("newbie", Role.TRADER), ("analyst", Role.ANALYST))}  # fmt: skip
    runtime.sources["demo"] = DemoExchange(seed=7, clock=lambda: NOW)
    watch_backfilled(runtime, ids["trader"])
    return ids


@pytest.fixture
def slow_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine plays these two days in a fraction of a second, well within one poll: here (in
    the served process, so the forked job inherits it) it reports after every event, and each
    report takes 0.1 s for the first SLOW_S seconds of a run, so the bar can be watched."""
    real = bc.progress_label
    began: list[float] = []

    def slowly(done: int, total: int) -> tuple[int, str]:
        began.append(began[0] if began else time.monotonic())
        if time.monotonic() - began[0] < SLOW_S:
            time.sleep(0.1)
        return real(done, total)

    monkeypatch.setattr(play, "REPORT_EVERY_S", 0.0)
    monkeypatch.setattr(bc, "progress_label", slowly)


def blocks_csv(count: int = 40) -> bytes:
    """Long market blocks every hour of the stored two days, the stop 1 % under the close at
    that time and targets 0.5 % and 1 % over it (prices from the same demo market)."""
    demo = DemoExchange(seed=7, clock=lambda: NOW)
    start = NOW - NOW % MIN - 2 * 1440 * MIN + 60 * MIN
    lines = [HEADER]
    for i in range(count):
        at = start + i * 60 * MIN
        close = Decimal(str(demo.fetch_ohlcv("BTC/USDT", "1m", at, 1)[0][4]))
        stop, first, second = ((close * Decimal(f)).quantize(Decimal("0.01")) for f in ("0.99", "1.005", "1.01"))
        lines.append(f"{at},BTC/USDT,long,market,,{stop},{first}:50;{second}:50,risk_pct,1\n")
    return "".join(lines).encode()


def upload(page: Page, name: str, data: bytes) -> None:
    page.set_input_files("#bt-file input[type=file]", files=[{"name": name, "mimeType": "text/csv", "buffer": data}])
    expect(page.locator("#bt-filename")).to_have_text(name)


def watch_progress(page: Page) -> None:
    """Record every label the progress bar shows (a run can end between two looks)."""
    page.evaluate(
        "() => { window.__labels = []; const bar = document.getElementById('bt-progress');"
        " new MutationObserver(() => window.__labels.push(bar.innerText)).observe(bar,"
        " {subtree: true, childList: true, characterData: true}); }"
    )


def test_bad_rows_are_listed_and_no_run_is_made(new_page: NewPage, base_url: str, desk: dict) -> None:
    page = new_page()
    sign_in(page, base_url, "trader", "/backtest")
    bad = HEADER + "2024-01-30T10:00:00Z,BTC/USDT,long,market,,41000,43000:50;44000:50,risk_pct,1\n"
    bad += "yesterday,BTC/USDT,sideways,market,,41000,43000,risk_pct,1\n"
    upload(page, "bad.csv", bad.encode())
    page.click("#bt-run")
    errors = page.locator("#bt-row-errors")
    expect(errors).to_contain_text("no run was made", timeout=15_000)
    expect(errors).to_contain_text("line 3 time")
    expect(errors).to_contain_text("line 3 side")
    page.fill("#bt-slippage", "-3")
    upload(page, "blocks.csv", blocks_csv())
    page.click("#bt-run")
    expect(page.locator("#bt-slippage-error")).to_contain_text("from 0 to 1000")
    expect(page.locator(RUN_ROW)).to_have_count(0)


def test_a_backtest_runs_with_progress_its_report_and_a_comparison(
    new_page: NewPage, base_url: str, desk: dict, runtime_session: Runtime, slow_progress: None
) -> None:
    page = new_page()
    sign_in(page, base_url, "trader", "/backtest")
    upload(page, "blocks.csv", blocks_csv())
    page.fill("#bt-name", "Trade-through")
    watch_progress(page)
    page.click("#bt-run")
    expect(page.locator("#bt-cancel")).to_be_enabled(timeout=10_000)  # running: Cancel is offered
    wait_for_js(page, "window.__labels.some(t => / \\/ [0-9,]+ bars/.test(t))", timeout=20_000)
    expect(page.locator("#bt-done")).to_contain_text("Trade-through: done", timeout=60_000)
    expect(page.locator("#bt-run")).to_be_enabled()
    labels = page.evaluate("window.__labels")
    done = [t for t in labels if " bars" in t]
    assert done, labels
    total = int(done[-1].split(" / ")[1].removesuffix(" bars").replace(",", ""))
    assert 2_000 < total <= 2_880, done  # the 1m bars from the first block to the last stored one

    expect(page.locator(RUN_ROW)).to_have_count(1, timeout=10_000)
    page.locator(f"{RUN_ROW} .ag-cell[col-id='name']").first.click()
    stats = page.locator("#bt-stats")
    expect(stats).to_contain_text("Win rate", timeout=15_000)
    expect(stats).to_contain_text("Net P&L")
    expect(page.locator("#bt-trades .ag-center-cols-container .ag-row").first).to_be_visible()
    link = page.locator("#bt-report a", has_text="Open in calendar")
    assert (link.get_attribute("href") or "").startswith("/calendar?account=")

    # The same blocks on touch fills with 5 bps of slippage: a second run, then both compared.
    page.click("#bt-trade-through")
    page.fill("#bt-slippage", "5")
    page.fill("#bt-name", "Touch, 5 bps")
    page.click("#bt-run")
    expect(page.locator("#bt-done")).to_contain_text("Touch, 5 bps: done", timeout=60_000)
    expect(page.locator(RUN_ROW)).to_have_count(2, timeout=10_000)
    for row in range(2):
        page.locator(f"{RUN_ROW}[row-index='{row}'] .ag-selection-checkbox input").check()
    compare = page.locator("#bt-compare-stats")
    expect(compare).to_contain_text("Touch, 5 bps", timeout=15_000)
    expect(compare).to_contain_text("Trade-through")
    wait_for_js(page, "document.querySelectorAll('#bt-compare-equity .scatterlayer .trace').length >= 4")
    shot(page, "backtest-light")

    set_theme(runtime_session, desk["trader"], "dark")
    dark = new_page(dark=True)
    sign_in(dark, base_url, "trader", "/backtest")
    expect(dark.locator(RUN_ROW)).to_have_count(2, timeout=10_000)
    dark.locator(f"{RUN_ROW}[row-index='1'] .ag-cell[col-id='name']").click()
    expect(dark.locator("#bt-stats")).to_contain_text("Win rate", timeout=15_000)
    shot(dark, "backtest-dark")
    set_theme(runtime_session, desk["trader"], "light")


def test_cancel_keeps_the_run_as_canceled_and_delete_asks_first(
    new_page: NewPage, base_url: str, desk: dict, slow_progress: None
) -> None:
    page = new_page()
    sign_in(page, base_url, "trader", "/backtest")
    expect(page.locator(RUN_ROW)).to_have_count(2, timeout=10_000)
    upload(page, "blocks.csv", blocks_csv())
    page.fill("#bt-name", "Stopped early")
    page.click("#bt-run")
    expect(page.locator("#bt-cancel")).to_be_enabled(timeout=10_000)
    page.click("#bt-cancel")
    expect(page.locator("#bt-cancel-message")).to_have_text("Canceling…")
    expect(page.locator("#bt-canceled")).to_contain_text("Stopped early: canceled", timeout=30_000)
    expect(page.locator(RUN_ROW)).to_have_count(3, timeout=10_000)
    expect(page.locator(f"{RUN_ROW} .ag-cell[col-id='status']", has_text="canceled")).to_have_count(1)

    page.locator(f"{RUN_ROW} .ag-cell[col-id='name']", has_text="Stopped early").click()
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.click("#bt-delete")
    expect(page.locator("#bt-deleted")).to_have_text("Deleted 1 run.", timeout=10_000)
    assert "Stopped early" in asked[0]
    expect(page.locator(RUN_ROW)).to_have_count(2, timeout=10_000)


def test_the_empty_calendar_runs_a_sample_backtest(new_page: NewPage, base_url: str, desk: dict) -> None:
    page = new_page()
    sign_in(page, base_url, "newbie", "/calendar")
    expect(page.locator("#cal-sample-card")).to_contain_text("Nothing traded yet", timeout=15_000)
    shot(page, "calendar-sample-light")
    page.click("#cal-sample-run")
    page.wait_for_url("**/calendar?account=*&anchor=*", timeout=60_000)
    # The calendar opens on the sample's account and the month of its trades: it is populated.
    expect(page.locator("#cal-title")).not_to_be_empty(timeout=15_000)
    expect(page.locator("#cal-stats")).not_to_contain_text("Trades0", timeout=15_000)
    trades = page.locator("#cal-stats").inner_text()
    assert re.search(r"Trades\s*[1-9]", trades), trades
    analyst = new_page()
    sign_in(analyst, base_url, "analyst", "/calendar")
    expect(analyst.locator("#cal-title")).not_to_be_empty(timeout=15_000)
    expect(analyst.locator("#cal-sample-run")).to_have_count(0)  # analysts run no backtests
    assert analyst.goto(base_url + "/backtest").status == 403
