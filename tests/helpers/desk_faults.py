"""The fault harness (tests/helpers/faults.py) on a live desk over a ccxt simulator: what the
binance spot OCO (tests/helpers/oco_faults.py), binance perpetual (futures_faults.py) and alpaca
(alpaca_faults.py) sweeps share. A `Harness` holds what differs per venue (the desk, how its venue
is installed, a script step, the checks after each step, the client ids on the exchange); this
module plays a script with a crash at every boundary (each commit, and before and after each venue
call that changes orders) and a restart (new runtime, new session factory, new ccxt venue over the
same database and the same simulated exchange, then `recover`), or under random venue errors
(faults.Chaos), and checks that each crashed run ends as the crash-free one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.enums import OrderStatus, TradeStatus
from db.models import Block, Fill, NotificationOutbox, Order, Trade
from db.session import make_session_factory
from engine.blocks.api import BlockRequest, submit_block
from engine.blocks.sync import recover, sync_tick
from engine.notify.api import save_url
from engine.runtime import Runtime
from tests.helpers.faults import Boundaries, Chaos, Crash, crashing_sessions, wipe

CHANGES = ("create_order", "cancel_order", "place_oco", "cancel_oco")
Step = tuple[Any, ...]
Hook = Callable[[str], None]
Outcome = tuple[list[tuple[Any, ...]], list[str], list[str]]
_UNSETTLED = (OrderStatus.INITIALIZED, OrderStatus.SUBMITTED)


class Hooked:
    """The ccxt venue with `before(name)` / `after(name)` around each call that changes orders."""

    def __init__(self, inner: Any, before: Hook, after: Hook) -> None:
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


@dataclass(frozen=True)
class Harness:
    """What one venue's sweep brings: `make(base)` a desk (user_id, account_id, sim) on the emptied
    database; `install(runtime, desk, before, after)` a fresh venue of the desk, Hooked, on `runtime`;
    `run_step(world, runtime, step, resume)` one step of a script (`resume`: again after a crash);
    `check(world)` what must hold after every step; `venue_ids(desk)` the client ids on the exchange."""

    make: Callable[[Runtime], Any]
    install: Callable[[Runtime, Any, Hook, Hook], None]
    run_step: Callable[[World, Runtime, Step, bool], None]
    check: Callable[[World], None]
    venue_ids: Callable[[Any], list[str]]


@dataclass
class World:
    """One run: a desk (user, live account, simulator) on the emptied database."""

    base: Runtime
    desk: Any
    harness: Harness

    @classmethod
    def fresh(cls, base: Runtime, harness: Harness) -> World:
        wipe(base)
        desk = harness.make(base)
        save_url(base, desk.user_id, "json://127.0.0.1:9/")  # events are booked (never sent here)
        return cls(base, desk, harness)

    def engine(self, sessions: sessionmaker[Session], before: Hook, after: Hook) -> Runtime:
        runtime = Runtime(self.base.settings, self.base.db, sessions, {})
        self.harness.install(runtime, self.desk, before, after)
        return runtime

    def find_block(self) -> int | None:
        with self.base.sessions() as s:
            return s.scalar(select(Block.id).where(Block.user_id == self.desk.user_id))

    def submit_once(self, runtime: Runtime, req: BlockRequest) -> None:
        """A crash before the block's commit left nothing: the trader submits again. After it, the
        block stands and the engine's tick goes on from what the crash left."""
        if self.find_block() is None:
            submit_block(runtime, self.desk.user_id, self.desk.account_id, req)
        else:
            sync_tick(runtime)

    def orders(self) -> list[Order]:
        with self.base.sessions() as s:
            query = select(Order).join(Block, Block.id == Order.block_id).where(Block.user_id == self.desk.user_id)
            return list(s.scalars(query.order_by(Order.id)))

    def trades(self) -> list[Trade]:
        with self.base.sessions() as s:
            query = select(Trade).join(Block).where(Block.user_id == self.desk.user_id)
            return list(s.scalars(query.order_by(Trade.block_id, Trade.index)))


def play(world: World, boundaries: Boundaries, script: list[Step], starts: list[int] | None = None) -> None:
    """Run the script; on a Crash, restart, recover, run the interrupted step again, then the rest.
    `starts` receives the number of boundaries seen before each step."""
    noop: Hook = lambda _name: None  # noqa: E731
    runtime = world.engine(
        crashing_sessions(world.base, boundaries),
        lambda name: boundaries.hit(f"before {name}"),
        lambda name: boundaries.hit(f"after {name}"),
    )
    for step in script:
        if starts is not None:
            starts.append(len(boundaries.seen))
        boundaries.changed()  # a step of its own (a price move, an amend): Boundaries.points
        try:
            world.harness.run_step(world, runtime, step, False)
        except Crash:
            runtime = world.engine(make_session_factory(world.base.db), noop, noop)
            recover(runtime)
            world.harness.run_step(world, runtime, step, True)
        world.harness.check(world)


def outcome(world: World) -> Outcome:
    """(trades' status, reason, P&L), the client ids on the exchange (block id taken out), and the
    notifications booked; every order's fills recorded."""
    with world.base.sessions() as s:
        fills = s.execute(select(Fill.order_id, Fill.amount)).all()
        titles = s.scalars(select(NotificationOutbox.title).where(NotificationOutbox.user_id == world.desk.user_id))
        notices = sorted(title.split(" #")[0] for title in titles)
    filled: Counter[int] = Counter()
    for order_id, amount in fills:
        filled[order_id] += amount
    for order in world.orders():
        assert filled[order.id] == order.filled, f"fills of {order.client_order_id} not recorded"
    trades = [(t.status, t.close_reason, t.realized_pnl) for t in world.trades()]
    return trades, sorted(c.split("-", 1)[1] for c in world.harness.venue_ids(world.desk)), notices


def crash_everywhere(
    base: Runtime, harness: Harness, script: list[Step], from_step: int = 0, part: int = 0, parts: int = 1
) -> Outcome:
    """The script crash-free, then once per boundary of the steps from `from_step` on (earlier ones
    another script sweeps already) with a crash there: each run holds the checks after every step
    and ends as the crash-free run, whose outcome is returned. `part` of `parts`: every parts-th
    boundary only (a long sweep split over tests, each within the time limit)."""
    counter, starts = Boundaries(), []
    reference = World.fresh(base, harness)
    play(reference, counter, script, starts)
    expected = outcome(reference)
    assert len(counter.seen) - starts[from_step] > 5, counter.seen
    for k in counter.points(starts[from_step] + 1)[part::parts]:
        world = World.fresh(base, harness)
        play(world, Boundaries(crash_at=k), script)
        got = outcome(world)
        assert got == expected, f"crash at boundary {k} ({counter.seen[k - 1]}): {got} != {expected}"
    return expected


def chaos_run(base: Runtime, harness: Harness, script: list[Step], seed: int) -> Counter[str]:
    """Play `script` with random errors on every call that changes orders (or lists), let the venue
    calm down, and check: the harness's checks (nothing posted twice, the database is the venue's,
    every open position protected), every fill recorded, nothing left unsent, no trade left half
    entered. The errors raised."""
    world = World.fresh(base, harness)
    chaos = Chaos(seed, rate=0.3)
    runtime = world.engine(make_session_factory(base.db), chaos.before, chaos.after)
    for step in script:
        harness.run_step(world, runtime, step, False)
    chaos.on = False
    for _ in range(6):  # the venue calms down: the engine catches up
        sync_tick(runtime)
    harness.check(world)
    outcome(world)
    unsent = [(o.client_order_id, o.status) for o in world.orders() if o.status in _UNSETTLED]
    assert not unsent, (seed, unsent)
    statuses = {t.status for t in world.trades()}
    assert statuses <= {TradeStatus.CLOSED, TradeStatus.CANCELED, TradeStatus.OPEN}, (seed, statuses)
    return chaos.raised
