"""The fencing epoch: an executor of a deposed engine never calls the venue; the current engine and a
web request (a process that runs no engine) do. Real database (SQLite or PostgreSQL), paper venue:
"no venue call" is checked on the paper exchange's own order book."""

from __future__ import annotations

from dataclasses import replace

from db.enums import OrderStatus
from engine.blocks.commands import submit_block
from engine.blocks.executor import Executor, fence_for
from engine.blocks.sync import sync_account
from engine.exchanges.api import venue_for
from engine.lock import take_epoch
from engine.runtime import EngineRun, Runtime
from engine.users.accounts import get_account
from tests.helpers.trading import PathFeed, orders_of, request, setup, venue_orders


def _engine_of(runtime: Runtime, holder: str) -> Runtime:
    """The runtime as a process that has just taken the engine lock sees it (no scheduler needed)."""
    return replace(runtime, engine=EngineRun(scheduler=None, lock=None, epoch=take_epoch(runtime.db, holder)))


def _executor(runtime: Runtime, user: int, account_id: int) -> Executor:
    with runtime.sessions() as s:
        account = get_account(s, user, account_id)
        fence = fence_for(runtime, s)
    return Executor(runtime.sessions, venue_for(runtime, account), runtime.trading, fence)


def test_intents_record_the_epoch_of_the_engine_that_wrote_them(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed)
    old = _engine_of(runtime, "a:1")
    block_id = submit_block(old, user, account, request(), drive=False)
    assert {o.epoch for o in orders_of(runtime.sessions, block_id)} == {old.engine.epoch}
    # A web request in a process without an engine writes the database's epoch.
    web_block = submit_block(runtime, user, account, request(), drive=False)
    assert {o.epoch for o in orders_of(runtime.sessions, web_block)} == {old.engine.epoch}


def test_an_epoch_raised_under_a_running_executor_stops_its_sends(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed)
    old = _engine_of(runtime, "a:1")
    block_id = submit_block(old, user, account, request(), drive=False)
    executor = _executor(old, user, account)  # mid-flight: built before the takeover
    new = _engine_of(runtime, "b:2")  # another process took the lock and raised the epoch
    for order in orders_of(runtime.sessions, block_id):
        executor.send(order.id)
    assert venue_orders(runtime.sessions) == {}  # the venue was never called
    assert {(o.status, o.attempts) for o in orders_of(runtime.sessions, block_id)} == {(OrderStatus.INITIALIZED, 0)}
    assert executor.stats.placed == 0
    assert len(executor.stats.errors) == 2
    assert all("fenced" in e for e in executor.stats.errors)
    # The new engine adopts the intents: its sync sends them.
    sync_account(new, account)
    assert len(venue_orders(runtime.sessions)) == 2
    assert {o.status for o in orders_of(runtime.sessions, block_id)} == {OrderStatus.ACCEPTED}


def test_a_deposed_engine_sends_nothing_even_before_anyone_takes_over(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed)
    old = _engine_of(runtime, "a:1")
    block_id = submit_block(old, user, account, request(), drive=False)
    assert old.engine is not None
    old.engine.deposed.set()  # it lost the lock; the database still has its epoch
    report = sync_account(old, account)
    assert venue_orders(runtime.sessions) == {}
    assert report.orders_placed == 0
    assert {o.status for o in orders_of(runtime.sessions, block_id)} == {OrderStatus.INITIALIZED}


def test_a_web_request_sends_under_the_current_epoch_and_is_fenced_by_a_takeover(
    runtime: Runtime, feed: PathFeed
) -> None:
    user, account = setup(runtime, feed)
    _engine_of(runtime, "a:1")  # some process runs the engine; this one (runtime.engine None) does not
    block_id = submit_block(runtime, user, account, request(), drive=False)
    during = _executor(runtime, user, account)  # a request began ...
    _engine_of(runtime, "b:2")  # ... and a failover raised the epoch meanwhile
    for order in orders_of(runtime.sessions, block_id):
        during.send(order.id)
    assert venue_orders(runtime.sessions) == {}
    sync_account(runtime, account)  # the next request acts under the new epoch
    assert {o.status for o in orders_of(runtime.sessions, block_id)} == {OrderStatus.ACCEPTED}


def test_a_deposed_engine_does_not_cancel_on_the_venue(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed)
    old = _engine_of(runtime, "a:1")
    block_id = submit_block(old, user, account, request())  # sent: ACCEPTED on the paper venue
    executor = _executor(old, user, account)
    _engine_of(runtime, "b:2")
    for order in orders_of(runtime.sessions, block_id):
        executor.cancel(order.id)
    assert executor.stats.canceled == 0
    assert {o.status for o in orders_of(runtime.sessions, block_id)} == {OrderStatus.ACCEPTED}
    assert {o.status for o in venue_orders(runtime.sessions).values()} == {"open"}
