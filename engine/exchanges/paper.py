"""The paper exchange: a simulated venue per account, persisted in the DB, on any price feed.

Implements `TradingVenue` like a spot exchange: resting orders lock their funds (a buy limit locks
quote, a sell locks the base coins), so a take-profit and a stop cannot both sell the same coins.
An account created with margin=True lets sells take the base balance below zero (a short) instead,
and so does every account on a perpetual or a future (a contract symbol, BTC/USDT:USDT), where a
position is shorted and closed by reduce-only orders; its base balance is the position (shared with
the spot market of the same coin: the simulation keeps one balance per currency).
Orders fill by the rules of `engine.exchanges.fill_rules` (docs/fill-rules.md) when candles or prices are fed
in with `process_candle`, `process_price` or `sync_with_feed`; a stop or target contingent on an entry
that filled is matched from the entry's fill bar on (`engine.exchanges.paper_path`, rule 10 of
docs/fill-rules.md). A margin account's perpetuals pay funding at a fixed rate
(`fetch_funding_history`, engine.exchanges.paper_funding). An order always fills whole (the
simulation knows no volume, so no partial fills). Every operation is one transaction that first
locks the account row, so two instances on one account see and keep one truth.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker

from db.models import PaperAccount, PaperFeedCursor, PaperFill, PaperOrder
from db.session import transaction
from engine.common.precision import to_decimal
from engine.common.symbols import SymbolError, is_contract, split_symbol
from engine.common.timeframes import last_closed_open, tf_ms
from engine.exchanges import paper_funding
from engine.exchanges.fill_rules import (
    Bar,
    FeeSchedule,
    Fill,
    FillRules,
    Liquidity,
    arrival_price,
    fill_after_parent,
    market_fill,
    sequence_fills,
    stop_triggered,
)
from engine.exchanges.paper_ledger import (
    Ledger,
    Money,
    can_pay,
    check_reduce_only,
    create_paper_account,
    lock_funds,
    new_order_row,
    order_of,
    release_order_lock,
    trade_of,
)
from engine.exchanges.paper_path import Placement, PriceFeed, cursor_ts_query, read_placement
from engine.exchanges.venue import (
    Balance,
    FundingPayment,
    InsufficientFunds,
    InvalidOrder,
    OrderNotFound,
    OrderRequest,
    OrderSide,
    VenueCapabilities,
    VenueOrder,
    VenueStatus,
    VenueTrade,
    VenueUnavailable,
    validate_request,
)

MAX_SYNC_PAGES = 1_000

# Built once (docs/benchmarks.md, "statements built once"): a statement built per call pays for
# its construction and cache key every time, about half of a small query's CPU.
_ACCOUNT = bindparam("account_id")
_ORDER_BY_CLIENT_ID = select(PaperOrder).where(
    PaperOrder.account_id == _ACCOUNT, PaperOrder.client_order_id == bindparam("client_order_id")
)
# Plain rows, not ORM objects: the sync tick asks for every working order of the account at once,
# and building thousands of tracked objects was most of its time (docs/benchmarks.md).
_ORDERS_BY_CLIENT_IDS = (
    select(*PaperOrder.__table__.columns)
    .where(PaperOrder.account_id == _ACCOUNT)
    .where(PaperOrder.client_order_id.in_(bindparam("client_order_ids", expanding=True)))
    .order_by(PaperOrder.id)
)
_CURSOR = select(PaperFeedCursor).where(
    PaperFeedCursor.account_id == _ACCOUNT, PaperFeedCursor.symbol == bindparam("symbol")
)
# SQLite: a write takes the database's write lock now (waiting out the busy timeout); a read first
# would fail outright when another writer commits before this one writes. PostgreSQL: a row lock.
_LOCK_SQLITE = update(PaperAccount).where(PaperAccount.id == _ACCOUNT).values(margin=PaperAccount.margin)
_LOCK_ROW = select(PaperAccount.id).where(PaperAccount.id == _ACCOUNT).with_for_update()

__all__ = ["PaperExchange", "create_paper_account"]


class PaperExchange:
    """One paper account seen as a trading venue (see the module docstring)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        account_id: int,
        price_feed: PriceFeed,
        fees: FeeSchedule | None = None,
        slippage_bps: Decimal | int = 0,
        limit_requires_trade_through: bool = True,
        clock: Callable[[], int] | None = None,
        timeframe: str = "1m",
        exits_rest_together: bool = False,
    ) -> None:
        self.sessions, self.account_id, self.feed = sessions, account_id, price_feed
        self.rules = FillRules(Decimal(slippage_bps), limit_requires_trade_through, fees or FeeSchedule())
        self._clock = clock or getattr(price_feed, "milliseconds", None) or (lambda: int(time.time() * 1000))
        self.timeframe = timeframe  # of the candles sync_with_feed plays (a replay plays its run's)
        self.exits_rest_together = exits_rest_together
        with sessions() as s:
            account = s.get(PaperAccount, account_id)
            if account is None:
                raise ValueError(f"no paper account {account_id}")
            self.margin = account.margin
            self.money = Money(s.get_bind().dialect.name)

    @property
    def capabilities(self) -> VenueCapabilities:
        # Every account trades perpetuals (shorts, leverage, reduce-only) and pays their funding (paper_funding).
        return VenueCapabilities(
            supports_reduce_only=True,
            exits_rest_together=self.margin and self.exits_rest_together,
            supports_leverage=True,
        )

    def _margin(self, symbol: str) -> bool:
        """Whether sells may go short here: on a margin account, and on every contract market."""
        return self.margin or is_contract(symbol)

    # --- orders ---

    def create_order(self, req: OrderRequest) -> VenueOrder:
        validate_request(req)
        try:
            split_symbol(req.symbol)
        except SymbolError as exc:
            raise InvalidOrder(str(exc)) from exc
        known = self.fetch_orders_by_client_ids([req.client_order_id])
        if known:  # a retry of an order already placed: place nothing new
            return known[0]
        # Prices are read outside the transaction: no row lock is held over the network.
        placement = self._placement(req)
        last = self._last_price(req.symbol)
        with transaction(self.sessions) as s:
            self._lock_account(s)
            row = s.scalar(_ORDER_BY_CLIENT_ID, {"account_id": self.account_id, "client_order_id": req.client_order_id})
            if row is None and placement is not None:
                row = self._place_contingent(s, req, placement, last)
            elif row is None:
                row = self._place(s, req, last)
            return order_of(row, self.money)

    def cancel_order(
        self, order_id: str | None = None, client_order_id: str | None = None, symbol: str | None = None
    ) -> VenueOrder:
        with transaction(self.sessions) as s:
            self._lock_account(s)
            row = self._find(s, order_id, client_order_id, symbol)
            if row.status == VenueStatus.CLOSED:
                raise InvalidOrder(f"order {row.id} ({row.client_order_id}) is already filled")
            if row.status == VenueStatus.OPEN:  # anything else is already done: canceling again is harmless
                self._finish(Ledger(s, self.account_id, self.money), row, VenueStatus.CANCELED, self._clock())
            return order_of(row, self.money)

    def fetch_order(
        self, order_id: str | None = None, client_order_id: str | None = None, symbol: str | None = None
    ) -> VenueOrder:
        with self.sessions() as s:
            return order_of(self._find(s, order_id, client_order_id, symbol), self.money)

    def fetch_open_orders(self, symbol: str | None = None) -> list[VenueOrder]:
        query = self._orders().where(PaperOrder.status == VenueStatus.OPEN.value)
        if symbol is not None:
            query = query.where(PaperOrder.symbol == symbol)
        with self.sessions() as s:
            return [order_of(row, self.money) for row in s.scalars(query.order_by(PaperOrder.id))]

    def fetch_orders_by_client_ids(self, client_order_ids: list[str]) -> list[VenueOrder]:
        if not client_order_ids:
            return []
        wanted = {"account_id": self.account_id, "client_order_ids": client_order_ids}
        with self.sessions() as s:
            return [order_of(row, self.money) for row in s.connection().execute(_ORDERS_BY_CLIENT_IDS, wanted)]

    def fetch_my_trades(self, symbol: str | None = None, since: int | None = None) -> list[VenueTrade]:
        query = (
            select(PaperFill, PaperOrder.client_order_id)
            .join(PaperOrder, PaperOrder.id == PaperFill.order_id)
            .where(PaperFill.account_id == self.account_id)
        )
        if symbol is not None:
            query = query.where(PaperFill.symbol == symbol)
        if since is not None:
            query = query.where(PaperFill.ts >= since)
        with self.sessions() as s:
            rows = s.execute(query.order_by(PaperFill.ts, PaperFill.id)).all()
            return [trade_of(fill, client_id, self.money) for fill, client_id in rows]

    def fetch_funding_history(self, symbol: str | None = None, since: int | None = None) -> list[FundingPayment]:
        """Funding of the account's perpetual positions at a fixed rate (engine.exchanges.paper_funding)."""
        with self.sessions() as s:
            fills = paper_funding.moves(s, self.account_id, symbol)
        return paper_funding.payments(fills, since, self._clock(), paper_funding.feed_price(self.feed))

    def fetch_balance(self) -> dict[str, Balance]:
        with self.sessions() as s:
            return Ledger(s, self.account_id, self.money).balances()

    # --- the market moves ---

    def process_candle(
        self, symbol: str, candle: Bar | Sequence[float], finer_bars: Sequence[Bar | Sequence[float]] | None = None
    ) -> list[VenueTrade]:
        """Fill what `candle` fills among the open orders of `symbol` placed before it opened."""
        return self.process_candles(symbol, [candle], finer_bars)

    def process_candles(
        self,
        symbol: str,
        candles: Sequence[Bar | Sequence[float]],
        finer_bars: Sequence[Bar | Sequence[float]] | None = None,
    ) -> list[VenueTrade]:
        """Process `candles` oldest first in one transaction; candles at or before the account's
        cursor for `symbol` were processed already and are skipped. `finer_bars` (one candle only)
        settle which order fills first inside it."""
        trades: list[VenueTrade] = []
        with transaction(self.sessions) as s:
            self._lock_account(s)
            cursor = self._cursor(s, symbol)
            for bar in sorted((Bar.of(c) for c in candles), key=lambda b: b.ts):
                if bar.ts <= cursor.last_ts:
                    continue
                trades += self._fill_bar(s, symbol, bar, finer_bars)
                cursor.last_ts, cursor.last_price = bar.ts, Money.write(bar.close)
        return trades

    def process_price(self, symbol: str, ts: int, price: Decimal | float) -> list[VenueTrade]:
        """Fill what a trade at `price` fills; it is treated as a bar from the previous price seen."""
        with self.sessions() as s:
            cursor = self._stored_cursor(s, symbol)
            previous = self.money.read(cursor.last_price) if cursor else None
        return self.process_candle(symbol, Bar.tick(ts, to_decimal(price), previous))

    def sync_with_feed(
        self, symbol: str, since_ts: int | None = None, timeframe: str | None = None
    ) -> list[VenueTrade]:
        """Pull the closed candles of `symbol` after the last one processed (or from `since_ts` the
        first time, else the last closed candle only) and process them in order."""
        timeframe = timeframe or self.timeframe
        step, now = tf_ms(timeframe), self._clock()
        with self.sessions() as s:
            cursor = self._stored_cursor(s, symbol)
        starts = [cursor.last_ts + 1] if cursor else []
        starts += [since_ts] if since_ts is not None else []
        start = max(starts) if starts else last_closed_open(now, timeframe)
        trades: list[VenueTrade] = []
        for _ in range(MAX_SYNC_PAGES):
            rows = self._feed_call(self.feed.fetch_ohlcv, symbol, timeframe, start, None)
            closed = [r for r in rows if int(r[0]) >= start and int(r[0]) + step <= now]
            if not closed:
                break
            trades += self.process_candles(symbol, closed)
            start = int(closed[-1][0]) + 1
        return trades

    # --- internals ---

    def _orders(self) -> Select[tuple[PaperOrder]]:
        return select(PaperOrder).where(PaperOrder.account_id == self.account_id)

    def _lock_account(self, s: Session) -> None:
        """Serialize every change to one account: the rest of the transaction sees no other writer."""
        lock = _LOCK_SQLITE if self.money.dialect == "sqlite" else _LOCK_ROW
        s.connection().execute(lock, {"account_id": self.account_id})

    def _find(self, s: Session, order_id: str | None, client_order_id: str | None, symbol: str | None) -> PaperOrder:
        if order_id is None and client_order_id is None:
            raise InvalidOrder("give order_id or client_order_id")
        query = self._orders()
        if order_id is not None:
            if not str(order_id).isdigit():
                raise OrderNotFound(f"no paper order {order_id!r}")
            query = query.where(PaperOrder.id == int(order_id))
        if client_order_id is not None:
            query = query.where(PaperOrder.client_order_id == client_order_id)
        row = s.scalar(query)
        if row is None or (symbol is not None and row.symbol != symbol):
            raise OrderNotFound(f"no paper order id={order_id!r} client_order_id={client_order_id!r}")
        return row

    def _feed_call(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except Exception as exc:  # the feed is any object: whatever it raises means "no price now"
            raise VenueUnavailable(f"price feed failed: {exc}") from exc

    def _last_price(self, symbol: str) -> Decimal:
        return to_decimal(self._feed_call(self.feed.fetch_ticker, symbol).last)

    def _stored_cursor(self, s: Session, symbol: str) -> PaperFeedCursor | None:
        return s.scalar(_CURSOR, {"account_id": self.account_id, "symbol": symbol})

    def _cursor(self, s: Session, symbol: str) -> PaperFeedCursor:
        cursor = self._stored_cursor(s, symbol)
        if cursor is None:
            cursor = PaperFeedCursor(account_id=self.account_id, symbol=symbol, last_ts=-1, last_price=None)
            s.add(cursor)
        return cursor

    def _placement(self, req: OrderRequest) -> Placement | None:
        fetch = lambda *args: self._feed_call(self.feed.fetch_ohlcv, *args)  # noqa: E731
        return read_placement(self.sessions, self.account_id, req, fetch, self.timeframe)

    def _place(self, s: Session, req: OrderRequest, last: Decimal) -> PaperOrder:
        """A new order: filled at once when it is a market order or a marketable limit, else resting."""
        ledger, now = Ledger(s, self.account_id, self.money), self._clock()
        check_reduce_only(ledger, req.symbol, req.side, req.amount, req.reduce_only, raise_error=True)
        row = new_order_row(self.account_id, req, now, now)
        if req.stop_price is not None and stop_triggered(req.side, req.stop_price, last):
            raise InvalidOrder(f"stop {req.stop_price} would trigger immediately (last price {last})")
        immediate = arrival_price(req, last, self.rules)
        if immediate is not None:
            fees, margin = self.rules.fees, self._margin(req.symbol)
            if not can_pay(
                ledger, req.symbol, req.side, req.amount, immediate, Liquidity.TAKER, fees, margin, req.leverage
            ):
                raise InsufficientFunds(f"cannot pay for {req.side} {req.amount} {req.symbol} at {immediate}")
            s.add(row)
            s.flush()
            self._apply_fill(s, ledger, row, Fill(immediate, Liquidity.TAKER, now))
            return row
        lock_funds(ledger, row, req, self.rules, self._margin(req.symbol))
        s.add(row)
        s.flush()
        return row

    def _place_contingent(self, s: Session, req: OrderRequest, placement: Placement, last: Decimal) -> PaperOrder:
        """A stop or target whose entry has filled: it rests since that fill (created at the fill's
        time, so every later candle matches it) and is matched now against the candles processed since
        (rule 10). A stop that path leaves unfilled but the last price is past triggered after the last
        candle processed: it fills now at the last price, as the market order it became (not refused).
        A limit is never filled on arrival: it rests. A reduce-only child whose position is gone (a
        sibling stop filled on the same path) expires, as on a venue with one-triggers-other orders."""
        cursor = s.scalar(cursor_ts_query(self.account_id, req.symbol))
        if (-1 if cursor is None else cursor) != placement.cursor_ts:
            raise VenueUnavailable("the paper account processed new prices meanwhile: place the order again")
        ledger, now, parent = Ledger(s, self.account_id, self.money), self._clock(), placement.parent
        row = new_order_row(self.account_id, req, min(parent.ts, now), now)
        if not check_reduce_only(ledger, req.symbol, req.side, req.amount, req.reduce_only, raise_error=False):
            row.status = VenueStatus.EXPIRED.value
            s.add(row)
            s.flush()
            return row
        lock_funds(ledger, row, req, self.rules, self._margin(req.symbol))
        s.add(row)
        s.flush()
        fill = fill_after_parent(req, placement.bars, parent.ts, parent.price, parent.on_bar, self.rules)
        if fill is None and req.stop_price is not None and stop_triggered(req.side, req.stop_price, last):
            fill = Fill(market_fill(req.side, last, self.rules.slippage_bps), Liquidity.TAKER, now)
        if fill is not None:
            self._settle(s, ledger, row, fill)
        return row

    def _fill_bar(
        self, s: Session, symbol: str, bar: Bar, finer_bars: Sequence[Bar | Sequence[float]] | None
    ) -> list[VenueTrade]:
        rows = s.scalars(
            self._orders()
            .where(PaperOrder.symbol == symbol, PaperOrder.status == VenueStatus.OPEN.value)
            .where(PaperOrder.created_ts <= bar.ts)  # placed mid-bar: the bar's earlier prices are not its own
            .order_by(PaperOrder.id)
        ).all()
        if not rows:
            return []
        by_id = {str(row.id): row for row in rows}
        ledger = Ledger(s, self.account_id, self.money)
        trades = []
        orders = [order_of(row, self.money) for row in rows]
        for first in sequence_fills(orders, bar, finer_bars, self.rules):
            trade = self._settle(s, ledger, by_id[first.order.id], first.fill)
            if trade is not None:
                trades.append(trade)
        return trades

    def _settle(self, s: Session, ledger: Ledger, row: PaperOrder, fill: Fill) -> VenueTrade | None:
        """Fill a resting order, unless it can no longer: a reduce-only order whose position is gone
        expires; a stop buy that gapped beyond what the account can pay is rejected."""
        amount = self.money.must(row.amount)
        if not check_reduce_only(ledger, row.symbol, row.side, amount, row.reduce_only, raise_error=False):
            self._finish(ledger, row, VenueStatus.EXPIRED, fill.ts)
            return None
        release_order_lock(ledger, row)
        price, fees, margin = fill.price, self.rules.fees, self._margin(row.symbol)
        if not can_pay(ledger, row.symbol, row.side, amount, price, fill.liquidity, fees, margin, row.leverage):
            self._finish(ledger, row, VenueStatus.REJECTED, fill.ts)
            return None
        return self._apply_fill(s, ledger, row, fill)

    def _apply_fill(self, s: Session, ledger: Ledger, row: PaperOrder, fill: Fill) -> VenueTrade:
        """Fill the whole order at `fill.price`: move base and quote, charge the fee in quote."""
        release_order_lock(ledger, row)
        base, quote = split_symbol(row.symbol)
        amount, price = self.money.must(row.amount), Money.write(fill.price)
        cost = price * amount
        fee = Money.write(self.rules.fees.fee(price, amount, fill.liquidity))
        sign = 1 if row.side == OrderSide.BUY else -1
        ledger.add_free(base, sign * amount)
        ledger.add_free(quote, -sign * cost - fee)
        row.status, row.filled, row.cost, row.fee = VenueStatus.CLOSED.value, amount, Money.write(cost), fee
        row.updated_ts = fill.ts
        record = PaperFill(
            account_id=self.account_id,
            order_id=row.id,
            symbol=row.symbol,
            side=row.side,
            price=price,
            amount=amount,
            fee=fee,
            fee_currency=quote,
            taker_or_maker=fill.liquidity.value,
            ts=fill.ts,
        )
        s.add(record)
        s.flush()
        return trade_of(record, row.client_order_id, self.money)

    def _finish(self, ledger: Ledger, row: PaperOrder, status: VenueStatus, ts: int) -> None:
        release_order_lock(ledger, row)
        row.status, row.updated_ts = status.value, ts
