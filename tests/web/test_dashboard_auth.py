"""Authorization of the dashboard at the HTTP level: every route and every registered callback is
refused to anonymous requests, admin callbacks to non-admins, and one user's series to another;
the login form's CSRF token, rate limit, logout, `next` redirect and cookie flags."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from dash import Dash
from flask.testing import FlaskClient

from app import create_app, secure_cookies_setting
from db.enums import Role
from engine.config import Settings
from engine.market import chart as charts
from engine.runtime import Runtime
from engine.users.directory import load_user, set_active, set_role
from engine.users.passwords import UserError
from pages.components.figures import FIRST_LOAD_CANDLES
from tests.helpers.dashboard import (
    PASSWORD,
    app_runtime,
    build_app,
    call,
    callback_bodies,
    csrf_from,
    login,
    make_user,
    watch_backfilled,
)
from tests.web.test_alerts_auth import ALERT_TRADER_OUTPUTS
from tests.web.test_background_auth import BACKTEST_TRADER_OUTPUTS
from tests.web.test_block_auth import BLOCK_TRADER_OUTPUTS
from tests.web.test_data_auth import DATA_TRADER_OUTPUTS
from tests.web.test_journal_auth import JOURNAL_TRADER_OUTPUTS
from tests.web.test_replay_auth import REPLAY_TRADER_OUTPUTS

# The P&L overview's callbacks (pages/admin_calendar.py).
CALENDAR_ADMIN_OUTPUTS = (
    "adm-cal-anchor",
    "adm-cal-overview",
    "adm-cal-body",
    "adm-cal-day-detail",
    "adm-cal-download",
)
# The desk overview's callback (pages/admin_overview.py).
OVERVIEW_ADMIN_OUTPUTS = ("ov-summary",)
ADMIN_OUTPUTS = ("users-table", "admin-message", *CALENDAR_ADMIN_OUTPUTS, *OVERVIEW_ADMIN_OUTPUTS)
# Traders' and admins' only: the settings page's account callbacks (tests/test_settings_auth.py),
# the trade-block form and the blocks page (tests/test_block_auth.py), the journal (tests/test_journal_auth.py).
# The settings page's TradingView webhook card (pages/components/webhooks.py).
WEBHOOK_TRADER_OUTPUTS = ("webhook-url", "webhook-secret", "webhook-save-message")
TRADER_OUTPUTS = (
    "accounts-table", "accounts-message", *BLOCK_TRADER_OUTPUTS, *JOURNAL_TRADER_OUTPUTS, *DATA_TRADER_OUTPUTS,
    *WEBHOOK_TRADER_OUTPUTS, *BACKTEST_TRADER_OUTPUTS, *REPLAY_TRADER_OUTPUTS, *ALERT_TRADER_OUTPUTS,
)  # fmt: skip


@pytest.fixture(scope="module")
def app(test_settings: Settings, runtime_session: Runtime) -> Dash:
    return build_app(test_settings)


@pytest.fixture
def users(runtime: Runtime, app: Dash) -> dict[str, int]:
    """A fresh database with one user per role."""
    made = {name: make_user(runtime, name, Role(name)) for name in ("admin", "trader", "analyst")}
    return {name: view.id for name, view in made.items()}


@pytest.fixture
def client(app: Dash) -> Iterator[FlaskClient]:
    with app.server.test_client() as test_client:
        yield test_client


def signed_in(app: Dash, username: str) -> FlaskClient:
    client = app.server.test_client()
    assert login(client, username).status_code == 302
    return client


def is_admin_callback(key: str) -> bool:
    return any(name in key for name in ADMIN_OUTPUTS)


def test_every_callback_refuses_anonymous_requests(app: Dash, client: FlaskClient, users: dict) -> None:
    bodies = list(callback_bodies(app))
    assert len(bodies) >= 9  # chart, watchlist, admin and theme callbacks, and the pages router
    for key, body in bodies:
        response = client.post("/_dash-update-component", json=body)
        assert response.status_code == 401, key
        assert response.get_json() == {"error": "sign in first"}


@pytest.mark.parametrize(
    ("path", "status"),
    [("/", 302), ("/admin/users", 302), ("/_dash-layout", 401), ("/_dash-dependencies", 401), ("/assets/x.css", 401)],
)
def test_anonymous_pages_redirect_to_login_and_data_routes_refuse(client: FlaskClient, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status
    if status == 302:
        assert response.headers["Location"] == f"/login?next={path}"


def test_public_routes_need_no_login(client: FlaskClient, users: dict) -> None:
    # Public: a health answer, not a login redirect (503 here: the tests run no engine that ticks).
    health = client.get("/healthz")
    assert (health.status_code, health.get_json()["status"]) == (503, "engine not ticking")
    assert client.get("/login").status_code == 200
    assert client.get("/assets/00-bootstrap.min.css").status_code == 200


def test_an_admin_may_call_every_callback(app: Dash, users: dict) -> None:
    """The crafted requests are well formed: the refusals below are authorization, not bad input."""
    client = signed_in(app, "admin")
    for key, body in callback_bodies(app):
        response = client.post("/_dash-update-component", json=body)
        assert response.status_code in (200, 204), (key, response.status_code, response.get_data(as_text=True)[:300])


def test_an_analyst_is_refused_every_admin_callback_and_page(app: Dash, users: dict) -> None:
    client = signed_in(app, "analyst")
    refused = []
    for key, body in callback_bodies(app):
        response = client.post("/_dash-update-component", json=body)
        if is_admin_callback(key):
            assert response.status_code == 403, key
            refused.append(key)
        elif any(name in key for name in TRADER_OUTPUTS):
            assert response.status_code == 403, key
        else:
            assert response.status_code in (200, 204), key
    # Every admin callback was found and refused (by name: other pages add callbacks too).
    assert {name for name in ADMIN_OUTPUTS if any(name in key for key in refused)} == set(ADMIN_OUTPUTS)
    assert client.get("/admin/users").status_code == 403
    # The pages router (client-side navigation) is refused the admin page's layout too.
    routed = call(
        client,
        ".._pages_content.children..._pages_store.data..",
        [
            {"id": "_pages_location", "property": "pathname", "value": "/admin/users"},
            {"id": "_pages_location", "property": "search", "value": ""},
        ],
        outputs=[{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
    )
    assert routed.status_code == 403
    assert "create-user" not in routed.get_data(as_text=True)


def test_a_disabled_user_is_signed_out_at_the_next_request(app: Dash, users: dict) -> None:
    client = signed_in(app, "trader")
    assert client.get("/").status_code == 200
    set_active(app_runtime(app), users["admin"], users["trader"], False)
    assert client.get("/").status_code == 302
    assert login(app.server.test_client(), "trader").status_code == 401


def draw(client: FlaskClient, series_id: int, via: str = "chart-prefs") -> dict:
    """Ask draw_chart for `series_id`, as the stored preference or as the watchlist's state."""
    prefs = {"series_id": series_id} if via == "chart-prefs" else None
    state = {"series_id": series_id, "status": "done"} if via == "series-redraw" else None
    body = {
        "output": "..chart-graph.figure...chart-view.data...chart-status.children..",
        "outputs": [
            {"id": "chart-graph", "property": "figure"},
            {"id": "chart-view", "property": "data"},
            {"id": "chart-status", "property": "children"},
        ],
        "inputs": [
            {"id": "chart-prefs", "property": "data", "value": prefs},
            {"id": "series-redraw", "property": "data", "value": state},
            {"id": "chart-replay", "property": "data", "value": None},  # live, not a replay
        ],
        "state": [
            {"id": "theme-switch", "property": "value", "value": False},
            {"id": "chart-view", "property": "data", "value": None},
            {"id": "chart-focus", "property": "data", "value": None},
        ],
        "changedPropIds": [f"{via}.data"],
    }
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200
    return response.get_json()["response"]


def test_a_user_cannot_read_or_remove_another_users_series(app: Dash, users: dict) -> None:
    runtime = app_runtime(app)
    series = watch_backfilled(runtime, users["trader"])
    owner, other = signed_in(app, "trader"), signed_in(app, "analyst")

    for via in ("chart-prefs", "series-redraw"):
        mine = draw(owner, series.id, via)
        assert len(mine["chart-graph"]["figure"]["data"][0]["x"]) == FIRST_LOAD_CANDLES
        stolen = draw(other, series.id, via)
        assert all(not trace.get("x") for trace in stolen["chart-graph"]["figure"].get("data", []))
    stolen = draw(other, series.id)
    assert stolen["chart-view"]["data"] is None
    assert all(not trace.get("x") for trace in stolen["chart-graph"]["figure"].get("data", []))

    view = {"series_id": series.id, "level": "1m", "count": 10, "last_ts": 0}
    live = call(
        other,
        live_key(app),
        [{"id": "live-poll", "property": "n_intervals", "value": 3}],
        [
            {"id": "chart-view", "property": "data", "value": view},
            {"id": "chart-replay", "property": "data", "value": None},
        ],
        outputs={"id": "chart-live-answer", "property": "data"},
    )
    assert live.status_code == 200
    answer = live.get_json()["response"]["chart-live-answer"]["data"]
    assert (answer["figure"], answer["view"]) == (None, None)  # no candles, only the view cleared

    remove = call(
        other,
        "..chart-prefs.data...watch-version.data...bar-message.children..",
        [{"id": "watch-click", "property": "data", "value": {"kind": "remove", "series": series.id, "at": 1}}],
        [
            {"id": i, "property": p, "value": None}
            for i, p in (
                ("bar-exchange", "value"),
                ("bar-symbol", "value"),
                ("bar-timeframe", "value"),
                ("chart-prefs", "data"),
                ("watch-version", "data"),
            )
        ],
        outputs=[
            {"id": "chart-prefs", "property": "data"},
            {"id": "watch-version", "property": "data"},
            {"id": "bar-message", "property": "children"},
        ],
    )
    assert remove.status_code in (200, 204)
    assert [e.series_id for e in charts.watchlist(runtime, users["trader"])] == [series.id]
    with pytest.raises(charts.NotWatchedError):
        charts.chart_candles(runtime, users["analyst"], series.id, 0, 2**40)


def live_key(app: Dash) -> str:
    return next(k for k, v in app.callback_map.items() if v["inputs"][0]["id"] == "live-poll")


def test_login_refuses_a_missing_or_wrong_csrf_token(client: FlaskClient, users: dict) -> None:
    client.get("/login")
    form = {"username": "admin", "password": PASSWORD}
    assert client.post("/login", data=form).status_code == 400
    assert client.post("/login", data={**form, "csrf_token": "forged"}).status_code == 400
    other = client.application.test_client()
    # Its own app context: `client` keeps its last one open (the fixture's `with`), and a request
    # made inside it would share its `g`, where Flask-WTF caches the token of the request.
    with client.application.app_context():
        foreign_token = csrf_from(other.get("/login").get_data(as_text=True))  # another session's token
    assert client.post("/login", data={**form, "csrf_token": foreign_token}).status_code == 400
    assert client.get("/").status_code == 302  # still signed out
    assert login(client, "admin").status_code == 302


def test_the_sixth_failed_attempt_is_refused_even_with_the_right_password(app: Dash, users: dict) -> None:
    make_user(app_runtime(app), "victim", Role.ANALYST)
    client = app.server.test_client()
    for _ in range(5):
        assert login(client, "victim", "wrong password").status_code == 401
    refused = login(client, "victim", PASSWORD)
    assert refused.status_code == 429
    assert "Too many failed attempts" in refused.get_data(as_text=True)
    assert client.get("/").status_code == 302
    # Other accounts from the same address are not locked by it.
    assert login(client, "analyst").status_code == 302


def test_logout_needs_the_form_token_and_ends_the_session(app: Dash, users: dict) -> None:
    client = signed_in(app, "analyst")
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200
    layout = client.get("/_dash-layout").get_data(as_text=True)
    token = csrf_from_layout(layout)
    response = client.post("/logout", data={"csrf_token": token})
    assert (response.status_code, response.headers["Location"]) == (302, "/login")
    assert client.get("/").status_code == 302
    assert client.post("/_dash-update-component", json={}).status_code == 401


def csrf_from_layout(layout: str) -> str:
    """The logout form's token, found in the layout tree Dash sends."""

    def walk(node: object) -> Iterator[dict]:
        if isinstance(node, dict):
            if node.get("name") == "csrf_token":
                yield node
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    return next(walk(json.loads(layout)))["value"]


@pytest.mark.parametrize(
    ("next_path", "location"),
    [
        ("/admin/users?x=1", "/admin/users?x=1"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_next_redirects_only_to_local_paths(app: Dash, users: dict, next_path: str, location: str) -> None:
    response = login(app.server.test_client(), "admin", next_path=next_path)
    assert (response.status_code, response.headers["Location"]) == (302, location)


def test_session_cookie_flags(app: Dash, users: dict, test_settings: Settings) -> None:
    cookie = login(app.server.test_client(), "admin").headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    assert secure_cookies_setting({"TRADEBLOCK_SECURE_COOKIES": "on"}) is True
    assert secure_cookies_setting({}) is False
    secure = create_app(test_settings, start_engine=False, secure_cookies=True)
    plain = secure.server.test_client().get("/login")
    assert plain.status_code == 302
    assert plain.headers["Location"].startswith("https://")  # secure cookies force HTTPS too
    behind_tls = secure.server.test_client()
    behind_tls.environ_base["HTTP_X_FORWARDED_PROTO"] = "https"  # as the TLS proxy in front says
    assert "Secure" in login(behind_tls, "admin").headers["Set-Cookie"]


def test_the_desk_keeps_an_active_admin(app: Dash, users: dict) -> None:
    runtime = app_runtime(app)
    with pytest.raises(UserError, match="last active admin"):
        set_role(runtime, users["admin"], Role.ANALYST)
    with pytest.raises(UserError, match="cannot disable yourself"):
        set_active(runtime, users["admin"], users["admin"], False)
    assert set_role(runtime, users["trader"], Role.ADMIN).role is Role.ADMIN
    assert set_role(runtime, users["admin"], Role.TRADER).role is Role.TRADER


def test_a_trader_is_refused_the_pnl_overview_page_and_callbacks(app: Dash, users: dict) -> None:
    client = signed_in(app, "trader")
    assert client.get("/admin/calendar").status_code == 403
    for key, body in callback_bodies(app):
        if any(name in key for name in CALENDAR_ADMIN_OUTPUTS):
            assert client.post("/_dash-update-component", json=body).status_code == 403, key


def test_a_trader_is_refused_the_desk_overview_page_and_callback(app: Dash, users: dict) -> None:
    client = signed_in(app, "trader")
    page = client.get("/admin/overview")
    assert page.status_code == 403
    assert page.mimetype == "text/html"  # the refusal page, not raw JSON
    keys = [key for key, _ in callback_bodies(app) if any(name in key for name in OVERVIEW_ADMIN_OUTPUTS)]
    assert keys
    for key, body in callback_bodies(app):
        if key in keys:
            assert client.post("/_dash-update-component", json=body).status_code == 403, key
    assert signed_in(app, "admin").get("/admin/overview").status_code == 200


def test_a_signed_in_request_stamps_last_seen_once_a_minute(app: Dash, users: dict) -> None:
    runtime = app_runtime(app)
    assert load_user(runtime, users["analyst"]).last_seen_at is None  # type: ignore[union-attr]
    client = signed_in(app, "analyst")
    assert client.get("/").status_code == 200
    first = load_user(runtime, users["analyst"]).last_seen_at  # type: ignore[union-attr]
    assert first is not None
    assert client.get("/").status_code == 200
    assert load_user(runtime, users["analyst"]).last_seen_at == first  # type: ignore[union-attr]
    assert load_user(runtime, users["trader"]).last_seen_at is None  # type: ignore[union-attr]
