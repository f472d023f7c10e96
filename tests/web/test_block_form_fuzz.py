"""The trade-block form's callbacks under crafted input, through the real Flask test client and
/_dash-update-component: hypothesis draws form bodies (wrong choices, NaN, 1e58, ten-digit
timeouts, mismatched target lists, NUL in values, lists where numbers go). Whatever comes in: no
server error, a block placed only when the form was well formed and then exactly as intended, and
a refused form writes no block and places no order."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from dash import Dash
from flask.testing import FlaskClient
from hypothesis import HealthCheck, example, given, settings

from db.enums import Role
from db.models import Block
from engine.config import Settings
from engine.exchanges.demo import DemoExchange
from engine.market.markets import sync_markets
from engine.runtime import Runtime
from engine.users.accounts import open_paper_account
from tests.helpers.dashboard import app_runtime, body_of, build_app, login, make_user, watch_backfilled
from tests.helpers.raw_blocks import PLACEABLE, RawBlock, raw_blocks
from tests.helpers.trading import counts

# The form's component ids -> the parser's keys (pages/components/block_form.py FormValues).
_FORM_KEYS = {
    "bf-side": "side",
    "bf-entry-type": "entry_type",
    "bf-entry-price": "entry_price",
    "bf-stop-price": "stop_price",
    "bf-size-mode": "size_mode",
    "bf-size-value": "size_value",
    "bf-breakeven": "breakeven",
    "bf-timeout": "entry_timeout_min",
    "bf-duration": "max_duration_min",
}


@pytest.fixture(scope="module")
def app(test_settings: Settings, runtime_session: Runtime) -> Dash:
    return build_app(test_settings)


@pytest.fixture
def desk(runtime: Runtime, app: Dash) -> tuple[FlaskClient, dict[str, int]]:
    """A signed-in trader with a paper account, watching a backfilled SOL/USDT."""
    runtime.sources["demo"] = app_runtime(app).sources["demo"]
    sync_markets(runtime.sessions, DemoExchange(seed=7))
    user = make_user(runtime, "fuzzer", Role.TRADER)
    account = open_paper_account(runtime.sessions, user.id, "Paper", balance=Decimal("1000000")).id
    series = watch_backfilled(runtime, user.id, "SOL/USDT").id
    client = app.server.test_client()
    assert login(client, "fuzzer").status_code == 302
    return client, {"account": account, "series": series}


def _rows(component: str, values: list[Any]) -> list[dict]:
    return [{"id": {"type": component, "row": i}, "property": "value", "value": v} for i, v in enumerate(values)]


def crafted_body(app: Dash, output: str, case: RawBlock, ids: dict[str, int]) -> dict:
    """The callback request the browser would send, with the drawn raw values in the form's fields."""
    body = body_of(app, output)
    for group in ("inputs", "state"):
        args = []
        for arg in body[group]:
            if isinstance(arg, list):  # the target rows, one entry per row (lengths may differ: crafted)
                kind = arg[0]["id"]["type"] if arg else ""
                values = case.raw["target_prices"] if kind == "bf-target-price" else case.raw["target_shares"]
                args.append(_rows(kind, values) if kind in ("bf-target-price", "bf-target-share") else arg)
                continue
            arg = dict(arg)
            if arg["id"] in _FORM_KEYS:
                arg["value"] = case.raw[_FORM_KEYS[arg["id"]]]
            elif arg["id"] == "bf-account":
                arg["value"] = ids["account"]
            elif arg["id"] == "bf-series":  # the form's copy of the chart's series
                arg["value"] = {"series_id": ids["series"], "status": "done"}
            elif arg["id"] == "bf-submit":
                arg["value"] = 1
            args.append(arg)
        body[group] = args
    return body


def _latest_block(runtime: Runtime) -> Block | None:
    with runtime.sessions() as s:
        return s.query(Block).order_by(Block.id.desc()).first()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=raw_blocks(fuzz_symbol=False))
@example(case=PLACEABLE)  # every run places at least this block, and checks it is stored as intended
def test_crafted_form_bodies_never_fail_the_server_nor_place_a_coerced_block(
    app: Dash, desk: tuple[FlaskClient, dict[str, int]], case: RawBlock
) -> None:
    client, ids = desk
    runtime = app_runtime(app)
    assert case.raw["symbol"] == "SOL/USDT"  # the chart's series, read on the server
    preview = client.post("/_dash-update-component", json=crafted_body(app, "bf-preview.children", case, ids))
    assert preview.status_code == 200, preview.get_data(as_text=True)[:300]
    before = counts(runtime.sessions)
    placed = client.post("/_dash-update-component", json=crafted_body(app, "bf-message.children", case, ids))
    assert placed.status_code == 200, placed.get_data(as_text=True)[:300]
    message = str(placed.get_json()["response"]["bf-message"]["children"])
    assert "bf-placed" in message or case is not PLACEABLE, message
    if "bf-placed" not in message:
        assert counts(runtime.sessions) == before  # refused: no block, no trade, no order
        return
    assert not case.bad_fields, f"placed a block from a bad form: {case.bad_fields}"
    req, block = case.intended, _latest_block(runtime)
    assert req is not None
    assert block is not None
    assert (block.side, block.entry_type, block.size_mode, block.size_value, block.stop_price) == (
        req.side,
        req.entry_type,
        req.size_mode,
        req.size_value,
        req.stop_price,
    )
    assert (block.entry_timeout_s, block.max_duration_s, block.breakeven_after_first) == (
        req.entry_timeout_s,
        req.max_duration_s,
        req.breakeven_after_first_target,
    )
    assert counts(runtime.sessions)[1] == before[1] + len(req.targets)
