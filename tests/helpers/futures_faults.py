"""The fault harness (tests/helpers/desk_faults.py) on a binance perpetual: a block at 5x isolated
on the futures simulator (tests/helpers/futures_desk.py, REDUCE_ONLY) is played with a crash at
every commit and around every venue call that changes orders (create, cancel), then restarted: new
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

from db.enums import EntryType, MarginMode, OrderRole, OrderStatus, Side
from engine.blocks.sync import sync_tick
from engine.exchanges.venues import install_venue
from engine.runtime import Runtime
from tests.helpers import desk_faults
from tests.helpers.desk_faults import Harness, Hook, Hooked, Outcome, Step, World
from tests.helpers.futures_desk import SYMBOL, FuturesDesk, connect, filled_of, make_futures_desk, raw_status
from tests.helpers.trading import D, request

# The exchange's word -> what the database may say after a step.
_ALLOWED = {
    "NEW": {OrderStatus.ACCEPTED, OrderStatus.PENDING_CANCEL},
    "PARTIALLY_FILLED": {OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_CANCEL},
    "FILLED": {OrderStatus.FILLED},
    "FINISHED": {OrderStatus.FILLED},
    "CANCELED": {OrderStatus.CANCELED},
    "EXPIRED": {OrderStatus.EXPIRED},
}


def _install(runtime: Runtime, desk: FuturesDesk, before: Hook, after: Hook) -> None:
    venue = connect(runtime, desk.account_id, desk.sim)
    # For "swap" only, as in production: fills a crash left to record after the block closed
    # are fetched from the venue of the block's own market type (engine.blocks.sync).
    install_venue(runtime, desk.account_id, Hooked(venue, before, after), "swap")


def run_step(world: World, runtime: Runtime, step: Step, resume: bool) -> None:
    """("submit", side) places a market block of two trades at 5x isolated; ("price", p) trades
    the market at p and ticks."""
    desk = world.desk
    if step[0] == "submit":
        long = step[1] == "long"
        stop, targets = ("95000", ("105000", "110000")) if long else ("105000", ("95000", "90000"))
        req = request(
            None, stop, targets, "0.02", side=Side(step[1]), entry_type=EntryType.MARKET, symbol=SYMBOL,
            breakeven_after_first_target=True, leverage=5, margin_mode=MarginMode.ISOLATED,
        )  # fmt: skip
        world.submit_once(runtime, req)
        return
    if not resume:
        desk.sim.move_price(step[1])
    sync_tick(runtime)


def check_truth(world: World) -> None:
    sim = world.desk.sim
    assert max(sim.posts.values(), default=0) <= 1, sim.posts
    orders, trades = world.orders(), world.trades()
    known = {o.client_order_id for o in orders}
    assert set(_venue_ids(world.desk)) <= known, "an order the engine does not know"
    for order in orders:
        venue = sim.by_client_id(order.client_order_id)
        if venue is None:
            assert order.status in (OrderStatus.INITIALIZED, OrderStatus.CANCELED, OrderStatus.REJECTED), order
            continue
        assert order.status in _ALLOWED[raw_status(venue)], (order.client_order_id, order.status, raw_status(venue))
        assert order.filled == filled_of(sim, venue), order.client_order_id
    held_in_all = D(0)
    for trade in trades:
        mine = [o for o in orders if o.trade_id == trade.id]
        held = sum((o.filled for o in mine if o.role is OrderRole.ENTRY), D(0))
        sold = sum((o.filled for o in mine if o.role is not OrderRole.ENTRY), D(0))
        held_in_all += held - sold
        exits = [sim.by_client_id(o.client_order_id) for o in mine if o.role is not OrderRole.ENTRY]
        resting = [v for v in exits if v is not None and raw_status(v) in ("NEW", "PARTIALLY_FILLED")]
        stops = [D(v["quantity"]) for v in resting if "algoId" in v]
        targets = [D(v["origQty"]) - D(v["executedQty"]) for v in resting if "algoId" not in v]
        assert all(v["reduceOnly"] for v in resting), trade.id
        if held > sold and trade.close_reason is None:  # protected: its stop for what it holds
            assert stops == [held - sold], (trade.id, stops, held - sold)
            assert sum(targets, D(0)) <= held - sold, (trade.id, targets)
    # the venue's position is what the trades hold (long or short)
    assert abs(sim.position(SYMBOL).amount) == held_in_all, (sim.position(SYMBOL), held_in_all)


def _venue_ids(desk: FuturesDesk) -> list[str]:
    """Our orders' client ids: ordinary ones (a triggered stop's actual order is the venue's) and algo ones."""
    cids = [o["clientOrderId"] for o in desk.sim.orders.values() if not o["clientOrderId"].startswith("algo")]
    return cids + [a["clientAlgoId"] for a in desk.sim.algos.values()]


FUTURES = Harness(make=make_futures_desk, install=_install, run_step=run_step, check=check_truth, venue_ids=_venue_ids)


def crash_everywhere(base: Runtime, script: list[Step], from_step: int = 0, part: int = 0, parts: int = 1) -> Outcome:
    """desk_faults.crash_everywhere on the binance perpetual."""
    return desk_faults.crash_everywhere(base, FUTURES, script, from_step, part, parts)


def chaos_run(base: Runtime, script: list[Step], seed: int) -> Counter[str]:
    """desk_faults.chaos_run on the binance perpetual."""
    return desk_faults.chaos_run(base, FUTURES, script, seed)
