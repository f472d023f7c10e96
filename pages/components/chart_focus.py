"""The chart opened on a moment and a block, from a link (the journal's "open on the chart"):
`/?exchange=..&symbol=..&timeframe=..&at=<ms>&block=<id>` shows that series centred on `at`, with
the block's entry, stop and target lines and its fills even when the block is closed; and on a
bookmarked view (pages/components/chart_view.py writes it): `/?exchange=..&symbol=..&timeframe=..
&from=<ms>&to=<ms>` shows exactly that range.

Everything in the query comes from the browser: it is parsed strictly here (a bad link opens the
chart as usual), and the block is read for the signed-in user only (engine.blocks.api raises
BlockAccessError for anyone else's).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from engine.blocks.api import ChartOverlays
from engine.common.timeframes import tf_ms
from pages.components.figures import INITIAL_CANDLES

STORE = "chart-focus"
_NAME = re.compile(r"^[A-Za-z0-9_.:/\-]{1,64}$")
# The chart's timeframe for a trade: the finest one that shows its whole life in about a screen.
_TIMEFRAMES = ("1m", "5m", "15m", "1h", "4h", "1d")


@dataclass(frozen=True)
class Focus:
    exchange: str
    symbol: str
    timeframe: str
    at: int | None  # ms
    block: int | None
    start: int | None = None  # ms: the visible range of a bookmark
    end: int | None = None


def _text(query: Mapping[str, Any], key: str) -> str | None:
    value = query.get(key)
    return value if isinstance(value, str) and _NAME.match(value) else None


def _integer(query: Mapping[str, Any], key: str) -> int | None:
    value = query.get(key)
    if not isinstance(value, str) or not value.isdigit() or len(value) > 15:
        return None
    return int(value)


def parse_focus(query: Mapping[str, Any]) -> Focus | None:
    """The focus a link asks for (a moment `at`, or a range `from`..`to`), or None when any part
    is missing or malformed."""
    exchange, symbol, timeframe = _text(query, "exchange"), _text(query, "symbol"), _text(query, "timeframe")
    at, start, end = _integer(query, "at"), _integer(query, "from"), _integer(query, "to")
    if start is None or end is None or end <= start:
        start = end = None
    if exchange is None or symbol is None or timeframe is None or (at is None and start is None):
        return None
    try:
        tf_ms(timeframe)
    except (KeyError, ValueError):
        return None
    return Focus(exchange, symbol, timeframe, at, _integer(query, "block"), start, end)


def timeframe_for(duration_ms: int | None) -> str:
    """The finest timeframe whose INITIAL_CANDLES candles cover the trade with room on both sides."""
    span = max(0, duration_ms or 0) * 3
    for timeframe in _TIMEFRAMES:
        if tf_ms(timeframe) * INITIAL_CANDLES >= span:
            return timeframe
    return _TIMEFRAMES[-1]


def chart_href(exchange: str, symbol: str, timeframe: str, at_ms: int, block_id: int) -> str:
    query = {"exchange": exchange, "symbol": symbol, "timeframe": timeframe, "at": at_ms, "block": block_id}
    return "/?" + urlencode(query)


def window(at_ms: int, step_ms: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """(candles to load, x range shown): a screen of candles centred on `at`, and as much again to
    pan through on each side."""
    half = step_ms * INITIAL_CANDLES // 2
    return (at_ms - 3 * half, at_ms + 3 * half), (at_ms - half, at_ms + half)


def shown_range(start_ms: int, end_ms: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """(candles to load, x range shown) of a bookmarked range: the range, and half of it again on
    each side to pan through (the point budget still applies to what is read)."""
    pad = (end_ms - start_ms) // 2
    return (start_ms - pad, end_ms + pad), (start_ms, end_ms)


def merged(live: ChartOverlays, focused: ChartOverlays) -> ChartOverlays:
    """The live blocks' overlays and the focused block's, each block once."""
    ids = {line.block_id for line in focused.lines} | {fill.block_id for fill in focused.fills}
    lines = [ln for ln in live.lines if ln.block_id not in ids] + focused.lines
    fills = sorted([f for f in live.fills if f.block_id not in ids] + focused.fills, key=lambda f: f.ts)
    return ChartOverlays(lines, fills)
