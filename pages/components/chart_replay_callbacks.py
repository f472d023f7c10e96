"""Callbacks of the chart's bar replay (pages/components/chart_replay.py), traders and admins only:
open the bar, start a replay of the chart's series at a chosen moment, play/pause and the speed,
step (a button or the timer: the new bars are appended to the figure as a dash.Patch, as live
updates are), and exit (the run ends, its account and trades stay, the chart is live again).

Every callback reads the user from the session and the run with get_run for that user.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from dash import Input, Output, State, ctx, html, no_update

from engine.market import api as market
from engine.replay import api as replay
from engine.replay.api import RunAccessError, RunRejected, RunSummary
from engine.users.api import account_choices
from pages.components import block_form, chart_view, figures
from pages.components import chart_replay as cr
from pages.components.deferred import Deferred
from pages.components.triggers import clicked
from web.auth import TRADERS, current_runtime, current_view, require_role

# Registered by pages/chart.py, once per app (see pages/components/deferred.py).
CALLBACKS = Deferred()
DEFAULT_BACK_MS = 86_400_000  # the picker starts a day before the newest stored candle


def _tz() -> str:
    return chart_view.zone(current_view().timezone)


def _controls(run: RunSummary | None) -> tuple[bool, bool, bool, bool]:
    """(Start, Play, Step, Exit) disabled: Start while a replay plays, Play and Step once it is at its
    end, Exit while none is shown."""
    playing = run is not None and run.status in cr.ACTIVE
    playable = playing and run is not None and run.cursor_ms < run.end_ms
    return playing, not playable, not playable, run is None


@CALLBACKS.callback(
    Output(cr.BAR, "is_open"),
    Output(cr.DAY, "date"),
    Output(cr.AT, "value"),
    Output(cr.DAY, "min_date_allowed"),
    Output(cr.DAY, "max_date_allowed"),
    Input(cr.OPEN, "n_clicks"),
    State(cr.BAR, "is_open"),
    State("chart-view", "data"),
    State(cr.DAY, "date"),
    prevent_initial_call=True,
)
@require_role(*TRADERS)
def open_bar(clicks: int | None, is_open: bool | None, view: dict | None, day: str | None) -> tuple[Any, ...]:
    """Show or hide the bar; the picker offers the stored history, a day before its end at first."""
    if not clicks:
        return (no_update,) * 5
    try:
        stored = market.stored_window(current_runtime(), current_view().id, (view or {}).get("series_id"))
    except market.NotWatchedError:
        stored = None
    if stored is None:
        return not is_open, no_update, no_update, None, None
    tz = _tz()
    first, last = cr.local_parts(stored.start_ms, tz)[0], cr.local_parts(stored.end_ms, tz)[0]
    if day:
        return not is_open, no_update, no_update, first, last
    start_day, start_at = cr.local_parts(max(stored.start_ms, stored.end_ms - DEFAULT_BACK_MS), tz)
    return not is_open, start_day, start_at, first, last


STATUS = [
    Output(cr.CLOCK, "children"),
    Output(cr.PNL, "children"),
    Output(cr.START, "disabled"),
    Output(cr.PLAY, "disabled"),
    Output(cr.STEP, "disabled"),
    Output(cr.EXIT, "disabled"),
]


def _status(run: RunSummary | None) -> tuple[Any, ...]:
    if run is None:
        return "", "", *_controls(None)
    return cr.clock_text(run, _tz()), cr.pnl_text(run), *_controls(run)


@CALLBACKS.callback(
    Output(cr.REPLAY, "data"),
    Output(cr.AT, "invalid"),
    Output(cr.AT_FEEDBACK, "children"),
    Output(cr.MESSAGE, "children"),
    Output(block_form.ACCOUNT, "disabled"),  # the replay's account is the one traded, not the field's
    Output(block_form.ACCOUNT, "options"),  # ... and the field shows it
    Output(block_form.ACCOUNT, "value"),
    *STATUS,
    Input(cr.START, "n_clicks"),
    State(cr.DAY, "date"),
    State(cr.AT, "value"),
    State("chart-view", "data"),
    prevent_initial_call=True,
)
@require_role(*TRADERS)
def start(clicks: int | None, day: str | None, at: str | None, view: dict | None) -> tuple[Any, ...]:
    """Start a replay of the chart's series at its shown timeframe; a bad moment is said at the field."""
    if not clicks:
        return (no_update,) * (7 + len(STATUS))
    runtime, user = current_runtime(), current_view()

    def refused(message: str) -> tuple[Any, ...]:
        return no_update, True, message, "", no_update, no_update, no_update, *(no_update,) * len(STATUS)

    try:
        entry = market.watched(runtime, user.id, (view or {}).get("series_id"))
    except market.NotWatchedError:
        return refused("Pick a series on the chart first.")
    start_ms = cr.local_start(day, at, _tz())
    if isinstance(start_ms, str):
        return refused(start_ms)
    stored = market.stored_window(runtime, user.id, entry.series_id)
    if stored is None or not stored.start_ms < start_ms < stored.end_ms:
        return refused("Pick a moment inside the stored history of this series.")
    level = chart_view.level_for(entry.timeframe, (view or {}).get("timeframe"))
    try:
        run = replay.start_replay(runtime, user.id, entry.exchange, entry.symbol, level, start_ms)
    except RunRejected as exc:
        return refused("; ".join(e.message for e in exc.errors) or "The replay cannot start here.")
    said = html.Span("Blocks from the form go to this replay's own account.", className="text-body-secondary")
    return {"run_id": run.id}, False, "", said, True, *_account_field(run.account_id), *_status(run)


@CALLBACKS.callback(
    Output(cr.TIMER, "disabled"),
    Output(cr.TIMER, "interval"),
    Output(cr.PLAY, "children"),
    Input(cr.PLAY, "n_clicks"),
    Input(cr.SPEED, "value"),
    Input(cr.REPLAY, "data"),
    State(cr.TIMER, "disabled"),
    prevent_initial_call=True,
)
@require_role(*TRADERS)
def play(_clicks: int | None, speed: str | None, store: dict | None, paused: bool | None) -> tuple[Any, ...]:
    """Play or pause; a new speed keeps playing at it. A new or ended replay starts paused."""
    every, _bars = cr.tick(speed)
    if ctx.triggered_id == cr.REPLAY:
        return True, every, "Play"
    if ctx.triggered_id == cr.SPEED:
        return no_update, every, no_update
    if cr.active_run(current_runtime(), current_view().id, store) is None:
        return True, every, "Play"
    playing = bool(paused)  # it was paused: now it plays
    return not playing, every, "Pause" if playing else "Play"


@CALLBACKS.callback(
    Output("chart-graph", "figure", allow_duplicate=True),
    Output("chart-view", "data", allow_duplicate=True),
    Output(cr.TIMER, "disabled", allow_duplicate=True),
    Output(cr.PLAY, "children", allow_duplicate=True),
    *[Output(o.component_id, o.component_property, allow_duplicate=True) for o in STATUS],
    Input(cr.STEP, "n_clicks"),
    Input(cr.TIMER, "n_intervals"),
    State(cr.REPLAY, "data"),
    State(cr.SPEED, "value"),
    State("chart-view", "data"),
    prevent_initial_call=True,
)
@require_role(*TRADERS)
def step(_clicks: int | None, _ticks: int | None, store: dict | None, speed: str | None, view: dict | None) -> tuple:
    """Play the next bar (a tick of the timer: as many as the speed says) and append it to the chart."""
    if not clicked():
        return (no_update,) * (4 + len(STATUS))
    runtime, user = current_runtime(), current_view()
    run = cr.replay_run(runtime, user.id, store)
    if run is None or run.status not in cr.ACTIVE:  # none, or at its end: the clock stays shown
        return no_update, no_update, True, "Play", *_status(run)
    bars = 1 if ctx.triggered_id == cr.STEP else cr.tick(speed)[1]
    try:
        run = replay.step_replay(runtime, user.id, run.id, bars=bars)
    except RunAccessError:
        return no_update, no_update, True, "Play", *_status(None)
    ended = run.cursor_ms >= run.end_ms or run.status not in cr.ACTIVE
    stop: Any = True if ended else no_update
    said: Any = "Play" if ended else no_update
    patch, new_view = _appended(run, view)
    return patch, new_view, stop, said, *_status(run)


def _appended(run: RunSummary, view: dict | None) -> tuple[Any, Any]:
    """The candles that closed by the run's new clock after the newest one drawn, as a Patch."""
    if not view or view.get("last_ts") is None or not cr.on_market(run, view["exchange"], view["symbol"]):
        return no_update, no_update
    runtime, user = current_runtime(), current_view()
    last = int(view["last_ts"])
    try:
        tail = market.chart_candles(
            runtime, user.id, view["series_id"], last, run.cursor_ms, view["level"], until_ms=run.cursor_ms
        )
    except (market.NotWatchedError, ValueError):
        return no_update, no_update
    if not tail.ts or tail.timeframe != view["level"]:
        return no_update, no_update
    tick = Decimal(view["tick"]) if view.get("tick") else None
    patch, count = figures.append_data(tail, int(view["count"]), last, view.get("first_ts"), tick)
    return patch, {**view, "count": count, "last_ts": tail.ts[-1], "last": [tail.ts[-1], tail.close[-1]]}


@CALLBACKS.callback(
    Output(cr.REPLAY, "data", allow_duplicate=True),
    Output(cr.MESSAGE, "children", allow_duplicate=True),
    Output(block_form.ACCOUNT, "disabled", allow_duplicate=True),
    Output(block_form.ACCOUNT, "options", allow_duplicate=True),
    Output(block_form.ACCOUNT, "value", allow_duplicate=True),
    *[Output(o.component_id, o.component_property, allow_duplicate=True) for o in STATUS],
    Input(cr.EXIT, "n_clicks"),
    State(cr.REPLAY, "data"),
    prevent_initial_call=True,
)
@require_role(*TRADERS)
def leave(clicks: int | None, store: dict | None) -> tuple[Any, ...]:
    """End the replay (its account and trades stay) and go back to the live chart."""
    if not clicks:
        return (no_update,) * (5 + len(STATUS))
    runtime, user = current_runtime(), current_view()
    run = cr.replay_run(runtime, user.id, store)
    said = ""
    if run is not None:
        ended = replay.end_replay(runtime, user.id, run.id) if run.status in cr.ACTIVE else run
        said = f"Replay ended with {cr.pnl_words(ended)} on its own account; the chart is live again."
    return None, said, False, *_account_field(None), *_status(None)


def _account_field(replay_account: int | None) -> tuple[list[dict[str, Any]], int | None]:
    """(options, value) of the form's account field: the replay's own account alone while it plays
    (the field is disabled: the server trades on the run's account whatever the field says), the
    user's live and paper accounts again after."""
    runtime, user = current_runtime(), current_view()
    choices = account_choices(runtime, user.id, include_replay=replay_account is not None)
    if replay_account is not None:
        choices = [c for c in choices if c.id == replay_account]
    options = [{"label": c.label, "value": c.id} for c in choices]
    return options, options[0]["value"] if options else None
