"""Chart page (home): the symbol bar, the watchlist, and candlesticks with volume.

Adding a series starts its backfill and shows its progress until the chart can be drawn; zooming
or panning re-reads the visible window within the point budget (the status line says when the
candles shown are coarser than the series' timeframe); every few seconds new and updated candles
are appended as a dash.Patch. Every callback reads the user from the server session.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ClientsideFunction, Input, Output, State, callback, ctx, dcc, html, no_update

from engine.common.timeframes import tf_ms
from engine.market import api as market
from engine.market.api import ChartCandles
from engine.users.api import account_choices
from pages.components import (
    block_form,
    block_form_atr_callbacks,
    block_form_callbacks,
    chart_alerts,
    chart_alerts_callbacks,
    chart_blocks,
    chart_blocks_callbacks,
    chart_conditions,
    chart_conditions_callbacks,
    chart_focus,
    chart_indicators,
    chart_indicators_callbacks,
    chart_replay,
    chart_replay_callbacks,
    chart_shapes,
    chart_shapes_callbacks,
    chart_view,
    chart_view_callbacks,
    figures,
    watchlist_callbacks,
)
from pages.components import watchlist as wl
from pages.components.layout import THEME_SWITCH
from web.auth import READERS, TRADERS, current_runtime, current_view, has_role, require_role

# Dash runs this module again for each app it builds: their callbacks go to every app.
block_form_callbacks.CALLBACKS.register()
chart_shapes_callbacks.CALLBACKS.register()
chart_view_callbacks.CALLBACKS.register()
chart_replay_callbacks.CALLBACKS.register()
chart_alerts_callbacks.CALLBACKS.register()
chart_view_callbacks.register_clientside()
chart_indicators_callbacks.CALLBACKS.register()  # indicators and closed trades over the candles
chart_indicators_callbacks.register_clientside()
block_form_atr_callbacks.CALLBACKS.register()  # the form's ATR stop suggestion
block_form_atr_callbacks.register_clientside()
chart_conditions_callbacks.CALLBACKS.register()
chart_conditions_callbacks.register_clientside()
chart_blocks_callbacks.CALLBACKS.register()
chart_blocks_callbacks.register_clientside()
watchlist_callbacks.CALLBACKS.register()
watchlist_callbacks.register_clientside()
# The form's own copies of the chart's series and relayouts (block_form.SERIES/RELAYOUT): an
# analyst's chart has no form, so nothing is copied and no form callback is asked for.
dash.clientside_callback(
    "function (series) { return series; }", Output(block_form.SERIES, "data"), Input("series-state", "data")
)
dash.clientside_callback(
    "function (relayout) { return relayout; }",
    Output(block_form.RELAYOUT, "data"),
    Input("chart-graph", "relayoutData"),
    prevent_initial_call=True,
)

dash.register_page(__name__, path="/", title="Tradeblock", name="Chart", roles=READERS, order=0, nav=True)

LIVE_EVERY_MS = 3_000
PROGRESS_EVERY_MS = 700
SERIES_REDRAW = "series-redraw"
# A live update's and a zoom's answers, each with the figure it was read for (chart-view's "drawn"):
# applied in the browser to that figure only, never to one drawn since (a timeframe clicked while
# the answer was on its way would get the old timeframe's candles and view). A store each: Dash runs
# a callback once for two sets of its input in a row, so one store would lose one of the two answers.
LIVE_ANSWER, ZOOM_ANSWER = "chart-live-answer", "chart-zoom-answer"
MARGIN = 0.1  # share of the visible window also loaded on each side, so a short pan shows candles


def layout(**query: Any) -> html.Div:
    exchanges = market.exchanges(current_runtime())
    timeframes, timeframe = timeframe_choice(exchanges[0] if exchanges else None, None)
    trader = has_role(*TRADERS)  # analysts get no form (and its callbacks refuse them)
    form = block_form.form(account_choices(current_runtime(), current_view().id)) if trader else None
    bar = dbc.Row(
        [
            dbc.Col(
                dcc.Dropdown(
                    id="bar-exchange",
                    options=list(exchanges),
                    value=exchanges[0] if exchanges else None,
                    clearable=False,
                ),
                md=2,
            ),
            dbc.Col(
                dcc.Dropdown(
                    id="bar-symbol",
                    placeholder="Symbol (type to search)",
                    clearable=False,
                ),
                md=3,
            ),
            dbc.Col(dcc.Dropdown(id="bar-timeframe", options=timeframes, value=timeframe, clearable=False), md=2),
            dbc.Col(dbc.Button("Add to watchlist", id="bar-add", color="primary", n_clicks=0), width="auto"),
            dbc.Col(html.Div(id="bar-message", className="small"), class_name="align-self-center"),
        ],
        class_name="g-2 mb-3 align-items-center",
    )
    return html.Div(
        [
            dcc.Store(id="chart-prefs", storage_type="local"),  # {"series_id": ...}: survives reloads
            # A link's or bookmark's series, timeframe, moment or range, and block.
            dcc.Store(id=chart_focus.STORE, data=chart_view_callbacks.focus_for(query)),
            dcc.Store(id="series-state"),  # the series drawn and its backfill status
            dcc.Store(id=SERIES_REDRAW),  # series-state, when the chart must be drawn again for it
            dcc.Store(id=LIVE_ANSWER),
            dcc.Store(id=ZOOM_ANSWER),
            dcc.Store(id="chart-view"),  # what the figure holds: level, count, newest candle
            dcc.Store(id=chart_view_callbacks.HOOK),
            dcc.Store(id="watch-version", data=0),
            dcc.Store(id=watchlist_callbacks.WATCH_CLICK),  # a click in the watchlist or on Add
            dcc.Store(id=chart_view_callbacks.TIMEFRAME_PICK),  # a timeframe button or the bar's
            dcc.Store(id=chart_replay.REPLAY),  # the run replayed (pages/components/chart_replay.py)
            dcc.Interval(id="progress-poll", interval=PROGRESS_EVERY_MS, disabled=True),
            dcc.Interval(id="live-poll", interval=LIVE_EVERY_MS),
            # Over the candles (pages/components/chart_shapes_callbacks.py): what each shape is, the drawings,
            # the form's proposed block, and a counter bumped when a block is placed.
            dcc.Store(id=chart_shapes_callbacks.NAMES),
            dcc.Store(id=chart_shapes_callbacks.DRAWINGS),
            dcc.Store(id=block_form.PREVIEW_STORE),
            dcc.Store(id=block_form.VERSION, data=0),
            *chart_alerts.stores(),  # the price alerts' lines (pages/components/chart_alerts.py)
            dcc.Store(id=chart_conditions.SHAPES),  # the conditions drawn (a trader's section fills it)
            *chart_blocks.stores(),  # placed blocks managed on the chart (pages/components/chart_blocks.py)
            bar,
            dbc.Row(
                [
                    dbc.Col(
                        dbc.Card(
                            [dbc.CardHeader("Watchlist"), html.Div(id="watchlist", className="p-2")],
                            class_name="h-100",
                        ),
                        lg=3,
                        xl=2,
                    ),
                    dbc.Col(
                        [
                            *chart_replay.toolbar(trader),  # the status line, Replay and its bar
                            *([chart_alerts.bar()] if trader else []),
                            html.Div(id="chart-progress"),
                            chart_indicators.toolbar(market.chart_prefs(current_runtime(), current_view().id)),
                            chart_view.readout(),
                            dcc.Graph(
                                id="chart-graph",
                                figure=figures.empty_figure("Loading…", None, "loading"),
                                config=chart_shapes.graph_config(),
                                style={"height": "68vh"},
                            ),
                            *([chart_conditions.section()] if trader else []),
                            *chart_blocks.panel(trader),
                        ],
                        lg=9,
                        xl=7 if trader else 10,
                    ),
                    *([dbc.Col(form, lg=12, xl=3)] if trader else []),
                ],
                class_name="g-3",
            ),
        ]
    )


@callback(
    Output("bar-symbol", "options"),
    Input("bar-exchange", "value"),
    Input("bar-symbol", "search_value"),
    Input("bar-symbol", "value"),
)
@require_role(*READERS)
def symbol_options(exchange: str | None, search: str | None, current: str | None) -> list[str]:
    symbols = market.search_symbols(current_runtime(), exchange or "", search)
    if current and current not in symbols:
        symbols.insert(0, current)  # a dropdown blanks a value missing from its options
    return symbols


@callback(
    Output("bar-timeframe", "options"),
    Output("bar-timeframe", "value"),
    Input("bar-exchange", "value"),
    State("bar-timeframe", "value"),
    prevent_initial_call=True,  # the layout has the first exchange's: nothing pending on page load
)
@require_role(*READERS)
def timeframe_options(exchange: str | None, current: str | None) -> tuple[list[str], Any]:
    # The value is written only when the exchange lacks it: an answer that arrives after the chart
    # moved to another timeframe (the bar follows it in the browser) must not set back the one it
    # was asked with (a CI run saw the box stay at 1m over a 15m chart).
    options, shown = timeframe_choice(exchange, current)
    return options, no_update if shown == current else shown


def timeframe_choice(exchange: str | None, current: str | None) -> tuple[list[str], str | None]:
    """The exchange's timeframes, and the one to show: the current one if it has it, else 1m."""
    options = list(market.timeframes(current_runtime(), exchange or ""))
    if current in options:
        return options, current
    return options, "1m" if "1m" in options else (options[0] if options else None)


# The watchlist's answer reaches the chart through SERIES_REDRAW, set in the browser on a poll's
# tick when the chart must change for it (its backfill ended). Dash holds a callback until every
# callback upstream of its inputs has answered: with series-state an input, the first draw waited
# for the watchlist's answer, a round trip before the first candles.
dash.clientside_callback(
    ClientsideFunction("tradeblockClicks", "redraw"),  # assets/41-chart-clicks.js
    Output(SERIES_REDRAW, "data"),
    Input("progress-poll", "n_intervals"),
    Input("live-poll", "n_intervals"),
    State("series-state", "data"),
    State("chart-view", "data"),
    State("chart-graph", "figure"),
    prevent_initial_call=True,
)


# Three callbacks, not one: Dash drops the answer of a callback called again before it answered,
# so a zoom must not cancel the first drawing, nor a live update a theme change.
# It starts from the stored preference as the watchlist does, not from the watchlist's answer:
# on page load both run at once, which saves a round trip before the first candles.
@callback(
    Output("chart-graph", "figure"),
    Output("chart-view", "data"),
    Output("chart-status", "children"),
    Input("chart-prefs", "data"),
    Input(SERIES_REDRAW, "data"),
    Input(chart_replay.REPLAY, "data"),
    State(THEME_SWITCH, "value"),
    State("chart-view", "data"),
    State(chart_focus.STORE, "data"),
)
@require_role(*READERS)
def draw_chart(
    prefs: dict | None,
    state: dict | None,
    replay: dict | None,
    dark: bool | None,
    view: dict | None,
    focus: dict | None = None,
) -> tuple[Any, ...]:
    runtime, user = current_runtime(), current_view()
    if ctx.triggered_id == SERIES_REDRAW:
        if not isinstance(state, dict) or (view and view.get("series_id") == state.get("series_id")):
            return no_update, no_update, no_update  # the watchlist confirmed what is drawn
        series_id = state.get("series_id")  # another series, or its backfill just finished
    else:
        chosen = market.pick_series(runtime, user.id, (prefs or {}).get("series_id"))
        series_id = chosen.series_id if chosen else None
    try:
        entry = market.watched(runtime, user.id, series_id)
    except market.NotWatchedError:
        return figures.empty_figure("Add a series to your watchlist to see its chart.", dark), None, ""
    level = chart_view.level_for(entry.timeframe, (prefs or {}).get("timeframe"))
    if wl.backfilling(entry):
        message = f"Backfilling {wl.label(entry)}…"
        waiting = ChartCandles(level, level, False)
        return (
            figures.empty_figure(message, dark, "backfilling"),
            None,
            chart_view_callbacks.status(entry, waiting, level),
        )
    # A few screens' worth, not the whole budget: plotly draws one path per candle, so fewer
    # candles paint sooner; a pan or zoom loads what comes into view.
    recent = market.recent_window(runtime, user.id, series_id, figures.FIRST_LOAD_CANDLES, level)
    if recent is None:
        return figures.empty_figure(f"No candles stored for {wl.label(entry)} yet.", dark), None, ""
    focused = chart_view_callbacks.focused_range(focus, series_id, level, tf_ms(level))
    # A replay shows the candles closed by its clock, never one after it.
    cursor = chart_replay.cursor_for(runtime, user.id, replay, entry.exchange, entry.symbol)
    if cursor is not None:
        since = cursor - figures.FIRST_LOAD_CANDLES * tf_ms(level)
        candles = market.chart_candles(runtime, user.id, series_id, since, cursor, level, until_ms=cursor)
        x_range = figures.initial_range(candles, tf_ms(candles.timeframe))
    elif focused is not None:
        (start, end), x_range = focused
        candles = market.chart_candles(runtime, user.id, series_id, start, end, level)
    else:
        candles = market.chart_candles(runtime, user.id, series_id, recent.start_ms, recent.end_ms, level)
        x_range = figures.initial_range(candles, tf_ms(candles.timeframe))
    # The browser follows a replay's bars as its own chart (assets/40-chart-reading.js keys on it).
    view = chart_view_callbacks.view_data(entry, candles, level)
    view["replay"] = None if cursor is None else (replay or {}).get("run_id")
    tick = Decimal(view["tick"]) if view["tick"] else None
    # uirevision: a new series or level is a new chart (its own range); a pan keeps the user's view.
    revision = f"{series_id}-{level}" + ("" if cursor is None else f"-replay-{replay['run_id']}")  # type: ignore[index]
    figure = figures.candle_figure(candles, f"{entry.symbol} {level}", dark, revision, x_range, tick)
    return figure, view, chart_view_callbacks.status(entry, candles, level)


def answer(read_for: dict, figure: Any, view: dict | None, status: Any = None) -> dict:
    """LIVE_ANSWER's or ZOOM_ANSWER's data: a patch of the figure (None: none), the new chart-view (None: the series
    is no longer watched) and status line (None: unchanged), for the figure of `read_for`."""
    return {"for": read_for.get("drawn"), "figure": figure, "view": view, "status": status}


@callback(
    Output(ZOOM_ANSWER, "data"),
    Input("chart-graph", "relayoutData"),
    State("chart-view", "data"),
    State(chart_replay.REPLAY, "data"),
    prevent_initial_call=True,
)
@require_role(*READERS)
def follow_zoom(relayout: dict | None, view: dict | None, replay: dict | None = None) -> Any:
    """Re-read the window a zoom or pan left in view, within the point budget."""
    window = figures.visible_range(relayout)
    if not view or window is None:
        return no_update
    runtime, user = current_runtime(), current_view()
    series_id = view.get("series_id")
    try:
        entry = market.watched(runtime, user.id, series_id)
    except market.NotWatchedError:
        return answer(view, None, None)
    if window == "auto":
        stored = market.stored_window(runtime, user.id, series_id)
        if stored is None:
            return no_update
        start, end = stored.start_ms, stored.end_ms
    else:
        start, end = window  # type: ignore[misc]
        pad = int((end - start) * MARGIN)
        start, end = start - pad, end + pad
    level = chart_view.level_for(entry.timeframe, view.get("timeframe"))
    until = chart_replay.cursor_for(runtime, user.id, replay, entry.exchange, entry.symbol)
    candles = market.chart_candles(runtime, user.id, series_id, start, end, level, until_ms=until)
    last = view.get("last")
    new_view = chart_view_callbacks.view_data(entry, candles, level, last)
    new_view["replay"] = None if until is None else view.get("replay")
    patch = figures.replace_data(candles, tuple(new_view["last"]) if new_view["last"] else None)
    return answer(view, patch, new_view, chart_view_callbacks.status(entry, candles, level))


@callback(
    Output("chart-graph", "figure", allow_duplicate=True),
    Input(THEME_SWITCH, "value"),
    prevent_initial_call=True,
)
@require_role(*READERS)
def follow_theme(dark: bool | None) -> Any:
    return figures.template_patch(dark)


@callback(
    Output(LIVE_ANSWER, "data"),
    Input("live-poll", "n_intervals"),
    State("chart-view", "data"),
    State(chart_replay.REPLAY, "data"),
    prevent_initial_call=True,
)
@require_role(*READERS)
def live_update(_tick: int, view: dict | None, replay: dict | None = None) -> Any:
    """The candles after the chart's newest: a patch of its figure and its new chart-view."""
    if not view or view.get("last_ts") is None:
        return no_update
    runtime, user = current_runtime(), current_view()
    if chart_replay.cursor_for(runtime, user.id, replay, view.get("exchange", ""), view.get("symbol", "")):
        return no_update  # a replay's chart moves with its clock, not the wall's
    try:
        tail = market.candles_since(runtime, user.id, view["series_id"], view["level"], int(view["last_ts"]))
    except market.NotWatchedError:
        return answer(view, None, None)
    if not tail.ts:
        return no_update
    tick = Decimal(view["tick"]) if view.get("tick") else None
    patch, count = figures.append_data(tail, int(view["count"]), int(view["last_ts"]), view.get("first_ts"), tick)
    new_view = {**view, "count": count, "last_ts": tail.ts[-1], "last": [tail.ts[-1], tail.close[-1]]}
    return answer(view, patch, new_view)


for _answers in (LIVE_ANSWER, ZOOM_ANSWER):
    dash.clientside_callback(
        ClientsideFunction("tradeblockChart", "answer"),  # assets/40-chart-reading.js
        Output("chart-graph", "figure", allow_duplicate=True),
        Output("chart-view", "data", allow_duplicate=True),
        Output("chart-status", "children", allow_duplicate=True),
        Input(_answers, "data"),
        State("chart-view", "data"),
        prevent_initial_call=True,
    )
