"""What the chart is reading, as the page and the browser share it: the one-click timeframes the
stored pyramid holds for the series on screen, the market's precision and the user's timezone
that the readout, the axes and the crosshair labels use (assets/40-chart-reading.js), and the
chart's state as a URL query (exchange, symbol, timeframe, visible range) so a chart can be
bookmarked.

The browser writes the URL itself (history.replaceState, from the state kept in the
"chart-view" store): a dcc.Location would make Dash pages rebuild the whole page on each pan.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dash_bootstrap_components as dbc
from dash import html

from engine.common.timeframes import tf_ms
from engine.market.api import stored_levels

ONE_CLICK = ("1m", "5m", "15m", "1h", "4h", "1d")
BUTTON = "chart-tf"  # pattern-matching id type of the timeframe buttons
DEFAULT_DECIMALS = 2  # a market that publishes no tick


def levels(series_timeframe: str) -> list[str]:
    """The one-click timeframes a series of `series_timeframe` is stored at, and its own, finest first."""
    held = stored_levels(series_timeframe)
    return sorted({series_timeframe, *(tf for tf in ONE_CLICK if tf in held)}, key=tf_ms)


def level_for(series_timeframe: str, wanted: Any) -> str:
    """`wanted` when the series stores it, else the series' own timeframe."""
    return wanted if isinstance(wanted, str) and wanted in stored_levels(series_timeframe) else series_timeframe


def decimals(tick: Decimal | None) -> int:
    """Decimals a tick shows (0.01 -> 2, 0.5 -> 1, 10 -> 0); DEFAULT_DECIMALS without a tick."""
    if tick is None or tick <= 0:
        return DEFAULT_DECIMALS
    exponent = tick.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else DEFAULT_DECIMALS


def number_format(tick: Decimal | None) -> str:
    """A d3 format that writes numbers at the tick's precision, with separators and no SI suffix."""
    return f",.{decimals(tick)}f"


def zone(name: str | None) -> str:
    """The user's IANA timezone, or UTC for a missing or unknown one."""
    try:
        ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return name or "UTC"


def zone_label(name: str, at_ms: int | None = None) -> str:
    """How the zone is labelled next to the times: "Europe/Paris (UTC+01:00)", or "UTC"."""
    if name == "UTC":
        return "UTC"
    at = datetime.fromtimestamp((at_ms or 0) / 1000, UTC) if at_ms else datetime.now(UTC)
    offset = at.astimezone(ZoneInfo(name)).strftime("%z")
    return f"{name} (UTC{offset[:3]}:{offset[3:]})"


def query(exchange: str, symbol: str, timeframe: str, start_ms: int | None = None, end_ms: int | None = None) -> str:
    """The URL query of a chart: `?exchange=..&symbol=..&timeframe=..[&from=<ms>&to=<ms>]`."""
    params: dict[str, Any] = {"exchange": exchange, "symbol": symbol, "timeframe": timeframe}
    if start_ms is not None and end_ms is not None and end_ms > start_ms:
        params.update({"from": int(start_ms), "to": int(end_ms)})
    return "?" + urlencode(params)


def timeframe_buttons(available: list[str], current: str) -> dbc.ButtonGroup:
    """One button per stored one-click timeframe; the one shown is pressed."""
    return dbc.ButtonGroup(
        [
            dbc.Button(
                tf,
                id={"type": BUTTON, "tf": tf},
                n_clicks=0,
                size="sm",
                color="primary",
                outline=tf != current,
                active=tf == current,
                class_name="py-0",
            )
            for tf in available
        ],
        id="chart-timeframes",
        size="sm",
    )


def reading(
    exchange: str, symbol: str, level: str, price_tick: Decimal | None, amount_tick: Decimal | None, tz: str
) -> dict[str, Any]:
    """What the browser needs to read the chart: the URL's base query and the precision and zone."""
    return {
        "query": query(exchange, symbol, level),
        "price_decimals": decimals(price_tick),
        "volume_decimals": decimals(amount_tick),
        "tz": tz,
        "tz_label": zone_label(tz),
    }


def readout() -> html.Div:
    """The OHLC/change/volume line over the chart (filled in by assets/40-chart-reading.js)."""
    classes = "small font-monospace text-body-secondary"
    return html.Div(id="chart-readout", className=classes, style={"minHeight": "1.3em"})
