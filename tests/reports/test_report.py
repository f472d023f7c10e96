"""The account report and the exports, read back: the PDF's pages and text (pypdfium2), its numbers
against the calendar page's statistics and group_stats, a clear report for a period without trades,
the xlsx equal to the CSV cell for cell, and the command line."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pypdfium2
import pytest
from click.testing import CliRunner

from engine.cli import cli
from engine.config import Settings
from engine.portfolio import api as portfolio
from engine.reports import api as reports
from engine.reports.document import money, ratio, share
from engine.runtime import Runtime
from tests.helpers.browser import screenshots_dir
from tests.reports.conftest import YEAR

TODAY = date(YEAR + 1, 1, 10)


def pdf_pages(pdf: bytes) -> list[str]:
    """The text of each page."""
    doc = pypdfium2.PdfDocument(pdf)
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


def flat(text: str) -> str:
    return " ".join(text.split())


def test_the_year_report_has_its_pages_and_the_calendars_numbers(runtime: Runtime, trader: int) -> None:
    name, pdf = reports.report_file(runtime, trader, "year", date(YEAR, 1, 1), TODAY)
    assert name == f"tradeblock-report-{YEAR}-01-01-{YEAR}-12-31.pdf"
    assert pdf.startswith(b"%PDF")
    pages = [flat(p) for p in pdf_pages(pdf)]
    assert len(pages) == 4  # title + charts, two pages of months, statistics + tables
    title, months_1, months_2, tables = pages
    for text in (f"Account report · {YEAR}", "rita", "paper · demo (paper)", "USDT", "Europe/Berlin",
                 f"1 Jan {YEAR} – 31 Dec {YEAR}", "Equity curve", "Drawdown", "Page 1 of 4"):  # fmt: skip
        assert text in title, text
    assert months_1.startswith(f"Calendar January {YEAR}")
    assert f"December {YEAR}" in months_2

    # The calendar page's own statistics, as the page computes them for the same view.
    tz = "Europe/Berlin"
    page = portfolio.calendar_page(runtime, trader, tz, "year", date(YEAR, 1, 1), "money", TODAY)
    s = page.stats
    assert s.trades == 244
    assert f"NET P&L {money(s.net_pnl)} TRADES {s.trades} WIN RATE {share(s.win_rate)}" in title
    for label, shown in [("Net P&L", money(s.net_pnl)), ("Win rate", share(s.win_rate)),
                         ("Profit factor", ratio(s.profit_factor)), ("Expectancy", money(s.expectancy)),
                         ("Sharpe", ratio(s.sharpe)), ("Sortino", ratio(s.sortino)),
                         ("Largest loss", money(s.largest_loss)), ("Fees", money(s.fees, sign=False)),
                         ("Funding", money(s.funding))]:  # fmt: skip
        assert f"{label} {shown}" in tables, label
    for month in page.months or []:
        assert f"{month.title} {money(month.pnl)} · {month.trades} trades" in (months_1 + months_2)
    for by in ("symbol", "setup"):
        for g in portfolio.group_stats(runtime, trader, date(YEAR, 1, 1), date(YEAR, 12, 31), tz, by):
            assert f"{g.key} {g.trades} {g.wins} / {g.losses} {share(g.win_rate)} {money(g.pnl)}" in tables
    assert tables.index("breakout") < tables.index("(no setup)") < tables.index("pullback")  # by P&L
    save_pages(pdf, "report-page")


def save_pages(pdf: bytes, stem: str) -> None:
    """The PDF's pages as STEM-1.png, STEM-2.png... when screenshots are asked for."""
    folder = screenshots_dir()
    if folder is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    doc = pypdfium2.PdfDocument(pdf)
    try:
        for i in range(len(doc)):
            doc[i].render(scale=1.5).to_pil().save(folder / f"{stem}-{i + 1}.png")
    finally:
        doc.close()


def test_a_month_report_and_a_period_without_trades(runtime: Runtime, trader: int, newcomer: int) -> None:
    _, pdf = reports.report_file(runtime, trader, "month", date(YEAR, 3, 1), TODAY)
    pages = [flat(p) for p in pdf_pages(pdf)]
    assert f"Account report · March {YEAR}" in pages[0]
    assert "Week" in pages[1]  # the big grid: week totals
    assert "2 trades" in pages[1]

    for uid, anchor in ((newcomer, date(YEAR, 3, 1)), (trader, date(YEAR - 3, 1, 1))):
        _, empty = reports.report_file(runtime, uid, "year" if uid == trader else "month", anchor, TODAY)
        (only,) = [flat(p) for p in pdf_pages(empty)]
        assert "No trade closed between" in only
        assert "Statistics" not in only


def test_a_report_of_an_unknown_user_is_refused(runtime: Runtime) -> None:
    with pytest.raises(reports.ReportError):
        reports.report_file(runtime, 999_999, "month", date(YEAR, 3, 1), TODAY)


def cell_text(value: object) -> str:
    """An xlsx cell as the CSV writes it."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value)


@pytest.mark.parametrize("kind", ["trades", "daily"])
def test_the_xlsx_export_carries_the_csvs_rows_and_columns(runtime: Runtime, trader: int, kind: str) -> None:
    args = (runtime, trader, "Europe/Berlin", "month", date(YEAR, 3, 1), kind)
    csv_name, csv_bytes = reports.export_file(*args, "csv", TODAY)
    xlsx_name, xlsx_bytes = reports.export_file(*args, "xlsx", TODAY)
    assert (csv_name[:-4], csv_name[-4:], xlsx_name[-5:]) == (xlsx_name[:-5], ".csv", ".xlsx")
    rows = list(csv.reader(io.StringIO(csv_bytes.decode())))
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_bytes)).active
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert len(rows) == len(cells) > 10
    assert cells[0] == rows[0]
    for got, want in zip(cells[1:], rows[1:], strict=True):
        assert isinstance(got[0], datetime)  # a date, not text
        for value, text in zip(got, want, strict=True):
            if isinstance(value, float | int) and text:
                assert Decimal(str(value)) == Decimal(text)  # a number, equal to the CSV's
            else:
                assert cell_text(value) == text
    formats = {c.column_letter: c.number_format for c in sheet[2]}
    money_col = "J" if kind == "trades" else "B"
    assert formats[money_col] == "#,##0.00"
    with pytest.raises(ValueError, match="export as csv or xlsx"):
        reports.export_file(*args, "pdf", TODAY)


@pytest.fixture
def run(runtime: Runtime, test_settings: Settings, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", test_settings.database_url)
    monkeypatch.setenv("TRADEBLOCK_INSTANCE_DIR", str(test_settings.instance_dir))
    runner = CliRunner()

    def invoke(*args: str, code: int = 0) -> str:
        result = runner.invoke(cli, list(args), catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result.output

    return invoke


def test_the_cli_writes_the_report_and_the_exports(run, trader: int, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "report.pdf"
    printed = run("report", "--user", "rita", "--year", str(YEAR), "--month", "3", "--out", str(out))
    assert f"report written to {out}" in printed
    assert "3/3" in printed  # the progress bar's last step
    assert f"Account report · March {YEAR}" in flat(pdf_pages(out.read_bytes())[0])

    xlsx, text = tmp_path / "trades.xlsx", tmp_path / "daily.csv"
    run("export", "--user", "rita", "--year", str(YEAR), "--month", "3", "--out", str(xlsx))
    run("export", "--user", "rita", "--year", str(YEAR), "--kind", "daily", "--format", "csv", "--out", str(text))
    sheet = openpyxl.load_workbook(xlsx).active
    assert (sheet.title, sheet.max_row) == ("trades", 21)  # the header and March's 20 trades
    lines = text.read_text().splitlines()
    assert len(lines) == 366  # the header and 365 days
    assert lines[0].startswith("day,pnl,pct_of_start_equity")

    assert "--user needs --year" in run("export", "--user", "rita", "--out", str(text), code=1)
    assert "give EXCHANGE SYMBOL TIMEFRAME, or --user" in run("export", "--out", str(text), code=1)
    assert "no user 'zed'" in run("report", "--user", "zed", "--year", "2025", "--out", str(out), code=1)
