"""Bar replay on the chart (as TradingView's): the toolbar's Replay button, the replay bar (start
date and time in the user's timezone, Start, Play/Pause, Step, speed, Exit, the replay clock and
the replay account's P&L), and what the other chart callbacks ask of a replay.

The browser holds only the run's id (the REPLAY store); every server callback reads the run with
engine.replay.api.get_run for the signed-in user, so a crafted id of somebody else's run gets
nothing, and the account a block goes to is the run's own, never one sent by the browser.
The callbacks are in pages/components/chart_replay_callbacks.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import dash_bootstrap_components as dbc
from dash import dcc, html

from db.enums import AccountKind
from engine.blocks import api as blocks
from engine.blocks.api import ChartOverlays
from engine.common.precision import format_money
from engine.common.symbols import split_symbol
from engine.market import api as market
from engine.replay import api as replay
from engine.replay.api import RunAccessError, RunKind, RunStatus, RunSummary
from engine.runtime import Runtime
from engine.users.api import account_choices

REPLAY = "chart-replay"  # {"run_id": ...} while the chart replays; None when live
OPEN, BAR, TIMER = "replay-open", "replay-bar", "replay-timer"
DAY, AT, AT_FEEDBACK = "replay-day", "replay-time", "replay-at-feedback"
START, PLAY, STEP, SPEED, EXIT = "replay-start", "replay-play", "replay-step", "replay-speed", "replay-exit"
CLOCK, PNL, MESSAGE = "replay-clock", "replay-pnl", "replay-message"
# Bars per second. "max" is capped: without a background manager a run to the end would hold a
# web thread for as long as it takes, so it plays MAX_BARS a tick instead (~250 bars/s).
SPEEDS = ("1", "2", "5", "10", "max")
MIN_TICK_MS = 200  # the fastest the browser asks for the next bars (each tick is one request)
MAX_BARS = 50
FINISHED_SHOWN = 20  # a replay's finished blocks whose fills stay on its chart (the newest)
ACTIVE = (RunStatus.READY, RunStatus.RUNNING, RunStatus.PAUSED)


def tick(speed: str | None) -> tuple[int, int]:
    """(milliseconds between ticks, bars per tick) of a speed: 1 -> (1000, 1), 10 -> (200, 2)."""
    if speed == "max":
        return MIN_TICK_MS, MAX_BARS
    per_second = int(speed) if speed in SPEEDS else 1
    every = max(MIN_TICK_MS, 1000 // per_second)
    return every, max(1, per_second * every // 1000)


def replay_run(runtime: Runtime, user_id: int, store: dict | None) -> RunSummary | None:
    """The user's replay the store names (played to its end too: the chart stays at its clock
    until Exit); None when live or for an id that is not one of the user's replays."""
    run_id = (store or {}).get("run_id")
    if not isinstance(run_id, int):
        return None
    try:
        run = replay.get_run(runtime, user_id, run_id)
    except RunAccessError:
        return None
    return run if run.kind is RunKind.REPLAY else None


def active_run(runtime: Runtime, user_id: int, store: dict | None) -> RunSummary | None:
    """The replay while it can still be played and traded (not ended)."""
    run = replay_run(runtime, user_id, store)
    return run if run is not None and run.status in ACTIVE else None


def cursor_for(runtime: Runtime, user_id: int, store: dict | None, exchange: str, symbol: str) -> int | None:
    """The replay clock the chart of this market reads until, or None when it is live."""
    if not (store or {}).get("run_id"):
        return None  # live: no query
    run = replay_run(runtime, user_id, store)
    return run.cursor_ms if run is not None and on_market(run, exchange, symbol) else None


def on_market(run: RunSummary | None, exchange: str, symbol: str) -> bool:
    """Whether the run replays this market (another series on the chart stays live)."""
    return run is not None and run.exchange == exchange and symbol in run.symbols


def clock_text(run: RunSummary, tz: str) -> str:
    """ "Replay · 2024-01-15 10:32 Europe/Paris": the replay clock in the user's zone."""
    at = datetime.fromtimestamp(run.cursor_ms / 1000, UTC).astimezone(ZoneInfo(tz))
    ended = " · at the end" if run.cursor_ms >= run.end_ms or run.status is RunStatus.DONE else ""
    return f"Replay · {at:%Y-%m-%d %H:%M} {tz}{ended}"


def pnl_words(run: RunSummary) -> str:
    """ "P&L +12.34 USDT": the replay account's realized P&L so far, exact, in cents."""
    sign = "+" if run.net_pnl > 0 else ""
    quote = split_symbol(run.symbols[0])[1] if run.symbols else ""
    return f"P&L {sign}{format_money(run.net_pnl)} {quote}".rstrip()


def pnl_text(run: RunSummary) -> html.Span:
    """The P&L coloured by its sign, and the closed trades' count."""
    colour = "text-success" if run.net_pnl > 0 else ("text-danger" if run.net_pnl < 0 else "text-body-secondary")
    trades = f" · {run.trades_closed} closed trade{'s' if run.trades_closed != 1 else ''}"
    return html.Span([html.Span(pnl_words(run), className=colour), trades])


def local_start(day: str | None, at: str | None, tz: str) -> int | str:
    """The replay's start in ms from the picker's day and "HH:MM" in the user's zone, or what is wrong."""
    try:
        chosen_day = date.fromisoformat((day or "")[:10])
    except ValueError:
        return "Pick the day the replay starts."
    try:
        chosen_time = time.fromisoformat(at or "00:00")
    except ValueError:
        return "Enter the time as HH:MM."
    local = datetime.combine(chosen_day, chosen_time.replace(second=0, microsecond=0), ZoneInfo(tz))
    return int(local.timestamp() * 1000)


def local_parts(ms: int, tz: str) -> tuple[str, str]:
    """(day, "HH:MM") of a moment in the user's zone, for the picker."""
    at = datetime.fromtimestamp(ms / 1000, UTC).astimezone(ZoneInfo(tz))
    return at.date().isoformat(), f"{at:%H:%M}"


def shown_overlays(runtime: Runtime, user_id: int, series_id: int | None, store: dict | None) -> ChartOverlays:
    """The blocks' lines and fills the chart draws: in a replay only its account's (with the fill
    markers of its finished blocks, so a trade played through stays visible), live none of a
    replay account's (a replay's blocks stay on its account, not over the live chart)."""
    overlays = blocks.overlays(runtime, user_id, series_id)
    run = replay_run(runtime, user_id, store)
    if run is not None:
        entry = market.watched(runtime, user_id, series_id)
        run = run if on_market(run, entry.exchange, entry.symbol) else None  # another market: live
    if run is None and not overlays.lines and not overlays.fills:
        return overlays
    if run is not None and not run.blocks:
        return ChartOverlays([], [])  # nothing placed in this replay yet: no block list to read
    mine = blocks.list_blocks(runtime, user_id, live=None if run is not None else True)
    account_of = {b.id: b.account_id for b in mine}
    fills = list(overlays.fills)
    if run is not None:
        keep = {run.account_id}
        finished = [b for b in mine if b.account_id == run.account_id and b.closed_at is not None]
        for block in finished[:FINISHED_SHOWN]:
            fills.extend(blocks.block_overlays(runtime, user_id, block.id)[2].fills)
    else:  # (an account with live blocks is never disabled, so the choices hold every one of them)
        choices = account_choices(runtime, user_id, create_default=False)
        keep = {a.id for a in choices if a.kind is not AccountKind.REPLAY}

    def shown(block_id: int) -> bool:
        return account_of.get(block_id) in keep

    return ChartOverlays(
        [line for line in overlays.lines if shown(line.block_id)],
        sorted((fill for fill in fills if shown(fill.block_id)), key=lambda f: f.ts),
    )


def toolbar(trader: bool) -> list:
    """The line over the chart ("chart-status", filled by the chart's callbacks) with the Replay
    button at its right, and the replay bar under it: traders and admins only (a replay trades)."""
    status = html.Div(id="chart-status", className="d-flex align-items-center gap-2")
    if not trader:
        return [html.Div(status, className="mb-1")]
    replay = dbc.Button("Replay", id=OPEN, n_clicks=0, size="sm", color="secondary", outline=True, class_name="py-0")
    line = html.Div([status, replay], className="d-flex align-items-center justify-content-between gap-2 mb-1")
    return [line, bar()]


def bar() -> dbc.Collapse:
    """The replay bar under the toolbar, closed until Replay is pressed."""
    small = {"size": "sm"}
    controls = [
        dcc.DatePickerSingle(id=DAY, display_format="YYYY-MM-DD", first_day_of_week=1, style={"width": "9.5em"}),
        html.Div(
            [
                dbc.Input(id=AT, type="time", value="00:00", style={"width": "8.5em"}, **small),
                dbc.FormFeedback(id=AT_FEEDBACK, type="invalid"),
            ]
        ),
        dbc.Button("Start", id=START, n_clicks=0, color="primary", **small),
        dbc.Button("Play", id=PLAY, n_clicks=0, color="success", disabled=True, **small),
        dbc.Button("Step", id=STEP, n_clicks=0, color="secondary", disabled=True, title="One bar", **small),
        dbc.Select(
            id=SPEED,
            options=[{"label": "max" if s == "max" else f"{s} bar/s", "value": s} for s in SPEEDS],
            value="1",
            style={"width": "7.5em"},
            **small,
        ),
        dbc.Button("Exit", id=EXIT, n_clicks=0, color="danger", outline=True, disabled=True, **small),
        html.Span(id=CLOCK, className="small fw-semibold"),
        html.Span(id=PNL, className="small"),
        html.Span(id=MESSAGE, className="small"),
        dcc.Interval(id=TIMER, interval=1000, disabled=True),
    ]
    inner = html.Div(controls, className="d-flex flex-wrap align-items-start gap-2 p-2 border rounded mb-1")
    return dbc.Collapse(inner, id=BAR, is_open=False)
