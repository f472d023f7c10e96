"""Journal (traders and admins): the signed-in user's trades open and closed (dash-ag-grid, paged on
the server), filtered by status, symbol, side, setup, tag, outcome and dates, replay and backtest
trades left out unless switched on (then marked with a "replay" badge); the cumulative profit
of the filtered closed trades; statistics by symbol, setup and tag; and, for the selected trade, its
block's journal (setup, tags, notes) in a small form and a link to the chart at that time.

Every callback reads the user from the server session; the block id of the form comes from the
browser, so engine.journal checks it is the user's (BlockAccessError otherwise, shown as a message).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from engine.blocks.api import BlockAccessError
from engine.journal import api as journal
from engine.journal.api import JournalRejected, TradeFilter
from engine.portfolio import api as portfolio
from pages.components import journal as jc
from pages.components.calendar_page import today_for
from pages.components.journal_stats import stats_table
from pages.components.layout import THEME_SWITCH
from web.auth import TRADERS, current_runtime, current_view, has_role, require_role

dash.register_page(
    __name__, path="/journal", title="Journal · Tradeblock", name="Journal", roles=TRADERS, order=3, nav=True
)

GRID, PAGE, VERSION = "jr-grid", "jr-page", "jr-version"
FIELDS = ("setup", "tags", "notes")


def _dropdown(ident: str, placeholder: str, options: list | None = None, width: int = 2) -> dbc.Col:
    return dbc.Col(
        dcc.Dropdown(id=ident, options=options or [], placeholder=placeholder, clearable=True), md=width, xl=width
    )


def _filters() -> dbc.Row:
    return dbc.Row(
        [
            dbc.Col(
                dbc.RadioItems(
                    id="jr-status",
                    options=[{"label": t, "value": t.lower()} for t in ("All", "Open", "Closed")],
                    value="all",
                    inline=True,
                ),
                width="auto",
                class_name="align-self-center",
            ),
            _dropdown("jr-symbol", "Symbol"),
            _dropdown("jr-side", "Side", [{"label": "Long", "value": "long"}, {"label": "Short", "value": "short"}], 1),
            _dropdown("jr-setup", "Setup"),
            _dropdown("jr-tag", "Tag"),
            _dropdown(
                "jr-outcome", "Outcome", [{"label": "Wins", "value": "win"}, {"label": "Losses", "value": "loss"}], 1
            ),
            dbc.Col(
                dcc.DatePickerRange(id="jr-dates", clearable=True, display_format="YYYY-MM-DD", first_day_of_week=1),
                width="auto",
            ),
            dbc.Col(
                dbc.Switch(id="jr-replay", label="Replays and backtests", value=False, class_name="mb-0 small"),
                width="auto",
                class_name="align-self-center",
            ),
        ],
        class_name="g-2 mb-2 align-items-center",
    )


def _field(name: str, label: str, control: Any) -> html.Div:
    return html.Div(
        [
            dbc.Label(label, html_for=f"jr-{name}-input", class_name="small mb-0"),
            control,
            dbc.FormFeedback(id=f"jr-{name}-feedback", type="invalid"),
        ],
        className="mb-2",
    )


def _form() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader(html.Span("Select a trade to keep its journal.", id="jr-form-title")),
            dbc.CardBody(
                [
                    _field("setup", "Setup", dbc.Input(id="jr-setup-input", maxLength=64, size="sm", disabled=True)),
                    _field(
                        "tags",
                        "Tags (comma separated)",
                        dbc.Input(id="jr-tags-input", size="sm", placeholder="e.g. breakout, news", disabled=True),
                    ),
                    _field("notes", "Notes", dbc.Textarea(id="jr-notes-input", rows=4, size="sm", disabled=True)),
                    html.Div(
                        [
                            dbc.Button("Save", id="jr-save", size="sm", color="primary", n_clicks=0, disabled=True),
                            html.A("Open on the chart", id="jr-chart-link", href="/", className="small d-none"),
                        ],
                        className="d-flex align-items-center gap-3",
                    ),
                    html.Div(id="jr-message", className="mt-2"),
                ]
            ),
        ],
        class_name="h-100",
    )


def layout(**_query: Any) -> html.Div:
    if not has_role(*TRADERS):
        return html.Div(dbc.Alert("The journal is for traders.", color="warning"), id="journal-denied")
    return html.Div(
        [
            dcc.Store(id=PAGE, data=0),
            dcc.Store(id=VERSION, data=0),
            dcc.Store(id="jr-block"),  # the selected trade's block id (checked again on the server)
            html.Div(
                [
                    html.H1("Journal", className="h4 mb-0"),
                    html.Span(id="jr-summary", className="small text-body-secondary"),
                ],
                className="d-flex align-items-baseline gap-3 mb-2",
            ),
            _filters(),
            dag.AgGrid(
                id=GRID,
                columnDefs=jc.COLUMNS,
                rowData=[],
                getRowId="params.data.row_id",
                dashGridOptions={
                    "rowSelection": {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True},
                    "animateRows": False,
                    "suppressColumnVirtualisation": True,  # every column rendered: 18 of them, 50 rows
                },
                defaultColDef={"sortable": False, "resizable": True},
                style={"height": "46vh"},
            ),
            html.Div(
                [
                    dbc.Button("‹ Newer", id="jr-prev", size="sm", color="secondary", outline=True, n_clicks=0),
                    dbc.Button("Older ›", id="jr-next", size="sm", color="secondary", outline=True, n_clicks=0),
                ],
                className="d-flex gap-2 my-2",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            html.H2("Cumulative profit", className="h6"),
                            dcc.Graph(id="jr-profit", config={"displayModeBar": False}),
                        ],
                        lg=8,
                    ),
                    dbc.Col(_form(), lg=4),
                ],
                class_name="g-3",
            ),
            dbc.Row(
                [
                    dbc.Col([html.H2("By symbol", className="h6 mt-3"), html.Div(id="jr-by-symbol")], lg=6),
                    dbc.Col([html.H2("By setup", className="h6 mt-3"), html.Div(id="jr-by-setup")], lg=6),
                    dbc.Col([html.H2("By tag", className="h6 mt-3"), html.Div(id="jr-by-tag")], lg=6),
                ]
            ),
        ]
    )


def _options(values: list[str]) -> list[dict[str, str]]:
    return [{"label": v, "value": v} for v in values]


def _stats_range(flt: TradeFilter, since: date | None, tz: str) -> tuple[date, date] | None:
    first = flt.first or since
    last = flt.last or today_for(tz)
    return (first, last) if first is not None and first <= last else None


@callback(
    Output(GRID, "rowData"),
    Output("jr-summary", "children"),
    Output(PAGE, "data"),
    Output("jr-symbol", "options"),
    Output("jr-setup", "options"),
    Output("jr-tag", "options"),
    Output("jr-profit", "figure"),
    Output("jr-by-symbol", "children"),
    Output("jr-by-setup", "children"),
    Output("jr-by-tag", "children"),
    Output("jr-prev", "disabled"),
    Output("jr-next", "disabled"),
    Input("jr-status", "value"),
    Input("jr-symbol", "value"),
    Input("jr-side", "value"),
    Input("jr-setup", "value"),
    Input("jr-tag", "value"),
    Input("jr-outcome", "value"),
    Input("jr-dates", "start_date"),
    Input("jr-dates", "end_date"),
    Input("jr-prev", "n_clicks"),
    Input("jr-next", "n_clicks"),
    Input(VERSION, "data"),
    Input(THEME_SWITCH, "value"),
    Input("jr-replay", "value"),
    State(PAGE, "data"),
)
@require_role(*TRADERS)
def render(
    status: Any, symbol: Any, side: Any, setup: Any, tag: Any, outcome: Any, first: Any, last: Any,
    _prev: Any, _next: Any, _version: Any, dark: bool | None, replay: Any, page: Any,
) -> tuple[Any, ...]:  # fmt: skip
    runtime, user = current_runtime(), current_view()
    flt = jc.parse_filter(status, symbol, side, setup, tag, outcome, first, last, replay)
    trigger = ctx.triggered_id
    keep = trigger in (VERSION, THEME_SWITCH)  # a save or a theme change stays on the page shown
    wanted = page if keep and isinstance(page, int) else jc.next_page(trigger, page)
    found = journal.trade_page(runtime, user.id, user.timezone, flt, wanted)
    now = datetime.now(UTC)
    rows = [jc.grid_row(t, now, user.timezone) for t in found.rows]
    points = journal.cumulative_profit(runtime, user.id, user.timezone, flt)
    span = _stats_range(flt, found.since, user.timezone)
    by = {
        key: portfolio.group_stats(runtime, user.id, *span, user.timezone, key) if span else []
        for key in ("symbol", "setup", "tag")
    }
    return (
        rows,
        jc.summary(found.total, found.page, found.pages),
        found.page,
        _options(found.symbols),
        _options(found.setups),
        _options(found.tags),
        jc.profit_figure(points, dark),
        stats_table(by["symbol"], "Symbol", "jr-symbol-stats"),
        stats_table(by["setup"], "Setup", "jr-setup-stats"),
        stats_table(by["tag"], "Tag", "jr-tag-stats"),
        found.page == 0,
        found.page >= found.pages - 1,
    )


def _selected(rows: list[dict] | None) -> dict | None:
    row = (rows or [None])[0]
    return row if isinstance(row, dict) else None


@callback(
    Output("jr-block", "data"),
    Output("jr-form-title", "children"),
    Output("jr-setup-input", "value"),
    Output("jr-tags-input", "value"),
    Output("jr-notes-input", "value"),
    Output("jr-chart-link", "href"),
    Output("jr-chart-link", "className"),
    Output("jr-setup-input", "disabled"),
    Output("jr-tags-input", "disabled"),
    Output("jr-notes-input", "disabled"),
    Output("jr-save", "disabled"),
    Output("jr-message", "children"),
    Input(GRID, "selectedRows"),
    prevent_initial_call=True,
)
@require_role(*TRADERS)
def select_trade(selected: list[dict] | None) -> tuple[Any, ...]:
    row = _selected(selected)
    closed = (
        None,
        "Select a trade to keep its journal.",
        "",
        "",
        "",
        "/",
        "small d-none",
        True,
        True,
        True,
        True,
        None,
    )
    if row is None:
        return closed
    try:
        fields = journal.journal_of(current_runtime(), current_view().id, row.get("block_id"))
    except BlockAccessError:
        return (*closed[:-1], dbc.Alert("That trade is not one of yours.", color="danger", class_name="py-2"))
    href = row.get("chart") if isinstance(row.get("chart"), str) and str(row.get("chart")).startswith("/?") else "/"
    title = f"Block #{fields.block_id} · {row.get('symbol', '')} {row.get('side', '')} {row.get('target', '')}"
    return (
        fields.block_id, title, fields.setup or "", ", ".join(fields.tags), fields.notes or "",
        href, "small", False, False, False, False, None,
    )  # fmt: skip


@callback(
    Output("jr-message", "children", allow_duplicate=True),
    Output(VERSION, "data"),
    *(Output(f"jr-{name}-input", "value", allow_duplicate=True) for name in FIELDS),
    *(Output(f"jr-{name}-input", "invalid") for name in FIELDS),
    *(Output(f"jr-{name}-feedback", "children") for name in FIELDS),
    Input("jr-save", "n_clicks"),
    State("jr-block", "data"),
    State("jr-setup-input", "value"),
    State("jr-tags-input", "value"),
    State("jr-notes-input", "value"),
    State(VERSION, "data"),
    prevent_initial_call=True,
)
@require_role(*TRADERS)
def save(clicks: Any, block_id: Any, setup: Any, tags: Any, notes: Any, version: Any) -> tuple[Any, ...]:
    keep = (no_update,) * len(FIELDS)
    if not clicks:
        return (no_update,) * (2 + 3 * len(FIELDS))
    clear = (False,) * len(FIELDS) + ("",) * len(FIELDS)
    if block_id is None:
        return dbc.Alert("Select a trade first.", color="info", class_name="py-2"), no_update, *keep, *clear
    try:
        saved = journal.save_journal(current_runtime(), current_view().id, block_id, setup, notes, tags)
    except BlockAccessError:
        alert = dbc.Alert("That block is not one of yours.", color="danger", class_name="py-2", id="jr-refused")
        return alert, no_update, *keep, *clear
    except JournalRejected as refused:
        said = {e.field: e.message for e in refused.errors}
        flags = tuple(name in said for name in FIELDS)
        return None, no_update, *keep, *flags, *(said.get(name, "") for name in FIELDS)
    text = f"Saved the journal of block #{saved.block_id}."
    alert = dbc.Alert(text, color="success", class_name="py-2", id="jr-saved")
    shown = (saved.setup or "", ", ".join(saved.tags), saved.notes or "")  # as stored: trimmed, lower-case tags
    return alert, (version if isinstance(version, int) else 0) + 1, *shown, *clear
