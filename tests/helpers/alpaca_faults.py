"""The fault harness (tests/helpers/desk_faults.py) on alpaca: a block on a US stock on the paper
trading simulator (tests/helpers/alpaca_desk.py, STOP_RESTS: the stop rests as a stop-limit, the
desk takes the targets at market) is played with a crash at every commit and around every venue
call that changes orders (create, cancel: a create refused while the market is closed included),
then restarted: new runtime, new session factory, new ccxt venue (its market clock asked again) over
the same database and the same simulated exchange. `chaos_run` plays a script under random venue
errors instead (tests/helpers/faults.Chaos) and checks the same once the venue calms down.

What must hold after each step: no order was ever posted twice; every order of the database is what
the exchange says; the venue holds no order the engine does not know; the venue's position is what
the trades hold; every open position rests one stop for what it holds (or, while the market is
closed, holds its stop as an intent waiting for the open); no target rests (the desk watches
them); and a crashed run ends as the crash-free one.
"""

from __future__ import annotations

from collections import Counter

from db.enums import EntryType, OrderRole, OrderStatus
from engine.blocks.sync import sync_tick
from engine.exchanges.venues import install_venue
from engine.runtime import Runtime
from tests.helpers import desk_faults
from tests.helpers.alpaca_desk import AlpacaDesk, connect, make_alpaca_desk
from tests.helpers.desk_faults import Harness, Hook, Hooked, Outcome, Step, World
from tests.helpers.trading import D, request

SYMBOL, MARKET_ID = "AAPL/USD", "AAPL"
# The exchange's word -> what the database may say after a step.
_ALLOWED = {
    "new": {OrderStatus.ACCEPTED, OrderStatus.PENDING_CANCEL},
    "accepted": {OrderStatus.ACCEPTED, OrderStatus.PENDING_CANCEL},
    "partially_filled": {OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_CANCEL},
    "filled": {OrderStatus.FILLED},
    "canceled": {OrderStatus.CANCELED},
    "expired": {OrderStatus.EXPIRED},
}
_RESTING = ("new", "accepted", "partially_filled")
_HELD = (OrderStatus.INITIALIZED, OrderStatus.SUBMITTED)  # an order waiting for the open


def _install(runtime: Runtime, desk: AlpacaDesk, before: Hook, after: Hook) -> None:
    install_venue(runtime, desk.account_id, Hooked(connect(runtime, desk.account_id, desk.sim), before, after))


def run_step(world: World, runtime: Runtime, step: Step, resume: bool) -> None:
    """("submit", size) places a market block of two trades on AAPL (stop 190, targets 210.25 and
    220, break-even after the first); ("open",) and ("close",) the market opens or closes, then a
    tick; ("price", p) trades the stock at p and ticks."""
    desk = world.desk
    if step[0] == "submit":
        req = request(
            None, "190", ("210.25", "220"), step[1], entry_type=EntryType.MARKET, symbol=SYMBOL,
            breakeven_after_first_target=True,
        )  # fmt: skip
        world.submit_once(runtime, req)
        return
    if not resume:
        if step[0] == "open":
            desk.open_market()
        elif step[0] == "close":
            desk.close_market()
        else:
            desk.sim.move_price(MARKET_ID, step[1])
    sync_tick(runtime)


def check_truth(world: World) -> None:
    desk = world.desk
    sim = desk.sim
    assert max(sim.posts.values(), default=0) <= 1, sim.posts
    orders, trades = world.orders(), world.trades()
    assert set(_venue_ids(desk)) <= {o.client_order_id for o in orders}, "an order the engine does not know"
    for order in orders:
        venue = sim.by_client_id(order.client_order_id)
        if venue is None:
            # never sent; or, while the market is closed, sent once with its answer lost and held
            # SUBMITTED for the open (engine.blocks.market_hours)
            unsent = {OrderStatus.INITIALIZED, OrderStatus.CANCELED, OrderStatus.REJECTED}
            unsent |= {OrderStatus.SUBMITTED} if not sim.is_open else set()
            assert order.status in unsent, (order.client_order_id, order.status, order.last_error)
            continue
        assert order.status in _ALLOWED[venue["status"]], (order.client_order_id, order.status, venue["status"])
        assert order.filled == D(venue["filled_qty"]), order.client_order_id
    held_in_all = D(0)
    for trade in trades:
        mine = [o for o in orders if o.trade_id == trade.id]
        held = sum((o.filled for o in mine if o.role is OrderRole.ENTRY), D(0))
        sold = sum((o.filled for o in mine if o.role is not OrderRole.ENTRY), D(0))
        held_in_all += held - sold
        exits = [(o, sim.by_client_id(o.client_order_id)) for o in mine if o.role is not OrderRole.ENTRY]
        resting = [(o, v) for o, v in exits if v is not None and v["status"] in _RESTING]
        assert all(o.role is OrderRole.SL and v["type"] == "stop_limit" for o, v in resting), trade.id
        if held > sold and trade.close_reason is None:  # protected: its stop for what it holds
            stops = [D(v["qty"]) for _o, v in resting]
            waiting = [o.amount for o in mine if o.role is OrderRole.SL and o.status in _HELD]
            assert stops == [held - sold] or (not sim.is_open and waiting == [held - sold]), (trade.id, stops, waiting)
    assert sim.positions[MARKET_ID] == held_in_all, (sim.positions[MARKET_ID], held_in_all)


def _venue_ids(desk: AlpacaDesk) -> list[str]:
    return [o["client_order_id"] for o in desk.sim.orders.values()]


ALPACA = Harness(make=make_alpaca_desk, install=_install, run_step=run_step, check=check_truth, venue_ids=_venue_ids)


def crash_everywhere(base: Runtime, script: list[Step], from_step: int = 0, part: int = 0, parts: int = 1) -> Outcome:
    """desk_faults.crash_everywhere on alpaca's stocks."""
    return desk_faults.crash_everywhere(base, ALPACA, script, from_step, part, parts)


def chaos_run(base: Runtime, script: list[Step], seed: int) -> Counter[str]:
    """desk_faults.chaos_run on alpaca's stocks."""
    return desk_faults.chaos_run(base, ALPACA, script, seed)
