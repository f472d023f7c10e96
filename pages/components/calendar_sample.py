"""The empty calendar's "Run a sample backtest" (traders and admins with no runs and no trades this
year): engine.replay.api.sample_backtest over the demo history already stored, as a background job
with a progress bar; when it ends the page opens the run's account, `/calendar?account=<id>`.

Like every background job (web.background), the click is checked here on the server and the job
runs only with the signed grant it is handed. Registered by pages/calendar.py.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, dcc, html, no_update

from engine.portfolio import api as portfolio
from engine.replay import api as replay
from pages.components import backtest as bc
from pages.components.calendar_page import today_for
from pages.components.deferred import Deferred
from web.auth import READERS, TRADERS, current_runtime, current_view, has_role, require_role
from web.background import cancel_check, issue_grant, job_grant

CALLBACKS = Deferred()  # registered by pages/calendar.py
GRANT, BOX, GO = "cal-sample-grant", "cal-sample", "cal-sample-go"
ACTION = "sample-backtest"


def sample_box() -> html.Div:
    """Where the button appears when the calendar is empty (filled by `show_sample`)."""
    return html.Div([dcc.Store(id=GRANT), dcc.Location(id=GO, refresh=True), html.Div(id=BOX)])


def sample_card() -> dbc.Alert:
    return dbc.Alert(
        [
            html.Div("Nothing traded yet. See the desk with content in a minute:", className="mb-2"),
            dbc.Button("Run a sample backtest", id="cal-sample-run", color="primary", size="sm", n_clicks=0),
            html.Span(
                " a few demo blocks on the stored demo history, on a replay account of your own.", className="small"
            ),
            dbc.Progress(id="cal-sample-progress", value=0, label="", class_name="mt-2 d-none"),
            html.Div(id="cal-sample-message", className="small mt-1"),
        ],
        color="info",
        class_name="py-2",
        id="cal-sample-card",
    )


def is_empty(runtime: Any, user_id: int, tz: str) -> bool:
    """No run of the user's and no trade booked in this year's calendar."""
    if replay.backtest_runs(runtime, user_id):
        return False
    today = today_for(tz)
    return portfolio.calendar_page(runtime, user_id, tz, "year", today, "money", today).stats.trades == 0


@CALLBACKS.callback(Output(BOX, "children"), Input("cal-anchor", "data"))
@require_role(*READERS)
def show_sample(_anchor: Any) -> Any:
    if not has_role(*TRADERS):
        return None
    me = current_view()
    return sample_card() if is_empty(current_runtime(), me.id, me.timezone) else None


@CALLBACKS.callback(
    Output(GRANT, "data"),
    Output("cal-sample-message", "children"),
    Input("cal-sample-run", "n_clicks"),
    prevent_initial_call=True,
)
@require_role(*TRADERS)
def ask_sample(clicks: Any) -> tuple[Any, Any]:
    if not clicks:
        return no_update, no_update
    return issue_grant(current_view().id, ACTION, {}), "Running the sample backtest…"


@CALLBACKS.callback(
    Output(GO, "href"),
    Output("cal-sample-message", "children", allow_duplicate=True),
    Input(GRANT, "data"),
    background=True,
    interval=500,  # ms between the page's polls of the job: its progress and its end
    progress=[Output("cal-sample-progress", "value"), Output("cal-sample-progress", "label")],
    progress_default=[0, ""],
    running=[
        (Output("cal-sample-run", "disabled"), True, False),
        (Output("cal-sample-progress", "class_name"), "mt-2", "mt-2 d-none"),
    ],
    prevent_initial_call=True,
)
def sample_job(set_progress: Any, token: Any) -> tuple[Any, Any]:
    """The job: runs only for a valid grant; ends by opening the run's account in the calendar."""
    grant = job_grant(token, ACTION, TRADERS)
    if grant is None:
        return no_update, "This run was not authorized; nothing ran."

    def progress(done: int, total: int) -> None:
        set_progress(bc.progress_label(done, total))

    try:
        run = replay.sample_backtest(current_runtime(), grant.user_id, progress=progress, cancelled=cancel_check(grant))
    except replay.RunRejected as refused:  # no demo history stored yet, for one
        return no_update, f"The sample cannot run: {refused}"
    # The month holding the middle of the sample's days: "today" may be the 1st of a month.
    middle = portfolio.day_of((run.start_ms + run.end_ms) // 2, "UTC").isoformat()
    return f"/calendar?account={run.account_id}&anchor={middle}", f"Done: {run.trades_closed:,} trades."
