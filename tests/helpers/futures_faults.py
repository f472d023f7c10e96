"""The fault harness (tests/helpers/faults.py) on a binance perpetual: a block at 5x isolated on the
futures simulator (tests/helpers/futures_desk.py, REDUCE_ONLY) is played with a crash at every
commit and around every venue call that changes orders (create, cancel), then restarted: new
runtime, new session factory, new ccxt venue (no memory of the leverage it set) over the same
database and the same simulated exchange. `chaos_run` plays a script under random venue errors
instead (tests/helpers/faults.Chaos) and checks the same once the venue calms down.

What must hold after each step: no order was ever posted twice; every order of the database is what
the exchange says (a stop's fill is its actual order's); the venue holds no order the engine does
not know; every open position rests stops (reduce-only, algo orders) for exactly what it holds and
targets for no more; and a crashed run ends as the crash-free one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.enums import EntryType, MarginMode, OrderRole, OrderStatus, Side, TradeStatus
from db.models import Block, Fill, NotificationOutbox, Order, Trade
from db.session import make_session_factory
from engine.blocks.commands import submit_block
from engine.blocks.sync import recover, sync_tick
from engine.exchanges.venues import install_venue
from engine.notify.api import save_url
from engine.runtime import Runtime
from tests.helpers.faults import Boundaries, Chaos, Crash, crashing_sessions, wipe
from tests.helpers.futures_desk import SYMBOL, FuturesDesk, connect, filled_of, make_futures_desk
from tests.helpers.oco_faults import Hooked
from tests.helpers.trading import D, request

Step = tuple[Any, ...]
# The exchange's word -> what the database may say after a step.
_ALLOWED = {
    "NEW": {OrderStatus.ACCEPTED, OrderStatus.PENDING_CANCEL},
    "PARTIALLY_FILLED": {OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_CANCEL},
    "FILLED": {OrderStatus.FILLED},
    "FINISHED": {OrderStatus.FILLED},
    "CANCELED": {OrderStatus.CANCELED},
    "EXPIRED": {OrderStatus.EXPIRED},
}
_UNSETTLED = (OrderStatus.INITIALIZED, OrderStatus.SUBMITTED)


@dataclass
class FuturesWorld:
    """One run: a desk (user, live binance account, futures simulator) on the emptied database."""

    base: Runtime
    desk: FuturesDesk

    @classmethod
    def fresh(cls, base: Runtime) -> FuturesWorld:
        wipe(base)
        desk = make_futures_desk(base)
        save_url(base, desk.user_id, "json://127.0.0.1:9/")  # events are booked (never sent here)
        return cls(base, desk)

    def engine(
        self, sessions: sessionmaker[Session], before: Callable[[str], None], after: Callable[[str], None]
    ) -> Runtime:
        runtime = Runtime(self.base.settings, self.base.db, sessions, {})
        venue = connect(runtime, self.desk.account_id, self.desk.sim)
        hooked = Hooked(venue, before, after)
        # For "swap" only, as in production: fills a crash left to record after the block closed
        # are fetched from the venue of the block's own market type (engine.blocks.sync).
        install_venue(runtime, self.desk.account_id, hooked, "swap")
        return runtime

    def find_block(self) -> int | None:
        with self.base.sessions() as s:
            return s.scalar(select(Block.id).where(Block.user_id == self.desk.user_id))


def run_step(world: FuturesWorld, runtime: Runtime, step: Step, resume: bool) -> None:
    """("submit", side) places a market block of two trades at 5x isolated; ("price", p) trades
    the market at p and ticks."""
    desk = world.desk
    if step[0] == "submit":
        if world.find_block() is None:  # a crash before the commit: the trader submits again
            long = step[1] == "long"
            stop, targets = ("95000", ("105000", "110000")) if long else ("105000", ("95000", "90000"))
            req = request(
                None, stop, targets, "0.02", side=Side(step[1]), entry_type=EntryType.MARKET, symbol=SYMBOL,
                breakeven_after_first_target=True, leverage=5, margin_mode=MarginMode.ISOLATED,
            )  # fmt: skip
            submit_block(runtime, desk.user_id, desk.account_id, req)
        else:
            sync_tick(runtime)
        return
    if not resume:
        desk.sim.move_price(step[1])
    sync_tick(runtime)


def play(world: FuturesWorld, boundaries: Boundaries, script: list[Step], starts: list[int] | None = None) -> None:
    """Run the script; on a Crash, restart, recover, run the interrupted step again, then the rest."""
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
        boundaries.changed()
        try:
            run_step(world, runtime, step, resume=False)
        except Crash:
            runtime = world.engine(make_session_factory(world.base.db), noop, noop)
            recover(runtime)
            run_step(world, runtime, step, resume=True)
        check_truth(world)


def _status(venue: dict[str, Any]) -> str:
    return str(venue.get("status") or venue["algoStatus"])


def check_truth(world: FuturesWorld) -> None:
    sim = world.desk.sim
    assert max(sim.posts.values(), default=0) <= 1, sim.posts
    with world.base.sessions() as s:
        query = select(Order).join(Block, Block.id == Order.block_id).where(Block.user_id == world.desk.user_id)
        orders = list(s.scalars(query.order_by(Order.id)))
        trades = list(s.scalars(select(Trade).join(Block).where(Block.user_id == world.desk.user_id)))
    known = {o.client_order_id for o in orders}
    on_venue = {o["clientOrderId"] for o in sim.orders.values() if not o["clientOrderId"].startswith("algo")}
    assert on_venue | {a["clientAlgoId"] for a in sim.algos.values()} <= known, "an order the engine does not know"
    for order in orders:
        venue = sim.by_client_id(order.client_order_id)
        if venue is None:
            assert order.status in (OrderStatus.INITIALIZED, OrderStatus.CANCELED, OrderStatus.REJECTED), order
            continue
        assert order.status in _ALLOWED[_status(venue)], (order.client_order_id, order.status, _status(venue))
        assert order.filled == filled_of(sim, venue), order.client_order_id
    held_in_all = D(0)
    for trade in trades:
        mine = [o for o in orders if o.trade_id == trade.id]
        held = sum((o.filled for o in mine if o.role is OrderRole.ENTRY), D(0))
        sold = sum((o.filled for o in mine if o.role is not OrderRole.ENTRY), D(0))
        held_in_all += held - sold
        exits = [sim.by_client_id(o.client_order_id) for o in mine if o.role is not OrderRole.ENTRY]
        resting = [v for v in exits if v is not None and _status(v) in ("NEW", "PARTIALLY_FILLED")]
        stops = [D(v["quantity"]) for v in resting if "algoId" in v]
        targets = [D(v["origQty"]) - D(v["executedQty"]) for v in resting if "algoId" not in v]
        assert all(v["reduceOnly"] for v in resting), trade.id
        if held > sold and trade.close_reason is None:  # protected: its stop for what it holds
            assert stops == [held - sold], (trade.id, stops, held - sold)
            assert sum(targets, D(0)) <= held - sold, (trade.id, targets)
    # the venue's position is what the trades hold (long or short)
    assert abs(sim.position(SYMBOL).amount) == held_in_all, (sim.position(SYMBOL), held_in_all)


def outcome(world: FuturesWorld) -> tuple[list[tuple[Any, ...]], list[str], list[str]]:
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
    sim = world.desk.sim
    cids = [o["clientOrderId"] for o in sim.orders.values() if not o["clientOrderId"].startswith("algo")]
    cids += [a["clientAlgoId"] for a in sim.algos.values()]
    return (
        [(t.status, t.close_reason, t.realized_pnl) for t in trades],
        sorted(c.split("-", 1)[1] for c in cids),
        notices,
    )


def crash_everywhere(
    base: Runtime,
    script: list[Step],
    from_step: int = 0,
    part: int = 0,
    parts: int = 1,
) -> tuple[list[tuple[Any, ...]], list[str], list[str]]:
    """The script crash-free, then once per boundary of the steps from `from_step` on with a crash
    there: each run holds the checks after every step and ends as the crash-free run, whose outcome
    is returned. `part` of `parts`: every parts-th boundary only."""
    counter, starts = Boundaries(), []
    reference = FuturesWorld.fresh(base)
    play(reference, counter, script, starts)
    expected = outcome(reference)
    assert len(counter.seen) - starts[from_step] > 5, counter.seen
    for k in counter.points(starts[from_step] + 1)[part::parts]:
        world = FuturesWorld.fresh(base)
        play(world, Boundaries(crash_at=k), script)
        got = outcome(world)
        assert got == expected, f"crash at boundary {k} ({counter.seen[k - 1]}): {got} != {expected}"
    return expected


def chaos_run(base: Runtime, script: list[Step], seed: int) -> Counter[str]:
    """Play `script` with random errors on every call that changes orders, let the venue calm down,
    and check: nothing posted twice, the database is the venue's, every open position protected,
    every fill recorded, nothing left unsent. The errors raised."""
    world = FuturesWorld.fresh(base)
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
    assert statuses <= {TradeStatus.CLOSED, TradeStatus.CANCELED, TradeStatus.OPEN}, (seed, statuses)
    return chaos.raised
