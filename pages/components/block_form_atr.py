"""The form's ATR stop suggestion (as futures desks size stops): "Stop k × ATR(n)" on the chart's
timeframe, k = 1.5 and n = 14 unless changed, offered as a button that fills the stop field with
entry − k·ATR for a long (+ for a short), on the market's tick and never nearer the entry than
k·ATR. Here are its row in the form and the arithmetic; the callbacks are in
pages/components/block_form_atr_callbacks.py.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from db.enums import Side
from engine.common.precision import RoundMode, round_price

K, N, USE, TEXT, SUGGESTED, VIEW = (
    "bf-atr-k",
    "bf-atr-n",
    "bf-atr-use",
    "bf-atr-text",
    "bf-atr-suggested",
    "bf-atr-view",
)
DEFAULT_K, DEFAULT_N = "1.5", "14"
MAX_K = Decimal(20)
MAX_N = 500


def row() -> html.Div:
    """ "Stop [1.5] × ATR([14])  [Use 32,950.50]" and what the ATR is, under the stop field."""
    small: dict[str, Any] = {"size": "sm", "type": "text", "autocomplete": "off", "debounce": True}
    return html.Div(
        [
            dcc.Store(id=SUGGESTED),
            dcc.Store(id=VIEW),
            html.Div(
                [
                    html.Span("Stop", className="small"),
                    dbc.Input(id=K, value=DEFAULT_K, inputmode="decimal", style={"width": "3.5rem"}, **small),
                    html.Span("× ATR(", className="small text-nowrap"),
                    dbc.Input(id=N, value=DEFAULT_N, inputmode="numeric", style={"width": "3.2rem"}, **small),
                    html.Span(")", className="small"),
                    dbc.Button("Use", id=USE, n_clicks=0, size="sm", color="outline-primary", disabled=True),
                ],
                className="d-flex align-items-center gap-1",
            ),
            html.Div(id=TEXT, className="small text-body-secondary"),
        ],
        className="mb-2",
        id="bf-atr",
    )


def parse_k(value: Any) -> Decimal | str:
    """The multiple k, or what is wrong with it."""
    try:
        k = Decimal(str(value or "").strip().replace(",", "."))
    except InvalidOperation:
        return "k is a number such as 1.5."
    if not k.is_finite() or not 0 < k <= MAX_K:
        return f"k is above 0 and at most {MAX_K}."
    return k


def parse_n(value: Any) -> int | str:
    text = str(value or "").strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_N:
        return f"n is a whole number from 1 to {MAX_N}."
    return int(text)


def suggest_stop(entry: Decimal, atr: Decimal, k: Decimal, side: Side, tick: Decimal | None) -> Decimal | None:
    """entry ∓ k·ATR on the tick, rounded away from the entry; None when it is not a price (<= 0)."""
    if side is Side.LONG:
        stop = round_price(entry - k * atr, tick, RoundMode.DOWN)
    else:
        stop = round_price(entry + k * atr, tick, RoundMode.UP)
    return stop if stop > 0 else None
