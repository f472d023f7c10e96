"""Backtests (traders and admins; analysts are refused the page and its callbacks): upload a CSV of
blocks, choose the exchange, timeframe, period and fill variant, run it as a Dash background job
with a progress bar and a Cancel button; the user's runs (delete with a confirmation); one run's
report or two runs side by side.

The run itself is engine.replay.api.run_backtest in a background job (web.background): the "Run
backtest" click is checked here on the server (role, file, fields; a file with bad rows is listed
line by line and no run is made), then the job gets a signed grant naming this user and the
checked ask, and does nothing without a valid one.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from engine.common.precision import format_money, plural
from engine.market import api as market
from engine.replay import api as replay
from pages.components import backtest as bc
from pages.components import backtest_report as br
from pages.components.layout import THEME_SWITCH
from web.auth import TRADERS, current_runtime, current_view, require_role
from web.background import callers_grant, cancel_check, cancel_job, issue_grant, job_grant

dash.register_page(
    __name__, path="/backtest", title="Backtests · Tradeblock", name="Backtests", roles=TRADERS, order=5, nav=True
)

GRANT, VERSION, RUNS = "bt-grant", "bt-version", "bt-runs"
ACTION = "backtest"


def _exchanges() -> list[str]:
    stored = sorted({entry.exchange for entry in market.data_inventory(current_runtime())})
    return stored or list(current_runtime().settings.exchanges)


def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            dcc.Store(id=GRANT),
            dcc.Store(id=VERSION, data=0),
            html.H1("Backtests", className="h4 mb-3"),
            bc.form(_exchanges()),
            html.Div(
                [
                    html.H2("Your runs", className="h6 mb-0"),
                    html.Span("Select one for its report, two to compare them.", className="small text-body-secondary"),
                    dbc.Button(
                        "Delete selected",
                        id="bt-delete",
                        size="sm",
                        color="danger",
                        outline=True,
                        n_clicks=0,
                        class_name="ms-auto",
                    ),
                ],
                className="d-flex align-items-center gap-3 mb-1",
            ),
            dcc.ConfirmDialog(id="bt-delete-confirm"),
            html.Div(id="bt-delete-message"),
            dag.AgGrid(
                id=RUNS,
                columnDefs=bc.RUN_COLUMNS,
                rowData=[],
                getRowId="params.data.row_id",
                dashGridOptions={
                    "rowSelection": {
                        "mode": "multiRow",
                        "checkboxes": True,
                        "headerCheckbox": False,
                        "enableClickSelection": True,
                    },
                    "animateRows": False,
                },
                defaultColDef={"sortable": True, "resizable": True},
                style={"height": "24vh"},
            ),
            html.Div(id="bt-detail", className="mt-3"),
        ]
    )


@callback(Output("bt-filename", "children"), Input("bt-file", "filename"), prevent_initial_call=True)
@require_role(*TRADERS)
def file_name(filename: Any) -> str:
    return filename if isinstance(filename, str) else ""


def _alert(text: str, colour: str, ident: str) -> dbc.Alert:
    return dbc.Alert(text, color=colour, class_name="py-2 small", id=ident)


@callback(
    Output("bt-message", "children"),
    Output(GRANT, "data"),
    Output("bt-slippage-error", "children"),
    Output("bt-cancel-message", "children", allow_duplicate=True),
    Input("bt-run", "n_clicks"),
    State("bt-file", "contents"),
    State("bt-file", "filename"),
    State("bt-exchange", "value"),
    State("bt-timeframe", "value"),
    State("bt-period", "start_date"),
    State("bt-period", "end_date"),
    State("bt-name", "value"),
    State("bt-trade-through", "value"),
    State("bt-slippage", "value"),
    prevent_initial_call=True,
)
@require_role(*TRADERS)
def ask_run(clicks: Any, contents: Any, filename: Any, *fields: Any) -> tuple[Any, ...]:
    """The click, checked here: file and fields; then the grant that starts the job (and the last
    run's "Canceling…" goes)."""
    if not clicks:
        return no_update, no_update, no_update, no_update
    said, grant, slippage = _checked_run(contents, filename, fields)
    return said, grant, slippage, ""


def _checked_run(contents: Any, filename: Any, fields: tuple[Any, ...]) -> tuple[Any, Any, Any]:
    ask, errors = bc.read_ask(*fields)
    if ask is None:
        shown = " ".join(v for k, v in errors.items() if k != "slippage")
        return (_alert(shown, "warning", "bt-refused") if shown else None), None, errors.get("slippage", "")
    try:
        data, name = bc.decode_upload(contents, filename)
    except ValueError as refused:
        return _alert(str(refused), "warning", "bt-refused"), None, ""
    rows, row_errors = replay.parse_block_rows(data, name)
    if row_errors:
        return bc.row_errors(row_errors), None, ""
    if not rows:
        return _alert("The file holds no blocks.", "warning", "bt-refused"), None, ""
    params = {**ask.as_params(), "file": bc.file_digest(data), "filename": name}
    said = _alert(f"Running {plural(len(rows), 'block')} of {name}…", "info", "bt-started")
    return said, issue_grant(current_view().id, ACTION, params), ""


@callback(
    Output("bt-message", "children", allow_duplicate=True),
    Output(VERSION, "data"),
    Input(GRANT, "data"),
    State("bt-file", "contents"),
    State(VERSION, "data"),
    background=True,
    interval=500,  # ms between the page's polls of the job: its progress and its end
    progress=[Output("bt-progress", "value"), Output("bt-progress", "label")],
    progress_default=[0, ""],
    running=[
        (Output("bt-run", "disabled"), True, False),
        (Output("bt-cancel", "disabled"), False, True),
        (Output("bt-progress", "class_name"), "mt-2", "mt-2 d-none"),
    ],
    prevent_initial_call=True,
)
def run_job(set_progress: Any, token: Any, contents: Any, version: Any) -> tuple[Any, Any]:
    """The job (no request, no signed-in user): runs only what a valid grant names."""
    grant = job_grant(token, ACTION, TRADERS)
    if grant is None:
        return _alert("This run was not authorized; nothing ran.", "danger", "bt-unauthorized"), no_update
    ask = bc.ask_from_params(grant.params)
    try:
        data, name = bc.decode_upload(contents, grant.params.get("filename"))
        if bc.file_digest(data) != grant.params.get("file"):
            raise ValueError("The file changed after the check: press Run backtest again.")
    except ValueError as refused:
        return _alert(str(refused), "warning", "bt-refused"), no_update
    rows, _errors = replay.parse_block_rows(data, name)  # checked in ask_run: the same bytes

    def progress(done: int, total: int) -> None:
        set_progress(bc.progress_label(done, total))

    try:
        run = replay.run_backtest(
            current_runtime(),
            grant.user_id,
            rows,
            ask.exchange,
            ask.timeframe,
            ask.start_ms,
            ask.end_ms,
            name=ask.name,
            variant=ask.variant(),
            progress=progress,
            cancelled=cancel_check(grant),
        )
    except replay.RunRejected as refused:
        return bc.row_errors(refused.errors), no_update
    bump = (version if isinstance(version, int) else 0) + 1
    outcome = (
        f"{run.name}: {run.status}, {plural(run.trades_closed, 'closed trade')}, net P&L {format_money(run.net_pnl)}."
    )
    colour = "success" if run.status == replay.RunStatus.DONE else "secondary"
    return _alert(outcome, colour, f"bt-{run.status}"), bump


@callback(
    Output("bt-cancel-message", "children"),
    Input("bt-cancel", "n_clicks"),
    State(GRANT, "data"),
    prevent_initial_call=True,
)
@require_role(*TRADERS)
def cancel(clicks: Any, token: Any) -> Any:
    """Ask the caller's own running job to stop (the run is kept, marked canceled)."""
    if not clicks:
        return no_update
    grant = callers_grant(token, ACTION)
    if grant is None:
        return "Nothing of yours is running."
    cancel_job(grant)
    return "Canceling…"


@callback(Output(RUNS, "rowData"), Input(VERSION, "data"))
@require_role(*TRADERS)
def runs(_version: Any) -> list[dict[str, Any]]:
    return [bc.run_row(run) for run in replay.backtest_runs(current_runtime(), current_view().id)]


def _run_ids(rows: Any) -> list[int]:
    found = [r.get("run_id") for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []
    return [i for i in found if isinstance(i, int)]


@callback(Output("bt-detail", "children"), Input(RUNS, "selectedRows"), Input(THEME_SWITCH, "value"))
@require_role(*TRADERS)
def detail(rows: Any, dark: Any) -> Any:
    ids = _run_ids(rows)
    if not ids:
        return html.P("Select a run for its report.", className="small text-body-secondary")
    if len(ids) > 2:
        return html.P("Select at most two runs to compare.", className="small text-body-secondary")
    runtime, me = current_runtime(), current_view().id
    try:
        reports = [replay.run_report(runtime, me, run_id) for run_id in ids]
    except replay.RunAccessError:
        return html.P("No such run.", className="small text-body-secondary")
    return br.report_view(reports[0], dark) if len(reports) == 1 else br.compare_view(reports[0], reports[1], dark)


@callback(
    Output("bt-delete-confirm", "displayed"),
    Output("bt-delete-confirm", "message"),
    Output("bt-delete-message", "children"),
    Input("bt-delete", "n_clicks"),
    State(RUNS, "selectedRows"),
    prevent_initial_call=True,
)
@require_role(*TRADERS)
def ask_delete(clicks: Any, rows: Any) -> tuple[Any, Any, Any]:
    ids = _run_ids(rows)
    if not clicks:
        return no_update, no_update, no_update
    if not ids:
        return False, "", _alert("Select the runs to delete first.", "info", "bt-delete-none")
    names = ", ".join(str(r.get("name")) for r in rows if isinstance(r, dict))
    return True, f"Delete {plural(len(ids), 'run')} ({names}) with their trades? This cannot be undone.", None


@callback(
    Output("bt-delete-message", "children", allow_duplicate=True),
    Output(VERSION, "data", allow_duplicate=True),
    Input("bt-delete-confirm", "submit_n_clicks"),
    State(RUNS, "selectedRows"),
    State(VERSION, "data"),
    prevent_initial_call=True,
)
@require_role(*TRADERS)
def delete(confirmed: Any, rows: Any, version: Any) -> tuple[Any, Any]:
    ids = _run_ids(rows)
    if not confirmed or not ids or ctx.triggered_id != "bt-delete-confirm":
        return no_update, no_update
    runtime, me = current_runtime(), current_view().id
    try:
        for run_id in ids:
            replay.delete_run(runtime, me, run_id)
    except replay.RunAccessError:
        return _alert("No such run.", "warning", "bt-delete-refused"), (version or 0) + 1
    bump = (version if isinstance(version, int) else 0) + 1
    return _alert(f"Deleted {plural(len(ids), 'run')}.", "success", "bt-deleted"), bump
