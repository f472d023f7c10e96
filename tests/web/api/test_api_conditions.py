"""The REST API's conditional blocks: saved with the form's checks (422, a message per field,
nothing saved), a `then` chain returned in order, listed by status, canceled with its steps;
another user's condition answers 404 and stays as it was."""

from __future__ import annotations

from typing import Any

import pytest
from dash import Dash
from sqlalchemy import func, select

from db.models import BlockCondition
from engine.config import Settings
from engine.runtime import Runtime
from tests.helpers.api import api, condition_body, make_desk
from tests.helpers.dashboard import build_app


@pytest.fixture(scope="module")
def app(test_settings: Settings, runtime_session: Runtime) -> Dash:
    return build_app(test_settings)


@pytest.fixture
def desk(runtime: Runtime, app: Dash) -> dict[str, Any]:
    return make_desk(runtime, app)


def count(runtime: Runtime) -> int:
    with runtime.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(BlockCondition)) or 0)


def test_a_chain_is_saved_listed_and_canceled(app: Dash, desk: dict) -> None:
    client, token = app.server.test_client(), desk["trader_trade"]
    body = {**condition_body(desk["trader_account"]), "then": condition_body(desk["trader_account"])}
    saved = api(client, "POST", "/conditions", token, body)
    assert saved.status_code == 201, saved.get_json()
    first, step = saved.get_json()["conditions"]
    assert (first["status"], step["status"], step["parent_id"]) == ("waiting", "pending", first["id"])
    assert first["text"].startswith("at ")
    assert first["block_symbol"] == "BTC/USDT"
    listed = api(client, "GET", "/conditions", token).get_json()["conditions"]
    assert {c["id"] for c in listed} == {first["id"], step["id"]}
    canceled = api(client, "DELETE", f"/conditions/{first['id']}", token)
    assert canceled.get_json()["status"] == "canceled"
    assert api(client, "GET", "/conditions", token).get_json()["conditions"] == []
    done = api(client, "GET", "/conditions?status=done", token).get_json()["conditions"]
    assert {c["status"] for c in done} == {"canceled"}


def test_a_condition_whose_block_would_be_refused_is_refused_at_the_field(
    app: Dash, desk: dict, runtime: Runtime
) -> None:
    client, token = app.server.test_client(), desk["trader_trade"]
    before = count(runtime)
    body = condition_body(desk["trader_account"])
    bad = {**body, "block": {**body["block"], "stop_price": "31000"}, "at": "2020-01-01T00:00:00Z"}
    answer = api(client, "POST", "/conditions", token, bad)
    assert answer.status_code == 422
    assert set(answer.get_json()["fields"]) == {"block.stop_price", "at"}
    foreign = api(client, "POST", "/conditions", token, condition_body(desk["rival_account"]))
    assert foreign.status_code == 422
    assert foreign.get_json()["fields"] == {"account": "Choose one of your accounts."}
    assert count(runtime) == before


def test_another_users_condition_answers_404_and_stays(app: Dash, desk: dict) -> None:
    client = app.server.test_client()
    theirs = desk["rival_condition"]
    answer = api(client, "DELETE", f"/conditions/{theirs}", desk["trader_trade"])
    assert answer.status_code == 404
    assert answer.get_json() == {"error": "No such condition of yours.", "fields": {}}
    assert api(client, "GET", "/conditions", desk["trader_trade"]).get_json()["conditions"] == []
    rival = api(client, "GET", "/conditions", desk["rival_read"]).get_json()["conditions"]
    assert [(c["id"], c["status"]) for c in rival] == [(theirs, "waiting")]
