"""The fault harness (tests/helpers/desk_faults.py) on OCO lists: a block on the binance spot
simulator (tests/helpers/binance_desk.py, NATIVE_OCO) is played with a crash at every commit and
around every venue call that changes orders (create, cancel, place_oco, cancel_oco), then restarted:
new runtime, new session factory, new ccxt venue over the same database and the same simulated
exchange.

What must hold after each step: no order and no list was ever posted twice; every order of the
database is what the exchange says; every open position rests exactly one list, whose stop is for
what the trade holds; and a crashed run ends as the crash-free one. `chaos_run` plays a script
under random venue errors instead (tests/helpers/faults.Chaos) and checks the same once the venue
calms down.
"""

from __future__ import annotations

from collections import Counter

from db.enums import EntryType, OrderRole, OrderStatus
from engine.blocks.amend import amend_block
from engine.blocks.sync import sync_tick
from engine.exchanges.venues import install_venue
from engine.runtime import Runtime
from tests.helpers import desk_faults
from tests.helpers.binance_desk import Desk, connect, make_desk
from tests.helpers.desk_faults import Harness, Hook, Hooked, Outcome, Step, World
from tests.helpers.trading import D, request, trades_of

# The exchange's word -> what the database may say after a step.
_ALLOWED = {
    "NEW": {OrderStatus.ACCEPTED, OrderStatus.PENDING_CANCEL},
    "PARTIALLY_FILLED": {OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_CANCEL},
    "FILLED": {OrderStatus.FILLED},
    "CANCELED": {OrderStatus.CANCELED},
    "EXPIRED": {OrderStatus.EXPIRED},
}


def _install(runtime: Runtime, desk: Desk, before: Hook, after: Hook) -> None:
    venue = connect(runtime, desk.account_id, desk.sim, oco=True)
    install_venue(runtime, desk.account_id, Hooked(venue, before, after))


def run_step(world: World, runtime: Runtime, step: Step, resume: bool) -> None:
    """("submit",) places a market block of two targets; ("price", p) trades the market at p and
    ticks; ("amend", change, applied) amends (not again when `applied(trades)`: it took)."""
    desk = world.desk
    if step[0] == "submit":
        req = request(
            None, "95", ("105", "110"), "2", entry_type=EntryType.MARKET, symbol="LTC/USDT",
            breakeven_after_first_target=True,
        )  # fmt: skip
        world.submit_once(runtime, req)
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


def check_truth(world: World) -> None:
    sim = world.desk.sim
    assert max(sim.posts.values(), default=0) <= 1, sim.posts
    assert max(sim.list_posts.values(), default=0) <= 1, sim.list_posts
    orders, trades = world.orders(), world.trades()
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


def _venue_ids(desk: Desk) -> list[str]:
    return [o["clientOrderId"] for o in desk.sim.orders.values()]


OCO = Harness(
    make=lambda base: make_desk(base, "quote", oco=True),
    install=_install,
    run_step=run_step,
    check=check_truth,
    venue_ids=_venue_ids,
)


def crash_everywhere(base: Runtime, script: list[Step], from_step: int = 0, part: int = 0, parts: int = 1) -> Outcome:
    """desk_faults.crash_everywhere on binance spot's OCO lists."""
    return desk_faults.crash_everywhere(base, OCO, script, from_step, part, parts)


def chaos_run(base: Runtime, script: list[Step], seed: int) -> Counter[str]:
    """desk_faults.chaos_run on binance spot's OCO lists."""
    return desk_faults.chaos_run(base, OCO, script, seed)
