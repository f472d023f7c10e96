"""The calendar's downloads, shared by the calendar page (the user's own) and the admins' P&L
overview (the chosen user's): the buttons and their dcc.Download targets (ids prefixed, so each
page has its own), and the files they send: the period's trades or daily P&L as CSV or xlsx, and
its account report as PDF.

Whose figures a file holds is the caller's choice, made on the server: the calendar passes the
signed-in user, the admin page the user it checked.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Output, dcc, html

from engine.portfolio import api as portfolio
from engine.reports import api as reports
from engine.users.api import UserView
from pages.components.calendar_page import parse_day, today_for
from web.auth import current_runtime

# (id suffix, label, kind, format) of the export buttons.
EXPORTS = (
    ("export-trades", "Trades CSV", "trades", "csv"),
    ("export-trades-xlsx", "Trades xlsx", "trades", "xlsx"),
    ("export-daily", "Daily P&L CSV", "daily", "csv"),
    ("export-daily-xlsx", "Daily P&L xlsx", "daily", "xlsx"),
)


def targets(prefix: str) -> list[dcc.Download]:
    """The page's download targets: CSV, xlsx and the PDF report."""
    return [dcc.Download(id=f"{prefix}-download{suffix}") for suffix in ("", "-xlsx", "-report")]


def download_buttons(prefix: str) -> html.Div:
    """The view's trades and daily P&L as CSV or xlsx, and its account report as PDF."""
    report = dbc.Button(
        ["Report (PDF)", html.Span(id=f"{prefix}-report-spinner", className="d-none", role="status")],
        id=f"{prefix}-report",
        size="sm",
        color="primary",
        n_clicks=0,
    )
    buttons = [
        dbc.Button(label, id=f"{prefix}-{suffix}", size="sm", color="secondary", outline=True, n_clicks=0,
                   class_name="me-2")
        for suffix, label, _kind, _fmt in EXPORTS
    ]  # fmt: skip
    return html.Div([*buttons, report], className="d-flex flex-wrap gap-1", id=f"{prefix}-downloads")


def report_running(prefix: str) -> list[tuple[Output, Any, Any]]:
    """While the report renders (a second or two): its button disabled, its spinner shown."""
    return [
        (Output(f"{prefix}-report", "disabled"), True, False),
        (Output(f"{prefix}-report-spinner", "className"), "spinner-border spinner-border-sm ms-1", "d-none"),
    ]


def _export(trigger: Any, prefix: str) -> tuple[str, str] | None:
    return next(((kind, fmt) for suffix, _l, kind, fmt in EXPORTS if trigger == f"{prefix}-{suffix}"), None)


def export_file(
    user: UserView, trigger: Any, prefix: str, anchor: Any, view: Any, account_id: int | None = None
) -> Any:
    """The export the pressed button asks for, of `user`'s shown period (their live and paper
    accounts, or `account_id` alone: AccountAccessError when not theirs), as a download (None for
    a trigger that is no export button)."""
    chosen = _export(trigger, prefix)
    if chosen is None:
        return None
    kind, fmt = chosen
    today = today_for(user.timezone)
    day, runtime = parse_day(anchor) or today, current_runtime()
    if fmt == "csv":
        name, text = portfolio.export(runtime, user.id, user.timezone, str(view), day, kind, today, account_id)
        return dcc.send_string(text, name)
    name, content = reports.export_file(
        runtime, user.id, user.timezone, str(view), day, kind, "xlsx", today, account_id=account_id
    )
    return dcc.send_bytes(content, name, type=reports.XLSX_TYPE)


def report_file(user: UserView, anchor: Any, view: Any, account_id: int | None = None) -> Any:
    """`user`'s account report of the shown period (of `account_id` alone, when given) as a PDF download."""
    today = today_for(user.timezone)
    day = parse_day(anchor) or today
    name, pdf = reports.report_file(current_runtime(), user.id, str(view), day, today, account_id=account_id)
    return dcc.send_bytes(pdf, name, type=reports.PDF_TYPE)
