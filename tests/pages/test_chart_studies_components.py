"""The chart's studies as the page draws them (pages/components/chart_indicators.py,
chart_indicators_callbacks.py, chart_markers.py, block_form_atr.py): trace names and panes, when a
live candle sends only the newest values, the markers' tooltips, the ATR stop on the tick."""

from __future__ import annotations

from decimal import Decimal

from dash import Patch

from db.enums import CloseReason, Side
from engine.blocks.api import TradeMarker
from engine.market.api import IndicatorSpec, StudyLines
from pages.components import block_form_atr as atr
from pages.components import chart_indicators as ci
from pages.components import chart_markers
from pages.components.chart_indicators_callbacks import _tail_from, _tail_patch

SMA, RSI, ATR = IndicatorSpec("sma", 9), IndicatorSpec("rsi", 14), IndicatorSpec("atr", 14)


def test_oscillators_get_panes_between_the_prices_and_the_volume() -> None:
    layout = ci.pane_layout([SMA, RSI, ATR, IndicatorSpec("rsi", 7)])
    assert layout["yaxis3"]["title"]["text"] == "RSI 14, RSI 7"  # one pane per name
    assert layout["yaxis3"]["range"] == [0, 100]
    assert (layout["yaxis3"]["tickvals"], layout["yaxis3"]["showgrid"]) == ([30, 70], True)  # the guides
    assert "tickvals" not in layout["yaxis4"]
    assert layout["yaxis4"]["title"]["text"] == "ATR 14"
    price, rsi, atr_pane, volume = (layout[k] for k in ("yaxis.domain", "yaxis3", "yaxis4", "yaxis2.domain"))
    assert volume[1] < atr_pane["domain"][0] < atr_pane["domain"][1] < rsi["domain"][0] < rsi["domain"][1] < price[0]
    back = ci.pane_layout([SMA])
    assert (back["yaxis3"], back["yaxis4"]) == (None, None)  # panes removed with their indicators
    assert back["yaxis.domain"][1] == 1


def test_traces_are_named_by_indicator_and_line_on_their_axis() -> None:
    studies = [StudyLines(SMA, [1, 2], {"sma": [None, 2.0]}), StudyLines(RSI, [1, 2], {"rsi": [50.0, 60.0]})]
    traces = ci.study_traces(studies, "1m")
    assert [(t["name"], t["yaxis"], t["meta"]) for t in traces] == [
        ("ind:sma-9:sma", "y", "1m"),
        ("ind:rsi-14:rsi", "y3", "1m"),
    ]


def request(held: list[dict], first: int = 1, last: int = 3, level: str = "1m") -> dict:
    return {"series_id": 1, "level": level, "first_ts": first, "last_ts": last, "held": held}


def test_a_live_candle_sends_only_what_is_newer_than_the_figure() -> None:
    names = ["ind:sma-9:sma"]
    held = [{"i": 4, "name": "ind:sma-9:sma", "meta": "1m", "n": 2, "first": 1, "last": 2}]
    assert _tail_from(request(held), names) == 2
    assert _tail_from(request(held), ["ind:rsi-14:rsi"]) is None  # another choice: drawn again
    assert _tail_from(request(held, first=0), names) is None  # another window
    assert _tail_from(request(held, level="5m"), names) is None  # another level
    assert _tail_from(request([]), []) == 3  # none wanted, none held: nothing to redraw
    patch = Patch()
    assert _tail_patch(patch, request(held), [StudyLines(SMA, [2, 3], {"sma": [2.5, 3.0]})])
    ops = patch.to_plotly_json()["operations"]
    assert {"operation": "Assign", "location": ["data", 4, "y", 1], "params": {"value": 2.5}} in ops
    assert {"operation": "Extend", "location": ["data", 4, "y"], "params": {"value": [3.0]}} in ops


def marker(end: str, pnl: str, r: str | None) -> TradeMarker:
    return TradeMarker(
        7, 2, end, Side.SHORT, Decimal("33900.5"), 1, Decimal(pnl), None if r is None else Decimal(r),
        CloseReason.STOP, "USDT", Decimal("0.01"),
    )  # fmt: skip


def test_a_markers_tooltip_says_block_side_price_pnl_and_r() -> None:
    assert chart_markers.tooltip(marker("exit", "-12.345", "-1.2345")) == (
        "#7 T2 short exit (stop) @ 33,900.50<br>P&L -12.35 USDT · -1.23 R"
    )
    assert chart_markers.tooltip(marker("entry", "5", None)) == "#7 T2 short entry @ 33,900.50<br>P&L +5.00 USDT · – R"
    one, two = chart_markers.markers_trace([marker("exit", "1", "1")]), chart_markers.markers_trace([])
    assert one["meta"] != two["meta"]  # what is shown changed: sent again


def test_the_atr_stop_is_on_the_tick_and_never_nearer_than_k_atr() -> None:
    tick = Decimal("0.5")
    assert atr.suggest_stop(Decimal(100), Decimal("1.3"), Decimal("1.5"), Side.LONG, tick) == Decimal("98")  # 98.05
    assert atr.suggest_stop(Decimal(100), Decimal("1.3"), Decimal("1.5"), Side.SHORT, tick) == Decimal("102")  # 101.95
    assert atr.suggest_stop(Decimal(1), Decimal(1), Decimal(2), Side.LONG, tick) is None
    assert atr.parse_k("1,5") == Decimal("1.5")
    assert atr.parse_k("0") == "k is above 0 and at most 20."
    assert atr.parse_n("x") == "n is a whole number from 1 to 500."
