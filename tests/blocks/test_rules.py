"""The bracket rules as pure decisions on hand-made snapshots (engine.blocks.rules, engine.blocks.views)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from db.enums import BlockStatus, CloseReason, OrderRole, OrderStatus, OrderType, ProtectionMode, Side, TradeStatus
from engine.blocks.rules import MAX_SL_REJECTS, CancelOrder, CloseTrade, MoveStop, PlaceOco, PlaceOrder, decide
from engine.blocks.views import BlockView, OrderView, TradeView, settle_block, settle_trade

D = Decimal
OS, R, S, T = OrderStatus, OrderRole, OrderType, TradeStatus
NOW = 1_000_000


def order(
    oid: int,
    role: OrderRole,
    status: OrderStatus,
    amount: str = "1",
    filled: str = "0",
    average: str | None = None,
    type_: OrderType | None = None,
    stop: str | None = None,
    price: str | None = None,
    seq: int = 1,
    fee: str = "0",
    side: str = "sell",
) -> OrderView:
    default = {R.ENTRY: S.LIMIT, R.SL: S.STOP_MARKET, R.TP: S.MARKET, R.EXIT: S.MARKET}[role]
    return OrderView(
        id=oid,
        role=role,
        type=type_ or default,
        side=side,
        amount=D(amount),
        price=D(price) if price else (D("100") if role is R.ENTRY else None),
        stop_price=D(stop) if stop else None,
        status=status,
        filled=D(filled),
        average=D(average) if average else None,
        fee=D(fee),
        seq=seq,
    )


def entry(status: OrderStatus = OS.FILLED, filled: str = "1", amount: str = "1", fee: str = "0") -> OrderView:
    return order(1, R.ENTRY, status, amount=amount, filled=filled, average="100" if D(filled) else None, fee=fee)


def trade(
    *orders: OrderView,
    status: TradeStatus = T.OPEN,
    stop: str = "95",
    target: str = "110",
    reason: CloseReason | None = None,
    tid: int = 10,
    index: int = 0,
    opened_ms: int | None = 0,
) -> TradeView:
    return TradeView(tid, index, status, D("1"), D(target), D(stop), reason, opened_ms, tuple(orders))


def block(
    *trades: TradeView, side: Side = Side.LONG, mode: ProtectionMode = ProtectionMode.STOP_RESTS, **kw
) -> BlockView:
    return BlockView(
        id=1,
        symbol="SOL/USDT",
        side=side,
        protection=mode,
        stop_price=kw.pop("stop_price", D("95")),
        status=kw.pop("status", BlockStatus.ACTIVE),
        created_ms=0,
        trades=tuple(trades),
        price_tick=D("0.01"),
        fee_rate=D("0.001"),
        **kw,
    )


def test_a_pending_entry_needs_nothing() -> None:
    b = block(trade(entry(OS.ACCEPTED, filled="0"), status=T.PENDING))
    assert decide(b, NOW, D("101")) == []


def test_a_filled_entry_gets_a_stop_for_exactly_its_amount() -> None:
    b = block(trade(entry()))
    assert decide(b, NOW, D("101")) == [PlaceOrder(10, R.SL, S.STOP_MARKET, "sell", D("1"), 1, stop_price=D("95"))]


def test_a_partly_filled_entry_is_protected_for_the_filled_part_only() -> None:
    b = block(trade(entry(OS.PARTIALLY_FILLED, filled="0.4")))
    (action,) = decide(b, NOW, D("101"))
    assert isinstance(action, PlaceOrder)
    assert (action.role, action.amount) == (R.SL, D("0.4"))


def test_a_stop_for_another_amount_is_canceled_then_replaced_with_the_next_seq() -> None:
    sl = order(2, R.SL, OS.ACCEPTED, amount="0.4", stop="95")
    b = block(trade(entry(), sl))
    assert decide(b, NOW, D("101")) == [CancelOrder(2, "sl replaced")]
    gone = order(2, R.SL, OS.CANCELED, amount="0.4", stop="95")
    (place,) = decide(block(trade(entry(), gone)), NOW, D("101"))
    assert isinstance(place, PlaceOrder)
    assert (place.amount, place.seq) == (D("1"), 2)


def test_a_matching_stop_is_left_alone_and_decisions_repeat() -> None:
    b = block(trade(entry(), order(2, R.SL, OS.ACCEPTED, stop="95")))
    assert decide(b, NOW, D("101")) == []
    b2 = block(trade(entry(), order(2, R.SL, OS.INITIALIZED, stop="95")))  # an intent not sent yet counts
    assert decide(b2, NOW, D("101")) == decide(b2, NOW, D("101")) == []


def test_stop_rests_target_reached_cancels_the_stop_then_exits_at_market() -> None:
    sl = order(2, R.SL, OS.ACCEPTED, stop="95")
    assert decide(block(trade(entry(), sl)), NOW, D("110")) == [
        CloseTrade(10, CloseReason.TARGET),
        CancelOrder(2, "closing (target)"),
    ]
    closing = trade(entry(), order(2, R.SL, OS.CANCELED, stop="95"), reason=CloseReason.TARGET)
    assert decide(block(closing), NOW, D("108")) == [PlaceOrder(10, R.TP, S.MARKET, "sell", D("1"), 1)]


def test_while_the_stop_cancel_is_pending_no_exit_is_placed() -> None:
    closing = trade(entry(), order(2, R.SL, OS.PENDING_CANCEL, stop="95"), reason=CloseReason.TARGET)
    assert decide(block(closing), NOW, D("110")) == [CancelOrder(2, "closing (target)")]


def test_if_the_stop_filled_instead_the_trade_closes_by_the_stop() -> None:
    sl = order(2, R.SL, OS.FILLED, stop="95", filled="1", average="95")
    t = trade(entry(), sl, reason=CloseReason.TARGET)
    figures = settle_trade(block(t), t)
    assert (figures.status, figures.close_reason, figures.realized_pnl) == (T.CLOSED, CloseReason.STOP, D("-5"))


def test_reduce_only_mode_rests_a_limit_target_beside_the_stop() -> None:
    b = block(trade(entry()), mode=ProtectionMode.REDUCE_ONLY)
    assert decide(b, NOW, D("111")) == [
        PlaceOrder(10, R.SL, S.STOP_MARKET, "sell", D("1"), 1, stop_price=D("95"), reduce_only=True),
        PlaceOrder(10, R.TP, S.LIMIT, "sell", D("1"), 1, price=D("110"), reduce_only=True),
    ]


def test_a_trade_closed_by_its_resting_target_cancels_the_stop_left_beside_it() -> None:
    tp = order(3, R.TP, OS.FILLED, filled="1", average="110", price="110")
    sl = order(2, R.SL, OS.ACCEPTED, stop="95")
    done = trade(entry(), sl, tp, status=T.CLOSED, reason=CloseReason.TARGET)
    b = block(done, mode=ProtectionMode.REDUCE_ONLY)
    assert decide(b, NOW, D("111")) == [CancelOrder(2, "trade closed")]
    # ... and the block is not closed while that stop is live (a closed block is no longer driven).
    assert settle_block(b, [T.CLOSED]) is BlockStatus.ACTIVE
    gone = trade(entry(), order(2, R.SL, OS.CANCELED, stop="95"), tp, status=T.CLOSED, reason=CloseReason.TARGET)
    assert settle_block(block(gone, mode=ProtectionMode.REDUCE_ONLY), [T.CLOSED]) is BlockStatus.CLOSED


def test_breakeven_moves_the_other_stops_after_the_first_target() -> None:
    done = trade(
        entry(),
        order(3, R.TP, OS.FILLED, filled="1", average="105"),
        status=T.CLOSED,
        reason=CloseReason.TARGET,
        tid=10,
    )
    other = trade(entry(), order(4, R.SL, OS.ACCEPTED, stop="95"), tid=11, index=1, target="115")
    b = block(done, other, breakeven_after_first=True)
    actions = decide(b, NOW, D("104"))
    # (100 * 1.001 / 0.999 = 100.2002..., rounded up to the 0.01 tick)
    assert actions == [MoveStop(11, D("100.21")), CancelOrder(4, "sl replaced")]
    moved = trade(entry(), order(4, R.SL, OS.CANCELED, stop="95"), tid=11, index=1, target="115", stop="100.21")
    (place,) = decide(block(done, moved, breakeven_after_first=True), NOW, D("104"))
    assert isinstance(place, PlaceOrder)
    assert (place.stop_price, place.seq) == (D("100.21"), 2)


def test_a_breakeven_stop_that_fills_closes_as_breakeven() -> None:
    t = trade(entry(), order(2, R.SL, OS.FILLED, stop="100.21", filled="1", average="100.21"), stop="100.21")
    assert settle_trade(block(t), t).close_reason is CloseReason.BREAKEVEN


def test_entry_timeout_cancels_the_entry_and_keeps_a_filled_part() -> None:
    pending = trade(entry(OS.ACCEPTED, filled="0"), status=T.PENDING)
    assert decide(block(pending, entry_timeout_s=60), 59_999, None) == []
    assert decide(block(pending, entry_timeout_s=60), 60_000, None) == [CancelOrder(1, "entry timed out")]
    partial = trade(entry(OS.PARTIALLY_FILLED, filled="0.3"), order(2, R.SL, OS.ACCEPTED, amount="0.3", stop="95"))
    assert decide(block(partial, entry_timeout_s=60), 60_000, D("101")) == [CancelOrder(1, "entry timed out")]
    canceled = trade(entry(OS.CANCELED, filled="0.3"), order(2, R.SL, OS.ACCEPTED, amount="0.3", stop="95"))
    assert settle_trade(block(canceled), canceled).status is T.OPEN
    nothing = trade(entry(OS.CANCELED, filled="0"), status=T.PENDING)
    assert settle_trade(block(nothing), nothing).status is T.CANCELED


def test_max_duration_closes_at_market_for_time() -> None:
    t = trade(entry(), order(2, R.SL, OS.ACCEPTED, stop="95"), opened_ms=1_000)
    assert decide(block(t, max_duration_s=10), 10_999, D("101")) == []
    assert decide(block(t, max_duration_s=10), 11_000, D("101")) == [
        CloseTrade(10, CloseReason.TIME),
        CancelOrder(2, "closing (time)"),
    ]
    gone = trade(entry(), order(2, R.SL, OS.CANCELED, stop="95"), reason=CloseReason.TIME)
    assert decide(block(gone, max_duration_s=10), 11_000, D("101")) == [
        PlaceOrder(10, R.EXIT, S.MARKET, "sell", D("1"), 1)
    ]
    exited = trade(entry(), order(3, R.EXIT, OS.FILLED, filled="1", average="101"), reason=CloseReason.TIME)
    assert settle_trade(block(exited), exited).close_reason is CloseReason.TIME


def test_short_side_mirrors_everything() -> None:
    short_entry = order(1, R.ENTRY, OS.FILLED, filled="1", average="100", side="sell")
    b = block(trade(short_entry, stop="105", target="90"), side=Side.SHORT, stop_price=D("105"))
    assert decide(b, NOW, D("99")) == [PlaceOrder(10, R.SL, S.STOP_MARKET, "buy", D("1"), 1, stop_price=D("105"))]
    protected = trade(short_entry, order(2, R.SL, OS.ACCEPTED, stop="105", side="buy"), stop="105", target="90")
    b2 = block(protected, side=Side.SHORT, stop_price=D("105"))
    assert decide(b2, NOW, D("90.01")) == []
    assert decide(b2, NOW, D("90"))[0] == CloseTrade(10, CloseReason.TARGET)


def test_a_stop_the_price_is_already_past_becomes_a_market_close() -> None:
    b = block(trade(entry()))
    assert decide(b, NOW, D("94")) == [
        CloseTrade(10, CloseReason.STOP),
        PlaceOrder(10, R.EXIT, S.MARKET, "sell", D("1"), 1),
    ]


def test_a_stop_refused_again_and_again_becomes_a_market_close() -> None:
    rejected = [order(2 + i, R.SL, OS.REJECTED, stop="95", seq=1 + i) for i in range(MAX_SL_REJECTS)]
    assert decide(block(trade(entry(), *rejected[:-1])), NOW, D("101"))[0].role is R.SL  # type: ignore[union-attr]
    assert decide(block(trade(entry(), *rejected)), NOW, D("101"))[0] == CloseTrade(10, CloseReason.STOP)


def test_an_unconfirmed_cancel_is_asked_again() -> None:
    t = trade(entry(OS.PENDING_CANCEL, filled="0"), status=T.PENDING)
    assert decide(block(t), NOW, D("101")) == [CancelOrder(1, "cancel not confirmed yet")]


def test_cancel_with_close_on_a_pending_trade_only_cancels_its_entry() -> None:
    t = trade(entry(OS.ACCEPTED, filled="0"), status=T.PENDING, reason=CloseReason.CANCEL)
    assert decide(block(t), NOW, D("101")) == [CancelOrder(1, "closing (cancel)")]


def test_settled_figures_are_exact_with_fees() -> None:
    t = trade(
        entry(fee="0.1"),
        order(2, R.SL, OS.CANCELED, stop="95"),
        order(3, R.TP, OS.FILLED, filled="1", average="110.5", fee="0.1105"),
        reason=CloseReason.TARGET,
    )
    f = settle_trade(block(t), t)
    assert (f.status, f.close_reason) == (T.CLOSED, CloseReason.TARGET)
    assert (f.entry_average, f.exit_average, f.fees) == (D("100"), D("110.5"), D("0.2105"))
    assert f.realized_pnl == D("10.2895")
    assert f.closed
    assert not f.opened


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([T.PENDING, T.PENDING], BlockStatus.PENDING),
        ([T.OPEN, T.PENDING], BlockStatus.ACTIVE),
        ([T.CLOSED, T.CANCELED], BlockStatus.CLOSED),
        ([T.CANCELED, T.CANCELED], BlockStatus.CANCELED),
    ],
)
def test_block_status_follows_its_trades(statuses: list[TradeStatus], expected: BlockStatus) -> None:
    b = block(status=BlockStatus.PENDING)
    assert settle_block(b, statuses) is expected


def test_a_simulated_accounts_first_stop_goes_before_the_price_is_judged() -> None:
    # Paper and replay venues book a trade's first stop from its entry's fill bar (docs/fill-rules.md,
    # rule 10): past the stop, or at the target (spot watches it), the stop is sent first.
    first_sl = PlaceOrder(10, R.SL, S.STOP_MARKET, "sell", D("1"), 1, stop_price=D("95"))
    assert decide(block(trade(entry()), stops_from_fill_bar=True), NOW, D("94")) == [first_sl]
    assert decide(block(trade(entry()), stops_from_fill_bar=True), NOW, D("111")) == [first_sl]
    # Once a stop was sent (here refused), the price is judged as on any venue.
    refused = trade(entry(), order(2, R.SL, OS.REJECTED, stop="95"))
    assert decide(block(refused, stops_from_fill_bar=True), NOW, D("94"))[0] == CloseTrade(10, CloseReason.STOP)
    protected = trade(entry(), order(2, R.SL, OS.ACCEPTED, stop="95"))
    assert decide(block(protected, stops_from_fill_bar=True), NOW, D("111"))[0] == CloseTrade(10, CloseReason.TARGET)


# --- NATIVE_OCO: one list of target and stop per trade ---

OCO = ProtectionMode.NATIVE_OCO


def legs(status: OrderStatus = OS.ACCEPTED, amount: str = "1", stop: str = "95", seq: int = 1) -> list[OrderView]:
    tp = order(2 * seq, R.TP, status, amount=amount, type_=S.LIMIT, price="110", seq=seq)
    return [tp, order(2 * seq + 1, R.SL, status, amount=amount, stop=stop, seq=seq)]


def test_oco_a_filled_entry_rests_one_list_of_target_and_stop() -> None:
    assert decide(block(trade(entry()), mode=OCO), NOW, D("101")) == [PlaceOco(10, "sell", D(1), D(110), D(95), 1)]


def test_oco_a_resting_list_that_fits_is_left_alone_and_the_target_not_watched() -> None:
    assert decide(block(trade(entry(), *legs()), mode=OCO), NOW, D("111")) == []


def test_oco_a_list_for_another_stop_is_canceled_once_then_replaced_with_the_next_seq() -> None:
    moved = block(trade(entry(), *legs(), stop="97"), mode=OCO)
    assert decide(moved, NOW, D("101")) == [CancelOrder(2, "oco replaced")]  # one leg: the venue cancels the list
    gone = block(trade(entry(), *legs(OS.CANCELED), stop="97"), mode=OCO)
    assert decide(gone, NOW, D("101")) == [PlaceOco(10, "sell", D(1), D(110), D(97), 2)]


def test_oco_while_no_list_rests_a_crossed_target_closes_at_market() -> None:
    actions = decide(block(trade(entry(), *legs(OS.CANCELED)), mode=OCO), NOW, D("110.5"))
    assert actions[0] == CloseTrade(10, CloseReason.TARGET)
