"""The chart's figure without plotly's per-call validation is, byte for byte, the validated one."""

from __future__ import annotations

import json

import pytest
from plotly.utils import PlotlyJSONEncoder

from engine.market.api import ChartCandles
from pages.components import figures

T0 = 1_706_745_600_000


def _candles(count: int) -> ChartCandles:
    closes = [100.0 + (i % 3) - 1 for i in range(count)]
    opens = [100.0] * count
    return ChartCandles(
        "1m",
        "1m",
        False,
        [T0 + 60_000 * i for i in range(count)],
        opens,
        [max(o, c) + 0.5 for o, c in zip(opens, closes, strict=True)],
        [min(o, c) - 0.5 for o, c in zip(opens, closes, strict=True)],
        closes,
        [float(i) for i in range(count)],
    )


@pytest.mark.parametrize("dark", [None, False, True])
@pytest.mark.parametrize("x_range", [None, (T0, T0 + 300_000)])
def test_candle_figure_serializes_exactly_as_the_validated_plotly_figure(dark: bool | None, x_range: tuple | None):
    candles = _candles(7)
    fast = figures.candle_figure(candles, "BTC/USDT 1m", dark, uirevision="3", x_range=x_range)
    slow = figures._validated_figure(candles, "BTC/USDT 1m", dark, uirevision="3", x_range=x_range)
    assert json.dumps(fast, cls=PlotlyJSONEncoder) == json.dumps(slow, cls=PlotlyJSONEncoder)


def test_candle_figure_leaves_the_shared_skeleton_as_it_was():
    before = json.dumps(figures._skeleton(False, True), cls=PlotlyJSONEncoder)
    figures.candle_figure(_candles(3), "ETH/USDT 5m", False, uirevision="9", x_range=(T0, T0 + 60_000))
    assert json.dumps(figures._skeleton(False, True), cls=PlotlyJSONEncoder) == before
