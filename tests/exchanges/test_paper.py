"""The paper exchange on a scripted price feed, against the real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from db.enums import OrderType
from engine.exchanges.base import OHLCV, Ticker
from engine.exchanges.fill_rules import FeeSchedule
from engine.exchanges.paper import PaperExchange, create_paper_account
from engine.exchanges.venue import (
    InsufficientFunds,
    InvalidOrder,
    OrderNotFound,
    OrderRequest,
    OrderSide,
    VenueStatus,
    VenueTrade,
    VenueUnavailable,
)
from engine.runtime import Runtime

SYMBOL = "BTC/USDT"
T0 = 1_700_000_040_000  # on the minute
MIN = 60_000
FEES = FeeSchedule(maker=Decimal("0.001"), taker=Decimal("0.002"))


class ScriptedFeed:
    """A price feed whose clock, last price and candles the test sets; pages of two candles."""

    def __init__(self, last: str = "20000", now: int = T0) -> None:
        self.now, self.last = now, float(last)
        self.candles: list[OHLCV] = []
        self.down = False
        self.ohlcv_calls = 0

    def milliseconds(self) -> int:
        return self.now

    def fetch_ticker(self, symbol: str) -> Ticker:
        if self.down:
            raise ConnectionError("feed down")
        return Ticker(symbol, self.now, self.last)

    def fetch_ohlcv(self, symbol: str, timeframe: str, since: int | None, limit: int | None) -> list[OHLCV]:
        self.ohlcv_calls += 1
        return [c for c in self.candles if since is None or c[0] >= since][:2]


def order(cid: str, side: str, type_: OrderType, amount: str, price: str | None = None, **kw: object) -> OrderRequest:
    typed = {"price": Decimal(price)} if type_ == OrderType.LIMIT and price else {}
    if type_ == OrderType.STOP_MARKET and price:
        typed = {"stop_price": Decimal(price)}
    return OrderRequest(cid, SYMBOL, OrderSide(side), type_, Decimal(amount), **typed, **kw)  # type: ignore[arg-type]


def free_used(exchange: PaperExchange, currency: str) -> tuple[Decimal, Decimal]:
    balance = exchange.fetch_balance()[currency]
    assert balance.total == balance.free + balance.used
    return balance.free, balance.used


@pytest.fixture
def feed() -> ScriptedFeed:
    return ScriptedFeed()


def make(sessions: sessionmaker[Session], feed: ScriptedFeed, margin: bool = False, **balances: str) -> PaperExchange:
    account = create_paper_account(sessions, None, "paper", {k: Decimal(v) for k, v in balances.items()}, margin=margin)
    return PaperExchange(sessions, account, feed, fees=FEES, slippage_bps=5)


def test_create_is_idempotent_on_client_order_id(sessions: sessionmaker[Session], feed: ScriptedFeed) -> None:
    ex = make(sessions, feed, USDT="50000")
    req = order("blk1-entry", "buy", OrderType.LIMIT, "0.5", "19000")
    first = ex.create_order(req)
    feed.down = True  # a retry after a lost answer needs no price: the order is already known
    second = ex.create_order(req)
    assert first == second
    assert first.status == VenueStatus.OPEN
    assert len(ex.fetch_open_orders()) == 1
    # Locked once: 0.5 x 19000 x (1 + 0.002, the highest fee rate).
    assert free_used(ex, "USDT") == (Decimal("40481"), Decimal("9519"))


def test_feed_failure_is_retryable_and_places_nothing(sessions: sessionmaker[Session], feed: ScriptedFeed) -> None:
    ex = make(sessions, feed, USDT="1000")
    feed.down = True
    with pytest.raises(VenueUnavailable):
        ex.create_order(order("m1", "buy", OrderType.MARKET, "0.01"))
    assert ex.fetch_orders_by_client_ids(["m1"]) == []


def test_validation_rejects_bad_orders(sessions: sessionmaker[Session], feed: ScriptedFeed) -> None:
    ex = make(sessions, feed, USDT="1000", BTC="1")
    with pytest.raises(InvalidOrder, match="amount"):
        ex.create_order(order("a", "buy", OrderType.MARKET, "0"))
    with pytest.raises(InvalidOrder, match="price"):
        ex.create_order(order("b", "buy", OrderType.LIMIT, "1"))
    with pytest.raises(InvalidOrder, match="stop_price"):
        ex.create_order(order("c", "sell", OrderType.STOP_MARKET, "1"))
    with pytest.raises(InvalidOrder, match="trigger immediately"):  # sell stop above the last price
        ex.create_order(order("d", "sell", OrderType.STOP_MARKET, "1", "20500"))
    with pytest.raises(InvalidOrder, match="BASE/QUOTE"):
        ex.create_order(OrderRequest("e", "BTCUSDT", OrderSide.BUY, OrderType.MARKET, Decimal(1)))
    assert ex.fetch_open_orders() == []


def test_spot_locks_coins_so_a_second_sell_of_them_fails(sessions: sessionmaker[Session], feed: ScriptedFeed) -> None:
    ex = make(sessions, feed, USDT="0", BTC="1")
    tp = ex.create_order(order("tp", "sell", OrderType.LIMIT, "1", "25000"))
    assert free_used(ex, "BTC") == (Decimal(0), Decimal(1))
    with pytest.raises(InsufficientFunds):
        ex.create_order(order("sl", "sell", OrderType.STOP_MARKET, "1", "18000"))
    with pytest.raises(OrderNotFound):
        ex.fetch_order(client_order_id="sl")
    # Canceling the take-profit frees the coins; canceling twice is harmless.
    canceled = ex.cancel_order(tp.id)
    assert canceled.status == VenueStatus.CANCELED
    assert free_used(ex, "BTC") == (Decimal(1), Decimal(0))
    assert ex.cancel_order(client_order_id="tp") == canceled
    assert ex.create_order(order("sl", "sell", OrderType.STOP_MARKET, "1", "18000")).status == VenueStatus.OPEN
    with pytest.raises(OrderNotFound):
        ex.cancel_order("999999")
    with pytest.raises(OrderNotFound):
        ex.fetch_order(tp.id, symbol="ETH/USDT")


def test_market_buy_and_sell_move_balances_exactly(sessions: sessionmaker[Session], feed: ScriptedFeed) -> None:
    ex = make(sessions, feed, USDT="10000")
    bought = ex.create_order(order("m1", "buy", OrderType.MARKET, "0.25"))
    # 20000 + 5 bps = 20010; cost 5002.5; taker fee 0.2 % = 10.005.
    assert (bought.status, bought.filled, bought.remaining) == (VenueStatus.CLOSED, Decimal("0.25"), Decimal(0))
    assert (bought.average, bought.fee, bought.fee_currency) == (Decimal(20010), Decimal("10.005"), "USDT")
    assert free_used(ex, "USDT") == (Decimal("4987.495"), Decimal(0))
    assert free_used(ex, "BTC") == (Decimal("0.25"), Decimal(0))
    feed.last = 20400.0
    ex.create_order(order("m2", "sell", OrderType.MARKET, "0.1"))
    # 20400 - 5 bps = 20389.8; proceeds 2038.98; fee 4.07796.
    assert free_used(ex, "USDT") == (Decimal("4987.495") + Decimal("2038.98") - Decimal("4.07796"), Decimal(0))
    assert free_used(ex, "BTC") == (Decimal("0.15"), Decimal(0))
    trades = ex.fetch_my_trades(SYMBOL)
    assert [(t.client_order_id, t.side, t.price, t.amount, t.fee, t.taker_or_maker) for t in trades] == [
        ("m1", "buy", Decimal(20010), Decimal("0.25"), Decimal("10.005"), "taker"),
        ("m2", "sell", Decimal("20389.8"), Decimal("0.1"), Decimal("4.07796"), "taker"),
    ]
    with pytest.raises(InvalidOrder, match="already filled"):
        ex.cancel_order(client_order_id="m1")
    with pytest.raises(InsufficientFunds):
        ex.create_order(order("m3", "buy", OrderType.MARKET, "1"))


def test_marketable_limit_fills_at_once_as_taker(sessions: sessionmaker[Session], feed: ScriptedFeed) -> None:
    ex = make(sessions, feed, USDT="10000")
    filled = ex.create_order(order("l1", "buy", OrderType.LIMIT, "0.1", "20005"))
    # The price slipped to 20010 is above the limit: filled at the limit 20005, taker.
    assert (filled.status, filled.average, filled.fee) == (VenueStatus.CLOSED, Decimal(20005), Decimal("4.001"))
    assert ex.fetch_my_trades()[0].taker_or_maker == "taker"


def test_limit_rests_then_fills_on_a_candle_that_trades_through(
    sessions: sessionmaker[Session], feed: ScriptedFeed
) -> None:
    ex = make(sessions, feed, USDT="10000")
    assert ex.process_candle(SYMBOL, [T0 - MIN, 20000, 20100, 19000, 19900, 5]) == []  # before the order
    ex.create_order(order("l1", "buy", OrderType.LIMIT, "0.1", "19500"))
    assert free_used(ex, "USDT") == (Decimal("8046.1"), Decimal("1953.9"))  # 1950 x 1.002 locked
    assert ex.process_candle(SYMBOL, [T0, 20000, 20100, 19500, 19900, 5]) == []  # only touched 19500
    assert ex.fetch_order(client_order_id="l1").status == VenueStatus.OPEN
    trades = ex.process_candle(SYMBOL, [T0 + MIN, 19900, 19950, 19400, 19600, 5])
    assert [(t.price, t.amount, t.fee, t.taker_or_maker, t.ts) for t in trades] == [
        (Decimal(19500), Decimal("0.1"), Decimal("1.95"), "maker", T0 + MIN)
    ]
    # Cost 1950 and maker fee 1.95 paid; the rest of the fee reserve is back.
    assert free_used(ex, "USDT") == (Decimal("8048.05"), Decimal(0))
    assert free_used(ex, "BTC") == (Decimal("0.1"), Decimal(0))
    assert ex.fetch_order(client_order_id="l1").status == VenueStatus.CLOSED
    assert ex.process_candle(SYMBOL, [T0 + MIN, 19900, 19950, 19400, 19600, 5]) == []  # processed already


def test_an_order_placed_mid_candle_skips_that_candle(sessions: sessionmaker[Session], feed: ScriptedFeed) -> None:
    ex = make(sessions, feed, USDT="10000")
    feed.now = T0 + MIN // 2
    ex.create_order(order("l1", "buy", OrderType.LIMIT, "0.1", "19500"))
    assert ex.process_candle(SYMBOL, [T0, 20000, 20100, 19000, 19900, 5]) == []  # its low may predate the order
    (trade,) = ex.process_candle(SYMBOL, [T0 + MIN, 19900, 19950, 19400, 19600, 5])
    assert trade.price == Decimal(19500)


def test_stop_gap_fills_at_open_with_slippage(sessions: sessionmaker[Session], feed: ScriptedFeed) -> None:
    ex = make(sessions, feed, USDT="0", BTC="1")
    ex.create_order(order("sl", "sell", OrderType.STOP_MARKET, "1", "19000"))
    (trade,) = ex.process_candle(SYMBOL, [T0, 18800, 18900, 18500, 18600, 5])
    assert trade.price == Decimal("18790.6")  # opened at 18800, below the stop; less 5 bps
    assert free_used(ex, "USDT") == (Decimal("18790.6") - Decimal("37.5812"), Decimal(0))
    assert free_used(ex, "BTC") == (Decimal(0), Decimal(0))


def test_stop_buy_gapping_beyond_the_funds_is_rejected(sessions: sessionmaker[Session], feed: ScriptedFeed) -> None:
    # Exactly the lock of a buy stop: 0.1 x 21000 x 1.0005 (slippage) x 1.002 (highest fee) = 2105.2521.
    ex = make(sessions, feed, USDT="2105.2521")
    ex.create_order(order("entry", "buy", OrderType.STOP_MARKET, "0.1", "21000"))
    assert free_used(ex, "USDT") == (Decimal(0), Decimal("2105.2521"))
    assert ex.process_candle(SYMBOL, [T0, 22000, 22100, 21900, 22050, 5]) == []  # 22011 x 0.1 + fee > 2105.25
    assert ex.fetch_order(client_order_id="entry").status == VenueStatus.REJECTED
    assert free_used(ex, "USDT") == (Decimal("2105.2521"), Decimal(0))


def test_price_ticks_fill_through_the_previous_price(sessions: sessionmaker[Session], feed: ScriptedFeed) -> None:
    ex = make(sessions, feed, USDT="10000")
    ex.create_order(order("l1", "buy", OrderType.LIMIT, "0.1", "19500"))
    assert ex.process_price(SYMBOL, T0 + 1, 19600.0) == []
    (trade,) = ex.process_price(SYMBOL, T0 + 2, 19400.0)
    assert trade.price == Decimal(19500)  # from 19600 down to 19400 it passed the limit


def test_short_sales_only_on_a_margin_account(sessions: sessionmaker[Session], feed: ScriptedFeed) -> None:
    spot = make(sessions, feed, USDT="10000")
    with pytest.raises(InsufficientFunds):
        spot.create_order(order("s1", "sell", OrderType.MARKET, "0.5"))
    with pytest.raises(InsufficientFunds):
        spot.create_order(order("s2", "sell", OrderType.LIMIT, "0.5", "21000"))
    margin = make(sessions, feed, margin=True, USDT="10000")
    assert margin.capabilities.supports_reduce_only
    margin.create_order(order("s1", "sell", OrderType.MARKET, "0.5"))
    # 20000 - 5 bps = 19990; proceeds 9995; fee 19.99.
    assert free_used(margin, "BTC") == (Decimal("-0.5"), Decimal(0))
    assert free_used(margin, "USDT") == (Decimal("19975.01"), Decimal(0))


def test_margin_reduce_only_target_expires_after_the_stop(sessions: sessionmaker[Session], feed: ScriptedFeed) -> None:
    ex = make(sessions, feed, margin=True, USDT="0", BTC="1")
    with pytest.raises(InvalidOrder, match="reduce-only"):
        ex.create_order(order("x", "buy", OrderType.LIMIT, "1", "19000", reduce_only=True))
    ex.create_order(order("tp", "sell", OrderType.LIMIT, "1", "21000", reduce_only=True))
    ex.create_order(order("sl", "sell", OrderType.STOP_MARKET, "1", "19000", reduce_only=True))  # both rest
    trades = ex.process_candle(SYMBOL, [T0, 20000, 21500, 18500, 20000, 5])
    assert [t.client_order_id for t in trades] == ["sl"]  # stop first on the same bar
    assert ex.fetch_order(client_order_id="tp").status == VenueStatus.EXPIRED
    assert free_used(ex, "BTC") == (Decimal(0), Decimal(0))


def test_a_margin_shorts_stop_and_target_lock_no_quote(sessions: sessionmaker[Session], feed: ScriptedFeed) -> None:
    ex = make(sessions, feed, margin=True, USDT="1000")
    ex.create_order(order("short", "sell", OrderType.MARKET, "0.5"))  # at 19990: proceeds 9995, fee 19.99
    # Each buys back the 0.5 BTC (about 10,000 USDT): locking quote for both would refuse the second.
    ex.create_order(order("tp", "buy", OrderType.LIMIT, "0.5", "19000", reduce_only=True))
    ex.create_order(order("sl", "buy", OrderType.STOP_MARKET, "0.5", "21000", reduce_only=True))
    assert free_used(ex, "USDT") == (Decimal("10975.01"), Decimal(0))
    (trade,) = ex.process_candle(SYMBOL, [T0 + MIN, 20000, 20100, 18500, 19000, 5])
    assert (trade.client_order_id, trade.price) == ("tp", Decimal(19000))
    # bought back 0.5 at 19000 = 9500, maker fee 0.1 % = 9.5
    assert free_used(ex, "USDT") == (Decimal("1465.51"), Decimal(0))


def test_finer_bars_let_the_target_fill_first(sessions: sessionmaker[Session], feed: ScriptedFeed) -> None:
    ex = make(sessions, feed, margin=True, USDT="0", BTC="1")
    ex.create_order(order("tp", "sell", OrderType.LIMIT, "1", "21000", reduce_only=True))
    ex.create_order(order("sl", "sell", OrderType.STOP_MARKET, "1", "19000", reduce_only=True))
    finer = [[T0, 20000, 21500, 20000, 21200, 1], [T0 + MIN, 21200, 21200, 18500, 20000, 1]]
    trades = ex.process_candle(SYMBOL, [T0, 20000, 21500, 18500, 20000, 2], finer)
    assert [(t.client_order_id, t.price) for t in trades] == [("tp", Decimal(21000))]
    assert ex.fetch_order(client_order_id="sl").status == VenueStatus.EXPIRED


def test_state_survives_a_new_instance(runtime: Runtime, feed: ScriptedFeed) -> None:
    ex = make(runtime.sessions, feed, USDT="10000")
    placed = ex.create_order(order("l1", "buy", OrderType.LIMIT, "0.1", "19500"))
    again = PaperExchange(runtime.sessions, ex.account_id, feed, fees=FEES, slippage_bps=5)
    assert again.fetch_open_orders(SYMBOL) == [placed]
    assert again.create_order(order("l1", "buy", OrderType.LIMIT, "0.1", "19500")) == placed
    assert again.fetch_balance() == ex.fetch_balance()
    again.process_candle(SYMBOL, [T0 + MIN, 19900, 19950, 19400, 19600, 5])
    assert ex.fetch_order(placed.id).status == VenueStatus.CLOSED
    assert [t.order_id for t in ex.fetch_my_trades(since=T0)] == [placed.id]
    assert ex.fetch_my_trades(since=T0 + 2 * MIN) == []
    with pytest.raises(ValueError, match="no paper account"):
        PaperExchange(runtime.sessions, ex.account_id + 1000, feed)


def test_fetch_orders_by_client_ids_is_one_query(runtime: Runtime, feed: ScriptedFeed) -> None:
    ex = make(runtime.sessions, feed, USDT="10000")
    for cid in ("a", "b", "c"):
        ex.create_order(order(cid, "buy", OrderType.LIMIT, "0.01", "19000"))
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(runtime.db, "before_cursor_execute", count)
    try:
        found = ex.fetch_orders_by_client_ids(["a", "c", "unknown"])
    finally:
        event.remove(runtime.db, "before_cursor_execute", count)
    assert sorted(o.client_order_id for o in found) == ["a", "c"]
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1
    assert ex.fetch_orders_by_client_ids([]) == []


def test_sync_with_feed_processes_closed_candles_once(sessions: sessionmaker[Session], feed: ScriptedFeed) -> None:
    ex = make(sessions, feed, USDT="10000")
    ex.create_order(order("l1", "buy", OrderType.LIMIT, "0.1", "19500"))
    feed.candles = [
        [T0, 20000, 20100, 19900, 20000, 1],
        [T0 + MIN, 20000, 20050, 19800, 19900, 1],
        [T0 + 2 * MIN, 19900, 19950, 19600, 19700, 1],
        [T0 + 3 * MIN, 19700, 19700, 19300, 19400, 1],  # still forming at now = T0 + 3.5 min
    ]
    feed.now = T0 + 3 * MIN + MIN // 2
    assert ex.sync_with_feed(SYMBOL, since_ts=T0) == []
    assert ex.fetch_order(client_order_id="l1").status == VenueStatus.OPEN
    feed.now = T0 + 4 * MIN
    (trade,) = ex.sync_with_feed(SYMBOL, since_ts=T0)
    assert (trade.price, trade.ts) == (Decimal(19500), T0 + 3 * MIN)
    calls = feed.ohlcv_calls
    assert ex.sync_with_feed(SYMBOL) == []  # remembers where it stopped
    assert feed.ohlcv_calls == calls + 1


def test_racing_instances_place_one_order(runtime: Runtime, feed: ScriptedFeed) -> None:
    account = create_paper_account(runtime.sessions, None, "race", {"USDT": Decimal("10000")})
    venues = [PaperExchange(runtime.sessions, account, feed, fees=FEES) for _ in range(6)]
    req = order("same-id", "buy", OrderType.LIMIT, "0.1", "19000")
    with ThreadPoolExecutor(len(venues)) as pool:
        results = list(pool.map(lambda venue: venue.create_order(req), venues))
    assert len({r.id for r in results}) == 1
    assert free_used(venues[0], "USDT") == (Decimal("8096.2"), Decimal("1903.8"))  # 1900 x 1.002 locked once


# --- rule 10: an order contingent on an entry's fill is matched from the entry's fill bar on ---


def replay(ex: PaperExchange, feed: ScriptedFeed, *candles: list[float]) -> list[VenueTrade]:
    """Append closed candles to the feed (the clock past them, the last price their close) and let
    the account process them."""
    feed.candles += [list(c) for c in candles]
    feed.now, feed.last = int(candles[-1][0]) + MIN, float(candles[-1][4])
    return ex.sync_with_feed(SYMBOL, since_ts=T0)


def unslipped(
    sessions: sessionmaker[Session], feed: ScriptedFeed, margin: bool = False, **balances: str
) -> PaperExchange:
    account = create_paper_account(sessions, None, "paper", {k: Decimal(v) for k, v in balances.items()}, margin=margin)
    return PaperExchange(sessions, account, feed, fees=FEES)


def test_a_contingent_stop_fills_on_the_bar_that_filled_its_entry(
    sessions: sessionmaker[Session], feed: ScriptedFeed
) -> None:
    ex = unslipped(sessions, feed, USDT="10000")
    ex.create_order(order("entry", "buy", OrderType.STOP_MARKET, "0.1", "20500"))
    # One bar up through the entry's stop at 20500 and down to 19400, closing at 19500.
    (entry,) = replay(ex, feed, [T0, 20000, 20600, 19400, 19500, 5])
    assert (entry.price, entry.ts) == (Decimal(20500), T0)
    stop = order("sl", "sell", OrderType.STOP_MARKET, "0.1", "19600")
    with pytest.raises(InvalidOrder, match="trigger immediately"):  # as before: the last price 19500 is past it
        ex.create_order(stop)
    placed = ex.create_order(replace(stop, contingent_on="entry"))
    # The rest of the bar after the fill, 20500 / 20600 / 19400 / 19500, goes through 19600: filled there.
    assert (placed.status, placed.average, placed.fee, placed.ts) == (
        VenueStatus.CLOSED,
        Decimal(19600),
        Decimal("3.92"),  # 1960 x 0.2 % taker
        T0,  # it rests since the entry filled: fetch_my_trades(since=its ts) finds its fill
    )
    assert [(t.client_order_id, t.price, t.ts) for t in ex.fetch_my_trades(since=placed.ts)] == [
        ("entry", Decimal(20500), T0),
        ("sl", Decimal(19600), T0),
    ]
    # 10000 - 2050 - 4.1 (the entry) + 1960 - 3.92 (the stop)
    assert free_used(ex, "USDT") == (Decimal("9901.98"), Decimal(0))
    assert free_used(ex, "BTC") == (Decimal(0), Decimal(0))


def test_a_contingent_target_fills_at_its_price_not_at_the_close(
    sessions: sessionmaker[Session], feed: ScriptedFeed
) -> None:
    ex = unslipped(sessions, feed, margin=True, USDT="10000")
    ex.create_order(order("entry", "buy", OrderType.LIMIT, "0.1", "19800"))
    replay(ex, feed, [T0, 20000, 20300, 19700, 20250, 5])  # the entry fills at 19800, the bar closes at 20250
    target = order("tp", "sell", OrderType.LIMIT, "0.1", "20200", reduce_only=True)
    placed = ex.create_order(replace(target, contingent_on="entry"))
    assert (placed.status, placed.average, placed.fee) == (VenueStatus.CLOSED, Decimal(20200), Decimal("2.02"))
    # Not contingent it would be marketable at the last price and fill there, 50 better than its price.
    other = unslipped(sessions, feed, margin=True, USDT="0", BTC="0.1")
    assert other.create_order(target).average == Decimal(20250)


def test_stop_first_the_target_placed_after_it_expires(sessions: sessionmaker[Session], feed: ScriptedFeed) -> None:
    ex = unslipped(sessions, feed, margin=True, USDT="10000")
    ex.create_order(order("entry", "buy", OrderType.LIMIT, "0.1", "19800"))
    replay(ex, feed, [T0, 20000, 20300, 19500, 19900, 5])  # the entry at 19800; the bar reaches 19600 and 20200
    sl = ex.create_order(
        order("sl", "sell", OrderType.STOP_MARKET, "0.1", "19600", reduce_only=True, contingent_on="entry")
    )
    tp = ex.create_order(order("tp", "sell", OrderType.LIMIT, "0.1", "20200", reduce_only=True, contingent_on="entry"))
    assert (sl.status, sl.average) == (VenueStatus.CLOSED, Decimal(19600))
    assert (tp.status, tp.filled) == (VenueStatus.EXPIRED, Decimal(0))  # its position went with the stop
    assert free_used(ex, "BTC") == (Decimal(0), Decimal(0))


def test_candles_processed_since_the_fill_are_matched_in_order_with_their_gaps(
    sessions: sessionmaker[Session], feed: ScriptedFeed
) -> None:
    ex = unslipped(sessions, feed, USDT="10000")
    ex.create_order(order("entry", "buy", OrderType.LIMIT, "0.1", "19800"))
    replay(  # the engine was away for four candles (the feed pages two at a time)
        ex,
        feed,
        [T0, 20000, 20000, 19700, 19900, 5],  # the entry fills at 19800
        [T0 + MIN, 19900, 19950, 19650, 19700, 5],
        [T0 + 2 * MIN, 19700, 19750, 19620, 19650, 5],
        [T0 + 3 * MIN, 19400, 19500, 19300, 19450, 5],  # gaps down through the stop at 19600
    )
    sl = ex.create_order(order("sl", "sell", OrderType.STOP_MARKET, "0.1", "19600", contingent_on="entry"))
    assert (sl.status, sl.average) == (VenueStatus.CLOSED, Decimal(19400))  # at the gap's open
    assert ex.fetch_my_trades()[-1].ts == T0 + 3 * MIN


def test_past_the_last_candle_a_contingent_stop_fills_at_the_last_price_and_a_target_rests(
    sessions: sessionmaker[Session], feed: ScriptedFeed
) -> None:
    ex = unslipped(sessions, feed, margin=True, USDT="10000")
    ex.create_order(order("entry", "buy", OrderType.LIMIT, "0.2", "19800"))
    replay(ex, feed, [T0, 20000, 20000, 19700, 19750, 5])  # filled at 19800; neither 19600 nor 20200 reached
    feed.last = 20300.0  # the forming candle is past the target: it rests (never a fill better than its price)
    tp = ex.create_order(order("tp", "sell", OrderType.LIMIT, "0.1", "20200", reduce_only=True, contingent_on="entry"))
    assert (tp.status, tp.ts) == (VenueStatus.OPEN, T0)  # resting since the fill: the forming candle counts
    (trade,) = replay(ex, feed, [T0 + MIN, 19750, 20350, 19740, 20300, 5])
    assert (trade.client_order_id, trade.price, trade.taker_or_maker) == ("tp", Decimal(20200), "maker")
    feed.last = 19500.0  # now past the stop, after the last candle: the stop triggered, a market sell now
    sl = ex.create_order(
        order("sl", "sell", OrderType.STOP_MARKET, "0.1", "19600", reduce_only=True, contingent_on="entry")
    )
    assert (sl.status, sl.average, sl.fee, sl.last_update_ts) == (
        VenueStatus.CLOSED,
        Decimal(19500),
        Decimal("3.9"),
        feed.now,
    )


def test_a_parent_unknown_or_unfilled_places_as_before(sessions: sessionmaker[Session], feed: ScriptedFeed) -> None:
    ex = unslipped(sessions, feed, USDT="10000", BTC="0.2")
    ex.create_order(order("entry", "buy", OrderType.LIMIT, "0.1", "19000"))  # rests
    with pytest.raises(InvalidOrder, match="trigger immediately"):
        ex.create_order(order("a", "sell", OrderType.STOP_MARKET, "0.1", "20100", contingent_on="unknown"))
    with pytest.raises(InvalidOrder, match="trigger immediately"):
        ex.create_order(order("b", "sell", OrderType.STOP_MARKET, "0.1", "20100", contingent_on="entry"))
    placed = ex.create_order(order("c", "sell", OrderType.STOP_MARKET, "0.1", "19500", contingent_on="entry"))
    assert (placed.status, placed.ts) == (VenueStatus.OPEN, T0)
    market = ex.create_order(order("d", "sell", OrderType.MARKET, "0.1", contingent_on="entry"))
    assert market.average == Decimal(20000)  # a market order fills at the next price whatever it names


def test_a_contingent_placement_racing_the_feed_is_retried(sessions: sessionmaker[Session], feed: ScriptedFeed) -> None:
    ex = unslipped(sessions, feed, USDT="10000")
    ex.create_order(order("entry", "buy", OrderType.LIMIT, "0.1", "19800"))
    replay(ex, feed, [T0, 20000, 20000, 19700, 19900, 5])
    later = [T0 + MIN, 19900, 19950, 19850, 19900, 5]
    fetch = feed.fetch_ohlcv

    def racing(*args: object) -> list[OHLCV]:  # another instance processes a candle meanwhile
        feed.fetch_ohlcv = fetch  # type: ignore[method-assign]
        feed.candles.append(later)
        feed.now = T0 + 2 * MIN
        PaperExchange(sessions, ex.account_id, feed).sync_with_feed(SYMBOL)
        return fetch(*args)  # type: ignore[arg-type]

    feed.fetch_ohlcv = racing  # type: ignore[method-assign]
    with pytest.raises(VenueUnavailable, match="meanwhile"):
        ex.create_order(order("sl", "sell", OrderType.STOP_MARKET, "0.1", "19600", contingent_on="entry"))
    assert ex.fetch_orders_by_client_ids(["sl"]) == []  # nothing placed: the executor sends it again
    assert ex.create_order(order("sl", "sell", OrderType.STOP_MARKET, "0.1", "19600", contingent_on="entry")).is_open
