"""Authorization of the chart's bar replay at the HTTP level: analysts are refused (403) every
replay callback, and a trader's crafted requests naming another trader's run can neither step it,
end it, draw it nor place a block on its account."""

from __future__ import annotations

import pytest
from dash import Dash

from db.enums import Role
from engine.blocks.api import list_blocks
from engine.config import Settings
from engine.market import api as market
from engine.replay import api as replay
from engine.replay.api import RunAccessError, RunStatus
from engine.runtime import Runtime
from tests.helpers.dashboard import (
    MIN,
    app_runtime,
    body_of,
    build_app,
    callback_bodies,
    make_user,
    post,
    signed_in,
    watch_backfilled,
)

# Outputs of the replay's callbacks (pages/components/chart_replay_callbacks.py): traders and admins only.
REPLAY_TRADER_OUTPUTS = ("replay-bar.is_open", "chart-replay.data", "replay-timer.interval", "replay-clock.children")


@pytest.fixture(scope="module")
def app(test_settings: Settings, runtime_session: Runtime) -> Dash:
    return build_app(test_settings)


@pytest.fixture
def desk(runtime: Runtime, app: Dash) -> dict[str, int]:
    """Two traders watching a backfilled BTC/USDT, and an analyst."""
    runtime.reset_trading()
    runtime.sources["demo"] = app_runtime(app).sources["demo"]
    ids = {name: make_user(runtime, name, role).id for name, role in (
        ("trader", Role.TRADER), ("rival", Role.TRADER), ("analyst", Role.ANALYST))}  # fmt: skip
    ids["series"] = watch_backfilled(runtime, ids["trader"]).id
    watch_backfilled(runtime, ids["rival"])
    return ids


def is_replay_callback(key: str) -> bool:
    return any(name in key for name in REPLAY_TRADER_OUTPUTS)


def test_analysts_are_refused_every_replay_callback_and_traders_may_call_them(app: Dash, desk: dict) -> None:
    analyst, trader = signed_in(app, "analyst"), signed_in(app, "trader")
    seen = set()
    for key, body in callback_bodies(app):
        if not is_replay_callback(key):
            continue
        seen.update(name for name in REPLAY_TRADER_OUTPUTS if name in key)
        assert analyst.post("/_dash-update-component", json=body).status_code == 403, key
        response = trader.post("/_dash-update-component", json=body)
        assert response.status_code in (200, 204), (key, response.get_data(as_text=True)[:300])
    assert seen == set(REPLAY_TRADER_OUTPUTS)


def _with(body: dict, values: dict) -> dict:
    """`body` with these component ids' values (inputs and state) and the first input as changed."""
    for arg in body["inputs"] + body["state"]:
        if isinstance(arg, dict) and arg["id"] in values:
            arg["value"] = values[arg["id"]]
    return body


def test_a_trader_cannot_step_end_or_trade_on_another_traders_replay(app: Dash, desk: dict) -> None:
    runtime = app_runtime(app)
    stored = market.stored_window(runtime, desk["rival"], desk["series"])
    assert stored is not None
    start_ms = stored.end_ms - 60 * MIN
    theirs = replay.start_replay(runtime, desk["rival"], "demo", "BTC/USDT", "1m", start_ms)
    store = {"run_id": theirs.id}
    trader = signed_in(app, "trader")
    view = {"series_id": desk["series"], "exchange": "demo", "symbol": "BTC/USDT", "level": "1m", "count": 1,
            "last_ts": start_ms - MIN, "first_ts": start_ms - MIN, "timeframe": "1m"}  # fmt: skip

    stepped = post(trader, _with(body_of(app, "replay-timer.disabled@"), {"replay-step": 1, "chart-replay": store,
                                                                            "chart-view": view}))  # fmt: skip
    assert "chart-graph" not in stepped  # no candle of their replay
    assert stepped["replay-clock"]["children"] == ""
    ended = post(trader, _with(body_of(app, "chart-replay.data@"), {"replay-exit": 1, "chart-replay": store}))
    assert ended["chart-replay"]["data"] is None  # the trader's page leaves it, their run goes on
    assert replay.get_run(runtime, desk["rival"], theirs.id).status is not RunStatus.DONE
    assert replay.get_run(runtime, desk["rival"], theirs.id).cursor_ms == start_ms

    body = body_of(app, "bf-message.children")
    for arg in body["inputs"] + body["state"]:
        if isinstance(arg, dict) and arg["id"] == "chart-replay":
            arg["value"] = store
        elif isinstance(arg, dict) and arg["id"] == "bf-series":
            arg["value"] = {"series_id": desk["series"], "status": "done"}
        elif isinstance(arg, dict) and arg["id"] == "bf-submit":
            arg["value"] = 1
    placed = post(trader, body)
    assert "This replay is not running" in str(placed["bf-message"]["children"])
    assert list_blocks(runtime, desk["rival"]) == []
    with pytest.raises(RunAccessError):
        replay.get_run(runtime, desk["trader"], theirs.id)
