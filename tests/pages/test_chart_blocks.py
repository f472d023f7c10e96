"""The chart's block management helpers (pages/components/chart_blocks.py): which line a dragged
shape is, the price it was let go at, the amend a drag asks, and how answers are worded."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from db.enums import BlockStatus, CloseReason, EntryType, Side, SizeMode, TradeStatus
from engine.blocks.api import BlockAmend, BlockDetail, BlockSummary, FieldError, NewTarget, TradeRecord
from pages.components import chart_blocks as cb

D = Decimal


def trade(
    index: int, stop: str, status: TradeStatus = TradeStatus.OPEN, reason: CloseReason | None = None
) -> TradeRecord:
    filled = D("0.01") if status is not TradeStatus.PENDING else D(0)
    return TradeRecord(
        index, index, status, D("0.01"), D("110") + index, D(stop), filled, None, D(0), None, D(0), D(0), reason
    )


def detail(*trades: TradeRecord) -> BlockDetail:
    block = BlockSummary(
        7, 1, "demo", "BTC/USDT", Side.LONG, EntryType.LIMIT, D("100"), D("95"), SizeMode.BASE, D("0.03"),
        D("0.03"), D("0.15"), BlockStatus.ACTIVE, None, datetime(2024, 2, 1, tzinfo=UTC), None, trades,
    )  # fmt: skip
    return BlockDetail(block, (), ())


def test_a_shape_name_says_which_block_line_it_is() -> None:
    assert cb.block_line("tb-block-7-stop-95.5") == cb.BlockLine(7, "stop", price=D("95.5"))
    assert cb.block_line("tb-block-7-target-2") == cb.BlockLine(7, "target", 2)
    assert cb.block_line("tb-block-7-target-2").label == "#7 T3"  # type: ignore[union-attr]
    for other in ("tb-block-7-entry", "tb-preview-stop", "drawing-0", "tb-block-x-stop-1", "tb-block-7-stop-abc"):
        assert cb.block_line(other) is None
    assert cb.block_ids(["tb-block-7-entry", "tb-block-7-stop-95", "tb-block-9-target-0", "drawing-0"]) == [7, 9]


def test_the_dragged_line_and_its_price_on_the_tick() -> None:
    names = ["tb-block-7-entry", "tb-preview-stop", "tb-block-7-stop-95", "drawing-0"]
    assert cb.dragged({"shapes[1].y0": 90, "shapes[1].y1": 90}, names) is None  # a proposed line: the form's
    assert cb.dragged({"shapes[0].y0": 90}, names) is None  # an entry is not moved
    assert cb.dragged({"shapes[9].y0": 90}, names) is None
    assert cb.dragged({"xaxis.range[0]": 1}, names) is None
    line, y = cb.dragged({"shapes[2].y1": 96.2, "shapes[2].y0": 96.1}, names)  # type: ignore[misc]
    assert (line, y) == (cb.BlockLine(7, "stop", price=D("95")), 96.1)
    assert cb.price_at(96.123456, "0.01") == D("96.12")
    assert cb.price_at(96.125001, "0.05") == D("96.15")
    assert cb.price_at(96.12, None) == D("96.12")
    for bad in (None, "x", -1, 0, float("nan")):
        assert cb.price_at(bad, "0.01") is None


def test_a_drag_asks_the_amend_of_its_line() -> None:
    both = detail(trade(0, "95"), trade(1, "95"))
    assert cb.drag_amend(cb.BlockLine(7, "target", 1), D("120"), both) == {"targets": [{"index": 1, "price": "120"}]}
    assert cb.drag_amend(cb.BlockLine(7, "stop", price=D("95")), D("96"), both) == {"stop_price": "96"}
    # A trade closed at its target keeps no stop: the other trades' stop is every live one's.
    done = detail(trade(0, "95", TradeStatus.CLOSED, CloseReason.TARGET), trade(1, "100"), trade(2, "95"))
    assert cb.drag_amend(cb.BlockLine(7, "stop", price=D("100")), D("101"), done) == {
        "stop_price": "101",
        "stop_target": 1,
    }
    shared = detail(trade(0, "95"), trade(1, "95"), trade(2, "100"))
    assert "T1, T2" in str(cb.drag_amend(cb.BlockLine(7, "stop", price=D("95")), D("96"), shared))
    assert "moved meanwhile" in str(cb.drag_amend(cb.BlockLine(7, "stop", price=D("90")), D("96"), both))


def test_answers_in_words() -> None:
    tick = D("0.01")
    assert cb.done_words(BlockAmend(stop_price=D("34000")), tick) == "stop moved to 34,000.00"
    assert cb.done_words(BlockAmend(breakeven=True), tick) == "stop moved to break-even"
    assert cb.done_words(BlockAmend(targets=((1, D("37500")),)), tick) == "T2 moved to 37,500.00"
    assert cb.done_words(BlockAmend(remove_target=0), tick) == "T1 removed"
    assert cb.done_words(BlockAmend(add_target=NewTarget(D("38000"))), tick) == "target added at 38,000.00"
    assert cb.done_words(BlockAmend(size=D("0.0300")), tick) == "unfilled size set to 0.03"
    errors = [
        FieldError("size", "Size too small."),
        FieldError("stop_price", "Stop too high."),
        FieldError("size", "Below the minimum."),
        FieldError("amend", "Stop too high."),
    ]
    assert cb.split_errors(errors) == ({cb.SIZE: "Size too small. Below the minimum."}, "Stop too high.")
    assert cb.size_placeholder(detail(trade(0, "95", TradeStatus.PENDING), trade(1, "95")), D("0.001")) == (
        "now 0.010 BTC"
    )
    assert cb.remove_options(detail(trade(0, "95")), tick) == [{"label": "T1 at 110.00", "value": "0"}]


def test_the_panel_picks_the_block_wanted_or_the_only_one() -> None:
    assert cb.picked_block(9, [7, 9]) == 9
    assert cb.picked_block(8, [7, 9]) is None  # gone from the chart: nothing picked
    assert cb.picked_block(None, [7]) == 7
    assert cb.picked_block("7", [7, 9]) is None
    assert cb.picked_block(None, []) is None
