"""Helpers for the bracket engine's tests: a scripted price path (our own feed object: a clock,
candles and a last price the test sets), users, the demo markets, paper accounts and blocks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db.enums import EntryType, OrderType, Role, Side, SizeMode
from db.models import Block, Fill, Order, PaperOrder, Trade, User
from engine.blocks.plan import BlockRequest, TargetSpec
from engine.exchanges.base import OHLCV, Ticker
from engine.exchanges.demo import DemoExchange
from engine.exchanges.venue import (
    Balance,
    InvalidOrder,
    OrderNotFound,
    OrderRequest,
    VenueCapabilities,
    VenueOrder,
    VenueStatus,
    VenueTrade,
    VenueUnavailable,
)
from engine.market.markets import sync_markets
from engine.runtime import Runtime
from engine.users.accounts import open_paper_account

MIN = 60_000
T0 = 1_717_200_000_000  # 2024-06-01 00:00 UTC, on the minute
D = Decimal
ZERO = Decimal(0)


class PathFeed:
    """A price feed on a script: `bar()` appends a closed one-minute candle and moves the clock past
    it; the ticker's last price is the last close (or what the test sets)."""

    def __init__(self, price: str = "100", now: int = T0) -> None:
        self.now = now
        self.last = float(price)
        self.candles: list[OHLCV] = []
        self.down = False

    def milliseconds(self) -> int:
        return self.now

    def fetch_ticker(self, symbol: str) -> Ticker:
        if self.down:
            raise ConnectionError("feed down")
        return Ticker(symbol, self.now, self.last)

    def fetch_ohlcv(self, symbol: str, timeframe: str, since: int | None, limit: int | None) -> list[OHLCV]:
        if self.down:
            raise ConnectionError("feed down")
        rows = [c for c in self.candles if since is None or c[0] >= since]
        return rows[: limit or 1000]

    def bar(self, o: str, h: str, low: str, c: str) -> None:
        """The candle of the current minute, closed: the clock moves to the next minute."""
        self.candles.append([self.now, float(o), float(h), float(low), float(c), 1.0])
        self.now += MIN
        self.last = float(c)

    def flat(self, price: str, count: int = 1) -> None:
        for _ in range(count):
            self.bar(price, price, price, price)


def add_user(sessions: sessionmaker[Session], name: str = "alice") -> int:
    with sessions.begin() as s:
        user = User(username=name, password_hash="x", role=Role.TRADER)
        s.add(user)
        s.flush()
        return user.id


def load_demo_markets(sessions: sessionmaker[Session]) -> None:
    sync_markets(sessions, DemoExchange(clock=lambda: T0))


def setup(
    runtime: Runtime, feed: PathFeed, balance: str = "10000", margin: bool = False, user: str = "alice"
) -> tuple[int, int]:
    """(user id, account id) of a fresh paper account on the demo exchange priced by `feed`."""
    runtime.sources["demo"] = feed
    runtime.reset_trading()  # the shared test runtime: no venue cached from an earlier test
    with runtime.sessions() as s:
        have_markets = s.scalar(select(func.count()).select_from(Block.metadata.tables["markets"]))
    if not have_markets:
        load_demo_markets(runtime.sessions)
    user_id = add_user(runtime.sessions, user)
    account = open_paper_account(runtime.sessions, user_id, f"paper-{user}", balance=D(balance), margin=margin)
    return user_id, account.id


def request(
    entry: str | None = "100",
    stop: str = "95",
    targets: Sequence[str] = ("105", "110"),
    size: str = "1",
    side: Side = Side.LONG,
    entry_type: EntryType = EntryType.LIMIT,
    symbol: str = "SOL/USDT",
    size_mode: SizeMode = SizeMode.BASE,
    **options: object,
) -> BlockRequest:
    return BlockRequest(
        symbol=symbol,
        side=side,
        entry_type=entry_type,
        entry_price=D(entry) if entry is not None else None,
        stop_price=D(stop),
        targets=tuple(TargetSpec(D(t)) for t in targets),
        size_mode=size_mode,
        size_value=D(size),
        **options,  # type: ignore[arg-type]
    )


def counts(sessions: sessionmaker[Session]) -> tuple[int, int, int, int]:
    """(blocks, trades, orders, paper orders) rows."""
    with sessions() as s:
        return tuple(  # type: ignore[return-value]
            s.scalar(select(func.count()).select_from(model)) or 0 for model in (Block, Trade, Order, PaperOrder)
        )


def orders_of(sessions: sessionmaker[Session], block_id: int) -> list[Order]:
    with sessions() as s:
        return list(s.scalars(select(Order).where(Order.block_id == block_id).order_by(Order.id)))


def trades_of(sessions: sessionmaker[Session], block_id: int) -> list[Trade]:
    with sessions() as s:
        return list(s.scalars(select(Trade).where(Trade.block_id == block_id).order_by(Trade.index)))


def block_of(sessions: sessionmaker[Session], block_id: int) -> Block:
    with sessions() as s:
        block = s.get(Block, block_id)
        assert block is not None
        return block


def fills_of(sessions: sessionmaker[Session], block_id: int) -> list[Fill]:
    with sessions() as s:
        query = select(Fill).join(Order, Order.id == Fill.order_id).where(Order.block_id == block_id)
        return list(s.scalars(query.order_by(Fill.id)))


def venue_orders(sessions: sessionmaker[Session]) -> dict[str, PaperOrder]:
    with sessions() as s:
        return {o.client_order_id: o for o in s.scalars(select(PaperOrder))}


class ManualVenue:
    """An in-memory venue whose fills the test decides (partial fills included); market orders fill
    at `price` on arrival. Implements engine.exchanges.venue.TradingVenue."""

    def __init__(self, price: str = "100", quote: str = "10000") -> None:
        self.price = D(price)
        self.orders: dict[str, VenueOrder] = {}
        self.trades: list[VenueTrade] = []
        self.balances = {"USDT": Balance("USDT", D(quote), D(0), D(quote))}
        self.down = False
        self.now = T0
        self.calls: Counter[str] = Counter()

    @property
    def capabilities(self) -> VenueCapabilities:
        return VenueCapabilities()

    def _check(self, name: str) -> None:
        self.calls[name] += 1
        if self.down:
            raise VenueUnavailable("venue down")

    def create_order(self, req: OrderRequest) -> VenueOrder:
        self._check("create_order")
        if req.client_order_id in self.orders:
            return self.orders[req.client_order_id]
        order = VenueOrder(
            str(len(self.orders) + 1), req.client_order_id, req.symbol, req.side, req.type, req.amount,
            req.price, req.stop_price, VenueStatus.OPEN, D(0), req.amount, None, D(0), "USDT", self.now, self.now,
            req.reduce_only,
        )  # fmt: skip
        self.orders[req.client_order_id] = order
        if req.type == OrderType.MARKET:
            self.fill(req.client_order_id, req.amount, self.price)
        return self.orders[req.client_order_id]

    def fill(self, cid: str, amount: Decimal, price: Decimal, fee: Decimal = ZERO) -> None:
        order = self.orders[cid]
        filled = order.filled + amount
        cost = (order.average or D(0)) * order.filled + price * amount
        status = VenueStatus.CLOSED if filled >= order.amount else VenueStatus.OPEN
        self.orders[cid] = replace(
            order, filled=filled, remaining=order.amount - filled, average=cost / filled, fee=order.fee + fee,
            status=status, last_update_ts=self.now,
        )  # fmt: skip
        trade_id = str(len(self.trades) + 1)
        self.trades.append(
            VenueTrade(trade_id, order.id, cid, order.symbol, order.side, price, amount, fee, "USDT", self.now, "taker")
        )

    def cancel_order(
        self, order_id: str | None = None, client_order_id: str | None = None, symbol: str | None = None
    ) -> VenueOrder:
        self._check("cancel_order")
        order = self._find(client_order_id)
        if order.status == VenueStatus.CLOSED:
            raise InvalidOrder("filled")
        if order.status == VenueStatus.OPEN:
            order = self.orders[order.client_order_id] = replace(order, status=VenueStatus.CANCELED)
        return order

    def _find(self, cid: str | None) -> VenueOrder:
        if cid not in self.orders:
            raise OrderNotFound(str(cid))
        return self.orders[cid]

    def fetch_order(
        self, order_id: str | None = None, client_order_id: str | None = None, symbol: str | None = None
    ) -> VenueOrder:
        self._check("fetch_order")
        return self._find(client_order_id)

    def fetch_open_orders(self, symbol: str | None = None) -> list[VenueOrder]:
        self._check("fetch_open_orders")
        return [o for o in self.orders.values() if o.status == VenueStatus.OPEN]

    def fetch_orders_by_client_ids(self, client_order_ids: list[str]) -> list[VenueOrder]:
        self._check("fetch_orders_by_client_ids")
        return [self.orders[c] for c in client_order_ids if c in self.orders]

    def fetch_my_trades(self, symbol: str | None = None, since: int | None = None) -> list[VenueTrade]:
        self._check("fetch_my_trades")
        return [t for t in self.trades if since is None or t.ts >= since]

    def fetch_balance(self) -> dict[str, Balance]:
        self._check("fetch_balance")
        return dict(self.balances)

    def live(self, role: str) -> list[VenueOrder]:
        return [o for o in self.orders.values() if o.status == VenueStatus.OPEN and f"-{role}-" in o.client_order_id]
