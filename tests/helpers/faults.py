"""The fault harness's machinery (tests/blocks/test_faults.py, test_amend_faults.py): the engine is
killed at every step boundary of a block's life and restarted, or fed random venue errors; the checks
that must hold after each step: the venue holds no duplicate order, every open position has its stop,
every order status in the database is the venue's.

A "crash" is the `Crash` exception (a BaseException, like the process dying: nothing in the engine
catches it), raised by a session factory hook before/after each engine commit and by a venue wrapper
before/after each venue call. "Restart" = new Runtime, new session factory, new venue object over
the same database and the same paper account.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from db.enums import OrderRole, OrderStatus, TradeStatus
from db.models import Base, Block, ExchangeAccount, Fill, NotificationOutbox, Order, PaperOrder, Trade
from db.session import make_session_factory
from engine.blocks.amend import amend_block
from engine.blocks.commands import submit_block
from engine.blocks.plan import BlockRejected
from engine.blocks.sync import recover, sync_tick
from engine.exchanges.paper import PaperExchange
from engine.exchanges.venue import InsufficientFunds, InvalidOrder, OrderNotFound, VenueUnavailable
from engine.exchanges.venues import install_venue
from engine.notify.api import save_url
from engine.runtime import Runtime
from engine.users.accounts import open_paper_account
from tests.helpers.trading import PathFeed, add_user, request, trades_of

D = Decimal
VENUE_CALLS = ("create_order", "cancel_order", "fetch_order", "fetch_orders_by_client_ids", "fetch_my_trades")


class Crash(BaseException):
    pass


@dataclass
class Boundaries:
    """Counts step boundaries; raises Crash at boundary number `crash_at` (1-based; 0 = never).
    `changed()` marks a durable change that is no boundary of its own (a new step's price bar, the
    paper venue's fills on its feed), so that `points` knows which crashes leave the same state."""

    crash_at: int = 0
    seen: list[str] = field(default_factory=list)
    changes: int = 0
    changes_at: list[int] = field(default_factory=list)  # `changes` when each boundary was hit

    def hit(self, label: str) -> None:
        self.seen.append(label)
        self.changes_at.append(self.changes)
        if len(self.seen) == self.crash_at:
            raise Crash(label)

    def changed(self) -> None:
        self.changes += 1

    def points(self, first: int = 1) -> list[int]:
        """The boundaries from `first` on worth a crash. A crash before an operation that comes
        right after another one's end, with nothing durable in between, leaves the database and the
        venue exactly as a crash at that end does (the process is gone either way, and only what is
        stored survives): it is the same run again, and skipped."""
        return [k for k in range(first, len(self.seen) + 1) if not self._same_as_previous(k)]

    def _same_as_previous(self, k: int) -> bool:
        if k < 2 or self.changes_at[k - 1] != self.changes_at[k - 2]:
            return False
        return self.seen[k - 1].startswith("before ") and self.seen[k - 2].startswith("after ")


class HookedVenue:
    """A venue wrapper: `before(name)` and `after(name)` run around each call in `hooked` (they may raise)."""

    def __init__(
        self,
        inner: PaperExchange,
        before: Callable[[str], None],
        after: Callable[[str], None],
        hooked: tuple[str, ...] = VENUE_CALLS,
        changed: Callable[[], None] = lambda: None,
    ) -> None:
        self.inner, self.before, self.after, self.hooked = inner, before, after, hooked
        self.changed = changed  # the venue's own durable changes between boundaries (its fills)

    @property
    def capabilities(self) -> Any:
        return self.inner.capabilities

    def sync_with_feed(self, symbol: str) -> Any:
        self.changed()
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
    strict: bool = True  # a refused amend fails the run (off under random venue errors)

    def __post_init__(self) -> None:
        self.feed.flat("101", 2)
        self.user_id = add_user(self.base.sessions, self.name)
        self.account_id = open_paper_account(self.base.sessions, self.user_id, self.name).id
        save_url(self.base, self.user_id, "json://127.0.0.1:9/")  # events are booked (never sent here)

    def engine(
        self,
        sessions: sessionmaker[Session],
        before: Callable[[str], None],
        after: Callable[[str], None],
        hooked: tuple[str, ...] = VENUE_CALLS,
        changed: Callable[[], None] = lambda: None,
    ) -> Runtime:
        """A fresh engine (a restart): new runtime, given session factory, new venue object."""
        runtime = Runtime(self.base.settings, self.base.db, sessions, {"demo": self.feed})
        with self.base.sessions() as s:
            paper_id = s.get(ExchangeAccount, self.account_id).paper_account_id  # type: ignore[union-attr]
        paper = PaperExchange(self.base.sessions, paper_id, self.feed)  # the venue's own, uncrashable store
        install_venue(runtime, self.account_id, HookedVenue(paper, before, after, hooked, changed))
        return runtime

    def find_block(self) -> int | None:
        with self.base.sessions() as s:
            return s.scalar(select(Block.id).where(Block.user_id == self.user_id))


Step = tuple[Any, ...]


def run_step(world: World, runtime: Runtime, step: Step, resume: bool) -> None:
    """("submit",) places the block; ("bar", o, h, l, c) moves the price and ticks; ("amend", change,
    applied) amends the block, where `applied(trades)` says whether an interrupted amend took (the
    trader then does not ask again: adding a target twice would add two)."""
    if step[0] == "submit":
        if world.find_block() is None:  # a crash before the commit: the trader submits again
            req = request(breakeven_after_first_target=True)
            submit_block(runtime, world.user_id, world.account_id, req)
        else:
            sync_tick(runtime)
        return
    if step[0] == "amend":
        block_id = world.find_block()
        assert block_id is not None
        if resume and step[2](trades_of(world.base.sessions, block_id)):
            sync_tick(runtime)
            return
        try:
            amend_block(runtime, world.user_id, block_id, step[1])
        except BlockRejected:  # the venue's errors changed the block (chaos): the trader is told why
            if world.strict:
                raise
        return
    if not resume:
        world.feed.bar(*step[1:])
    sync_tick(runtime)


def play(world: World, boundaries: Boundaries, check: Callable[[World], None], script: list[Step]) -> None:
    """Run the script; on a Crash, restart and run the interrupted step again, then the rest."""
    noop: Callable[[str], None] = lambda _name: None  # noqa: E731
    # Reads are not boundaries of their own: a crash right after a fetch is the crash before the
    # commit that follows it (nothing durable happens in between).
    runtime = world.engine(
        crashing_sessions(world.base, boundaries),
        lambda name: boundaries.hit(f"before {name}"),
        lambda name: boundaries.hit(f"after {name}"),
        hooked=("create_order", "cancel_order"),
        changed=boundaries.changed,
    )
    crashed_at: int | None = None
    for i, step in enumerate(script):
        boundaries.changed()  # a step of its own (a price bar, an amend): not the same as the last one's end
        try:
            run_step(world, runtime, step, resume=False)
            check(world)
        except Crash:
            crashed_at = i
            break
    if crashed_at is None:
        return
    runtime = world.engine(make_session_factory(world.base.db), noop, noop)
    recover(runtime)
    run_step(world, runtime, script[crashed_at], resume=True)
    check(world)
    for step in script[crashed_at + 1 :]:
        run_step(world, runtime, step, resume=False)
        check(world)


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


def outcome(world: World) -> tuple[list[tuple[Any, ...]], list[str], list[str]]:
    """(trades' status, reason, P&L), the venue's client ids with the block id taken out, and the
    notifications booked (a crash neither loses nor doubles one)."""
    with world.base.sessions() as s:
        trades = list(s.scalars(select(Trade).join(Block).where(Block.user_id == world.user_id).order_by(Trade.index)))
        fills = s.execute(select(Fill.order_id, Fill.amount)).all()
    filled = Counter()
    for order_id, amount in fills:
        filled[order_id] += amount
    for order in db_orders(world):
        assert filled[order.id] == order.filled, f"fills of {order.client_order_id} not recorded"
    ids = sorted(cid.split("-", 1)[1] for cid in venue_state(world))
    with world.base.sessions() as s:
        booked = s.scalars(select(NotificationOutbox.title).where(NotificationOutbox.user_id == world.user_id))
        notices = sorted(title.split(" #")[0] for title in booked)
    return [(t.status, t.close_reason, t.realized_pnl) for t in trades], ids, notices


def wipe(runtime: Runtime) -> None:
    """Empty the trading and paper tables (markets stay)."""
    keep = {"markets", "alembic_version"}
    with runtime.db.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in keep:
                conn.execute(table.delete())


class Chaos:
    """Raises ccxt-like errors at random (fixed seed); a create (an order, an OCO list) may also
    succeed with its answer lost."""

    ERRORS: dict[str, tuple[type[Exception], ...]] = {
        "create_order": (VenueUnavailable, VenueUnavailable, InsufficientFunds, InvalidOrder),
        "cancel_order": (VenueUnavailable, OrderNotFound, InvalidOrder),
        "fetch_order": (VenueUnavailable, OrderNotFound),
        "fetch_orders_by_client_ids": (VenueUnavailable,),
        "fetch_my_trades": (VenueUnavailable,),
        "place_oco": (VenueUnavailable, VenueUnavailable, InsufficientFunds, InvalidOrder),
        "cancel_oco": (VenueUnavailable, OrderNotFound, InvalidOrder),
    }

    def __init__(self, seed: int, rate: float) -> None:
        self.rng, self.rate, self.on = random.Random(seed), rate, True
        self.raised: Counter[str] = Counter()

    def before(self, name: str) -> None:
        if self.on and self.rng.random() < self.rate:
            error = self.rng.choice(self.ERRORS[name])
            self.raised[error.__name__] += 1
            raise error(f"injected {error.__name__} in {name}")

    def after(self, name: str) -> None:
        if self.on and name in ("create_order", "place_oco") and self.rng.random() < self.rate:
            self.raised["lost answer"] += 1
            raise VenueUnavailable("injected: answer lost after the order was placed")


def crash_everywhere(
    runtime: Runtime, script: list[Step], part: int = 0, parts: int = 1
) -> tuple[list[tuple[Any, ...]], list[str], list[str]]:
    """Play `script` crash-free, then once per step boundary with a crash there and a restart; every
    run must hold the invariants after each step and end as the crash-free run. Returns its outcome.
    (A crash that would leave the same stored state as another is played once: Boundaries.points.)
    `part` of `parts`: only every parts-th of those boundaries (a long script split over tests)."""
    reference = World(runtime, "reference")
    counter = Boundaries()
    play(reference, counter, check_truth, script)
    expected = outcome(reference)
    total = len(counter.seen)
    assert total > 35, counter.seen  # a script short of boundaries would prove little
    for k in counter.points()[part::parts]:
        wipe(runtime)  # each run alone in the database, as after a real restart
        world = World(runtime, f"crash{k}")
        play(world, Boundaries(crash_at=k), check_truth, script)
        assert world.find_block() is not None
        assert outcome(world) == expected, f"crash at boundary {k}: {counter.seen[k - 1]}"
    return expected


def chaos_run(runtime: Runtime, script: list[Step], seed: int) -> Counter[str]:
    """Play `script` under random venue errors (`Chaos`), let the venue calm down, and check that
    nothing is doubled, unprotected or left unsent. Returns the errors raised."""
    world = World(runtime, f"chaos{seed}-{len(script)}-{id(script)}", strict=False)
    chaos = Chaos(seed, rate=0.3)
    engine = world.engine(make_session_factory(runtime.db), chaos.before, chaos.after)
    for step in script:
        run_step(world, engine, step, resume=False)
    chaos.on = False
    for _ in range(6):  # the venue calms down: the engine catches up
        sync_tick(engine)
    check_truth(world)
    outcome(world)
    unsettled = [o for o in db_orders(world) if o.status in (OrderStatus.INITIALIZED, OrderStatus.SUBMITTED)]
    assert not unsettled, (seed, unsettled)
    with runtime.sessions() as s:
        statuses = set(s.scalars(select(Trade.status).join(Block).where(Block.user_id == world.user_id)))
    # an entry delayed by errors may rest still (the price has moved on); nothing else is left open
    assert statuses <= {TradeStatus.CLOSED, TradeStatus.CANCELED, TradeStatus.PENDING}, (seed, statuses)
    return chaos.raised
