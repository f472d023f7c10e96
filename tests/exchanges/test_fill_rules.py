"""The pure fill rules, one by one, with the hand-worked numbers of docs/fill-rules.md."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from db.enums import OrderType
from engine.exchanges.fill_rules import (
    Bar,
    FeeSchedule,
    Fill,
    FillRules,
    Liquidity,
    arrival_price,
    fill_after_parent,
    fill_on_bar,
    limit_fill,
    market_fill,
    resolve_same_bar,
    rest_of_bar,
    sequence_fills,
    slip,
    stop_fill,
    stop_triggered,
)

# One bar used throughout: opens 100, high 105, low 95, closes 101.
BAR = Bar(0, Decimal(100), Decimal(105), Decimal(95), Decimal(101))


@dataclass(frozen=True)
class Order:
    side: str
    type: OrderType
    price: Decimal | None = None
    stop_price: Decimal | None = None


def limit(side: str, price: str) -> Order:
    return Order(side, OrderType.LIMIT, price=Decimal(price))


def stop(side: str, price: str) -> Order:
    return Order(side, OrderType.STOP_MARKET, stop_price=Decimal(price))


def test_bar_from_ohlcv_floats_is_exact() -> None:
    bar = Bar.of([60_000, 0.1, 0.3, 0.05, 0.2, 12.5])
    assert bar == Bar(60_000, Decimal("0.1"), Decimal("0.3"), Decimal("0.05"), Decimal("0.2"))


def test_buy_limit_needs_a_trade_through_not_a_touch() -> None:
    assert limit_fill("buy", Decimal(95), BAR) is None  # low == limit: touched only
    assert limit_fill("buy", Decimal(95), BAR, through=False) == Decimal(95)
    assert limit_fill("buy", Decimal(96), BAR) == Decimal(96)  # low 95 < 96: filled at the limit


def test_sell_limit_needs_a_trade_through_not_a_touch() -> None:
    assert limit_fill("sell", Decimal(105), BAR) is None
    assert limit_fill("sell", Decimal(105), BAR, through=False) == Decimal(105)
    assert limit_fill("sell", Decimal(104), BAR) == Decimal(104)


def test_limit_gap_fills_at_the_open() -> None:
    assert limit_fill("buy", Decimal(102), BAR) == Decimal(100)  # bar opened at 100, already below the buy limit
    assert limit_fill("sell", Decimal(98), BAR) == Decimal(100)  # bar opened at 100, already above the sell limit


def test_sell_stop_triggers_on_touch_and_fills_at_stop_less_slippage() -> None:
    assert stop_fill("sell", Decimal(95), BAR) == Decimal(95)  # low == stop: a touch is enough
    assert stop_fill("sell", Decimal(97), BAR, 10) == Decimal("96.903")  # 97 x (1 - 0.001)
    assert stop_fill("sell", Decimal(94), BAR) is None


def test_stop_gap_fills_at_the_open_with_slippage() -> None:
    assert stop_fill("sell", Decimal(102), BAR, 10) == Decimal("99.900")  # opened at 100, below the stop: 100 x 0.999
    assert stop_fill("buy", Decimal(99), BAR, 10) == Decimal(
        "100.100"
    )  # opened at 100, above the buy stop: 100 x 1.001


def test_buy_stop_triggers_on_high_and_slips_up() -> None:
    assert stop_fill("buy", Decimal(105), BAR, 10) == Decimal("105.105")
    assert stop_fill("buy", Decimal("105.01"), BAR, 10) is None


def test_market_fills_at_the_next_price_with_slippage_against_the_trader() -> None:
    assert market_fill("buy", Decimal(100), 25) == Decimal("100.25")
    assert market_fill("sell", Decimal(100), 25) == Decimal("99.75")
    assert slip(Decimal(100), "sell", 0) == Decimal(100)
    with pytest.raises(ValueError, match="side"):
        slip(Decimal(100), "long", 5)


def test_fill_on_bar_liquidity_and_market_at_open() -> None:
    rules = FillRules(slippage_bps=Decimal(10))
    assert fill_on_bar(limit("buy", "96"), BAR, rules).liquidity == Liquidity.MAKER  # type: ignore[union-attr]
    stop_fill_ = fill_on_bar(stop("sell", "97"), BAR, rules)
    assert stop_fill_ is not None
    assert (stop_fill_.price, stop_fill_.liquidity) == (Decimal("96.903"), Liquidity.TAKER)
    market = fill_on_bar(Order("buy", OrderType.MARKET), BAR, rules)
    assert market is not None
    assert (market.price, market.liquidity) == (Decimal("100.100"), Liquidity.TAKER)
    # Slippage never touches a limit.
    assert fill_on_bar(limit("buy", "96"), BAR, rules).price == Decimal(96)  # type: ignore[union-attr]


def test_fees_maker_for_limits_taker_for_stops_in_quote() -> None:
    fees = FeeSchedule(maker=Decimal("0.0002"), taker=Decimal("0.0007"))
    assert fees.fee(Decimal("100.5"), Decimal(2), Liquidity.MAKER) == Decimal("0.04020")  # 201 x 0.0002
    assert fees.fee(Decimal("100.5"), Decimal(2), Liquidity.TAKER) == Decimal("0.14070")  # 201 x 0.0007
    assert fees.highest == Decimal("0.0007")


def test_same_bar_without_finer_bars_assumes_the_stop_first() -> None:
    first = resolve_same_bar(stop("sell", "96"), limit("sell", "104"), BAR)
    assert first is not None
    assert first.order == stop("sell", "96")
    assert first.fill.price == Decimal(96)
    assert first.finer_index is None


def test_finer_bars_can_settle_for_the_target() -> None:
    finer = [
        [0, 100, 104.5, 99, 104, 1],  # up to 104.5: the target (sell limit 104) trades through
        [1, 104, 105, 103, 103, 1],
        [2, 103, 103, 95, 96, 1],  # down to 95: the stop would trigger only now
    ]
    first = resolve_same_bar(stop("sell", "96"), limit("sell", "104"), BAR, finer)
    assert first is not None
    assert first.order == limit("sell", "104")
    assert (first.fill.price, first.finer_index) == (Decimal(104), 0)


def test_finer_bars_showing_the_stop_first_keep_the_stop() -> None:
    finer = [[0, 100, 101, 95, 96, 1], [1, 96, 105, 96, 104, 1]]
    first = resolve_same_bar(stop("sell", "96"), limit("sell", "104"), BAR, finer)
    assert first is not None
    assert (first.order, first.finer_index) == (stop("sell", "96"), 0)


def test_both_on_the_same_finer_bar_is_stop_first() -> None:
    first = resolve_same_bar(stop("sell", "96"), limit("sell", "104"), BAR, [list(map(float, [0, 100, 105, 95, 101]))])
    assert first is not None
    assert first.order == stop("sell", "96")


def test_only_one_or_neither_touched() -> None:
    quiet = Bar(0, Decimal(100), Decimal(101), Decimal(99), Decimal(100))
    assert resolve_same_bar(stop("sell", "96"), limit("sell", "104"), quiet) is None
    up = Bar(0, Decimal(100), Decimal(106), Decimal(99), Decimal(105))
    first = resolve_same_bar(stop("sell", "96"), limit("sell", "104"), up)
    assert first is not None
    assert first.order == limit("sell", "104")


def test_sequence_puts_stops_before_limits_and_keeps_given_order_otherwise() -> None:
    orders = [limit("buy", "99"), stop("sell", "97"), limit("sell", "103"), stop("buy", "110")]
    sequence = sequence_fills(orders, BAR)
    assert [f.order for f in sequence] == [orders[1], orders[0], orders[2]]  # the buy stop at 110 never triggers


def test_tick_bar_opens_at_the_previous_price() -> None:
    tick = Bar.tick(5, Decimal("99.5"), previous=Decimal(101))
    assert tick == Bar(5, Decimal(101), Decimal(101), Decimal("99.5"), Decimal("99.5"))
    assert limit_fill("buy", Decimal(100), tick) == Decimal(
        100
    )  # passed through 100 on the way down: filled at the limit
    assert limit_fill("buy", Decimal(100), Bar.tick(5, Decimal("99.5"))) == Decimal("99.5")  # no previous price: a gap


def test_arrival_market_and_marketable_limits_fill_as_taker_never_beyond_the_limit() -> None:
    rules = FillRules(slippage_bps=Decimal(50))
    last = Decimal(100)
    assert arrival_price(Order("buy", OrderType.MARKET), last, rules) == Decimal("100.5")
    assert arrival_price(limit("buy", "101"), last, rules) == Decimal("100.5")  # slipped price, under the limit
    assert arrival_price(limit("buy", "100.2"), last, rules) == Decimal("100.2")  # capped at the limit
    assert arrival_price(limit("buy", "99"), last, rules) is None  # below the market: rests
    assert arrival_price(limit("sell", "99"), last, rules) == Decimal("99.5")
    assert arrival_price(limit("sell", "101"), last, rules) is None
    assert arrival_price(stop("sell", "95"), last, rules) is None  # stops always rest


def test_stop_triggered_on_touch() -> None:
    assert stop_triggered("sell", Decimal(95), Decimal(95))
    assert not stop_triggered("sell", Decimal(95), Decimal("95.01"))
    assert stop_triggered("buy", Decimal(105), Decimal(106))
    assert not stop_triggered("buy", Decimal(105), Decimal("104.9"))


# --- rule 10: stops and targets on the entry's fill bar ---

NEXT = Bar(60_000, Decimal(94), Decimal("94.5"), Decimal(92), Decimal(93))  # the bar after BAR, gapping down


def after(
    order: Order, price: str, rules: FillRules | None = None, on_bar: bool = True, parent_ts: int = 0
) -> Fill | None:
    """Where `order`, contingent on an entry filled at `price` on BAR, first fills on BAR then NEXT."""
    return fill_after_parent(order, [NEXT, BAR], parent_ts, Decimal(price), on_bar, rules or FillRules())


def test_the_rest_of_the_fill_bar_opens_at_the_fill_price() -> None:
    assert rest_of_bar(BAR, Decimal(103)) == Bar(0, Decimal(103), Decimal(105), Decimal(95), Decimal(101))


def test_a_long_entrys_stop_and_target_fill_on_its_fill_bar_at_their_own_prices() -> None:
    # A buy stop entry at 103 fills on BAR at 103; the rest of BAR is 103 / 105 / 95 / 101.
    assert after(stop("sell", "96"), "103") == Fill(Decimal(96), Liquidity.TAKER, 0)  # min(96, 103)
    assert after(limit("sell", "104"), "103") == Fill(Decimal(104), Liquidity.MAKER, 0)  # high 105 > 104
    # The brief's bar: a buy stop at 105 touched at the high, then the low 95 through the stop at 96.
    assert after(stop("sell", "96"), "105") == Fill(Decimal(96), Liquidity.TAKER, 0)
    # A buy limit entry at 97: the stop at 96 and a target at 104 both on BAR, each at its price.
    assert after(stop("sell", "96"), "97") == Fill(Decimal(96), Liquidity.TAKER, 0)
    assert after(limit("sell", "104"), "97") == Fill(Decimal(104), Liquidity.MAKER, 0)


def test_a_short_entrys_stop_and_target_mirror_it() -> None:
    # A sell limit entry at 104 fills on BAR at 104; the rest of BAR is 104 / 105 / 95 / 101.
    assert after(limit("buy", "96"), "104") == Fill(Decimal(96), Liquidity.MAKER, 0)  # min(96, 104)
    assert after(stop("buy", "105"), "104") == Fill(Decimal(105), Liquidity.TAKER, 0)  # touched at the high


def test_a_stop_or_target_the_fill_bar_misses_waits_for_the_next_bar_and_its_gap() -> None:
    assert after(stop("sell", "94.9"), "100") == Fill(Decimal(94), Liquidity.TAKER, 60_000)  # NEXT opens at 94
    assert after(limit("sell", "106"), "100") is None  # neither bar goes above 106
    assert after(limit("buy", "93"), "104") == Fill(Decimal(93), Liquidity.MAKER, 60_000)  # NEXT's low 92 < 93


def test_never_a_fill_better_than_the_orders_price_on_the_fill_bar() -> None:
    rules = FillRules(slippage_bps=Decimal(10))
    # A buy stop at 103 fills at 103 x 1.001 = 103.103 (BAR opens at 100, below it). A target at 103.05
    # sits below that fill: reached (high 105), it fills at its own 103.05, not at the 103.103 "open".
    assert after(limit("sell", "103.05"), "103.103", rules) == Fill(Decimal("103.05"), Liquidity.MAKER, 0)
    assert after(stop("sell", "96"), "103.103", rules) == Fill(Decimal("95.904"), Liquidity.TAKER, 0)  # 96 x 0.999
    # On the whole bar (the rules before rule 10), the same sell limit would have filled at the open.
    assert fill_on_bar(limit("sell", "99"), BAR, rules) == Fill(Decimal(100), Liquidity.MAKER, 0)
    assert after(limit("sell", "99"), "97", rules) == Fill(Decimal(99), Liquidity.MAKER, 0)


def test_a_parent_filled_on_arrival_sees_whole_bars_from_its_fill_on() -> None:
    # A market entry filled at 100 as BAR opened: BAR is read as it is (the fill was its open).
    assert after(limit("sell", "104"), "100", on_bar=False) == Fill(Decimal(104), Liquidity.MAKER, 0)
    # Filled mid-BAR (rule 6): BAR's low may have come before the fill, so the stop waits for NEXT.
    assert after(stop("sell", "96"), "100", on_bar=False, parent_ts=30_000) == Fill(
        Decimal(94), Liquidity.TAKER, 60_000
    )
