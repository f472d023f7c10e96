"""The webhook through the fault harness (tests/helpers/faults.py): the engine is killed at every
commit and venue-call boundary while a webhook places its block, restarted (recover), and the
alert comes again, as a sender retries one it got no answer to. Always: exactly one block, no
duplicate order on the venue, every order's status the venue's."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from db.enums import OrderRole
from db.models import Block
from db.session import make_session_factory
from engine.blocks.api import recover, sync_tick
from engine.runtime import Runtime
from tests.helpers.faults import Boundaries, Crash, World, check_truth, crashing_sessions, db_orders, venue_state, wipe
from tests.helpers.trading import load_demo_markets
from tests.helpers.webhooks import alert, make_hook, post


def blocks(world: World) -> int:
    with world.base.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Block).where(Block.user_id == world.user_id)) or 0)


def run(world: World, boundaries: Boundaries) -> tuple[int, int | None]:
    """Post the alert on an engine that crashes at `boundaries`; after a crash restart, recover
    and post it again. (the last answer's status, the status of the one before a crash or None)"""
    hook = make_hook(world.base, world.user_id, world.account_id, targets=["5", "10"])
    body = alert(hook.secret, world.feed.now)
    engine = world.engine(
        crashing_sessions(world.base, boundaries),
        lambda name: boundaries.hit(f"before {name}"),
        lambda name: boundaries.hit(f"after {name}"),
        hooked=("create_order", "cancel_order"),
    )
    try:
        return post(engine, hook, body, world.feed.now).status, None
    except Crash:
        pass
    noop = lambda _name: None  # noqa: E731
    restarted = world.engine(make_session_factory(world.base.db), noop, noop)
    recover(restarted)
    again = post(restarted, hook, body, world.feed.now + 1_000)
    sync_tick(restarted)
    return again.status, 0


def entries_on_venue(world: World) -> Counter[int]:
    orders = {o.client_order_id: o for o in db_orders(world)}
    return Counter(orders[cid].trade_id for cid in venue_state(world) if orders[cid].role is OrderRole.ENTRY)


def test_a_crash_at_any_boundary_while_a_webhook_places_its_block_places_it_once(runtime: Runtime) -> None:
    load_demo_markets(runtime.sessions)
    reference = World(runtime, "reference")
    counter = Boundaries()
    assert run(reference, counter) == (201, None)
    total = len(counter.seen)
    assert total >= 4, counter.seen  # the block's commit and the entries' sends at least
    retried: Counter[int] = Counter()
    for k in range(1, total + 1):
        wipe(runtime)
        world = World(runtime, f"crash{k}")
        status, crashed = run(world, Boundaries(crash_at=k))
        assert crashed == 0, f"boundary {k} did not crash"
        retried[status] += 1
        assert blocks(world) == 1, f"crash at boundary {k}: {counter.seen[k - 1]}"
        check_truth(world)
        assert set(entries_on_venue(world).values()) == {1}, f"crash at boundary {k}: an entry sent twice or never"
    # Crashes before the block's commit are placed by the retry, crashes after it answered as a retry.
    assert retried[201] >= 1
    assert retried[200] >= 1
    assert set(retried) <= {200, 201}
