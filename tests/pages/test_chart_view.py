"""The chart's reading as pure logic: one-click timeframes from the stored pyramid, precision as
d3 formats, the user's zone and its label, the URL of a chart, and links and bookmarks parsed."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs

import pytest

from engine.market.api import ChartCandles
from pages.components import chart_focus, chart_view, figures

T0 = 1_706_745_600_000  # 2024-02-01 00:00 UTC


def test_the_buttons_offer_the_one_click_timeframes_the_series_stores() -> None:
    assert chart_view.levels("1m") == ["1m", "5m", "15m", "1h", "4h", "1d"]
    assert chart_view.levels("15m") == ["15m", "1h", "4h", "1d"]
    assert chart_view.levels("1h") == ["1h", "4h", "1d"]
    assert chart_view.levels("3m") == ["3m", "15m", "1h", "4h", "1d"]  # 5m is no multiple of 3m


@pytest.mark.parametrize(
    ("series", "wanted", "shown"),
    [("1m", "15m", "15m"), ("1h", "15m", "1h"), ("1m", None, "1m"), ("1m", "7m", "1m"), ("1m", ["1h"], "1m")],
)
def test_a_level_the_series_does_not_store_falls_back_to_its_own(series: str, wanted: object, shown: str) -> None:
    assert chart_view.level_for(series, wanted) == shown


@pytest.mark.parametrize(
    ("tick", "decimals", "fmt"),
    [
        (Decimal("0.01"), 2, ",.2f"),
        (Decimal("0.5"), 1, ",.1f"),
        (Decimal("10"), 0, ",.0f"),
        (Decimal("0.00001000"), 5, ",.5f"),
        (None, 2, ",.2f"),
    ],
)
def test_prices_are_written_at_the_markets_tick(tick: Decimal | None, decimals: int, fmt: str) -> None:
    assert chart_view.decimals(tick) == decimals
    assert chart_view.number_format(tick) == fmt


def test_the_zone_is_the_users_and_labelled_with_its_offset() -> None:
    assert chart_view.zone("Europe/Paris") == "Europe/Paris"
    assert chart_view.zone("Mars/Olympus") == "UTC"
    assert chart_view.zone(None) == "UTC"
    assert chart_view.zone_label("Europe/Paris", T0) == "Europe/Paris (UTC+01:00)"
    assert chart_view.zone_label("Europe/Paris", T0 + 180 * 86_400_000) == "Europe/Paris (UTC+02:00)"
    assert chart_view.zone_label("UTC") == "UTC"


def test_a_charts_url_round_trips_through_the_focus_parser() -> None:
    query = chart_view.query("demo", "BTC/USDT", "15m", T0 - 3_600_000, T0)
    params = {k: v[0] for k, v in parse_qs(query[1:]).items()}
    focus = chart_focus.parse_focus(params)
    assert focus == chart_focus.Focus("demo", "BTC/USDT", "15m", None, None, T0 - 3_600_000, T0)
    assert chart_view.query("demo", "BTC/USDT", "1m") == "?exchange=demo&symbol=BTC%2FUSDT&timeframe=1m"


@pytest.mark.parametrize(
    "params",
    [
        {"exchange": "demo", "symbol": "BTC/USDT", "timeframe": "1m", "from": "9", "to": "5"},  # backwards
        {"exchange": "demo", "symbol": "BTC/USDT", "timeframe": "1m", "from": "5"},  # half a range
        {"exchange": "demo", "symbol": "BTC/USDT", "timeframe": "1x", "from": "1", "to": "5"},
        {"exchange": "demo", "symbol": "<script>", "timeframe": "1m", "at": "5"},
    ],
)
def test_a_malformed_link_opens_the_chart_as_usual(params: dict[str, str]) -> None:
    assert chart_focus.parse_focus(params) is None


def test_a_link_on_a_moment_still_parses_and_a_range_is_shown_with_room_to_pan() -> None:
    focus = chart_focus.parse_focus({"exchange": "demo", "symbol": "ETH/USDT", "timeframe": "5m", "at": str(T0)})
    assert focus is not None
    assert (focus.at, focus.start, focus.end) == (T0, None, None)
    loaded, shown = chart_focus.shown_range(T0 - 4_000, T0)
    assert shown == (T0 - 4_000, T0)
    assert loaded == (T0 - 6_000, T0 + 2_000)


def _candles(closes: list[float]) -> ChartCandles:
    ts = [T0 + 60_000 * i for i in range(len(closes))]
    return ChartCandles("1m", "1m", False, ts, closes, closes, closes, closes, [1.0] * len(closes))


def test_the_last_price_is_a_line_and_a_label_in_the_markets_precision() -> None:
    figure = figures.candle_figure(_candles([33_250.5, 33_260.126]), "BTC/USDT 1m", False, "1", None, Decimal("0.01"))
    assert figure["data"][figures.LAST_TRACE]["x"] == [T0, T0 + 60_000]
    assert figure["data"][figures.LAST_TRACE]["y"] == [33_260.126, 33_260.126]
    (label,) = figure["layout"]["annotations"]
    assert label["text"] == "33,260.13"
    assert label["bgcolor"] == figures.UP
    assert figure["layout"]["yaxis"]["tickformat"] == ",.2f"
    assert figure["layout"]["yaxis"]["hoverformat"] == ",.2f"


def test_a_live_update_moves_the_last_price() -> None:
    patch, count = figures.append_data(_candles([100.0, 99.5]), 10, T0 - 60_000, T0 - 600_000, Decimal("0.1"))
    assert count == 12
    changes = {tuple(op["location"]): op["params"] for op in patch.to_plotly_json()["operations"]}
    assert changes[("data", figures.LAST_TRACE)]["value"] == {"x": [T0 - 600_000, T0 + 60_000], "y": [99.5, 99.5]}
    (label,) = changes[("layout", "annotations")]["value"]
    assert (label["text"], label["bgcolor"]) == ("99.5", figures.DOWN)
