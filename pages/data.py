"""Data (every signed-in user): what the store holds, series by series (dash-ag-grid: exchange,
symbol, levels, first and last candle, rows, missing candles, exchange holes, backfill, latest
job), and for the selected series its levels, gaps and holes, a download of a range as CSV,
Parquet or xlsx, and (traders and admins) gap repair and backfill as background jobs whose
progress the page polls, and an import of a candle file (pages/components/data_import).

Market data is shared, so reading it needs only a signed-in user; starting a job is checked on the
server with `require_role(*TRADERS)`. The series id comes from the browser: engine.market.api
checks it exists.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Input, Output, Patch, State, callback, ctx, dcc, html, no_update

from engine.common.precision import plural
from engine.market import api as market
from pages.components import data as dc
from pages.components import data_import
from web.auth import READERS, TRADERS, current_runtime, current_view, has_role, require_role

dash.register_page(__name__, path="/data", title="Data · Tradeblock", name="Data", roles=READERS, order=4, nav=True)

data_import.CALLBACKS.register()

GRID, POLL, VERSION = "dt-grid", "dt-poll", "dt-version"
POLL_MS = 1_000


def _actions(trader: bool) -> html.Div:
    """Repair and backfill; shown disabled to analysts (the server refuses them anyway)."""
    note = [] if trader else [html.P("Repairs and backfills are for traders.", className="small text-body-secondary")]
    controls = html.Div(
        [
            dbc.Button("Repair gaps", id="dt-repair", size="sm", color="primary", n_clicks=0, disabled=not trader),
            html.Span("Backfill from", className="small ms-2"),
            dcc.DatePickerSingle(
                id="dt-backfill-day",
                display_format="YYYY-MM-DD",
                first_day_of_week=1,
                disabled=not trader,
                style={"width": "10rem"},
            ),
            dbc.Button("Backfill", id="dt-backfill", size="sm", color="secondary", n_clicks=0, disabled=not trader),
        ],
        className="d-flex align-items-center gap-2 mb-2 flex-wrap",
    )
    return html.Div([*note, controls])


def _download() -> html.Div:
    return html.Div(
        [
            html.H3("Download", className="h6 mt-3"),
            html.Div(
                [
                    dbc.Select(id="dt-level", options=[], size="sm", style={"width": "6rem"}),
                    dcc.DatePickerRange(
                        id="dt-range",
                        clearable=True,
                        display_format="YYYY-MM-DD",
                        first_day_of_week=1,
                        style={"width": "17rem"},
                    ),
                    dbc.Select(
                        id="dt-format", options=dc.format_options(), value=".csv", size="sm", style={"width": "9rem"}
                    ),
                    dbc.Button("Download", id="dt-download-button", size="sm", color="primary", n_clicks=0),
                ],
                className="d-flex align-items-center gap-2 flex-wrap",
            ),
            html.Div(id="dt-download-message", className="mt-2"),
            dcc.Download(id="dt-download"),
        ]
    )


def _detail(trader: bool) -> dbc.Card:
    jobs = html.Div(
        [
            html.H3("Repair and backfill", className="h6"),
            _actions(trader),
            dbc.Progress(id="dt-progress", value=0, label="", class_name="mb-2 d-none"),
            html.Div(id="dt-job-message"),
            html.Div(id="dt-job", className="small text-body-secondary"),
        ]
    )
    return dbc.Card(
        [
            dbc.CardHeader(html.Span("Select a series.", id="dt-title")),
            dbc.CardBody(
                dbc.Row(
                    [
                        dbc.Col([html.Div(id="dt-levels-box"), html.Div(id="dt-gaps-box")], lg=7),
                        dbc.Col([jobs, _download()], lg=5),
                    ],
                    class_name="g-4",
                )
            ),
        ],
        id="dt-card",
        class_name="d-none",
    )


def layout(**_query: Any) -> html.Div:
    tz = current_view().timezone
    return html.Div(
        [
            dcc.Store(id=VERSION, data=0),
            dcc.Interval(id=POLL, interval=POLL_MS, disabled=True),
            html.Div(
                [
                    html.H1("Data", className="h4 mb-0"),
                    html.Span(id="dt-summary", className="small"),
                    dbc.Input(
                        id="dt-filter",
                        placeholder="Filter (e.g. BTC)",
                        size="sm",
                        debounce=0.3,
                        style={"width": "14rem"},
                        class_name="ms-auto",
                    ),
                ],
                className="d-flex align-items-center gap-3 mb-2",
            ),
            dag.AgGrid(
                id=GRID,
                columnDefs=dc.columns(tz),
                rowData=[],
                getRowId="params.data.row_id",
                dashGridOptions={
                    "rowSelection": {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True},
                    "animateRows": False,
                    "quickFilterText": "",
                },
                defaultColDef={"sortable": True, "resizable": True},
                style={"height": "40vh"},
            ),
            html.Div(_detail(has_role(*TRADERS)), className="mt-3"),
            *([data_import.import_card()] if has_role(*TRADERS) else []),
        ]
    )


@callback(Output(GRID, "rowData"), Output("dt-summary", "children"), Input(VERSION, "data"))
@require_role(*READERS)
def inventory(_version: Any) -> tuple[list[dict[str, Any]], str]:
    entries = market.data_inventory(current_runtime())
    tz = current_view().timezone
    return [dc.grid_row(entry, tz) for entry in entries], dc.summary(entries)


@callback(Output(GRID, "dashGridOptions"), Input("dt-filter", "value"), prevent_initial_call=True)
@require_role(*READERS)
def quick_filter(value: Any) -> Patch:
    """AG Grid's quick filter: rows with the text in any column (the grid filters in the browser)."""
    options = Patch()
    options["quickFilterText"] = value if isinstance(value, str) else ""
    return options


def _series_id(rows: Any) -> int | None:
    row = (rows or [None])[0] if isinstance(rows, list) else None
    value = row.get("series_id") if isinstance(row, dict) else None
    return value if isinstance(value, int) else None


@callback(
    Output("dt-card", "class_name"),
    Output("dt-title", "children"),
    Output("dt-levels-box", "children"),
    Output("dt-gaps-box", "children"),
    Output("dt-progress", "value"),
    Output("dt-progress", "label"),
    Output("dt-progress", "color"),
    Output("dt-progress", "class_name"),
    Output("dt-job", "children"),
    Output(POLL, "disabled"),
    Output(VERSION, "data"),
    Output("dt-job-message", "children", allow_duplicate=True),
    Input(GRID, "selectedRows"),
    Input(POLL, "n_intervals"),
    State(VERSION, "data"),
    # Not on load: its no_update of VERSION would hold back the grid's first read (Dash waits for it).
    prevent_initial_call=True,
)
@require_role(*READERS)
def detail(rows: Any, _tick: Any, version: Any) -> tuple[Any, ...]:
    sid = _series_id(rows)
    found = market.data_detail(current_runtime(), sid) if sid is not None else None
    if found is None:
        return "d-none", "Select a series.", None, None, 0, "", "info", "mb-2 d-none", None, True, no_update, None
    tz = current_view().timezone
    entry = found.series
    percent, label, colour, hidden = dc.progress(entry.job)
    running = entry.job is not None and entry.job.status == "running"
    # The poll saw its job end: the grid's row (rows, missing, latest job) is read again.
    finished = ctx.triggered_id == POLL and not running
    bump = (version if isinstance(version, int) else 0) + 1 if finished else no_update
    # "The repair is running." goes when it has ended, or when another series is chosen.
    said = None if finished or ctx.triggered_id == GRID else no_update
    return (
        "",
        dc.series_name(entry),
        dc.levels_table(entry, tz),
        dc.gaps_list(found, tz),
        percent,
        label,
        colour,
        "mb-2" + (" d-none" if hidden else ""),
        dc.job_text(entry.job, tz),
        not running,
        bump,
        said,
    )


@callback(
    Output("dt-level", "options"),
    Output("dt-level", "value"),
    Output("dt-download-message", "children", allow_duplicate=True),
    Output("dt-backfill-day", "date"),
    Input(GRID, "selectedRows"),
    prevent_initial_call=True,
)
@require_role(*READERS)
def forms_for(rows: Any) -> tuple[Any, ...]:
    """The download's levels and the backfill's first day follow the selected series."""
    sid = _series_id(rows)
    runtime = current_runtime()
    found = market.data_detail(runtime, sid) if sid is not None else None
    if found is None:
        return [], None, None, None
    entry, tz = found.series, current_view().timezone
    first_day = dc.backfill_default(entry, tz, runtime.settings.backfill_days)
    return dc.level_options(entry), entry.timeframe, None, first_day


def _alert(text: str, colour: str, ident: str) -> dbc.Alert:
    return dbc.Alert(text, color=colour, class_name="py-2 small", id=ident)


@callback(
    Output("dt-job-message", "children"),
    Output(POLL, "disabled", allow_duplicate=True),
    Input("dt-repair", "n_clicks"),
    Input("dt-backfill", "n_clicks"),
    State(GRID, "selectedRows"),
    State("dt-backfill-day", "date"),
    prevent_initial_call=True,
)
@require_role(*TRADERS)
def start_job(repair: Any, backfill: Any, rows: Any, day: Any) -> tuple[Any, Any]:
    if not (repair or backfill):
        return no_update, no_update
    sid = _series_id(rows)
    if sid is None:
        return _alert("Select a series first.", "info", "dt-job-refused"), no_update
    kind = "repair" if ctx.triggered_id == "dt-repair" else "backfill"
    user = current_view()
    try:
        start = dc.backfill_start(day, user.timezone) if kind == "backfill" else None
        market.start_data_job(current_runtime(), user.id, sid, kind, start)
    except ValueError as refused:  # DataJobError too: unknown series, or one already running
        return _alert(str(refused), "warning", "dt-job-refused"), no_update
    return _alert(f"The {kind} is running.", "success", "dt-job-started"), False


@callback(
    Output("dt-download", "data"),
    Output("dt-download-message", "children"),
    Input("dt-download-button", "n_clicks"),
    State(GRID, "selectedRows"),
    State("dt-level", "value"),
    State("dt-format", "value"),
    State("dt-range", "start_date"),
    State("dt-range", "end_date"),
    prevent_initial_call=True,
)
@require_role(*READERS)
def download(clicks: Any, rows: Any, level: Any, suffix: Any, first: Any, last: Any) -> tuple[Any, Any]:
    if not clicks:
        return no_update, no_update
    sid = _series_id(rows)
    if sid is None:
        return no_update, _alert("Select a series first.", "info", "dt-download-refused")
    try:
        ask = dc.download_ask(level, suffix, first, last, current_view().timezone)
        file = market.download(current_runtime(), sid, ask.timeframe, ask.suffix, ask.start_ms, ask.end_ms)
    except ValueError as refused:  # ExportTooLargeError too
        return no_update, _alert(str(refused), "warning", "dt-download-refused")
    said = f"{file.filename}: {plural(file.rows, 'candle')}."
    return dcc.send_bytes(file.content, file.filename), _alert(said, "success", "dt-download-done")
