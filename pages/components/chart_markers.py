"""Closed trades on the chart: a marker where each closed trade of the user's blocks was entered
and one where it was left (engine.blocks.api.trade_markers), with a tooltip (block, target,
side, price at the market's precision, P&L in cents with the quote currency, R multiple), as one
scatter trace named "tb-trades". Its `meta` is a digest of what it shows, so a live update sends
it again only when a trade closed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from engine.blocks.api import TradeMarker
from engine.common.precision import format_money, format_number

NAME = "tb-trades"
WIN, LOSS, ENTRY = "#26a69a", "#ef5350", "#5c7cfa"


def signed_money(value: Decimal) -> str:
    return ("+" if value > 0 else "") + format_money(value)


def tooltip(marker: TradeMarker) -> str:
    """ "#12 T1 long exit (target) @ 33,900.50<br>P&L +12.34 USDT · +1.30 R"."""
    reason = f" ({marker.close_reason.value})" if marker.end == "exit" and marker.close_reason else ""
    head = f"#{marker.block_id} T{marker.target} {marker.side.value} {marker.end}{reason}"
    r = "– R" if marker.r is None else f"{signed_money(marker.r)} R"
    price = format_number(marker.price, marker.price_tick)
    return f"{head} @ {price}<br>P&L {signed_money(marker.pnl)} {marker.quote} · {r}"


def _symbol(marker: TradeMarker) -> str:
    if marker.end == "exit":
        return "x-thin-open" if marker.pnl == 0 else "circle"
    return "triangle-up" if marker.side.value == "long" else "triangle-down"


def _color(marker: TradeMarker) -> str:
    if marker.end == "entry":
        return ENTRY
    return WIN if marker.pnl > 0 else (LOSS if marker.pnl < 0 else "#868e96")


def markers_trace(markers: Sequence[TradeMarker]) -> dict[str, Any]:
    """The trace of these markers (empty when hidden or none)."""
    texts = [tooltip(m) for m in markers]
    digest = hashlib.sha1("|".join(f"{m.ts}:{t}" for m, t in zip(markers, texts, strict=True)).encode()).hexdigest()
    return {
        "type": "scatter",
        "mode": "markers",
        "name": NAME,
        "meta": digest[:16],
        "x": [m.ts for m in markers],
        "y": [float(m.price) for m in markers],
        "text": texts,
        "hovertemplate": "%{text}<extra></extra>",
        "xaxis": "x",
        "yaxis": "y",
        "marker": {
            "symbol": [_symbol(m) for m in markers],
            "color": [_color(m) for m in markers],
            "size": 10,
            "opacity": 0.85,
            "line": {"width": 1, "color": "#ffffff"},
        },
    }
