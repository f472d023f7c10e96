"""Sessions that end, on the server: a session cookie copied before a sign-out, a password change
elsewhere or an admin's "end sessions" is refused when replayed (401 on a callback, a redirect to
sign-in on a page), while the session that changed the password keeps working. Run with the
sessions in files (the default) and in Redis (TRADEBLOCK_REDIS_URL), on the test database
(SQLite, or PostgreSQL when DATABASE_URL says so)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from dash import Dash
from flask.testing import FlaskClient

from app import create_app
from db.enums import Role
from engine.config import Settings
from engine.runtime import Runtime
from engine.users.directory import check_login, load_user
from tests.helpers.dashboard import PASSWORD, app_runtime, login, make_user
from tests.helpers.workers import redis_url
from tests.web.test_dashboard_auth import csrf_from_layout
from tests.web.test_settings_auth import outputs_of

COOKIE = "tradeblock_session"
REDIS_URL = redis_url(15)  # this worker's own db
NEW_PASSWORD = "a brand new long password"
END_ID = "user-end-sessions"  # pages.admin_users.END_ID (a page module imports only after the app)


@pytest.fixture(scope="module", params=["files", "redis"])
def app(request: pytest.FixtureRequest, test_settings: Settings, runtime_session: Runtime) -> Iterator[Dash]:
    redis_url = REDIS_URL if request.param == "redis" else None
    built = create_app(test_settings, start_engine=False, secure_cookies=False, redis_url=redis_url)
    assert built.server.test_client().get("/login").status_code == 200  # Dash's first-request setup
    yield built
    if redis_url:
        redis.Redis.from_url(redis_url).flushdb()


@pytest.fixture
def users(runtime: Runtime, app: Dash) -> dict[str, int]:
    made = {"boss": Role.ADMIN, "tess": Role.TRADER}
    return {name: make_user(runtime, name, role).id for name, role in made.items()}


def signed_in(app: Dash, username: str, password: str = PASSWORD) -> FlaskClient:
    client = app.server.test_client()
    assert login(client, username, password).status_code == 302
    return client


def replay(app: Dash, client: FlaskClient) -> FlaskClient:
    """A new browser holding a copy of `client`'s session cookie."""
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    thief = app.server.test_client()
    thief.set_cookie(COOKIE, cookie.value)
    return thief


def key_of(app: Dash, output: str) -> str:
    keys = [k for k in app.callback_map if output in k and "callback" in app.callback_map[k]]
    assert len(keys) == 1, keys
    return keys[0]


def layout_callback(client: FlaskClient, app: Dash) -> Any:
    """A callback every signed-in user may call (the admin users table needs an admin; the
    password form's is everyone's): the password save with no click changes nothing."""
    key = key_of(app, "pw-current.invalid")
    body = {
        "output": key,
        "outputs": outputs_of(key),
        "inputs": [{"id": "pw-save", "property": "n_clicks", "value": None}],
        "state": [{"id": f"pw-{f}", "property": "value", "value": None} for f in ("current", "new", "repeat")],
        "changedPropIds": ["pw-save.n_clicks"],
    }
    return client.post("/_dash-update-component", json=body)


def change_password(client: FlaskClient, app: Dash, current: str, new: str) -> Any:
    key = key_of(app, "pw-current.invalid")
    body = {
        "output": key,
        "outputs": outputs_of(key),
        "inputs": [{"id": "pw-save", "property": "n_clicks", "value": 1}],
        "state": [
            {"id": "pw-current", "property": "value", "value": current},
            {"id": "pw-new", "property": "value", "value": new},
            {"id": "pw-repeat", "property": "value", "value": new},
        ],
        "changedPropIds": ["pw-save.n_clicks"],
    }
    return client.post("/_dash-update-component", json=body)


def end_sessions_click(client: FlaskClient, app: Dash, user_id: int) -> Any:
    key = key_of(app, "admin-message.children")
    ident = {"type": END_ID, "user": user_id}
    body = {
        "output": key,
        "outputs": outputs_of(key),
        "inputs": [
            {"id": "create-user", "property": "n_clicks", "value": 0},
            [],
            [],
            [{"id": ident, "property": "n_clicks", "value": 1}],
        ],
        "state": [
            {"id": "new-username", "property": "value", "value": None},
            {"id": "new-role", "property": "value", "value": None},
            {"id": "new-password", "property": "value", "value": None},
            {"id": "admin-version", "property": "data", "value": 0},
        ],
        "changedPropIds": [json.dumps(ident, sort_keys=True, separators=(",", ":")) + ".n_clicks"],
    }
    return client.post("/_dash-update-component", json=body)


def assert_refused(client: FlaskClient, app: Dash) -> None:
    page = client.get("/")
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/login")
    assert layout_callback(client, app).status_code == 401


def assert_works(client: FlaskClient, app: Dash) -> None:
    assert client.get("/").status_code == 200
    assert layout_callback(client, app).status_code == 200


def test_the_browser_cookie_holds_only_a_session_id(app: Dash, users: dict) -> None:
    client = signed_in(app, "tess")
    value = client.get_cookie(COOKIE).value
    assert "." not in value  # no signed payload (Flask's own cookie is data.timestamp.signature)
    assert len(value) >= 32


def test_a_cookie_replayed_after_logout_is_refused(app: Dash, users: dict) -> None:
    client = signed_in(app, "tess")
    copy = replay(app, client)
    assert_works(copy, app)  # the copy is a working session until the sign-out
    token = csrf_from_layout(client.get("/_dash-layout").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert_refused(client, app)
    assert_refused(copy, app)


def test_a_new_sign_in_gets_a_new_session_id(app: Dash, users: dict) -> None:
    client = app.server.test_client()
    client.get("/login")
    before = client.get_cookie(COOKIE).value
    assert login(client, "tess").status_code == 302
    assert client.get_cookie(COOKIE).value != before
    stale = app.server.test_client()
    stale.set_cookie(COOKIE, before)
    assert_refused(stale, app)  # the id seen before sign-in opens nothing


def test_a_password_change_ends_the_other_sessions_but_not_its_own(app: Dash, users: dict) -> None:
    runtime = app_runtime(app)
    laptop, phone = signed_in(app, "tess"), signed_in(app, "tess")
    copy = replay(app, phone)
    response = change_password(laptop, app, PASSWORD, NEW_PASSWORD)
    assert "Password changed." in response.get_data(as_text=True)
    assert_works(laptop, app)
    assert_refused(phone, app)
    assert_refused(copy, app)
    assert load_user(runtime, users["tess"]).session_version == 1
    assert check_login(runtime, "tess", NEW_PASSWORD) is not None
    assert_works(signed_in(app, "tess", NEW_PASSWORD), app)  # a new sign-in carries the new version


def test_a_wrong_current_password_ends_no_session(app: Dash, users: dict) -> None:
    laptop, phone = signed_in(app, "tess"), signed_in(app, "tess")
    response = change_password(laptop, app, "not the password", NEW_PASSWORD)
    assert "That is not your current password." in response.get_data(as_text=True)
    assert_works(laptop, app)
    assert_works(phone, app)


def test_an_admin_ends_a_users_sessions(app: Dash, users: dict) -> None:
    boss, tess = signed_in(app, "boss"), signed_in(app, "tess")
    copy = replay(app, tess)
    # Only admins may: the trader's own click on the admin callback is refused.
    assert end_sessions_click(tess, app, users["boss"]).status_code == 403
    assert_works(boss, app)
    response = end_sessions_click(boss, app, users["tess"])
    assert response.status_code == 200
    assert "Every session of tess is ended." in response.get_data(as_text=True)
    assert_refused(tess, app)
    assert_refused(copy, app)
    assert_works(boss, app)
    assert_works(signed_in(app, "tess"), app)  # she may sign in again
