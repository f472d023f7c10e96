"""Conditional blocks in the engine, on the real database and the paper venue over a scripted
price path: each kind of condition fires on what it names and nothing earlier (a candle of the
stored pyramid only once closed), places its block once, is refused at the field when saved and
recorded with why when its block is refused at fire time; `then` steps arm when the step before
fires; canceling ends the chain; another user's condition cannot be seen or canceled."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from db.models import Block, BlockCondition
from engine.conditions import api as conditions
from engine.runtime import Runtime
from tests.helpers.conditions import MARKET_BLOCK, SeriesFeed, bars, watch_sol
from tests.helpers.trading import setup

MIN = 60_000


@pytest.fixture
def desk(runtime: Runtime) -> dict[str, Any]:
    feed = SeriesFeed("100")
    feed.flat("100", 3)
    user, account = setup(runtime, feed)
    series = watch_sol(runtime, user)
    return {"feed": feed, "user": user, "account": account, "series": series.id}


def make(runtime: Runtime, desk: dict, **fields: Any) -> int:
    raw = {"account_id": desk["account"], "series_id": desk["series"], "block": MARKET_BLOCK, **fields}
    return conditions.create_condition(runtime, desk["user"], raw, now=desk["feed"].now)


def check(runtime: Runtime, desk: dict, now: int | None = None) -> conditions.CheckReport:
    return conditions.check_conditions(runtime, now=now if now is not None else desk["feed"].now)


def blocks_of(runtime: Runtime, user: int) -> list[int]:
    with runtime.sessions() as s:
        return list(s.scalars(select(Block.id).where(Block.user_id == user)))


def test_a_close_above_fires_on_a_closed_candle_of_the_timeframe_only(runtime: Runtime, desk: dict) -> None:
    cid = make(runtime, desk, kind="close_above", timeframe="5m", price="103")
    assert conditions.get_condition(runtime, desk["user"], cid).text == "when SOL/USDT closes above 103 on 5m"
    bars(runtime, desk["feed"], "104")  # above, but its 5m candle is still forming
    assert check(runtime, desk).fired == []
    bars(runtime, desk["feed"], "102")  # the 5m candle closes at 102: not above
    assert check(runtime, desk).fired == []
    for _ in range(4):
        bars(runtime, desk["feed"], "103.5")
        assert check(runtime, desk).fired == []
    bars(runtime, desk["feed"], "103.5")  # the next 5m candle closes at 103.5
    report = check(runtime, desk)
    assert len(report.fired) == 1
    view = conditions.get_condition(runtime, desk["user"], cid)
    assert (view.status, view.block_id) == ("fired", report.fired[0])
    assert check(runtime, desk).fired == []  # fired once
    assert blocks_of(runtime, desk["user"]) == report.fired


def test_a_close_below_ignores_candles_that_closed_before_it_was_saved(runtime: Runtime, desk: dict) -> None:
    bars(runtime, desk["feed"], "90")  # a close below, before the condition
    cid = make(
        runtime, desk, kind="close_below", timeframe="1m", price="95", block={**MARKET_BLOCK, "stop_price": "85"}
    )
    assert check(runtime, desk).fired == []
    bars(runtime, desk["feed"], "94")
    assert len(check(runtime, desk).fired) == 1
    assert conditions.get_condition(runtime, desk["user"], cid).status == "fired"


def test_a_cross_fires_when_the_price_reaches_the_level_from_either_side(runtime: Runtime, desk: dict) -> None:
    up = make(runtime, desk, kind="crosses", price="102")  # from the stored close, 100
    down = make(runtime, desk, kind="crosses", price="98", block={**MARKET_BLOCK, "stop_price": "90"})
    bars(runtime, desk["feed"], "101")
    assert check(runtime, desk).fired == []
    bars(runtime, desk["feed"], "102.5")
    assert len(check(runtime, desk).fired) == 1
    assert conditions.get_condition(runtime, desk["user"], up).status == "fired"
    bars(runtime, desk["feed"], "97.5")
    assert len(check(runtime, desk).fired) == 1
    assert conditions.get_condition(runtime, desk["user"], down).status == "fired"


def test_a_time_condition_fires_at_its_time(runtime: Runtime, desk: dict) -> None:
    at = desk["feed"].now + 2 * MIN
    cid = make(runtime, desk, kind="at_time", at=at)
    assert check(runtime, desk, now=at - 1).fired == []
    assert len(check(runtime, desk, now=at).fired) == 1
    assert conditions.get_condition(runtime, desk["user"], cid).status == "fired"


def refused(runtime: Runtime, desk: dict, **fields: Any) -> dict[str, str]:
    with pytest.raises(conditions.ConditionRefused) as caught:
        make(runtime, desk, **fields)
    return {e.field: e.message for e in caught.value.errors}


def test_a_condition_that_could_not_place_its_block_is_refused_at_the_field(runtime: Runtime, desk: dict) -> None:
    other, other_account = setup(runtime, desk["feed"], user="bob")
    fields = refused(
        runtime, desk, kind="close_above", timeframe="5m", price="103", block={**MARKET_BLOCK, "stop_price": "105"}
    )
    assert set(fields) == {"block.stop_price"}
    assert "below" in fields["block.stop_price"]
    assert set(refused(runtime, desk, kind="sometimes")) == {"kind"}
    assert set(refused(runtime, desk, kind="crosses", price="1,000")) == {"price"}
    assert set(refused(runtime, desk, kind="close_above", timeframe="3m", price="103")) == {"timeframe"}
    assert set(refused(runtime, desk, kind="crosses", price="103", series_id=999_999)) == {"series_id"}
    assert set(refused(runtime, desk, kind="at_time", at=desk["feed"].now - 1)) == {"at"}
    assert set(refused(runtime, desk, kind="at_time", at="tomorrow")) == {"at"}
    assert set(refused(runtime, desk, kind="crosses", price="103", account_id=other_account)) == {"account"}
    then = {"kind": "crosses", "account_id": desk["account"], "series_id": desk["series"], "price": "99",
            "block": {**MARKET_BLOCK, "size_value": "-1"}}  # fmt: skip
    assert set(refused(runtime, desk, kind="crosses", price="103", then=then)) == {"then.block.size_value"}
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(BlockCondition)) == 0
    assert other  # bob exists and has nothing either
    assert conditions.list_conditions(runtime, other, None) == []


def test_a_block_refused_when_its_condition_fires_is_recorded_with_why(runtime: Runtime, desk: dict) -> None:
    stop_entry = {**MARKET_BLOCK, "entry_type": "stop", "entry_price": "105"}  # a buy stop above 100: valid now
    then = {"kind": "at_time", "account_id": desk["account"], "at": desk["feed"].now + 60 * MIN, "block": MARKET_BLOCK}
    cid = make(runtime, desk, kind="crosses", price="104", block=stop_entry, then=then)
    bars(runtime, desk["feed"], "110")  # crossed, but the price is now above the buy stop
    report = check(runtime, desk)
    assert (report.fired, report.refused) == ([], [cid])
    views = {v.id: v for v in conditions.list_conditions(runtime, desk["user"], None)}
    assert views[cid].status == "refused"
    reason = views[cid].reason or ""
    assert "refused" in reason
    assert "105" in reason
    (step,) = [v for v in views.values() if v.parent_id == cid]
    assert step.status == "canceled"
    assert blocks_of(runtime, desk["user"]) == []


def test_then_is_armed_when_the_first_step_fires(runtime: Runtime, desk: dict) -> None:
    then = {"kind": "crosses", "account_id": desk["account"], "series_id": desk["series"], "price": "101",
            "block": {**MARKET_BLOCK, "stop_price": "90"}}  # fmt: skip
    first = make(runtime, desk, kind="crosses", price="102", then=then)
    (second,) = [v for v in conditions.list_conditions(runtime, desk["user"]) if v.parent_id == first]
    assert second.status == "pending"
    bars(runtime, desk["feed"], "101.5")  # would cross 101 from 100, but the second step is not armed yet
    assert check(runtime, desk).fired == []
    bars(runtime, desk["feed"], "102")
    assert len(check(runtime, desk).fired) == 1
    assert conditions.get_condition(runtime, desk["user"], second.id).status == "waiting"
    assert check(runtime, desk).fired == []  # armed at 102: 101 is crossed only going down
    bars(runtime, desk["feed"], "100.5")
    assert len(check(runtime, desk).fired) == 1
    assert conditions.get_condition(runtime, desk["user"], second.id).status == "fired"
    assert len(blocks_of(runtime, desk["user"])) == 2


def test_cancel_ends_the_chain_and_only_the_owner_may(runtime: Runtime, desk: dict) -> None:
    other, _ = setup(runtime, desk["feed"], user="bob")
    then = {"kind": "at_time", "account_id": desk["account"], "at": desk["feed"].now + 60 * MIN, "block": MARKET_BLOCK}
    cid = make(runtime, desk, kind="crosses", price="102", then=then)
    with pytest.raises(conditions.ConditionAccessError):
        conditions.cancel_condition(runtime, other, cid)
    with pytest.raises(conditions.ConditionAccessError):
        conditions.get_condition(runtime, other, cid)
    assert conditions.list_conditions(runtime, other, None) == []
    assert conditions.cancel_condition(runtime, desk["user"], cid).status == "canceled"
    assert {v.status for v in conditions.list_conditions(runtime, desk["user"], None)} == {"canceled"}
    assert conditions.list_conditions(runtime, desk["user"]) == []  # nothing open
    bars(runtime, desk["feed"], "103")
    assert check(runtime, desk, now=desk["feed"].now + 61 * MIN).fired == []


def test_a_condition_survives_a_restart(runtime: Runtime, desk: dict) -> None:
    cid = make(runtime, desk, kind="crosses", price="102")
    restarted = Runtime(runtime.settings, runtime.db, runtime.sessions, {"demo": desk["feed"]})
    bars(restarted, desk["feed"], "103")
    assert len(conditions.check_conditions(restarted, now=desk["feed"].now).fired) == 1
    assert conditions.get_condition(restarted, desk["user"], cid).status == "fired"
