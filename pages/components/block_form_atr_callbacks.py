"""Callbacks of the form's ATR stop suggestion (pages/components/block_form_atr.py), traders only:
the suggestion follows the entry, the side, k, n and the chart's timeframe (ATR of the closed
candles, at the replay's clock while the chart replays); "Use" fills the stop field with it (in the
browser: the field's own checks and the preview follow as for a typed price).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import dash
from dash import Input, Output, State

from db.enums import EntryType, Side
from engine.common.precision import format_number, to_decimal
from engine.common.timeframes import tf_ms
from engine.market import api as market
from pages.components import block_form as bf
from pages.components import block_form_atr as atr
from pages.components import chart_replay, chart_view
from pages.components.deferred import Deferred
from web.auth import TRADERS, current_runtime, current_view, require_role

# Registered by pages/chart.py, once per app (see pages/components/deferred.py).
CALLBACKS = Deferred()

# The chart's series and timeframe, copied into the form only when they change (not at each live
# candle), so the suggestion is asked for again only when something it depends on moved.
COPY_JS = """
function (view, held) {
  if (!view) { return window.dash_clientside.no_update; }
  var next = {series_id: view.series_id, timeframe: view.timeframe};
  if (held && held.series_id === next.series_id && held.timeframe === next.timeframe) {
    return window.dash_clientside.no_update;
  }
  return next;
}
"""
USE_JS = "function (clicks, price) { return clicks && price ? price : window.dash_clientside.no_update; }"


def register_clientside() -> None:
    """The browser side (called by pages/chart.py at import)."""
    dash.clientside_callback(COPY_JS, Output(atr.VIEW, "data"), Input("chart-view", "data"), State(atr.VIEW, "data"))
    dash.clientside_callback(
        USE_JS,
        Output(bf.STOP, "value", allow_duplicate=True),
        Input(atr.USE, "n_clicks"),
        State(atr.SUGGESTED, "data"),
        prevent_initial_call=True,
    )


def _entry_price(entry_type: str | None, typed: Any, last: Decimal | None) -> Decimal | None:
    """The entry the stop is measured from: the typed price, or the last close for a market entry."""
    if entry_type == EntryType.MARKET.value:
        return last
    try:
        return to_decimal(str(typed).strip()) if typed not in (None, "") else None
    except ValueError:
        return None


def _last_close(series_id: int, level: str, until: int | None) -> Decimal | None:
    runtime, user = current_runtime(), current_view()
    step = tf_ms(level)
    stored = market.stored_window(runtime, user.id, series_id)
    if stored is None:
        return None
    end = until if until is not None else stored.end_ms
    candles = market.chart_candles(runtime, user.id, series_id, end - 3 * step, end + step, level, until_ms=until)
    return Decimal(repr(candles.close[-1])) if candles.close else None


@CALLBACKS.callback(
    Output(atr.TEXT, "children"),
    Output(atr.USE, "children"),
    Output(atr.USE, "disabled"),
    Output(atr.SUGGESTED, "data"),
    Input(atr.K, "value"),
    Input(atr.N, "value"),
    Input(atr.VIEW, "data"),
    Input(bf.SIDE, "value"),
    Input(bf.ENTRY, "value"),
    Input(bf.ENTRY_TYPE, "value"),
    State(chart_replay.REPLAY, "data"),
)
@require_role(*TRADERS)
def suggest(k_text: Any, n_text: Any, view: dict | None, side: str | None, typed: Any, kind: str | None, replay: Any):
    """ "ATR(14) 5m = 41.20 · stop 32,950.50" and the button that applies it, or what is missing."""

    def said(text: str) -> tuple[Any, ...]:
        return text, "Use", True, None

    k, n = atr.parse_k(k_text), atr.parse_n(n_text)
    if isinstance(k, str) or isinstance(n, str):
        return said(k if isinstance(k, str) else str(n))
    runtime, user = current_runtime(), current_view()
    try:
        entry = market.watched(runtime, user.id, (view or {}).get("series_id"))
    except market.NotWatchedError:
        return said("")
    level = chart_view.level_for(entry.timeframe, (view or {}).get("timeframe"))
    until = chart_replay.cursor_for(runtime, user.id, replay, entry.exchange, entry.symbol)
    value = market.chart_atr(runtime, user.id, entry.series_id, level, n, until)
    if value is None:
        return said(f"ATR({n}) {level}: not enough {level} candles stored yet.")
    tick = market.market_ticks(runtime, entry.exchange, entry.symbol).price
    atr_text = f"ATR({n}) {level} = {format_number(value, tick)}"
    last = _last_close(entry.series_id, level, until) if kind == EntryType.MARKET.value else None
    price = _entry_price(kind, typed, last)
    if price is None:
        return said(f"{atr_text} · enter the entry price for a stop")
    stop = atr.suggest_stop(price, value, k, Side(side) if side in ("long", "short") else Side.LONG, tick)
    if stop is None:
        return said(f"{atr_text} · {k} × ATR is more than the entry")
    shown = format_number(stop, tick)
    return f"{atr_text} · stop {shown}", f"Use {shown}", False, format(stop.normalize(), "f")
