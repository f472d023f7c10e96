"""The fault harness (tests/helpers/faults.py) on OCO lists: a block on the binance spot simulator
(tests/helpers/binance_desk.py, NATIVE_OCO) is played with a crash at every commit and around every
venue call that changes orders (create, cancel, place_oco, cancel_oco), then restarted: new
runtime, new session factory, new ccxt venue over the same database and the same simulated exchange.

What must hold after each step: no order and no list was ever posted twice; every order of the
database is what the exchange says; every open position rests exactly one list, whose stop is for
what the trade holds; and a crashed run ends as the crash-free one. `chaos_run` plays a script
under random venue errors instead (tests/helpers/faults.Chaos) and checks the same once the venue
calms down.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.enums import EntryType, OrderRole, OrderStatus, TradeStatus
from db.models import Block, Fill, NotificationOutbox, Order, Trade
from db.session import make_session_factory
from engine.blocks.amend import amend_block
from engine.blocks.commands import submit_block
from engine.blocks.sync import recover, sync_tick
from engine.exchanges.venues import install_venue
from engine.notify.api import save_url
from engine.runtime import Runtime
from tests.helpers.binance_desk import Desk, connect, make_desk
from tests.helpers.faults import Boundaries, Chaos, Crash, crashing_sessions, wipe
from tests.helpers.trading import D, request, trades_of

CHANGES = ("create_order", "cancel_order", "place_oco", "cancel_oco")
Step = tuple[Any, ...]
# The exchange's word -> what the database may say after a step.
_ALLOWED = {
    "NEW": {OrderStatus.ACCEPTED, OrderStatus.PENDING_CANCEL},
    "PARTIALLY_FILLED": {OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_CANCEL},
    "FILLED": {OrderStatus.FILLED},
    "CANCELED": {OrderStatus.CANCELED},
    "EXPIRED": {OrderStatus.EXPIRED},
}


class Hooked:
    """The ccxt venue with `before(name)` / `after(name)` around each call that changes orders."""

    def __init__(self, inner: Any, before: Callable[[str], None], after: Callable[[str], None]) -> None:
        self.inner, self.before, self.after = inner, before, after

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if name not in CHANGES:
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self.before(name)
            result = attr(*args, **kwargs)
            self.after(name)
            return result

        return call


@dataclass
class OcoWorld:
    """One run: a desk (user, live binance account, simulator) on the emptied database."""

    base: Runtime
    desk: Desk

    @classmethod
    def fresh(cls, base: Runtime) -> OcoWorld:
        wipe(base)
        desk = make_desk(base, "quote", oco=True)
        save_url(base, desk.user_id, "json://127.0.0.1:9/")  # events are booked (never sent here)
        return cls(base, desk)

    def engine(
        self, sessions: sessionmaker[Session], before: Callable[[str], None], after: Callable[[str], None]
    ) -> Runtime:
        runtime = Runtime(self.base.settings, self.base.db, sessions, {})
        venue = connect(runtime, self.desk.account_id, self.desk.sim, oco=True)
        install_venue(runtime, self.desk.account_id, Hooked(venue, before, after))
        return runtime

    def find_block(self) -> int | None:
        with self.base.sessions() as s:
            return s.scalar(select(Block.id).where(Block.user_id == self.desk.user_id))


def run_step(world: OcoWorld, runtime: Runtime, step: Step, resume: bool) -> None:
    """("submit",) places a market block of two targets; ("price", p) trades the market at p and
    ticks; ("amend", change, applied) amends (not again when `applied(trades)`: it took)."""
    desk = world.desk
    if step[0] == "submit":
        if world.find_block() is None:  # a crash before the commit: the trader submits again
            req = request(
                None, "95", ("105", "110"), "2", entry_type=EntryType.MARKET, symbol="LTC/USDT",
                breakeven_after_first_target=True,
            )  # fmt: skip
            submit_block(runtime, desk.user_id, desk.account_id, req)
        else:
            sync_tick(runtime)
        return
    if step[0] == "amend":
        block_id = world.find_block()
        assert block_id is not None
        if resume and step[2](trades_of(world.base.sessions, block_id)):
            sync_tick(runtime)
            return
        amend_block(runtime, desk.user_id, block_id, step[1])
        return
    if not resume:
        desk.sim.move_price(step[1])
    sync_tick(runtime)


def play(world: OcoWorld, boundaries: Boundaries, script: list[Step], starts: list[int] | None = None) -> None:
    """Run the script; on a Crash, restart, recover, run the interrupted step again, then the rest.
    `starts` receives the number of boundaries seen before each step."""
    noop: Callable[[str], None] = lambda _name: None  # noqa: E731
    runtime = world.engine(
        crashing_sessions(world.base, boundaries),
        lambda name: boundaries.hit(f"before {name}"),
        lambda name: boundaries.hit(f"after {name}"),
    )
    rest = list(script)
    while rest:
        step = rest.pop(0)
        if starts is not None:
            starts.append(len(boundaries.seen))
        boundaries.changed()  # a step of its own (a price move, an amend): Boundaries.points
        try:
            run_step(world, runtime, step, resume=False)
        except Crash:
            runtime = world.engine(make_session_factory(world.base.db), noop, noop)
            recover(runtime)
            run_step(world, runtime, step, resume=True)
        check_truth(world)


def check_truth(world: OcoWorld) -> None:
    sim = world.desk.sim
    assert max(sim.posts.values(), default=0) <= 1, sim.posts
    assert max(sim.list_posts.values(), default=0) <= 1, sim.list_posts
    with world.base.sessions() as s:
        query = select(Order).join(Block, Block.id == Order.block_id).where(Block.user_id == world.desk.user_id)
        orders = list(s.scalars(query.order_by(Order.id)))
        trades = list(s.scalars(select(Trade).join(Block).where(Block.user_id == world.desk.user_id)))
    known = {o.client_order_id for o in orders}
    assert {o["clientOrderId"] for o in sim.orders.values()} <= known, "an order on the venue the engine does not know"
    for order in orders:
        venue = sim.by_client_id(order.client_order_id)
        if venue is None:
            assert order.status in (OrderStatus.INITIALIZED, OrderStatus.CANCELED, OrderStatus.REJECTED), order
            continue
        assert order.status in _ALLOWED[venue["status"]], (order.client_order_id, order.status, venue["status"])
        assert order.filled == D(venue["executedQty"]), order.client_order_id
    for trade in trades:
        mine = [o for o in orders if o.trade_id == trade.id]
        held = sum((o.filled for o in mine if o.role is OrderRole.ENTRY), D(0))
        sold = sum((o.filled for o in mine if o.role is not OrderRole.ENTRY), D(0))
        open_legs = [sim.by_client_id(o.client_order_id) for o in mine if o.role is not OrderRole.ENTRY]
        open_legs = [v for v in open_legs if v is not None and v["status"] in ("NEW", "PARTIALLY_FILLED")]
        if held > sold and trade.close_reason is None:  # protected: one list, its stop for what is held
            (stop,) = [v for v in open_legs if v["type"] == "STOP_LOSS_LIMIT"]
            (limit,) = [v for v in open_legs if v["type"] == "LIMIT_MAKER"]
            assert stop["orderListId"] == limit["orderListId"] != "-1"
            assert D(stop["origQty"]) - D(stop["executedQty"]) == held - sold
        else:
            assert len(open_legs) <= 2


def outcome(world: OcoWorld) -> tuple[list[tuple[Any, ...]], list[str], list[str]]:
    """(trades' status, reason, P&L), the client ids on the exchange (block id taken out), and the
    notifications booked; every order's fills recorded."""
    user_id = world.desk.user_id
    with world.base.sessions() as s:
        trades = list(s.scalars(select(Trade).join(Block).where(Block.user_id == user_id).order_by(Trade.index)))
        fills = s.execute(select(Fill.order_id, Fill.amount)).all()
        orders = list(s.scalars(select(Order).join(Block, Block.id == Order.block_id).where(Block.user_id == user_id)))
        titles = s.scalars(select(NotificationOutbox.title).where(NotificationOutbox.user_id == user_id))
        notices = sorted(title.split(" #")[0] for title in titles)
    filled: Counter[int] = Counter()
    for order_id, amount in fills:
        filled[order_id] += amount
    for order in orders:
        assert filled[order.id] == order.filled, f"fills of {order.client_order_id} not recorded"
    ids = sorted(o["clientOrderId"].split("-", 1)[1] for o in world.desk.sim.orders.values())
    return [(t.status, t.close_reason, t.realized_pnl) for t in trades], ids, notices


def crash_everywhere(
    base: Runtime, script: list[Step], from_step: int = 0, part: int = 0, parts: int = 1
) -> tuple[list[tuple[Any, ...]], list[str], list[str]]:
    """The script crash-free, then once per boundary of the steps from `from_step` on (earlier ones
    another script sweeps already) with a crash there: each run holds the checks after every step
    and ends as the crash-free run, whose outcome is returned. `part` of `parts`: every parts-th
    boundary only (a long sweep split over tests, each within the time limit)."""
    counter, starts = Boundaries(), []
    reference = OcoWorld.fresh(base)
    play(reference, counter, script, starts)
    expected = outcome(reference)
    assert len(counter.seen) - starts[from_step] > 5, counter.seen
    for k in counter.points(starts[from_step] + 1)[part::parts]:
        world = OcoWorld.fresh(base)
        play(world, Boundaries(crash_at=k), script)
        got = outcome(world)
        assert got == expected, f"crash at boundary {k} ({counter.seen[k - 1]}): {got} != {expected}"
    return expected


def chaos_run(base: Runtime, script: list[Step], seed: int) -> Counter[str]:
    """Play `script` with random errors on every call that changes orders or lists, let the venue
    calm down, and check: nothing posted twice, the database is the venue's, every open position
    rests one list for what it holds, every fill recorded, nothing left unsent. The errors raised."""
    world = OcoWorld.fresh(base)
    chaos = Chaos(seed, rate=0.3)
    runtime = world.engine(make_session_factory(base.db), chaos.before, chaos.after)
    for step in script:
        run_step(world, runtime, step, resume=False)
    chaos.on = False
    for _ in range(6):  # the venue calms down: the engine catches up
        sync_tick(runtime)
    check_truth(world)
    outcome(world)
    with base.sessions() as s:
        mine = select(Block.id).where(Block.user_id == world.desk.user_id)
        unsent = list(s.scalars(select(Order).where(Order.block_id.in_(mine), Order.status.in_(_UNSETTLED))))
        statuses = set(s.scalars(select(Trade.status).where(Trade.block_id.in_(mine))))
    assert not unsent, (seed, [(o.client_order_id, o.status) for o in unsent])
    # a trade still open holds its list (check_truth); none is left half-entered or unprotected
    assert statuses <= {TradeStatus.CLOSED, TradeStatus.CANCELED, TradeStatus.OPEN}, (seed, statuses)
    return chaos.raised


_UNSETTLED = (OrderStatus.INITIALIZED, OrderStatus.SUBMITTED)
