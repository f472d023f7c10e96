"""The reports package's public surface: a user's account report as PDF (the calendar's month, week
or year: calendar grids, equity curve, drawdown, statistics, by-symbol and by-setup tables), and the
calendar's trades and daily-P&L exports as CSV or xlsx (one table, two writers). Callers pass the
user whose report it is: the pages pass the signed-in user."""

from __future__ import annotations

from datetime import date

from engine.portfolio import api as portfolio
from engine.reports.content import ReportData, ReportError, gather
from engine.reports.pdf import STEPS, Progress, render
from engine.reports.xlsx import workbook
from engine.runtime import Runtime

FORMATS = ("csv", "xlsx")
KINDS = ("trades", "daily")
PDF_TYPE = "application/pdf"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_file(
    runtime: Runtime,
    user_id: int,
    tz: str,
    view: str,
    anchor: date,
    kind: str,
    fmt: str,
    today: date | None = None,
    account_id: int | None = None,
) -> tuple[str, bytes]:
    """(file name, content) of the view's trades or daily P&L as CSV or xlsx: the same rows (of the
    accounts the calendar counts: live and paper, or `account_id` alone)."""
    if fmt not in FORMATS:
        raise ValueError(f"export as {' or '.join(FORMATS)}, not {fmt!r}")
    stem, table = portfolio.export_table(runtime, user_id, tz, view, anchor, kind, today, account_id)
    if fmt == "xlsx":
        return f"{stem}.xlsx", workbook(table)
    return f"{stem}.csv", portfolio.csv_text(table).encode()


def report_file(
    runtime: Runtime,
    user_id: int,
    view: str,
    anchor: date,
    today: date | None = None,
    progress: Progress | None = None,
    account_id: int | None = None,
) -> tuple[str, bytes]:
    """(file name, PDF) of the user's report of the view around `anchor`: their live and paper
    accounts, or `account_id` alone (AccountAccessError when it is not theirs)."""
    if progress:
        progress(0, STEPS)
    data = gather(runtime, user_id, view, anchor, today, account_id)
    if progress:
        progress(1, STEPS)
    return f"tradeblock-report-{data.first.isoformat()}-{data.last.isoformat()}.pdf", render(data, progress)


__all__ = [
    "FORMATS",
    "KINDS",
    "PDF_TYPE",
    "XLSX_TYPE",
    "Progress",
    "ReportData",
    "ReportError",
    "export_file",
    "gather",
    "render",
    "report_file",
]
