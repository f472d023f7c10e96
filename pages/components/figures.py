"""Plotly figures of the chart page: candlesticks over a volume pane sharing the time axis, and the
partial updates (dash.Patch) that refresh their data without redrawing the figure.

Times are ms since the epoch (UTC) on a date axis. No rangebreaks: crypto trades around the clock,
and rangebreaks make plotly very slow (plotly.js #5630). Prices are written at the market's tick
(no SI suffixes); the last price is a dotted line (the fourth trace) with its label on the price
axis (an annotation). Plotly's own hover labels are off: the readout, the crosshair's labels on
the axes and the time ticks in the user's timezone are drawn by assets/40-chart-reading.js.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from dash import Patch
from plotly.subplots import make_subplots

from engine.common.precision import format_number
from engine.market.api import ChartCandles
from pages.components.chart_view import number_format

UP, DOWN = "#26a69a", "#ef5350"
TRANSPARENT = "rgba(0,0,0,0)"
INITIAL_CANDLES = 240  # candles in view when a series opens
FIRST_LOAD_CANDLES = 3 * INITIAL_CANDLES  # candles loaded then: some to pan back through
LAST_TRACE = 3  # the last price's line


def template_name(dark: bool | None) -> str:
    return "plotly_dark" if dark else "plotly_white"


def template(dark: bool | None) -> Any:
    return pio.templates[template_name(dark)]


def volume_colors(opens: Sequence[float], closes: Sequence[float]) -> list[str]:
    return [UP if c >= o else DOWN for o, c in zip(opens, closes, strict=True)]


def axis_time(ms: int) -> str:
    """A timestamp as plotly writes date-axis values (UTC)."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def parse_axis_time(value: Any) -> int | None:
    """ms since the epoch of a date-axis value from relayoutData (string or number), or None."""
    try:
        if isinstance(value, int | float):
            return int(value)
        stamp = pd.Timestamp(str(value))
    except (ValueError, TypeError):
        return None
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return int(stamp.value // 1_000_000)


def visible_range(relayout: Mapping[str, Any] | None) -> tuple[int, int] | str | None:
    """The x window a zoom or pan left in view, "auto" after an autoscale, None if x did not move."""
    if not relayout:
        return None
    for key, value in relayout.items():
        if key.startswith("xaxis") and key.endswith(".autorange") and value:
            return "auto"
    for axis in ("xaxis", "xaxis2"):
        pair = relayout.get(f"{axis}.range") or [relayout.get(f"{axis}.range[0]"), relayout.get(f"{axis}.range[1]")]
        start, end = (parse_axis_time(v) if v is not None else None for v in pair[:2])
        if start is not None and end is not None and end > start:
            return start, end
    return None


def candle_figure(
    candles: ChartCandles,
    title: str,
    dark: bool | None,
    uirevision: str,
    x_range: tuple[int, int] | None = None,
    price_tick: Decimal | None = None,
) -> dict[str, Any]:
    """Candlesticks over volume: the figure `_validated_figure` builds, as the dict plotly makes of
    it, without its per-call validation (most of a draw's time): the validated skeleton of this
    theme is built once and only the candles, title, uirevision and range are filled in."""
    skeleton = _skeleton(bool(dark), x_range is not None)
    candle, volume, fills, last = skeleton["data"]
    layout = dict(skeleton["layout"])
    layout["uirevision"] = uirevision
    formats = {"tickformat": number_format(price_tick), "hoverformat": number_format(price_tick)}
    layout["yaxis"] = {**layout["yaxis"], **formats}
    layout["annotations"] = [_validated_label(c) for c in last_price_label(candles, price_tick)]
    prices = {"x": candles.ts, "open": candles.open, "high": candles.high, "low": candles.low, "close": candles.close}
    bars = {"x": candles.ts, "y": candles.volume}
    bars["marker"] = {**volume["marker"], "color": volume_colors(candles.open, candles.close)}
    if x_range is not None:
        shown = [axis_time(x_range[0]), axis_time(x_range[1])]
        layout["xaxis"] = {**layout["xaxis"], "range": shown}
        layout["xaxis2"] = {**layout["xaxis2"], "range": list(shown)}
    data = [
        {**candle, **prices, "name": title},
        {**volume, **bars},
        {**fills, "x": [], "y": []},
        {**last, **last_price_line(candles.ts, candles.close[-1:])},
    ]
    return {"data": data, "layout": layout}


def last_price_line(ts: list[int], last_close: list[float]) -> dict[str, list]:
    """The last price's line across the candles held (no line without candles)."""
    if not ts or not last_close:
        return {"x": [], "y": []}
    return {"x": [ts[0], ts[-1]], "y": [last_close[0], last_close[0]]}


def last_price_label(candles: ChartCandles, price_tick: Decimal | None) -> list[dict[str, Any]]:
    """The last price written on the price axis, green when up from the candle before, else red."""
    if not candles.close:
        return []
    close = candles.close[-1]
    before = candles.close[-2] if len(candles.close) > 1 else candles.open[-1]
    return [price_label(close, price_tick, UP if close >= before else DOWN)]


def price_label(close: float, price_tick: Decimal | None, color: str) -> dict[str, Any]:
    return {
        "name": "last-price",
        "xref": "paper",
        "x": 1,
        "xanchor": "left",
        "yref": "y",
        "y": close,
        "yanchor": "middle",
        "text": format_number(Decimal(repr(close)), price_tick),
        "showarrow": False,
        "bgcolor": color,
        "font": {"color": "#ffffff", "size": 11},
        "borderpad": 2,
    }


@functools.cache
def _label_keys() -> tuple[str, ...]:
    return tuple(go.layout.Annotation(**price_label(1.0, None, UP)).to_plotly_json())


def _validated_label(label: dict[str, Any]) -> dict[str, Any]:
    """The label with its keys in the order plotly's validator writes them."""
    return {key: label[key] for key in _label_keys() if key in label}


@functools.cache
def _skeleton(dark: bool, ranged: bool) -> dict[str, Any]:
    # A constant per theme: it depends on nothing else, so it is built once per process. Callers
    # copy what they change; the rest (the template above all) is shared and never mutated.
    empty = ChartCandles("1m", "1m", False)
    placeholder = (0, 1) if ranged else None
    return _validated_figure(empty, "", dark, uirevision="", x_range=placeholder).to_plotly_json()


def _validated_figure(
    candles: ChartCandles,
    title: str,
    dark: bool | None,
    uirevision: str,
    x_range: tuple[int, int] | None = None,
    price_tick: Decimal | None = None,
) -> go.Figure:
    """The chart's figure built through plotly's validators (slow: some 100 ms a call)."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.78, 0.22], vertical_spacing=0.03)
    fig.add_trace(
        go.Candlestick(
            x=candles.ts,
            open=candles.open,
            high=candles.high,
            low=candles.low,
            close=candles.close,
            name=title,
            hoverinfo="none",
            increasing={"line": {"color": UP}, "fillcolor": UP},
            decreasing={"line": {"color": DOWN}, "fillcolor": DOWN},
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            x=candles.ts,
            y=candles.volume,
            name="volume",
            hoverinfo="none",
            marker={"color": volume_colors(candles.open, candles.close), "line": {"width": 0}},
        ),
        row=2,
        col=1,
    )
    # The blocks' fills (pages/components/chart_shapes.py fills it in): a trace from the start, so
    # that a partial update can set it without knowing what the figure holds.
    fig.add_trace(go.Scatter(x=[], y=[], mode="markers", name="fills", hoverinfo="text"), row=1, col=1)
    line = last_price_line(candles.ts, candles.close[-1:])
    dotted = {"color": "#888888", "width": 1, "dash": "dot"}
    fig.add_trace(go.Scatter(**line, mode="lines", name="last", hoverinfo="skip", line=dotted), row=1, col=1)
    fig.update_xaxes(
        type="date",
        rangeslider_visible=False,
        showspikes=True,
        spikemode="across",
        spikethickness=1,
        spikecolor="#888888",
    )
    fig.update_yaxes(side="right", fixedrange=False)
    fig.update_yaxes(title_text="", showticklabels=True, nticks=3, row=2, col=1)
    # The crosshair's horizontal line follows the cursor (its price label: assets/40-chart-reading.js).
    fig.update_yaxes(
        showspikes=True, spikemode="across", spikesnap="cursor", spikethickness=1, spikecolor="#888888", row=1, col=1
    )
    fig.update_yaxes(tickformat=number_format(price_tick), hoverformat=number_format(price_tick), row=1, col=1)
    fig.update_layout(
        template=template(dark),
        paper_bgcolor=TRANSPARENT,
        plot_bgcolor=TRANSPARENT,
        showlegend=False,
        dragmode="pan",
        hovermode="x",
        margin={"l": 10, "r": 10, "t": 10, "b": 30},
        uirevision=uirevision,
        bargap=0.1,
    )
    if x_range is not None:
        fig.update_xaxes(range=[axis_time(x_range[0]), axis_time(x_range[1])])
    fig.update_layout(annotations=last_price_label(candles, price_tick))
    return fig


def initial_range(candles: ChartCandles, step_ms: int) -> tuple[int, int] | None:
    """The newest INITIAL_CANDLES candles, with half a candle of margin on the right."""
    if not candles.ts:
        return None
    first = candles.ts[max(0, len(candles.ts) - INITIAL_CANDLES)]
    return first - step_ms // 2, candles.ts[-1] + step_ms


def empty_figure(message: str, dark: bool | None, placeholder: str = "empty") -> go.Figure:
    """A chart with a message and no candles; `placeholder` (layout.meta) says which: "loading" (the
    page's, until the first draw), "backfilling" or "empty" (assets/41-chart-clicks.js reads it)."""
    fig = go.Figure()
    fig.update_layout(
        meta={"placeholder": placeholder},
        template=template(dark),
        paper_bgcolor=TRANSPARENT,
        plot_bgcolor=TRANSPARENT,
        xaxis={"visible": False},
        yaxis={"visible": False},
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        annotations=[{"text": message, "showarrow": False, "font": {"size": 16}, "xref": "paper", "yref": "paper"}],
    )
    return fig


def replace_data(candles: ChartCandles, last: tuple[int, float] | None = None) -> Patch:
    """Swap the candles of a drawn chart (after a zoom or pan), keeping the view; the last price's
    line (`last`: the newest candle's time and close) spans the candles now held."""
    patch = Patch()
    if last is not None and candles.ts:
        patch["data"][LAST_TRACE].update(last_price_line([candles.ts[0], max(candles.ts[-1], last[0])], [last[1]]))
    patch["data"][0].update(
        {"x": candles.ts, "open": candles.open, "high": candles.high, "low": candles.low, "close": candles.close}
    )
    patch["data"][1].update(
        {"x": candles.ts, "y": candles.volume, "marker": {"color": volume_colors(candles.open, candles.close)}}
    )
    return patch


def append_data(
    tail: ChartCandles, count: int, last_ts: int | None, first_ts: int | None = None, price_tick: Decimal | None = None
) -> tuple[Patch, int]:
    """Update the last drawn candle and append newer ones, and move the last price there; returns
    the patch and the new count.

    `count` is how many candles the chart holds, `first_ts` and `last_ts` the oldest and newest
    one's open time: a tail row at `last_ts` replaces it (the forming candle moved), later rows
    are appended."""
    patch = Patch()
    if tail.ts:
        patch["data"][LAST_TRACE].update(last_price_line([first_ts or tail.ts[0], tail.ts[-1]], tail.close[-1:]))
        patch["layout"]["annotations"] = [_validated_label(c) for c in last_price_label(tail, price_tick)]
    candle, volume = patch["data"][0], patch["data"][1]
    start = 0
    if tail.ts and last_ts is not None and count and tail.ts[0] == last_ts:
        i = count - 1
        for key, values in (("open", tail.open), ("high", tail.high), ("low", tail.low), ("close", tail.close)):
            candle[key][i] = values[0]
        volume["y"][i] = tail.volume[0]
        volume["marker"]["color"][i] = UP if tail.close[0] >= tail.open[0] else DOWN
        start = 1
    new = slice(start, len(tail.ts))
    if tail.ts[new]:
        candle["x"].extend(tail.ts[new])
        for key, values in (("open", tail.open), ("high", tail.high), ("low", tail.low), ("close", tail.close)):
            candle[key].extend(values[new])
        volume["x"].extend(tail.ts[new])
        volume["y"].extend(tail.volume[new])
        volume["marker"]["color"].extend(volume_colors(tail.open[new], tail.close[new]))
    return patch, count + len(tail.ts) - start


def template_patch(dark: bool | None) -> Patch:
    patch = Patch()
    patch["layout"]["template"] = template(dark)
    return patch
