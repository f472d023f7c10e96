"""The conditions drawn on the chart (pages/components/chart_conditions.py): which belong to the
market shown, their labels at the market's tick, and their shapes (a level's horizontal line, a
time's vertical line, dotted while the step before has not fired)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from engine.conditions.api import ConditionView
from pages.components.chart_conditions import condition_shapes, items, label, on_market
from pages.components.chart_shapes import is_ours

AT = 1_764_752_400_000  # 2025-12-03 09:00 UTC
LEVEL = ConditionView(
    id=4, parent_id=None, kind="close_above", account_id=1, series_id=2, exchange="demo", symbol="BTC/USDT",
    timeframe="15m", price=Decimal("70000"), at_ms=None, status="waiting", reason=None, block_id=None,
    block_symbol="BTC/USDT", block_side="long", block_entry="limit", created_at=datetime.now(UTC), done_at=None,
    text="when BTC/USDT closes above 70,000 on 15m", block_exchange="demo",
)  # fmt: skip
TIME = replace(LEVEL, id=5, parent_id=4, kind="at_time", series_id=None, exchange=None, symbol=None,
               timeframe=None, price=None, at_ms=AT, status="pending", block_symbol="ETH/USDT", block_side="short",
               block_exchange="")  # fmt: skip


def test_a_condition_is_on_the_market_it_watches_or_trades() -> None:
    assert on_market(LEVEL, "demo", "BTC/USDT")
    assert not on_market(LEVEL, "binance", "BTC/USDT")
    assert on_market(TIME, "demo", "ETH/USDT")  # a time condition: the market its block trades
    assert not on_market(TIME, "demo", "BTC/USDT")
    assert not on_market(replace(LEVEL, status="fired"), "demo", "BTC/USDT")


def test_labels_say_the_condition_at_the_markets_tick_and_its_block() -> None:
    assert label(LEVEL, Decimal("0.01"), "BTC/USDT") == "when close > 70,000.00 (15m) -> long block"
    below = replace(LEVEL, kind="close_below", price=Decimal("69999.5"))
    assert label(below, Decimal("0.1"), "BTC/USDT") == "when close < 69,999.5 (15m) -> long block"
    assert label(replace(LEVEL, kind="crosses"), None, "BTC/USDT") == "when price crosses 70,000 -> long block"
    assert label(TIME, None, "ETH/USDT") == "at 2025-12-03 09:00 UTC -> short block (after #4)"
    assert label(TIME, None, "BTC/USDT").endswith("-> short ETH/USDT block (after #4)")


def test_shapes_are_drawn_for_their_own_series_only_and_are_ours() -> None:
    drawn = items([TIME, LEVEL], Decimal("0.01"), 2, "BTC/USDT")
    assert [c["id"] for c in drawn["conditions"]] == [4, 5]
    assert condition_shapes(drawn, 3) == []
    level, moment = condition_shapes(drawn, 2)
    assert (level["yref"], level["y0"], level["y1"], level["line"]["dash"]) == ("y", 70000.0, 70000.0, "dash")
    assert level["label"]["text"] == "when close > 70,000.00 (15m) -> long block"
    assert (moment["xref"], moment["x0"], moment["yref"], moment["line"]["dash"]) == ("x", AT, "paper", "dot")
    assert all(is_ours(shape) for shape in (level, moment))  # never saved as the user's drawings
    assert not level["editable"]
