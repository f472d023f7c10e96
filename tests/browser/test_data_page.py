"""The data page in headless Chromium: a trader reads the inventory (a stored series with a gap),
opens the series' levels and gaps, repairs the gap and watches the job end and the grid follow,
backfills with the progress shown while it runs, and downloads the range as CSV; an analyst reads
the same page with the jobs disabled and no console error. TRADEBLOCK_SCREENSHOTS=1 saves it light
and dark (data-light.png / data-dark.png)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from db.enums import Role
from engine.market.rollups import ingest_candles
from engine.runtime import Runtime
from engine.users.directory import set_theme
from tests.helpers.browser import NewPage, shot, sign_in
from tests.helpers.candles import MIN, candles, new_series
from tests.helpers.dashboard import NOW, make_user

pytestmark = pytest.mark.browser
FEED_DELAY_S = 0.6  # each page of the demo exchange: the backfill (5 pages) runs for 3 s
ROW = "#dt-grid .ag-center-cols-container .ag-row"
STORED = 300


@pytest.fixture(scope="module")
def desk(fresh_database: Runtime) -> dict[str, int]:
    """A trader, an analyst, and BTC/USDT 1m: the 300 candles before NOW with 12 missing."""
    runtime = fresh_database
    ids = {name: make_user(runtime, name, role).id for name, role in
           (("trader", Role.TRADER), ("analyst", Role.ANALYST))}  # fmt: skip
    ids["series"] = new_series(runtime)
    start = NOW - NOW % MIN - STORED * MIN
    rows = [r for i, r in enumerate(candles(STORED, start=start)) if not 100 <= i < 112]
    with runtime.db.begin() as conn:
        ingest_candles(conn, ids["series"], "1m", rows)
    return ids


def cell(page: Page, column: str) -> str:
    return page.locator(f"{ROW} .ag-cell[col-id='{column}']").first.inner_text()


def open_series(page: Page) -> None:
    expect(page.locator(ROW)).to_have_count(1, timeout=15_000)
    page.locator(f"{ROW} .ag-cell[col-id='symbol']").click()
    expect(page.locator("#dt-title")).to_have_text("demo BTC/USDT 1m", timeout=10_000)


def test_a_trader_repairs_backfills_and_downloads(new_page: NewPage, base_url: str, desk: dict) -> None:
    page = new_page()
    sign_in(page, base_url, "trader", "/")
    page.click("#nav-data")
    open_series(page)
    assert cell(page, "missing") == "12"
    assert cell(page, "rows") == f"{STORED - 12}"
    expect(page.locator("#dt-summary")).to_have_text("1 series · 288 candles · 12 missing")
    expect(page.locator("#dt-gaps li")).to_have_count(1)
    expect(page.locator("#dt-gaps")).to_contain_text("(12 candles)")
    expect(page.locator("#dt-levels tbody tr").first).to_contain_text("1m")

    page.click("#dt-repair")
    expect(page.locator("#dt-job-started")).to_have_text("The repair is running.", timeout=15_000)
    expect(page.locator("#dt-job")).to_contain_text("repair done", timeout=15_000)
    expect(page.locator("#dt-job")).to_contain_text("12 candles filled")
    expect(page.locator("#dt-no-gaps")).to_be_visible()
    expect(page.locator(f"{ROW} .ag-cell[col-id='missing']")).to_have_text("0", timeout=10_000)  # the grid follows
    expect(page.locator("#dt-progress")).to_have_text("done")
    expect(page.locator("#dt-job-started")).to_have_count(0)  # "running" is not left behind
    shot(page, "data-light")

    with page.expect_download() as caught:
        page.click("#dt-download-button")
    body = caught.value.path().read_text()
    rows = list(csv.reader(io.StringIO(body)))
    assert len(rows) == STORED + 1  # the header and every candle, the repaired ones too
    assert caught.value.suggested_filename == "demo_BTC-USDT_1m.csv"
    expect(page.locator("#dt-download-done")).to_contain_text(f"{STORED} candles")

    # The backfill's first day defaults to the settings' days before the first candle.
    expect(page.locator("#dt-backfill-day")).not_to_have_value("")
    page.click("#dt-backfill")
    expect(page.locator("#dt-job")).to_contain_text("backfill running", timeout=10_000)
    expect(page.locator("#dt-progress")).to_be_visible()
    expect(page.locator("#dt-job")).to_contain_text("backfill done", timeout=60_000)
    # The grid is read again once the poll has seen the job end.
    expect(page.locator(f"{ROW} .ag-cell[col-id='rows']")).not_to_have_text(f"{STORED}", timeout=10_000)
    assert int(cell(page, "rows").replace(",", "")) > STORED


def test_an_analyst_reads_the_page_with_the_jobs_disabled(
    new_page: NewPage, base_url: str, desk: dict, fresh_database: Runtime
) -> None:
    set_theme(fresh_database, desk["analyst"], "dark")
    try:
        page = new_page(dark=True)
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        sign_in(page, base_url, "analyst", "/data")
        open_series(page)
        expect(page.locator("#dt-repair")).to_be_disabled()
        expect(page.locator("#dt-backfill")).to_be_disabled()
        expect(page.locator("#dt-card")).to_contain_text("Repairs and backfills are for traders.")
        expect(page.locator("#dt-import-card")).to_have_count(0)  # imports are for traders too
        page.fill("#dt-filter", "ETH")
        expect(page.locator(ROW)).to_have_count(0, timeout=5_000)  # the quick filter
        page.fill("#dt-filter", "")
        expect(page.locator(ROW)).to_have_count(1, timeout=5_000)
        assert page.evaluate("document.documentElement.getAttribute('data-ag-theme-mode')") == "dark"
        shot(page, "data-dark")
        assert errors == []
    finally:
        set_theme(fresh_database, desk["analyst"], "light")


def test_a_trader_imports_a_candle_file_and_the_grid_lists_it(
    new_page: NewPage, base_url: str, desk: dict, tmp_path: Path
) -> None:
    start = (NOW - NOW % MIN - 500 * MIN) // 1000  # TradingView's export: epoch seconds
    lines = ["time,open,high,low,close,Volume"]
    lines += [f"{start + 60 * i},{o},{h},{lo},{c},{v}" for i, (_ts, o, h, lo, c, v) in enumerate(candles(120))]
    lines.append(f"{start + 60 * 120 + 7},100,101,99,100,1")  # off the minute grid: rejected
    upload = tmp_path / "xrp-1m.csv"
    upload.write_text("\n".join(lines) + "\n")
    page = new_page()
    sign_in(page, base_url, "trader", "/data")
    expect(page.locator(ROW).first).to_be_visible(timeout=15_000)
    page.click("#dt-import")  # nothing chosen yet: said so, nothing written
    expect(page.locator("#dt-import-refused")).to_have_text("choose a file first", timeout=15_000)
    page.set_input_files("#dt-import-file input[type=file]", str(upload))
    expect(page.locator("#dt-import-filename")).to_have_text("xrp-1m.csv", timeout=15_000)
    page.fill("#dt-import-exchange", "mydata")
    page.fill("#dt-import-symbol", "xrp/usdt")
    page.click("#dt-import")
    expect(page.locator("#dt-import-done")).to_contain_text(
        "120 candles stored of 121 read; 1 rejected (off_grid 1)", timeout=20_000
    )
    imported = page.locator(f"{ROW}:has(.ag-cell[col-id='exchange']:text-is('mydata'))")
    expect(imported.locator(".ag-cell[col-id='rows']")).to_have_text("120", timeout=10_000)
    expect(imported.locator(".ag-cell[col-id='symbol']")).to_have_text("XRP/USDT")
