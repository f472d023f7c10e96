"""Price alerts on the chart: the alert bar over the candles (a level typed, or picked with the
crosshair: "Pick" then a click in the price pane, assets/45-chart-alerts.js; an optional note
that the notification and the toast carry; "Alert" sets it) for
traders, the market's active alerts as small badges with a cancel button each, and their lines
over the candles ("alert 70,000.00", drawn with the other shapes by
pages/components/chart_shapes_callbacks.py). The callbacks are in chart_alerts_callbacks.py."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from engine.alerts.api import NOTE_MAX

STORE = "chart-alerts"  # {"series_id": ..., "alerts": [{"id", "price", "label", "text", "note"}]}: the lines drawn
VERSION = "chart-alerts-version"  # bumped when an alert is set or cancelled
PRICE, NOTE, PICK, ADD = "alert-price", "alert-note", "alert-pick", "alert-add"
MESSAGE, LIST = "alert-message", "alert-list"
CANCEL = "alert-cancel"  # pattern-matching id type of the badges' cancel buttons
PREFIX = "tb-alert-"  # the lines' shape names: tb-alert-<id>
COLOR = "#6f42c1"


def stores() -> list[Any]:
    """On every chart (analysts' too): the lines' callback reads them."""
    return [dcc.Store(id=STORE), dcc.Store(id=VERSION, data=0)]


def bar() -> html.Div:
    """The traders' alert bar: level, pick, set; what happened; the active alerts."""
    level = dbc.InputGroup(
        [
            dbc.InputGroupText("Alert at"),
            dbc.Input(id=PRICE, type="text", inputmode="decimal", placeholder="price", autocomplete="off"),
            dbc.Button(
                "Pick", id=PICK, color="outline-secondary", n_clicks=0, title="Then click the chart at the level"
            ),
            dbc.Input(id=NOTE, type="text", placeholder="note (optional)", autocomplete="off", maxLength=NOTE_MAX),
            dbc.Button("Alert", id=ADD, color="outline-primary", n_clicks=0),
        ],
        size="sm",
        style={"maxWidth": "34rem"},
    )
    return html.Div(
        [level, html.Div(id=MESSAGE, className="small"), html.Div(id=LIST, className="d-flex flex-wrap gap-1")],
        id="alert-bar",
        className="d-flex flex-wrap align-items-center gap-2 mb-2",
    )


def badges(data: dict | None) -> list[Any]:
    """One badge per active alert of the chart's market, with its cancel button."""
    return [
        dbc.Badge(
            [
                f"alert {a['label']}",
                html.Button(
                    "×",
                    id={"type": CANCEL, "alert": a["id"]},
                    n_clicks=0,
                    className="btn-close-alert ms-1",
                    title=f"Cancel the alert: {a['text']}" + (f" ({a['note']})" if a.get("note") else ""),
                ),
            ],
            color="light",
            text_color="dark",
            class_name="alert-badge border",
            id=f"alert-badge-{a['id']}",
        )
        for a in (data or {}).get("alerts") or []
    ]


def shapes(data: dict | None, series_id: int) -> list[dict]:
    """The lines of the chart's active alerts (none when the store holds another series')."""
    if not data or data.get("series_id") != series_id:
        return []
    return [
        {
            "type": "line",
            "name": f"{PREFIX}{a['id']}",
            "xref": "paper",
            "x0": 0,
            "x1": 1,
            "yref": "y",
            "y0": a["price"],
            "y1": a["price"],
            "editable": False,
            "line": {"color": COLOR, "width": 1.5, "dash": "dashdot"},
            "label": {
                "text": f"alert {a['label']}",
                "textposition": "middle",
                "font": {"size": 11, "color": COLOR},
                "yanchor": "bottom",
            },
        }
        for a in data.get("alerts") or []
    ]
