"""The fault harness's machinery, shared by the tests that put order-changing code through it
(tests/blocks/test_faults.py, tests/conditions/test_condition_faults.py): a `Crash` (a
BaseException, like the process dying) raised at counted boundaries (before/after each engine
commit by a session factory hook, before/after each venue call by a venue wrapper), a `World` (its
own user, paper account and price path) whose `engine()` is a fresh runtime (a restart), and the
invariants every run must keep (`check_truth`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from db.enums import OrderRole, OrderStatus
from db.models import Base, Block, ExchangeAccount, Order, PaperOrder, Trade
from db.session import make_session_factory
from engine.exchanges.paper import PaperExchange
from engine.exchanges.venues import install_venue
from engine.runtime import Runtime
from engine.users.accounts import open_paper_account
from tests.helpers.trading import PathFeed, add_user

D = Decimal
VENUE_CALLS = ("create_order", "cancel_order", "fetch_order", "fetch_orders_by_client_ids", "fetch_my_trades")


class Crash(BaseException):
    pass


@dataclass
class Boundaries:
    """Counts step boundaries; raises Crash at boundary number `crash_at` (1-based; 0 = never)."""

    crash_at: int = 0
    seen: list[str] = field(default_factory=list)

    def hit(self, label: str) -> None:
        self.seen.append(label)
        if len(self.seen) == self.crash_at:
            raise Crash(label)


class HookedVenue:
    """A venue wrapper: `before(name)` and `after(name)` run around each call in `hooked` (they may raise)."""

    def __init__(
        self,
        inner: PaperExchange,
        before: Callable[[str], None],
        after: Callable[[str], None],
        hooked: tuple[str, ...] = VENUE_CALLS,
    ) -> None:
        self.inner, self.before, self.after, self.hooked = inner, before, after, hooked

    @property
    def capabilities(self) -> Any:
        return self.inner.capabilities

    def sync_with_feed(self, symbol: str) -> Any:
        return self.inner.sync_with_feed(symbol)

    def fetch_balance(self) -> Any:
        return self.inner.fetch_balance()

    def __getattr__(self, name: str) -> Any:
        if name not in VENUE_CALLS:
            raise AttributeError(name)
        method = getattr(self.inner, name)
        if name not in self.hooked:
            return method

        def call(*args: Any, **kwargs: Any) -> Any:
            self.before(name)
            result = method(*args, **kwargs)
            self.after(name)
            return result

        return call


def crashing_sessions(runtime: Runtime, boundaries: Boundaries) -> sessionmaker[Session]:
    factory = make_session_factory(runtime.db)
    event.listen(factory, "before_commit", lambda _s: boundaries.hit("before commit"))
    event.listen(factory, "after_commit", lambda _s: boundaries.hit("after commit"))
    return factory


@dataclass
class World:
    """One run: its own user, paper account and price path, on the shared database."""

    base: Runtime
    name: str
    feed: PathFeed = field(default_factory=lambda: PathFeed("101"))
    user_id: int = 0
    account_id: int = 0
    block_id: int | None = None

    def __post_init__(self) -> None:
        self.feed.flat("101", 2)
        self.user_id = add_user(self.base.sessions, self.name)
        self.account_id = open_paper_account(self.base.sessions, self.user_id, self.name).id

    def engine(
        self,
        sessions: sessionmaker[Session],
        before: Callable[[str], None],
        after: Callable[[str], None],
        hooked: tuple[str, ...] = VENUE_CALLS,
    ) -> Runtime:
        """A fresh engine (a restart): new runtime, given session factory, new venue object."""
        runtime = Runtime(self.base.settings, self.base.db, sessions, {"demo": self.feed})
        with self.base.sessions() as s:
            paper_id = s.get(ExchangeAccount, self.account_id).paper_account_id  # type: ignore[union-attr]
        paper = PaperExchange(self.base.sessions, paper_id, self.feed)  # the venue's own, uncrashable store
        install_venue(runtime, self.account_id, HookedVenue(paper, before, after, hooked))
        return runtime

    def find_block(self) -> int | None:
        with self.base.sessions() as s:
            return s.scalar(select(Block.id).where(Block.user_id == self.user_id))


# --- what must hold ---


def venue_state(world: World) -> dict[str, PaperOrder]:
    with world.base.sessions() as s:
        paper_id = s.get(ExchangeAccount, world.account_id).paper_account_id  # type: ignore[union-attr]
        return {o.client_order_id: o for o in s.scalars(select(PaperOrder).where(PaperOrder.account_id == paper_id))}


def db_orders(world: World) -> list[Order]:
    with world.base.sessions() as s:
        query = select(Order).join(Block, Block.id == Order.block_id).where(Block.user_id == world.user_id)
        return list(s.scalars(query.order_by(Order.id)))


_EXPECTED = {"closed": {OrderStatus.FILLED}, "canceled": {OrderStatus.CANCELED}, "rejected": {OrderStatus.REJECTED}}


def check_truth(world: World) -> None:
    """Every DB order is what the venue says; no duplicates; open positions carry their stop."""
    venue, orders = venue_state(world), db_orders(world)
    by_cid = {o.client_order_id: o for o in orders}
    assert set(venue) <= set(by_cid), "an order on the venue the engine does not know"
    for order in orders:
        live = venue.get(order.client_order_id)
        if live is None:
            assert order.status in (OrderStatus.INITIALIZED, OrderStatus.CANCELED, OrderStatus.REJECTED), order
            continue
        if live.status == "open":
            assert order.status in (OrderStatus.ACCEPTED, OrderStatus.PENDING_CANCEL), (
                order.client_order_id,
                order.status,
            )
        else:
            assert order.status in _EXPECTED[live.status], (order.client_order_id, order.status, live.status)
        assert order.filled == live.filled
    live_by_role = Counter(
        (by_cid[cid].trade_id, "exit" if by_cid[cid].role is not OrderRole.ENTRY else "entry")
        for cid, o in venue.items()
        if o.status == "open"
    )
    stops = Counter(
        (by_cid[cid].trade_id) for cid, o in venue.items() if o.status == "open" and by_cid[cid].role is OrderRole.SL
    )
    assert all(n == 1 for n in live_by_role.values()), live_by_role
    with world.base.sessions() as s:
        trades = list(s.scalars(select(Trade).join(Block).where(Block.user_id == world.user_id)))
    for trade in trades:
        held = sum(
            (
                venue[o.client_order_id].filled
                for o in orders
                if o.trade_id == trade.id and o.role is OrderRole.ENTRY and o.client_order_id in venue
            ),
            D(0),
        )
        sold = sum(
            (
                venue[o.client_order_id].filled
                for o in orders
                if o.trade_id == trade.id and o.role is not OrderRole.ENTRY and o.client_order_id in venue
            ),
            D(0),
        )
        if held > sold and trade.close_reason is None:
            (sl,) = [
                venue[o.client_order_id]
                for o in orders
                if o.trade_id == trade.id
                and o.role is OrderRole.SL
                and o.client_order_id in venue
                and venue[o.client_order_id].status == "open"
            ]
            assert sl.amount == held - sold
            assert stops[trade.id] == 1


def wipe(runtime: Runtime) -> None:
    """Empty the trading and paper tables (markets stay)."""
    keep = {"markets", "alembic_version"}
    with runtime.db.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in keep:
                conn.execute(table.delete())
