"""The trader's open conditional blocks (engine.conditions) on the chart of their market: a price
condition as a dashed horizontal line at its level ("when close > 70,000.00 (15m) -> long block"),
a time condition as a vertical line at its time; a step still waiting for the one before it is
dotted. Under the chart, the same conditions are listed with a Cancel button each (plotly sends no
click of a shape, so the list is the way to cancel from the chart).

Pure pieces here (which conditions belong to a market, their labels, their shapes, the list);
the callbacks are in pages/components/chart_conditions_callbacks.py. Prices are written at the
market's tick, times in UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from engine.common.precision import format_number
from engine.conditions.api import ConditionView
from pages.components.chart_shapes import CONDITION_PREFIX

# In the trader's section under the chart: the conditions drawn (the server's answer) and their list.
ITEMS, LIST, MESSAGE, CANCEL = (
    "chart-cond-items",
    "chart-cond-list",
    "chart-cond-message",
    "chart-cond-cancel",
)
POLL, POLL_MS = "chart-cond-poll", 5_000  # conditions saved elsewhere (/blocks, the API) appear within it
SHAPES = "chart-cond-shapes"  # the chart's copy of ITEMS (in every chart's layout: analysts' stays empty)
COLOR = "#8b5cf6"  # violet: read on the light and the dark template alike
OPEN = ("waiting", "pending")
_CLOSE = {"close_above": ">", "close_below": "<"}


def on_market(view: ConditionView, exchange: str, symbol: str) -> bool:
    """An open condition drawn on this market's chart: one watching its prices, or a time
    condition whose block trades it."""
    if view.status not in OPEN:
        return False
    if view.symbol is not None:
        return (view.exchange, view.symbol) == (exchange, symbol)
    return view.block_symbol == symbol and view.block_exchange in ("", exchange)


def label(view: ConditionView, tick: Decimal | None, chart_symbol: str) -> str:
    """ "when close > 70,000.00 (15m) -> long block", "at 2026-12-03 09:00 UTC -> short ETH/USDT block"."""
    if view.kind == "at_time":
        moment = datetime.fromtimestamp((view.at_ms or 0) / 1000, UTC)
        when = f"at {moment:%Y-%m-%d %H:%M} UTC"
    else:
        price = format_number(view.price, tick) if view.price is not None else "?"
        if view.kind in _CLOSE:
            when = f"when close {_CLOSE[view.kind]} {price} ({view.timeframe})"
        else:
            when = f"when price crosses {price}"
    market = "" if view.block_symbol == chart_symbol else f" {view.block_symbol}"
    after = f" (after #{view.parent_id})" if view.status == "pending" else ""
    return f"{when} -> {view.block_side}{market} block{after}"


def items(views: Sequence[ConditionView], tick: Decimal | None, series_id: int, symbol: str) -> dict[str, Any]:
    """What the chart draws and lists (plain data for the stores), oldest first."""
    shown = sorted(views, key=lambda v: v.id)
    return {
        "series_id": series_id,
        "conditions": [
            {
                "id": v.id,
                "status": v.status,
                "kind": v.kind,
                "price": None if v.price is None else float(v.price),
                "at_ms": v.at_ms,
                "label": label(v, tick, symbol),
            }
            for v in shown
        ],
    }


def condition_shapes(drawn: dict | None, series_id: int | None) -> list[dict]:
    """The plotly shapes of the conditions in `drawn` (the SHAPES store), for the chart of
    `series_id` only; named "tb-condition-<id>"."""
    if not drawn or drawn.get("series_id") != series_id:
        return []
    shapes = []
    for c in drawn.get("conditions") or []:
        dash = "dash" if c["status"] == "waiting" else "dot"
        text = {"text": c["label"], "font": {"size": 11, "color": COLOR}}
        common = {"type": "line", "name": f"{CONDITION_PREFIX}{c['id']}", "editable": False}
        common["line"] = {"color": COLOR, "width": 1.5, "dash": dash}
        if c["kind"] == "at_time" and c["at_ms"] is not None:
            where = {"xref": "x", "x0": c["at_ms"], "x1": c["at_ms"], "yref": "paper", "y0": 0, "y1": 1}
            shapes.append({**common, **where, "label": {**text, "textposition": "end"}})
        elif c["price"] is not None:
            where = {"xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": c["price"], "y1": c["price"]}
            shapes.append({**common, **where, "label": {**text, "textposition": "middle", "yanchor": "bottom"}})
    return shapes


def section() -> html.Div:
    """Under the chart (traders only): the conditions of the market shown, each with Cancel."""
    return html.Div(
        [
            dcc.Store(id=ITEMS),
            dcc.Interval(id=POLL, interval=POLL_MS),
            html.Div(
                [
                    html.Span("Conditional blocks on this market", className="fw-semibold small me-2"),
                    dcc.Link("all in Blocks", href="/blocks", className="small"),
                ],
                className="mb-1",
            ),
            html.Div(id=MESSAGE),
            html.Div(id=LIST),
        ],
        id="chart-conditions-section",
        className="mt-2",
    )


def listing(drawn: dict) -> Any:
    conditions = drawn.get("conditions") or []
    if not conditions:
        return html.Div("None waiting.", className="small text-body-secondary", id="chart-conditions-empty")
    return html.Ul(
        [
            html.Li(
                [
                    html.Span(f"#{c['id']} ", className="text-body-secondary"),
                    html.Span(c["label"], className="me-2"),
                    dbc.Badge(
                        c["status"], color="primary" if c["status"] == "waiting" else "secondary", className="me-2"
                    ),
                    dbc.Button(
                        "Cancel",
                        id={"type": CANCEL, "id": c["id"]},
                        size="sm",
                        color="outline-danger",
                        n_clicks=0,
                        class_name="py-0",
                    ),
                ],
                className="chart-condition small mb-1",
                **{"data-id": str(c["id"])},
            )
            for c in conditions
        ],
        className="list-unstyled mb-0",
    )
