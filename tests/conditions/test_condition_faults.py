"""Conditional blocks through the fault harness (tests.helpers.faults): the engine is killed at
every commit and venue-call boundary while a met condition fires (the block's planning and
intents, the condition marked fired and its `then` step armed in the same transaction, the
entries sent) and restarted; after each run there is exactly one block, the condition names it,
its next step was armed once (at the moment it fired) and waits, the venue holds no duplicate
order, and once the entries fill every position has its stop. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select

from db.enums import OrderRole, TradeStatus
from db.models import Block, BlockCondition, Trade
from db.session import make_session_factory
from engine.blocks.api import recover, sync_tick
from engine.conditions import api as conditions
from engine.runtime import Runtime
from engine.users import api as users
from tests.helpers.conditions import LIMIT_BLOCK
from tests.helpers.faults import Boundaries, Crash, World, check_truth, crashing_sessions, db_orders, wipe
from tests.helpers.trading import load_demo_markets

MIN = 60_000


def arm(world: World) -> int:
    """A condition "at time T" placing the harness's limit long, then a step "an hour later"
    placing another, saved by a crash-free engine."""
    runtime = world.engine(make_session_factory(world.base.db), _noop, _noop)
    later = {"kind": "at_time", "account_id": world.account_id, "at": world.feed.now + 60 * MIN, "block": LIMIT_BLOCK}
    raw = {
        "kind": "at_time",
        "account_id": world.account_id,
        "at": world.feed.now + MIN,
        "block": LIMIT_BLOCK,
        "then": later,
    }
    return conditions.create_condition(runtime, world.user_id, raw, now=world.feed.now)


def _noop(_name: str) -> None:
    return None


def fire_and_fill(world: World, boundaries: Boundaries) -> None:
    """Fire the condition (crashing at `boundaries`), restart if it crashed, then let the entries fill."""
    due = world.feed.now + MIN
    runtime = world.engine(
        crashing_sessions(world.base, boundaries),
        lambda name: boundaries.hit(f"before {name}"),
        lambda name: boundaries.hit(f"after {name}"),
        hooked=("create_order", "cancel_order"),
    )
    filled = False
    try:
        conditions.check_conditions(runtime, now=due)
        sync_tick(runtime)
        check_truth(world)
        world.feed.bar("101", "101", "99.5", "100.5")  # the limit entries fill at 100
        filled = True
        sync_tick(runtime)
    except Crash:
        runtime = world.engine(make_session_factory(world.base.db), _noop, _noop)
        recover(runtime)
        conditions.check_conditions(runtime, now=due)  # a condition left waiting fires now
        sync_tick(runtime)
        check_truth(world)
        if not filled:
            world.feed.bar("101", "101", "99.5", "100.5")
        sync_tick(runtime)
    check_truth(world)


def the_one_block(world: World, condition_id: int) -> int:
    with world.base.sessions() as s:
        blocks = list(s.scalars(select(Block.id).where(Block.user_id == world.user_id)))
        condition = s.get(BlockCondition, condition_id)
        assert condition is not None
        assert len(blocks) == 1, blocks
        assert (condition.status, condition.block_id) == ("fired", blocks[0])
        (step,) = s.scalars(select(BlockCondition).where(BlockCondition.parent_id == condition_id))
        fired_at = users.as_utc(condition.done_at)
        assert fired_at is not None
        # Armed once, by the transaction that fired the first step; not fired (its time is to come).
        assert (step.status, step.block_id) == ("waiting", None)
        assert step.armed_at_ms == int(fired_at.timestamp() * 1000)
        open_trades = s.scalar(
            select(func.count()).select_from(Trade).where(Trade.block_id == blocks[0], Trade.status == TradeStatus.OPEN)
        )
    entries = [o for o in db_orders(world) if o.role is OrderRole.ENTRY]
    assert len(entries) == 2  # one per target, never sent twice (check_truth: the venue agrees)
    assert open_trades == 2
    return blocks[0]


def run(runtime: Runtime, name: str, boundaries: Boundaries, check: Callable[[World, int], int]) -> None:
    world = World(runtime, name)
    condition_id = arm(world)
    fire_and_fill(world, boundaries)
    check(world, condition_id)


def test_a_crash_at_any_boundary_while_a_condition_fires_places_one_block(runtime: Runtime) -> None:
    load_demo_markets(runtime.sessions)
    counter = Boundaries()
    run(runtime, "reference", counter, the_one_block)
    total = len(counter.seen)
    assert total >= 8, counter.seen
    for k in range(1, total + 1):
        wipe(runtime)
        run(runtime, f"crash{k}", Boundaries(crash_at=k), the_one_block)
