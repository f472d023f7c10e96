"""Indicators on the chart (the toolbar's "Indicators" row): the picker, the chips of the ones
shown, the closed-trades switch, and the plotly traces and pane layout of the indicators the
engine computed (engine.market.api.chart_studies).

SMA, EMA, Bollinger and VWAP are drawn over the prices; RSI and ATR each in a pane of their own
between the prices and the volume (the time axis stays under the volume, where the chart's
reading script expects it). Indicator traces are named "ind:<key>:<line>" and carry the level they
were computed at in `meta`, so the browser can tell the server which ones the figure holds
(pages/components/chart_indicators_callbacks.py); the callbacks live there.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import dash_bootstrap_components as dbc
from dash import Patch, dcc, html

from engine.market.api import INDICATORS, ChartCandles, ChartPrefs, IndicatorSpec, StudyLines
from pages.components import figures

PREFS = "ind-prefs"  # the user's ChartPrefs as a dict (read from the database at page load)
REQUEST = "ind-request"  # what the figure holds, as the browser saw it (a clientside callback's output)
PICK, PERIOD, WIDTH, ADD, CHIPS, REMOVE = "ind-pick", "ind-period", "ind-width", "ind-add", "ind-chips", "ind-remove"
TRADES, MESSAGE = "ind-trades", "ind-message"
PREFIX = "ind:"
PALETTE = ("#f59f00", "#7048e8", "#1098ad", "#d6336c", "#5c940d", "#e8590c", "#1c7ed6", "#868e96")
PANE, VOLUME, GAP = 0.17, 0.14, 0.03  # paper heights of an indicator pane, the volume pane, a gap
FIRST_AXIS = 3  # yaxis3 is the first indicator pane's (yaxis: prices, yaxis2: volume)


def toolbar(prefs: ChartPrefs) -> html.Div:
    """The row over the chart: pick an indicator (period, Bollinger's width), Add, the chips of
    those shown (× removes one), and the closed trades' switch."""
    options = [{"label": found.label, "value": name} for name, found in INDICATORS.items()]
    small: dict[str, Any] = {"size": "sm", "type": "text", "autocomplete": "off"}
    return html.Div(
        [
            dcc.Store(id=PREFS, data=prefs.as_dict()),
            dcc.Store(id=REQUEST),
            dbc.Select(id=PICK, options=options, value="sma", size="sm", style={"width": "9.5em"}),
            dbc.Input(id=PERIOD, placeholder="period", inputmode="numeric", style={"width": "5.5em"}, **small),
            dbc.Input(id=WIDTH, placeholder="σ (BB)", inputmode="decimal", style={"width": "5em"}, **small),
            dbc.Button("Add indicator", id=ADD, n_clicks=0, size="sm", color="secondary", outline=True),
            html.Div(chips(prefs.indicators), id=CHIPS, className="d-flex flex-wrap gap-1"),
            dbc.Switch(id=TRADES, label="Closed trades", value=prefs.show_trades, class_name="small mb-0 ms-auto"),
            html.Span(id=MESSAGE, className="small"),
        ],
        className="d-flex flex-wrap align-items-center gap-2 mb-1",
        id="ind-toolbar",
    )


def chips(specs: Sequence[IndicatorSpec]) -> list:
    return [
        dbc.Button(
            [
                html.Span("●", style={"color": color(i)}, className="me-1"),
                spec.label,
                html.Span(" ×", className="ms-1"),
            ],
            id={"type": REMOVE, "key": spec.key},
            n_clicks=0,
            size="sm",
            color="secondary",
            outline=True,
            class_name="py-0 ind-chip",
            title=f"Remove {spec.label}",
        )
        for i, spec in enumerate(specs)
    ]


# RSI's pane reads 0-100 with its overbought and oversold guides at 70 and 30, as grid lines:
# layout.shapes is the blocks' and drawings' (pages/components/chart_shapes.py), sent whole.
RSI_AXIS = {
    "range": [0, 100],
    "tickmode": "array",
    "tickvals": [30, 70],
    "showgrid": True,
    "griddash": "dash",
    "gridcolor": "rgba(128,128,128,0.6)",
}


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def panes(specs: Sequence[IndicatorSpec]) -> list[str]:
    """The indicators drawn below the prices, one pane per name (RSI 14 and RSI 7 share one)."""
    return list(dict.fromkeys(s.name for s in specs if s.below))


def trace_name(spec: IndicatorSpec, line: str) -> str:
    return f"{PREFIX}{spec.key}:{line}"


def study_traces(studies: Sequence[StudyLines], level: str) -> list[dict[str, Any]]:
    """A line trace per indicator line; a pane's indicators on its own y axis."""
    below = panes([s.spec for s in studies])
    traces = []
    for i, study in enumerate(studies):
        axis = f"y{FIRST_AXIS + below.index(study.spec.name)}" if study.spec.below else "y"
        for line, values in study.lines.items():
            dash = "dot" if study.spec.name == "bb" and line == "middle" else "solid"
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": trace_name(study.spec, line),
                    "meta": level,
                    "x": list(study.ts),
                    "y": list(values),
                    "xaxis": "x",
                    "yaxis": axis,
                    "hoverinfo": "skip",
                    "line": {"color": color(i), "width": 1.3, "dash": dash},
                }
            )
    return traces


@cache
def _base_domains() -> tuple[list[float], list[float]]:
    """The price and volume panes' domains of the chart without indicator panes."""
    layout = figures.candle_figure(ChartCandles("1m", "1m", False), "", False, "")["layout"]
    return list(layout["yaxis"]["domain"]), list(layout["yaxis2"]["domain"])


def pane_layout(specs: Sequence[IndicatorSpec], held_axes: int = 2) -> dict[str, Any]:
    """The y axes' domains (and titles) for these indicators' panes; axes above them are removed
    (None) up to `held_axes`, the most the figure may hold."""
    names = panes(specs)
    labels = {name: ", ".join(s.label for s in specs if s.name == name) for name in names}
    if not names:
        price, volume = _base_domains()
        layout: dict[str, Any] = {"yaxis.domain": price, "yaxis2.domain": volume}
    else:
        layout = {"yaxis2.domain": [0, VOLUME]}
        bottom = VOLUME + GAP
        for j, name in enumerate(reversed(names)):  # the first pane sits under the prices
            axis = f"yaxis{FIRST_AXIS + len(names) - 1 - j}"
            layout[axis] = {
                "domain": [round(bottom, 4), round(bottom + PANE, 4)],
                "anchor": "x",
                "side": "right",
                "nticks": 4,
                "fixedrange": True,
                "title": {"text": labels[name], "font": {"size": 10}, "standoff": 2},
                **(RSI_AXIS if name == "rsi" else {"autorange": True}),
            }
            bottom += PANE + GAP
        layout["yaxis.domain"] = [round(bottom, 4), 1]
    for k in range(len(names), max(held_axes, len(names))):
        layout[f"yaxis{FIRST_AXIS + k}"] = None
    return layout


def apply_layout(patch: Patch, layout: dict[str, Any]) -> None:
    for key, value in layout.items():
        if "." in key:
            axis, prop = key.split(".")
            patch["layout"][axis][prop] = value
        elif value is None:
            del patch["layout"][key]
        else:
            patch["layout"][key] = value
