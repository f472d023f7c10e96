"""Pure fill rules of the paper exchange: does a resting order fill on a candle, at what price, and
which of several orders fills first. No I/O, no state; every rule is written out with an example in
docs/fill-rules.md and checked by tests/exchanges/test_fill_rules.py.

In short: a limit fills when the price trades THROUGH it (strictly) at the limit, or at the open when
the bar opens past it; a stop-market triggers when touched and fills at the stop, or at the open on a
gap, plus slippage against the trader; a market order fills at the next price plus slippage. When one
bar fills several orders, stops go before limits unless finer bars show otherwise. A stop or target
that an entry's fill triggers (a contingent order) rests from the entry's fill bar on, which it sees
from the fill price on. Fees are in quote: maker for limits filled while resting, taker for everything else.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Generic, Protocol, TypeVar

from db.enums import OrderType
from engine.common.precision import to_decimal

_BPS = Decimal(10_000)


class Liquidity(enum.StrEnum):
    MAKER = "maker"
    TAKER = "taker"


@dataclass(frozen=True)
class Bar:
    """One candle with Decimal prices (converted from the feed's floats through their shortest repr)."""

    ts: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal

    @classmethod
    def of(cls, candle: Bar | Sequence[float | Decimal | int]) -> Bar:
        """A Bar from a Bar or a ccxt OHLCV row [ts, open, high, low, close, (volume)]."""
        if isinstance(candle, Bar):
            return candle
        ts, o, h, low, c = candle[:5]
        return cls(int(ts), to_decimal(o), to_decimal(h), to_decimal(low), to_decimal(c))

    @classmethod
    def tick(cls, ts: int, price: Decimal, previous: Decimal | None = None) -> Bar:
        """A single trade price as a bar; it opens at the previous price seen, so a tick that jumps
        past a limit fills the limit at its price, not at the (better) new price."""
        start = price if previous is None else previous
        return cls(ts, start, max(start, price), min(start, price), price)


class OrderLike(Protocol):
    """What the rules read from an order (OrderRequest and VenueOrder both qualify)."""

    @property
    def side(self) -> str: ...

    @property
    def type(self) -> OrderType: ...

    @property
    def price(self) -> Decimal | None: ...

    @property
    def stop_price(self) -> Decimal | None: ...


@dataclass(frozen=True)
class FeeSchedule:
    """Fee rates as fractions of the quote cost (0.001 = 0.1 %)."""

    maker: Decimal = Decimal("0.001")
    taker: Decimal = Decimal("0.001")

    def rate(self, liquidity: Liquidity) -> Decimal:
        return self.maker if liquidity == Liquidity.MAKER else self.taker

    def fee(self, price: Decimal, amount: Decimal, liquidity: Liquidity) -> Decimal:
        """Fee in quote for `amount` at `price`, exact (no rounding)."""
        return price * amount * self.rate(liquidity)

    @property
    def highest(self) -> Decimal:
        return max(self.maker, self.taker)


@dataclass(frozen=True)
class FillRules:
    """The knobs of the rules: slippage applies to stops and market orders, never to limits."""

    slippage_bps: Decimal = Decimal(0)
    limit_requires_trade_through: bool = True  # False: a touch (low == limit) fills a buy limit
    fees: FeeSchedule = field(default_factory=FeeSchedule)


@dataclass(frozen=True)
class Fill:
    price: Decimal
    liquidity: Liquidity
    ts: int


OrderT = TypeVar("OrderT", bound=OrderLike)


@dataclass(frozen=True)
class FirstFill(Generic[OrderT]):
    """An order and its fill, as put in sequence by `sequence_fills`."""

    order: OrderT
    fill: Fill
    finer_index: int | None  # index of the finer bar that settled it; None when decided on the bar


def _is_buy(side: str) -> bool:
    if side not in ("buy", "sell"):
        raise ValueError(f"side must be 'buy' or 'sell', got {side!r}")
    return side == "buy"


def slip(price: Decimal, side: str, slippage_bps: Decimal | int) -> Decimal:
    """`price` moved against the trader by `slippage_bps`: up for a buy, down for a sell."""
    factor = Decimal(slippage_bps) / _BPS
    return price * (1 + factor) if _is_buy(side) else price * (1 - factor)


def limit_fill(side: str, limit: Decimal, bar: Bar, through: bool = True) -> Decimal | None:
    """Fill price of a resting limit on `bar`, or None. A buy fills when the low goes below the limit
    (or reaches it, with through=False) at min(limit, open); a sell mirrors it at max(limit, open)."""
    if _is_buy(side):
        reached = bar.low < limit if through else bar.low <= limit
        return min(limit, bar.open) if reached else None
    reached = bar.high > limit if through else bar.high >= limit
    return max(limit, bar.open) if reached else None


def stop_fill(side: str, stop: Decimal, bar: Bar, slippage_bps: Decimal | int = 0) -> Decimal | None:
    """Fill price of a stop-market on `bar`, or None. A sell stop triggers when the low touches the
    stop and fills at min(stop, open) less slippage; a buy stop mirrors it at max(stop, open) plus slippage."""
    if _is_buy(side):
        return slip(max(stop, bar.open), side, slippage_bps) if bar.high >= stop else None
    return slip(min(stop, bar.open), side, slippage_bps) if bar.low <= stop else None


def market_fill(side: str, reference: Decimal, slippage_bps: Decimal | int = 0) -> Decimal:
    """A market order fills at the next price seen (`reference`) plus slippage."""
    return slip(reference, side, slippage_bps)


def stop_triggered(side: str, stop: Decimal, price: Decimal) -> bool:
    """Whether a stop is touched at `price`: a buy stop at or above it, a sell stop at or below it."""
    return price >= stop if _is_buy(side) else price <= stop


def arrival_price(order: OrderLike, last: Decimal, rules: FillRules) -> Decimal | None:
    """The taker price of an order that fills the moment it arrives, or None when it rests.

    A market order fills at the last price plus slippage. A limit that is marketable (a buy at or
    above the last price, a sell at or below) fills the same way, but never beyond its limit. A stop
    always rests; one that would trigger at once is the venue's to refuse (see `stop_triggered`).
    """
    if order.type == OrderType.MARKET:
        return market_fill(order.side, last, rules.slippage_bps)
    if order.type != OrderType.LIMIT:
        return None
    assert order.price is not None
    buy = _is_buy(order.side)
    if (last > order.price) if buy else (last < order.price):
        return None
    slipped = market_fill(order.side, last, rules.slippage_bps)
    return min(slipped, order.price) if buy else max(slipped, order.price)


def is_stop(order: OrderLike) -> bool:
    return order.type == OrderType.STOP_MARKET


def fill_on_bar(order: OrderLike, bar: Bar, rules: FillRules) -> Fill | None:
    """Whether and at what price `order`, resting before `bar` opened, fills on it."""
    if order.type == OrderType.LIMIT:
        assert order.price is not None
        price = limit_fill(order.side, order.price, bar, rules.limit_requires_trade_through)
        return None if price is None else Fill(price, Liquidity.MAKER, bar.ts)
    if order.type == OrderType.STOP_MARKET:
        assert order.stop_price is not None
        price = stop_fill(order.side, order.stop_price, bar, rules.slippage_bps)
        return None if price is None else Fill(price, Liquidity.TAKER, bar.ts)
    return Fill(market_fill(order.side, bar.open, rules.slippage_bps), Liquidity.TAKER, bar.ts)


def rest_of_bar(bar: Bar, price: Decimal) -> Bar:
    """What is left of `bar` after a fill at `price` on it, read as a bar that opens at that price: the
    order it triggers sees the bar's high, low and close, all assumed to come after the fill (rule 10)."""
    return Bar(bar.ts, price, bar.high, bar.low, bar.close)


def fill_after_parent(
    order: OrderLike, bars: Sequence[Bar], parent_ts: int, parent_price: Decimal, on_bar: bool, rules: FillRules
) -> Fill | None:
    """Where an order that rests since its parent (the entry) filled first fills on `bars`, oldest
    first, or None (docs/fill-rules.md, rule 10). Bars that open before `parent_ts` are skipped (rule 6).
    When the parent filled on a candle (`on_bar`), the candle opening at `parent_ts` is read from the
    fill on (`rest_of_bar`), and a limit fills there at its own price: the fill at `parent_price` lies
    on the near side of a target, except when slippage pushed it past one, which never makes a better
    price. Later bars fill by the usual rules (a gap through a stop fills at the open)."""
    for bar in sorted(bars, key=lambda b: b.ts):
        if bar.ts < parent_ts:
            continue
        if on_bar and bar.ts == parent_ts:
            fill = fill_on_bar(order, rest_of_bar(bar, parent_price), rules)
            if fill is not None and order.type == OrderType.LIMIT:
                assert order.price is not None
                fill = Fill(order.price, fill.liquidity, fill.ts)
        else:
            fill = fill_on_bar(order, bar, rules)
        if fill is not None:
            return fill
    return None


def _first_on_finer(order: OrderLike, finer_bars: Sequence[Bar], rules: FillRules) -> tuple[int, Fill] | None:
    for index, finer in enumerate(finer_bars):
        fill = fill_on_bar(order, finer, rules)
        if fill is not None:
            return index, fill
    return None


def sequence_fills(
    orders: Sequence[OrderT],
    bar: Bar | Sequence[float],
    finer_bars: Sequence[Bar | Sequence[float]] | None = None,
    rules: FillRules | None = None,
) -> list[FirstFill[OrderT]]:
    """The orders that fill on `bar`, in the order they are assumed to fill.

    Without finer bars nothing is known about the path inside the bar, so stops go first (the
    pessimistic assumption), then the rest in the order given. Finer bars (e.g. the 1m candles of a
    1h bar) put each order at the first finer bar that fills it; orders filled on the same finer bar
    again go stops first. An order the bar fills but no finer bar does (inconsistent data) is placed
    after every finer bar, at its price on the coarse bar.
    """
    rules = rules or FillRules()
    coarse = Bar.of(bar)
    finer = [Bar.of(b) for b in finer_bars or []]
    ranked: list[tuple[int, int, int, FirstFill[OrderT]]] = []
    for position, order in enumerate(orders):
        fill = fill_on_bar(order, coarse, rules)
        if fill is None:
            continue
        found = _first_on_finer(order, finer, rules) if finer else None
        index, first = (
            (found[0], FirstFill(order, found[1], found[0])) if found else (len(finer), FirstFill(order, fill, None))
        )
        ranked.append((index, 0 if is_stop(order) else 1, position, first))
    ranked.sort(key=lambda item: item[:3])
    return [item[3] for item in ranked]


def resolve_same_bar(
    stop_order: OrderT,
    target_order: OrderT,
    bar: Bar | Sequence[float],
    finer_bars: Sequence[Bar | Sequence[float]] | None = None,
    rules: FillRules | None = None,
) -> FirstFill[OrderT] | None:
    """Which of a position's stop and target fills first on `bar` (None when neither fills): the
    stop, unless finer bars show the target filling on an earlier finer bar than the stop."""
    sequence = sequence_fills([stop_order, target_order], bar, finer_bars, rules)
    return sequence[0] if sequence else None
