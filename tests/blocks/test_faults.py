"""The fault harness: the engine is killed at every step boundary of a block's life and restarted,
and separately fed random venue errors; after each run the venue holds no duplicate order, every
open position has its stop, every order status in the database is the venue's, and (for crashes)
the P&L is the crash-free run's. Runs on SQLite and PostgreSQL.

A "crash" is the `Crash` exception (a BaseException, like the process dying: nothing in the engine
catches it), raised by a session factory hook before/after each engine commit and by a venue wrapper
before/after each venue call. "Restart" = new Runtime, new session factory, new venue object over
the same database and the same paper account. The machinery is tests.helpers.faults.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from db.enums import OrderStatus, TradeStatus
from db.models import Block, Fill, Trade
from db.session import make_session_factory
from engine.blocks.commands import submit_block
from engine.blocks.sync import recover, sync_tick
from engine.exchanges.venue import InsufficientFunds, InvalidOrder, OrderNotFound, VenueUnavailable
from engine.runtime import Runtime
from tests.helpers.faults import (
    Boundaries,
    Crash,
    World,
    check_truth,
    crashing_sessions,
    db_orders,
    venue_state,
    wipe,
)
from tests.helpers.trading import load_demo_markets, request

# The script: each step changes the price path and runs one tick. A restarted engine runs the step
# it crashed in again without moving the price, so it catches up at the same prices as the
# crash-free run and must reach the same P&L.
SCRIPT: list[tuple[str, ...]] = [
    ("submit",),
    ("bar", "101", "101", "99.5", "100.5"),  # entries fill at 100, stops placed
    ("bar", "100.5", "105.5", "100.5", "105.2"),  # target 1 at market; trade 2's stop to break-even
    ("bar", "105.2", "110.6", "105", "110.4"),  # target 2
]
STOP_SCRIPT: list[tuple[str, ...]] = [
    ("submit",),
    ("bar", "101", "101", "99.5", "100.5"),
    ("bar", "100.5", "101", "100", "100.8"),
    ("bar", "93", "94", "92", "93.5"),  # a gap through the stop
    ("bar", "93.5", "93.5", "93.5", "93.5"),
]


def run_step(world: World, runtime: Runtime, step: tuple[str, ...], resume: bool) -> None:
    if step[0] == "submit":
        if world.find_block() is None:  # a crash before the commit: the trader submits again
            req = request(breakeven_after_first_target=True)
            submit_block(runtime, world.user_id, world.account_id, req)
        else:
            sync_tick(runtime)
        return
    if not resume:
        world.feed.bar(*step[1:])
    sync_tick(runtime)


def play(world: World, boundaries: Boundaries, check: Callable[[World], None]) -> None:
    """Run the script; on a Crash, restart and run the interrupted step again, then the rest."""
    noop: Callable[[str], None] = lambda _name: None  # noqa: E731
    # Reads are not boundaries of their own: a crash right after a fetch is the crash before the
    # commit that follows it (nothing durable happens in between).
    runtime = world.engine(
        crashing_sessions(world.base, boundaries),
        lambda name: boundaries.hit(f"before {name}"),
        lambda name: boundaries.hit(f"after {name}"),
        hooked=("create_order", "cancel_order"),
    )
    crashed_at: int | None = None
    for i, step in enumerate(SCRIPT):
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
    run_step(world, runtime, SCRIPT[crashed_at], resume=True)
    check(world)
    for step in SCRIPT[crashed_at + 1 :]:
        run_step(world, runtime, step, resume=False)
        check(world)


def outcome(world: World) -> tuple[list[tuple[Any, ...]], list[str]]:
    """(trades' status, reason, P&L), and the venue's client ids with the block id taken out."""
    with world.base.sessions() as s:
        trades = list(s.scalars(select(Trade).join(Block).where(Block.user_id == world.user_id).order_by(Trade.index)))
        fills = s.execute(select(Fill.order_id, Fill.amount)).all()
    filled = Counter()
    for order_id, amount in fills:
        filled[order_id] += amount
    for order in db_orders(world):
        assert filled[order.id] == order.filled, f"fills of {order.client_order_id} not recorded"
    ids = sorted(cid.split("-", 1)[1] for cid in venue_state(world))
    return [(t.status, t.close_reason, t.realized_pnl) for t in trades], ids


def test_a_crash_at_any_step_boundary_loses_and_doubles_nothing(runtime: Runtime) -> None:
    load_demo_markets(runtime.sessions)
    reference = World(runtime, "reference")
    counter = Boundaries()
    play(reference, counter, check_truth)
    expected = outcome(reference)
    assert [r for _s, r, _p in expected[0]] == ["target", "target"]
    total = len(counter.seen)
    assert total > 40, counter.seen
    for k in range(1, total + 1):
        wipe(runtime)  # each run alone in the database, as after a real restart
        world = World(runtime, f"crash{k}")
        play(world, Boundaries(crash_at=k), check_truth)
        assert world.find_block() is not None
        assert outcome(world) == expected, f"crash at boundary {k}: {counter.seen[k - 1]}"


class Chaos:
    """Raises ccxt-like errors at random (fixed seed); a create may also succeed with its answer lost."""

    ERRORS: dict[str, tuple[type[Exception], ...]] = {
        "create_order": (VenueUnavailable, VenueUnavailable, InsufficientFunds, InvalidOrder),
        "cancel_order": (VenueUnavailable, OrderNotFound, InvalidOrder),
        "fetch_order": (VenueUnavailable, OrderNotFound),
        "fetch_orders_by_client_ids": (VenueUnavailable,),
        "fetch_my_trades": (VenueUnavailable,),
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
        if self.on and name == "create_order" and self.rng.random() < self.rate:
            self.raised["lost answer"] += 1
            raise VenueUnavailable("injected: answer lost after the order was placed")


def test_random_venue_errors_never_break_the_invariants(runtime: Runtime) -> None:
    load_demo_markets(runtime.sessions)
    raised: Counter[str] = Counter()
    for seed in range(10):
        for script in (SCRIPT, STOP_SCRIPT):
            world = World(runtime, f"chaos{seed}-{len(script)}")
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
            raised += chaos.raised
    assert set(raised) >= {"VenueUnavailable", "InsufficientFunds", "InvalidOrder", "OrderNotFound", "lost answer"}
