"""Authorization of every REST API endpoint: anonymous, malformed and revoked tokens get 401; a read
token cannot create, amend or cancel (403); an analyst is refused the traders' endpoints (403); another
user's block, account or series answers 404 and changes nothing; the browser session never
authorizes a call and a token never opens a page; cross-site checks leave Bearer calls alone and
still refuse cross-site callbacks."""

from __future__ import annotations

from typing import Any

import pytest
from dash import Dash
from sqlalchemy import func, select

from db.enums import BlockStatus, Role
from db.models import Block
from engine.alerts.api import create_alert
from engine.config import Settings
from engine.runtime import Runtime
from engine.users.directory import set_active
from tests.helpers.api import LIMIT_BLOCK, alert_body, api, backtest_body, backtest_of, condition_body, make_desk
from tests.helpers.dashboard import build_app, login

# (method, path, body, scope, who may): every operation of the API. Paths name the caller's own ids.
ENDPOINTS: list[tuple[str, str, Any, str, tuple[Role, ...]]] = [
    ("GET", "/me", None, "read", (Role.TRADER, Role.ANALYST)),
    ("GET", "/blocks", None, "read", (Role.TRADER,)),
    ("GET", "/blocks/{block}", None, "read", (Role.TRADER,)),
    ("POST", "/blocks/preview", "block", "read", (Role.TRADER,)),
    ("POST", "/blocks", "block", "trade", (Role.TRADER,)),
    ("POST", "/blocks/{block}/cancel", {"close_positions": False}, "trade", (Role.TRADER,)),
    ("PATCH", "/blocks/{block}", {"stop_price": "28500"}, "trade", (Role.TRADER,)),
    ("GET", "/accounts", None, "read", (Role.TRADER,)),
    ("GET", "/positions", None, "read", (Role.TRADER, Role.ANALYST)),
    ("GET", "/series", None, "read", (Role.TRADER, Role.ANALYST)),
    ("GET", "/series/{series}/candles", None, "read", (Role.TRADER, Role.ANALYST)),
    ("GET", "/calendar", None, "read", (Role.TRADER, Role.ANALYST)),
    ("GET", "/stats", None, "read", (Role.TRADER, Role.ANALYST)),
    ("GET", "/conditions", None, "read", (Role.TRADER,)),
    ("POST", "/conditions", "condition", "trade", (Role.TRADER,)),
    ("DELETE", "/conditions/{condition}", None, "trade", (Role.TRADER,)),
    ("GET", "/backtests", None, "read", (Role.TRADER,)),
    ("POST", "/backtests", "backtest", "trade", (Role.TRADER,)),
    ("GET", "/backtests/{backtest}", None, "read", (Role.TRADER,)),
    ("DELETE", "/backtests/{backtest}", None, "trade", (Role.TRADER,)),
    ("GET", "/alerts", None, "read", (Role.TRADER, Role.ANALYST)),
    ("POST", "/alerts", "alert", "trade", (Role.TRADER,)),
    ("DELETE", "/alerts/{alert}", None, "trade", (Role.TRADER,)),
]


@pytest.fixture(scope="module")
def app(test_settings: Settings, runtime_session: Runtime) -> Dash:
    return build_app(test_settings)


@pytest.fixture
def desk(runtime: Runtime, app: Dash) -> dict[str, Any]:
    desk = make_desk(runtime, app)
    desk["rival_backtest"] = backtest_of(runtime, desk["rival"])
    desk["backtest_body"] = backtest_body(runtime)
    desk["rival_alert"] = create_alert(runtime, desk["rival"], alert_body(desk["rival_series"])).id
    return desk


def own(path: str, body: Any, desk: dict[str, Any], user: str) -> tuple[str, Any]:
    """The endpoint with `user`'s own ids (the rival's block for the rival, etc.)."""
    block = desk["rival_block"] if user == "rival" else 999_999
    condition = desk["rival_condition"] if user == "rival" else 999_999
    backtest = desk["rival_backtest"] if user == "rival" else 999_999
    alert = desk["rival_alert"] if user == "rival" else 999_999
    series = desk[f"{user}_series"]
    path = path.format(block=block, series=series, condition=condition, backtest=backtest, alert=alert)
    if body == "block":
        body = {**LIMIT_BLOCK, "account_id": desk[f"{user}_account"]}
    if body == "condition":
        body = condition_body(desk[f"{user}_account"])
    if body == "backtest":
        body = desk["backtest_body"]
    if body == "alert":
        body = alert_body(series)
    return path, body


def blocks_count(runtime: Runtime) -> int:
    with runtime.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Block)) or 0)


def test_the_endpoint_list_is_the_whole_api(app: Dash) -> None:
    document = app.server.test_client().get("/api/docs/openapi.json").get_json()
    documented = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    listed = {(m, "/api/v1" + p) for m, p, *_ in ENDPOINTS}
    as_documented = {
        (
            m,
            p.replace("{block}", "{block_id}")
            .replace("{series}", "{series_id}")
            .replace("{condition}", "{condition_id}")
            .replace("{backtest}", "{run_id}")
            .replace("{alert}", "{alert_id}"),
        )
        for m, p in listed
    }
    assert documented == as_documented


@pytest.mark.parametrize(("method", "path", "body", "scope", "roles"), ENDPOINTS)
def test_anonymous_bad_and_revoked_tokens_are_refused(
    app: Dash, desk: dict, runtime: Runtime, method: str, path: str, body: Any, scope: str, roles: tuple
) -> None:
    client = app.server.test_client()
    path, body = own(path, body, desk, "rival")
    before = blocks_count(runtime)
    for token in (None, "tb_nothing_here", desk["rival_trade"] + "x", desk["revoked"]):
        response = api(client, method, path, token, body)
        assert response.status_code == 401, (path, token)
        assert response.get_json()["error"]
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    basic = api(client, method, path, None, body, headers={"Authorization": "Basic dHJhZGVyOng="})
    assert basic.status_code == 401
    assert blocks_count(runtime) == before


@pytest.mark.parametrize(("method", "path", "body", "scope", "roles"), ENDPOINTS)
def test_scope_and_role_are_checked(
    app: Dash, desk: dict, runtime: Runtime, method: str, path: str, body: Any, scope: str, roles: tuple
) -> None:
    client = app.server.test_client()
    rival_path, rival_body = own(path, body, desk, "rival")
    read = api(client, method, rival_path, desk["rival_read"], rival_body)
    if scope == "trade":
        assert read.status_code == 403
        assert "only read" in read.get_json()["error"]
    else:
        assert read.status_code == 200, read.get_json()
    trade = api(client, method, rival_path, desk["rival_trade"], rival_body)
    assert trade.status_code in (200, 201, 202, 204), trade.get_json()
    analyst_path, analyst_body = own(path, body, desk, "analyst")
    analyst = api(client, method, analyst_path, desk["analyst_read"], analyst_body)
    assert analyst.status_code == (200 if Role.ANALYST in roles else 403), analyst.get_json()


def test_a_disabled_users_tokens_stop_working(app: Dash, desk: dict, runtime: Runtime) -> None:
    client = app.server.test_client()
    assert api(client, "GET", "/me", desk["trader_read"]).status_code == 200
    set_active(runtime, desk["rival"], desk["trader"], False)
    assert api(client, "GET", "/me", desk["trader_read"]).status_code == 401


def test_another_users_ids_answer_404_and_change_nothing(app: Dash, desk: dict, runtime: Runtime) -> None:
    client = app.server.test_client()
    token, block = desk["trader_trade"], desk["rival_block"]
    assert api(client, "GET", f"/blocks/{block}", token).status_code == 404
    cancel = api(client, "POST", f"/blocks/{block}/cancel", token, {"close_positions": True})
    assert cancel.status_code == 404
    assert cancel.get_json() == {"error": "No such block of yours.", "fields": {}}
    amend = api(client, "PATCH", f"/blocks/{block}", token, {"stop_price": "28000"})
    assert (amend.status_code, amend.get_json()["error"]) == (404, "No such block of yours.")
    with runtime.sessions() as s:
        assert s.get(Block, block).status is BlockStatus.PENDING
        assert s.get(Block, block).stop_price == 29000
    foreign = {**LIMIT_BLOCK, "account_id": desk["rival_account"]}
    before = blocks_count(runtime)
    assert api(client, "POST", "/blocks", token, foreign).status_code == 404
    assert api(client, "POST", "/blocks/preview", token, foreign).status_code == 404
    assert blocks_count(runtime) == before
    assert api(client, "GET", f"/series/{desk['rival_series'] + 100}/candles", token).status_code == 404
    listed = api(client, "GET", "/blocks", token).get_json()["blocks"]
    assert block not in [b["id"] for b in listed]
    accounts = api(client, "GET", "/accounts", token).get_json()["accounts"]
    assert [a["id"] for a in accounts] == [desk["trader_account"]]


def test_the_browser_session_never_authorizes_the_api(app: Dash, desk: dict) -> None:
    client = app.server.test_client()
    assert login(client, "trader").status_code == 302
    assert client.get("/api/v1/me").status_code == 401
    assert client.post("/api/v1/blocks", json={**LIMIT_BLOCK, "account_id": desk["trader_account"]}).status_code == 401


def test_a_token_never_opens_a_page(app: Dash, desk: dict) -> None:
    client = app.server.test_client()
    headers = {"Authorization": f"Bearer {desk['trader_trade']}"}
    page = client.get("/blocks", headers=headers)
    assert (page.status_code, page.headers["Location"]) == (302, "/login?next=/blocks")
    assert client.post("/_dash-update-component", json={"output": "x.y"}, headers=headers).status_code == 401


def test_cross_site_checks_spare_bearer_calls_and_still_guard_the_pages(app: Dash, desk: dict) -> None:
    client = app.server.test_client()
    evil = {"Origin": "https://evil.example"}
    body = {**LIMIT_BLOCK, "account_id": desk["trader_account"]}
    placed = api(client, "POST", "/blocks", desk["trader_trade"], body, headers=evil)
    assert placed.status_code == 201, placed.get_json()
    assert login(client, "trader").status_code == 302
    assert client.post("/_dash-update-component", json={"output": "x.y"}, headers=evil).status_code == 403


def test_an_unknown_api_path_is_a_json_404_not_a_page(app: Dash) -> None:
    client = app.server.test_client()
    for path in ("/api/v1/blocks/-3", "/api/v1/nothing", "/api/v2/me", "/api/v1/alerts/%C2%AC%0Am"):
        response = client.get(path)
        assert (response.status_code, response.mimetype) == (404, "application/json"), path
        assert response.get_json()["error"].startswith("No such API path")


def test_api_calls_open_no_session_and_the_docs_need_no_sign_in(app: Dash, desk: dict) -> None:
    client = app.server.test_client()
    answer = api(client, "GET", "/accounts", desk["trader_read"])
    assert answer.status_code == 200
    assert "Set-Cookie" not in answer.headers
    assert client.get("/api/docs").status_code == 200
    assert client.get("/api/docs/openapi.json").get_json()["info"]["title"] == "Tradeblock API"
    assert client.get("/api/docs/swagger_bundle.js").status_code == 200
    assert client.get("/api/docs/../../app.py").status_code == 404
