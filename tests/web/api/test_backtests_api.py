"""The REST API's backtests: a posted set of blocks plays in the background on stored candles and its
report has the engine's hand-checked numbers (money as exact strings); bad blocks and a run that
cannot start are refused (422, every problem named, no run written); another user's run answers
404; a read token may not post; a run is deleted with everything it traded."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest
from dash import Dash
from sqlalchemy import func, select

from db.models import ReplayRun
from engine.config import Settings
from engine.runtime import Runtime
from tests.helpers.api import api, make_desk
from tests.helpers.dashboard import build_app
from tests.helpers.replay import store_bars
from tests.helpers.trading import MIN, T0
from tests.replay.test_backtest import RISE

D = Decimal

# The RISE bars' block (tests/replay/test_backtest.py): a long limit at 100, stop 95, targets 105
# and 110 with half each, 1 SOL, submitted on the second bar.
BLOCK = {
    "time": T0 + MIN,
    "symbol": "SOL/USDT",
    "side": "long",
    "entry_type": "limit",
    "entry_price": "100",
    "stop_price": 95,
    "targets": [{"price": "105", "share": 50}, {"price": "110", "share": "50"}],
    "size_mode": "base",
    "size_value": "1",
}


@pytest.fixture(scope="module")
def app(test_settings: Settings, runtime_session: Runtime) -> Dash:
    return build_app(test_settings)


@pytest.fixture
def desk(runtime: Runtime, app: Dash) -> dict[str, Any]:
    desk = make_desk(runtime, app)
    store_bars(runtime, RISE)
    return desk


def runs(runtime: Runtime) -> int:
    with runtime.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(ReplayRun)) or 0)


def posted(app: Dash, token: str, **changes: Any) -> Any:
    body = {"exchange": "demo", "timeframe": "1m", "blocks": [BLOCK], **changes}
    return api(app.server.test_client(), "POST", "/backtests", token, body)


def finished(app: Dash, token: str, location: str) -> dict[str, Any]:
    """Poll the run's Location until it is no longer running (the run plays in a thread)."""
    client = app.server.test_client()
    deadline = time.monotonic() + 60
    while True:
        answer = client.get(location, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.get_json()
        body = answer.get_json()
        if body["backtest"]["status"] not in ("ready", "running") or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def test_a_posted_backtest_plays_in_the_background_and_reports_exact_money(app: Dash, desk: dict) -> None:
    token = desk["trader_trade"]
    answer = posted(app, token, name="API rise")
    assert answer.status_code == 202, answer.get_json()
    started = answer.get_json()
    assert answer.headers["Location"] == f"/api/v1/backtests/{started['id']}"
    assert (started["name"], started["symbols"], started["bars_total"]) == ("API rise", ["SOL/USDT"], 16)
    report = finished(app, token, answer.headers["Location"])
    run = report["backtest"]
    assert (run["status"], run["bars_done"], run["blocks"], run["trades_closed"]) == ("done", 16, 1, 2)
    assert isinstance(run["net_pnl"], str)  # exact decimal text, never a float
    assert D(run["net_pnl"]) == D("7.2925")
    # 0.5 bought at 100 and sold at 105 (fees 0.05 + 0.0525); 0.5 sold at 110 (fees 0.05 + 0.055).
    trades = [(D(t["entry_price"]), D(t["exit_price"]), D(t["net_pnl"]), t["close_reason"]) for t in report["trades"]]
    assert trades == [(100, 105, D("2.3975"), "target"), (100, 110, D("4.895"), "target")]
    assert [D(p["value"]) for p in report["equity"]] == [D("10000"), D("10002.3975"), D("10007.2925")]
    assert (D(report["win_rate"]), report["profit_factor"], D(report["max_drawdown_pct"])) == (100, None, 0)
    listed = api(app.server.test_client(), "GET", "/backtests", desk["trader_read"]).get_json()["backtests"]
    assert [(r["id"], r["status"]) for r in listed] == [(started["id"], "done")]


def test_a_block_the_engine_refuses_when_placed_is_named_and_the_rest_run(app: Dash, desk: dict) -> None:
    stop_above = {**BLOCK, "stop_price": "101"}  # readable, but a long's stop above its entry
    answer = posted(app, desk["trader_trade"], blocks=[BLOCK, stop_above])
    assert answer.status_code == 202, answer.get_json()
    run = finished(app, desk["trader_trade"], answer.headers["Location"])["backtest"]
    assert (run["status"], run["blocks"], run["trades_closed"]) == ("done", 1, 2)
    assert run["error"].startswith("line 1: ")  # blocks[1]


def test_bad_blocks_are_refused_by_index_and_field_and_nothing_is_run(app: Dash, desk: dict, runtime: Runtime) -> None:
    before = runs(runtime)
    no_size = {**BLOCK, "size_value": "lots"}
    no_time = {**BLOCK, "time": "someday", "targets": [{"price": "105", "share": "150"}]}
    answer = posted(app, desk["trader_trade"], blocks=[BLOCK, no_size, no_time])
    assert answer.status_code == 422, answer.get_json()
    named = {(e["index"], e["field"]) for e in answer.get_json()["errors"]}
    assert named == {(1, "size_value"), (2, "time"), (2, "targets[0].share")}
    assert set(answer.get_json()["fields"]) == {"blocks[1].size_value", "blocks[2].time", "blocks[2].targets[0].share"}
    assert runs(runtime) == before


def test_a_run_that_cannot_start_is_refused_before_anything_is_written(app: Dash, desk: dict, runtime: Runtime) -> None:
    before = runs(runtime)
    unstored = posted(app, desk["trader_trade"], blocks=[{**BLOCK, "symbol": "BTC/USDT"}])
    assert unstored.status_code == 422, unstored.get_json()
    assert [(e["index"], e["field"]) for e in unstored.get_json()["errors"]] == [(None, "period")]
    late = posted(app, desk["trader_trade"], start=T0 + 100 * MIN)  # after the last stored bar
    assert late.status_code == 422
    assert runs(runtime) == before


def test_another_users_backtest_answers_404_and_stays(app: Dash, desk: dict) -> None:
    iso = {**BLOCK, "time": "2024-06-01T00:01:00"}  # T0 + MIN as ISO text (no offset: UTC)
    theirs = posted(app, desk["rival_trade"], blocks=[iso], start="2024-06-01T00:00:00Z")
    assert theirs.status_code == 202
    location = theirs.headers["Location"]
    assert finished(app, desk["rival_trade"], location)["backtest"]["trades_closed"] == 2
    client = app.server.test_client()
    run_id = theirs.get_json()["id"]
    for method in ("GET", "DELETE"):
        answer = api(client, method, f"/backtests/{run_id}", desk["trader_trade"])
        assert answer.status_code == 404
        assert answer.get_json() == {"error": "No such backtest of yours.", "fields": {}}
    assert api(client, "GET", "/backtests", desk["trader_trade"]).get_json()["backtests"] == []
    assert api(client, "GET", f"/backtests/{run_id}", desk["rival_read"]).status_code == 200


def test_a_read_token_may_not_post_and_a_trade_token_deletes(app: Dash, desk: dict, runtime: Runtime) -> None:
    before = runs(runtime)
    refused = posted(app, desk["trader_read"])
    assert refused.status_code == 403
    assert runs(runtime) == before
    answer = posted(app, desk["trader_trade"])
    run_id = answer.get_json()["id"]
    client = app.server.test_client()
    assert api(client, "DELETE", f"/backtests/{run_id}", desk["trader_read"]).status_code == 403
    assert api(client, "DELETE", f"/backtests/{run_id}", desk["trader_trade"]).status_code == 204  # stops it first
    assert api(client, "GET", f"/backtests/{run_id}", desk["trader_trade"]).status_code == 404
    assert runs(runtime) == before
