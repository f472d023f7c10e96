"""The smaller holes, at the HTTP level: the sign-in limit holds under 40 parallel guesses (the
password is checked at most 5 times), the settings page's current-password check is limited per
user, cross-site POSTs are refused by their Origin/Referer, every response carries the security
headers, and a callback id the server has no function for answers 404 (not 500)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from dash import Dash
from flask.testing import FlaskClient

import web.auth
from db.enums import Role
from engine.config import Settings
from engine.runtime import Runtime
from engine.users.directory import check_login
from tests.helpers.dashboard import PASSWORD, build_app, csrf_from, login, make_user, signed_in
from tests.web.test_sessions import NEW_PASSWORD, change_password, layout_callback
from web.security import AttemptLimiter

PARALLEL = 40
LIMIT = 5


@pytest.fixture(scope="module")
def app(test_settings: Settings, runtime_session: Runtime) -> Dash:
    return build_app(test_settings)


@pytest.fixture(autouse=True)
def fresh_limits(app: Dash) -> None:
    """Every test starts with no attempts counted (the app lives for the whole module)."""
    for name in ("tradeblock_login_limiter", "tradeblock_ip_limiter", "tradeblock_password_limiter"):
        old = app.server.extensions[name]
        app.server.extensions[name] = AttemptLimiter(limit=old.limit, window_s=old.window_s)


@pytest.fixture
def users(runtime: Runtime, app: Dash) -> dict[str, int]:
    made = {"tess": Role.TRADER, "ana": Role.ANALYST}
    return {name: make_user(runtime, name, role).id for name, role in made.items()}


def test_forty_parallel_wrong_passwords_get_at_most_five_password_checks(
    app: Dash, users: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks: list[str] = []
    real = web.auth.check_login

    def counted(*args: Any) -> Any:
        checks.append(args[1])
        return real(*args)

    monkeypatch.setattr(web.auth, "check_login", counted)
    clients = [app.server.test_client() for _ in range(PARALLEL)]
    tokens = [csrf_from(c.get("/login").get_data(as_text=True)) for c in clients]
    start = threading.Barrier(PARALLEL)
    statuses: list[int] = []

    def guess(client: FlaskClient, token: str) -> None:
        start.wait()
        form = {"csrf_token": token, "username": "tess", "password": "a wrong guess", "next": ""}
        statuses.append(client.post("/login", data=form).status_code)

    threads = [threading.Thread(target=guess, args=pair) for pair in zip(clients, tokens, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(checks) <= LIMIT
    assert sorted(statuses) == [401] * len(checks) + [429] * (PARALLEL - len(checks))
    # The right password is refused too while the limit holds: the guesser cannot tell.
    assert login(app.server.test_client(), "tess").status_code == 429


def test_the_current_password_check_on_the_settings_page_is_limited_per_user(app: Dash, users: dict) -> None:
    runtime = app_runtime_of(app)
    tess = signed_in(app, "tess")
    for _ in range(LIMIT):
        wrong = change_password(tess, app, "a wrong guess", NEW_PASSWORD).get_data(as_text=True)
        assert "That is not your current password." in wrong
    refused = change_password(tess, app, PASSWORD, NEW_PASSWORD).get_data(as_text=True)
    assert "Too many wrong passwords. Try again in 15 min." in refused
    assert check_login(runtime, "tess", PASSWORD) is not None  # unchanged
    # Per user: another user's form is not locked by it.
    ana = signed_in(app, "ana")
    assert "Password changed." in change_password(ana, app, PASSWORD, NEW_PASSWORD).get_data(as_text=True)


def test_a_right_current_password_with_a_bad_new_one_is_no_guess(app: Dash, users: dict) -> None:
    tess = signed_in(app, "tess")
    for _ in range(LIMIT + 2):
        short = change_password(tess, app, PASSWORD, "short").get_data(as_text=True)
        assert "Use at least 10 characters." in short
    assert "Password changed." in change_password(tess, app, PASSWORD, NEW_PASSWORD).get_data(as_text=True)


def app_runtime_of(app: Dash) -> Runtime:
    return app.server.config["TRADEBLOCK_RUNTIME"]


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/page"},
        {"Origin": "http://localhost.evil.example"},
    ],
)
def test_a_cross_site_post_is_refused(app: Dash, users: dict, headers: dict[str, str]) -> None:
    tess = signed_in(app, "tess")
    assert layout_callback(tess, app).status_code == 200
    tess.environ_base.update({f"HTTP_{k.upper()}": v for k, v in headers.items()})
    assert layout_callback(tess, app).status_code == 403
    stranger = app.server.test_client()
    token = csrf_from(stranger.get("/login").get_data(as_text=True))
    stranger.environ_base.update(tess.environ_base)
    form = {"csrf_token": token, "username": "tess", "password": PASSWORD, "next": ""}
    assert stranger.post("/login", data=form).status_code == 403  # no sign-in planted from elsewhere
    assert tess.post("/logout").status_code == 403
    assert tess.get("/").status_code == 200  # reading is not refused: a link from elsewhere still opens


def test_a_same_site_post_passes_the_origin_check(app: Dash, users: dict) -> None:
    tess = signed_in(app, "tess")
    tess.environ_base.update(HTTP_ORIGIN="http://localhost", HTTP_REFERER="http://localhost/settings")
    assert layout_callback(tess, app).status_code == 200
    # Behind a TLS proxy the browser says https while the app sees http: the host is what counts.
    tess.environ_base.update(HTTP_ORIGIN="https://localhost")
    assert layout_callback(tess, app).status_code == 200


def test_every_response_carries_the_security_headers(app: Dash, users: dict) -> None:
    tess = signed_in(app, "tess")
    for response in (app.server.test_client().get("/login"), tess.get("/"), layout_callback(tess, app)):
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        policy = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy
        assert "default-src 'self'" in policy
        assert "unsafe-eval" not in policy
        assert "Strict-Transport-Security" not in response.headers  # plain http: no HTTPS forcing
    script_src = next(p for p in policy.split(";") if p.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src
    assert "'sha256-" in script_src  # Dash's inline scripts by their hashes


def test_callback_ids_without_a_server_function_answer_404(app: Dash, users: dict) -> None:
    tess = signed_in(app, "tess")
    clientside = [key for key, spec in app.callback_map.items() if "callback" not in spec]
    assert len(clientside) >= 3
    for key in [*clientside, "no-such-output.children", "..a.b...c.d.."]:
        body = {"output": key, "outputs": [], "inputs": [], "state": [], "changedPropIds": []}
        assert tess.post("/_dash-update-component", json=body).status_code == 404, key
    assert tess.post("/_dash-update-component", json={"inputs": []}).status_code == 400
    assert tess.post("/_dash-update-component", data="not json").status_code == 400
    # Signed out, the guard answers first and no id is revealed.
    body = {"output": clientside[0], "outputs": [], "inputs": [], "state": [], "changedPropIds": []}
    assert app.server.test_client().post("/_dash-update-component", json=body).status_code == 401
