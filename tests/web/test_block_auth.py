"""Authorization of the trade-block form and the blocks page at the HTTP level: analysts are refused
(403) every trader-only callback, and a trader's crafted callback requests cannot preview, place,
read, amend or cancel with another trader's account, block or conditional block."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from dash import Dash
from flask.testing import FlaskClient
from sqlalchemy import func, select

from db.enums import BlockStatus, EntryType, Role, Side, SizeMode
from db.models import Block, Trade
from engine.blocks.commands import submit_block
from engine.blocks.plan import BlockRequest, TargetSpec
from engine.conditions import api as conditions
from engine.config import Settings
from engine.exchanges.demo import DemoExchange
from engine.market.markets import sync_markets
from engine.runtime import Runtime
from engine.users.accounts import open_paper_account
from tests.helpers.api import LIMIT_BLOCK
from tests.helpers.dashboard import (
    app_runtime,
    body_of,
    build_app,
    callback_bodies,
    make_user,
    post,
    route,
    signed_in,
    watch_backfilled,
)

# Outputs of the callbacks only traders and admins may call (a name in the callback's output key).
BLOCK_TRADER_OUTPUTS = (
    "bf-rows.data",
    "bf-derivatives.style",
    "bf-add-target.disabled",
    "bf-side.options",
    "bf-targets.children",
    "bf-preview.children",
    "bf-entry-price.value",
    "bf-message.children",
    "blocks-grid.rowData",
    "cancel-modal.is_open",
    "amend-modal.is_open",
    "amend-body.children",
    "conditions-table.children",
    "cf-modal.is_open",
    "bf-atr-text.children",  # the form's ATR stop suggestion (pages/components/block_form_atr_callbacks.py)
    "chart-cond-items.data",
    # Managing a placed block from the chart (pages/components/chart_blocks_callbacks.py).
    "cb-message.children",
    "cb-block.options",
)


@pytest.fixture(scope="module")
def app(test_settings: Settings, runtime_session: Runtime) -> Dash:
    return build_app(test_settings)


@pytest.fixture
def desk(runtime: Runtime, app: Dash) -> dict[str, int]:
    """Two traders with a paper account each and a backfilled BTC/USDT; the second has a block."""
    runtime.sources["demo"] = app_runtime(app).sources["demo"]
    sync_markets(runtime.sessions, DemoExchange(seed=7))
    ids: dict[str, int] = {}
    for name, role in (("trader", Role.TRADER), ("rival", Role.TRADER), ("analyst", Role.ANALYST)):
        user = make_user(runtime, name, role)
        ids[name] = user.id
        ids[f"{name}_account"] = open_paper_account(runtime.sessions, user.id, "Paper").id
    ids["series"] = watch_backfilled(runtime, ids["trader"]).id
    watch_backfilled(runtime, ids["rival"])
    req = BlockRequest(
        "BTC/USDT", Side.LONG, EntryType.LIMIT, Decimal("30000"), Decimal("29000"),
        (TargetSpec(Decimal("31000")),), SizeMode.BASE, Decimal("0.01"),
    )  # fmt: skip
    ids["rival_block"] = submit_block(runtime, ids["rival"], ids["rival_account"], req)
    return ids


def is_trader_callback(key: str) -> bool:
    return any(name in key for name in BLOCK_TRADER_OUTPUTS)


def block_count(runtime: Runtime) -> int:
    with runtime.sessions() as s:
        return s.scalar(select(func.count()).select_from(Block)) or 0


def test_analysts_are_refused_every_trader_callback_and_traders_may_call_them(app: Dash, desk: dict) -> None:
    analyst, trader = signed_in(app, "analyst"), signed_in(app, "trader")
    seen = set()
    for key, body in callback_bodies(app):
        if not is_trader_callback(key):
            continue
        seen.update(name for name in BLOCK_TRADER_OUTPUTS if name in key)
        assert analyst.post("/_dash-update-component", json=body).status_code == 403, key
        response = trader.post("/_dash-update-component", json=body)
        assert response.status_code in (200, 204), (key, response.get_data(as_text=True)[:300])
    assert seen == set(BLOCK_TRADER_OUTPUTS)  # the list names callbacks that exist
    # The blocks page declares traders' and admins' roles: refused by URL and by the router.
    assert analyst.get("/blocks").status_code == 403
    assert route(analyst, "/blocks").status_code == 403
    assert "block-form" not in routed(analyst, "/")
    assert "block-form" in routed(trader, "/")


def routed(client: FlaskClient, path: str) -> str:
    """The layout the pages router renders for `path`."""
    response = route(client, path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_trader_cannot_cancel_another_traders_block(app: Dash, desk: dict) -> None:
    body = body_of(app, "cancel-modal.is_open")
    for arg in body["inputs"]:
        arg["value"] = 1 if arg["id"] == "cancel-close" else 0
    body["changedPropIds"] = ["cancel-close.n_clicks"]
    body["state"][0]["value"] = [{"block_id": desk["rival_block"], "row_id": "x"}]
    answer = post(signed_in(app, "trader"), body)
    assert "is not one of yours" in str(answer["blocks-message"]["children"])
    runtime = app_runtime(app)
    with runtime.sessions() as s:
        assert s.get(Block, desk["rival_block"]).status is BlockStatus.PENDING
    # Its owner may.
    answer = post(signed_in(app, "rival"), body)
    assert "canceled" in str(answer["blocks-message"]["children"])


def test_a_trader_cannot_amend_another_traders_block(app: Dash, desk: dict) -> None:
    body = body_of(app, "amend-body.children@")  # the apply callback (the open one has no duplicate)
    for arg in body["inputs"]:
        arg["value"] = 1 if arg["id"] == "amend-apply" else 0
    body["changedPropIds"] = ["amend-apply.n_clicks"]
    values = {"amend-block": desk["rival_block"], "amend-stop": "28000"}
    for arg in body["state"]:
        if isinstance(arg, dict) and arg.get("id") in values:
            arg["value"] = values[arg["id"]]
    answer = post(signed_in(app, "trader"), body)
    assert "is not one of yours" in str(answer["blocks-message"]["children"])
    runtime = app_runtime(app)
    with runtime.sessions() as s:
        assert s.get(Block, desk["rival_block"]).stop_price == 29000
    answer = post(signed_in(app, "rival"), body)  # its owner may
    assert "amended" in str(answer["blocks-message"]["children"])
    with runtime.sessions() as s:
        assert s.get(Block, desk["rival_block"]).stop_price == 28000


def test_a_trader_cannot_drag_or_resize_another_traders_block_on_the_chart(app: Dash, desk: dict) -> None:
    """The chart's drag of a target line and its panel's resize, crafted with the rival's block id."""
    block = desk["rival_block"]
    drag = body_of(app, "cb-dragged.data")
    drag["inputs"][0]["value"] = {"shapes[0].y0": 31500.004, "shapes[0].y1": 31500.004}
    drag["state"][0]["value"] = {"key": "x", "names": [f"tb-block-{block}-target-0"]}
    drag["state"][1]["value"] = {"tick": "0.01"}
    resize = body_of(app, "cb-add-price.invalid")
    for arg in resize["inputs"]:
        arg["value"] = 1 if arg["id"] == "cb-size-apply" else 0
    resize["changedPropIds"] = ["cb-size-apply.n_clicks"]
    values = {"cb-block": block, "cb-size": "0.02"}
    for arg in resize["state"]:
        arg["value"] = values.get(arg["id"], arg["value"])
    runtime = app_runtime(app)
    for body in (drag, resize):
        answer = post(signed_in(app, "trader"), body)
        assert "is not one of yours" in str(answer["cb-message"]["children"])

    def trade() -> tuple[Decimal, Decimal]:
        with runtime.sessions() as s:
            row = s.scalars(select(Trade).where(Trade.block_id == block)).one()
            return row.amount, row.target_price

    assert trade() == (Decimal("0.01"), Decimal("31000"))
    # Its owner may: the target moves to the nearest tick, the unfilled size doubles.
    assert "T1 moved to 31,500.00" in str(post(signed_in(app, "rival"), drag)["cb-message"]["children"])
    assert "unfilled size set to 0.02" in str(post(signed_in(app, "rival"), resize)["cb-message"]["children"])
    assert trade() == (Decimal("0.02"), Decimal("31500"))


def test_a_trader_reads_only_their_own_blocks(app: Dash, desk: dict) -> None:
    body = body_of(app, "blocks-grid.rowData")
    body["inputs"][1]["value"] = "all"
    assert post(signed_in(app, "trader"), body)["blocks-grid"]["rowData"] == []
    rows = post(signed_in(app, "rival"), body)["blocks-grid"]["rowData"]
    assert {r["block_id"] for r in rows} == {desk["rival_block"]}


def form_body(app: Dash, output: str, desk: dict, account: int) -> dict:
    body = body_of(app, output)
    values = {
        "bf-account": account,
        "bf-side": "long",
        "bf-entry-type": "limit",
        "bf-entry-price": 30000,
        "bf-stop-price": 29000,
        "bf-size-mode": "base",
        "bf-size-value": 0.01,
    }
    for arg in body["inputs"] + body["state"]:
        if isinstance(arg, list):  # the target rows
            if arg and arg[0]["id"]["type"] == "bf-target-price":
                arg[0]["value"] = 31000
            elif arg:
                arg[0]["value"] = None
        elif arg["id"] in values:
            arg["value"] = values[arg["id"]]
        elif arg["id"] == "bf-series":  # the form's copy of the chart's series
            arg["value"] = {"series_id": desk["series"], "status": "done"}
        elif arg["id"] == "bf-submit":
            arg["value"] = 1
    return body


def test_a_trader_cannot_preview_or_place_a_block_with_another_traders_account(app: Dash, desk: dict) -> None:
    runtime, trader = app_runtime(app), signed_in(app, "trader")
    before = block_count(runtime)
    stolen = post(trader, form_body(app, "bf-message.children", desk, desk["rival_account"]))
    assert "Choose one of your accounts." in str(stolen["bf-message"]["children"])
    assert block_count(runtime) == before
    preview = post(trader, form_body(app, "bf-preview.children", desk, desk["rival_account"]))
    assert "Choose one of your accounts." in str(preview["bf-preview"]["children"])
    # The same requests with the trader's own account work.
    shown = post(trader, form_body(app, "bf-preview.children", desk, desk["trader_account"]))
    assert "0.01 BTC" in str(shown["bf-preview"]["children"])
    placed = post(trader, form_body(app, "bf-message.children", desk, desk["trader_account"]))
    assert "placed" in str(placed["bf-message"]["children"])
    assert block_count(runtime) == before + 1


def test_a_trader_cannot_cancel_another_traders_condition(app: Dash, desk: dict) -> None:
    runtime = app_runtime(app)
    at = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    raw = {"kind": "at_time", "account_id": desk["rival_account"], "at": at, "block": LIMIT_BLOCK}
    theirs = conditions.create_condition(runtime, desk["rival"], raw)
    body = next(b for key, b in callback_bodies(app) if "conditions-message.children" in key)
    ident = {"id": theirs, "type": "condition-cancel"}
    body["inputs"][0] = [{"id": ident, "property": "n_clicks", "value": 1}]
    body["changedPropIds"] = [json.dumps(ident, separators=(",", ":"), sort_keys=True) + ".n_clicks"]
    answer = post(signed_in(app, "trader"), body)
    assert "is not one of yours" in str(answer["conditions-message"]["children"])
    assert "condition-row" not in str(answer["conditions-table"]["children"])  # nothing of theirs is shown
    assert conditions.get_condition(runtime, desk["rival"], theirs).status == "waiting"
    answer = post(signed_in(app, "rival"), body)  # its owner may
    assert "canceled" in str(answer["conditions-message"]["children"])


def test_a_trader_cannot_cancel_another_traders_condition_from_the_chart(app: Dash, desk: dict) -> None:
    runtime = app_runtime(app)
    at = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    raw = {"kind": "at_time", "account_id": desk["rival_account"], "at": at, "block": LIMIT_BLOCK}
    theirs = conditions.create_condition(runtime, desk["rival"], raw)
    body = body_of(app, "chart-cond-message.children")
    ident = {"id": theirs, "type": "chart-cond-cancel"}
    body["inputs"][0] = [{"id": ident, "property": "n_clicks", "value": 1}]
    body["state"][0]["value"] = {"series_id": desk["series"]}
    body["changedPropIds"] = [json.dumps(ident, separators=(",", ":"), sort_keys=True) + ".n_clicks"]
    answer = post(signed_in(app, "trader"), body)
    assert "is not one of yours" in str(answer["chart-cond-message"]["children"])
    assert answer["chart-cond-items"]["data"]["conditions"] == []  # nothing of theirs is shown
    assert conditions.get_condition(runtime, desk["rival"], theirs).status == "waiting"
