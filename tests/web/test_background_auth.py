"""Background jobs run outside any request, so they trust only their grant (web/background.py): a
grant is signed with the app's SECRET_KEY for one user and one action; a forged, altered, expired
or other action's grant reads as nothing; the door refuses (403) a job request carrying another
user's or a forged grant before any job starts, and the job itself refuses a grant whose user was
disabled or demoted since. The backtest page's normal callbacks are traders' only."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest
from dash import Dash

from db.enums import Role
from engine.config import Settings
from engine.runtime import Runtime
from engine.users.directory import set_active, set_role
from tests.helpers.background import job_result, start_job
from tests.helpers.dashboard import app_runtime, body_of, build_app, make_user, signed_in
from web import background
from web.background import job_grant, read_grant, sign_grant

SECRET = "test-secret-key-that-is-long-enough"
# Traders' and admins' only: the backtest page's callbacks that are not background jobs (the
# jobs' requests pass web.background's door instead; tests/web/test_dashboard_auth.py lists these).
BACKTEST_TRADER_OUTPUTS = (
    "bt-filename.children",
    "bt-message.children...bt-grant.data",
    "bt-cancel-message.children",
    "bt-runs.rowData",
    "bt-detail.children",
    "bt-delete-confirm.displayed",
    "bt-delete-message.children@",
    "cal-sample-grant.data",
)
# What ask_run grants for a checked file (its digest: this one matches no upload).
PARAMS = {"exchange": "demo", "timeframe": "1m", "start_ms": None, "end_ms": None, "name": None,
          "trade_through": True, "slippage_bps": "0", "file": "0" * 64, "filename": "blocks.csv"}  # fmt: skip
RUN_JOB = "bt-message.children@"  # the key of the backtest's background callback holds this...
RUN_JOB_ALSO = "bt-version.data.."  # ...and this (the delete's key has bt-version too, with @)


@pytest.fixture(scope="module")
def app(test_settings: Settings, runtime_session: Runtime) -> Dash:
    return build_app(test_settings)


@pytest.fixture
def desk(runtime: Runtime, app: Dash) -> dict[str, int]:
    roles = {"admin": Role.ADMIN, "trader": Role.TRADER, "rival": Role.TRADER, "analyst": Role.ANALYST}
    return {name: make_user(app_runtime(app), name, role).id for name, role in roles.items()}


def job_body(app: Dash, token: str | None, contents: str | None = None) -> dict:
    key = next(k for k in app.callback_map if RUN_JOB in k and RUN_JOB_ALSO in k)
    body = body_of(app, key)
    body["inputs"][0]["value"] = token
    body["state"][0]["value"] = contents
    body["state"][1]["value"] = 0
    body["changedPropIds"] = ["bt-grant.data"]
    return body


def test_a_grant_reads_back_only_as_signed() -> None:
    token = sign_grant(SECRET, 7, "backtest", {"exchange": "demo"})
    grant = read_grant(SECRET, token, "backtest")
    assert grant is not None
    assert (grant.user_id, grant.action, grant.params) == (7, "backtest", {"exchange": "demo"})
    assert read_grant(SECRET, token, "sample-backtest") is None  # another action
    assert read_grant("another-secret-key-of-the-same-size", token) is None  # another desk's key
    payload, signature = token.rsplit(".", 1)
    assert read_grant(SECRET, f"{payload}.{signature[::-1]}") is None  # a forged signature
    other = sign_grant(SECRET, 8, "backtest", {"exchange": "demo"})
    assert read_grant(SECRET, f"{other.rsplit('.', 2)[0]}.{token.rsplit('.', 2)[1]}.{signature}") is None
    assert read_grant(SECRET, None) is None
    assert read_grant(SECRET, "not a token") is None


def test_an_old_grant_runs_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    token = sign_grant(SECRET, 7, "backtest", {})
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + background.GRANT_MAX_AGE_S + 5)
    assert read_grant(SECRET, token) is None


def test_the_job_refuses_a_user_disabled_or_demoted_since_the_grant(app: Dash, desk: dict) -> None:
    runtime = app_runtime(app)
    with app.server.app_context():
        token = background.issue_grant(desk["trader"], "backtest", {})
        assert job_grant(token, "backtest", (Role.ADMIN, Role.TRADER)) is not None
        set_role(runtime, desk["trader"], Role.ANALYST)
        assert job_grant(token, "backtest", (Role.ADMIN, Role.TRADER)) is None
        set_role(runtime, desk["trader"], Role.TRADER)
        set_active(runtime, desk["admin"], desk["trader"], False)
        assert job_grant(token, "backtest", (Role.ADMIN, Role.TRADER)) is None


def test_the_door_refuses_another_users_or_a_forged_grant_and_starts_no_job(app: Dash, desk: dict) -> None:
    rival = signed_in(app, "rival")
    with app.server.app_context():
        traders = background.issue_grant(desk["trader"], "backtest", {})
    stolen = rival.post("/_dash-update-component", json=job_body(app, traders))
    assert stolen.status_code == 403
    assert "cacheKey" not in stolen.get_data(as_text=True)
    forged = sign_grant("a-key-that-is-not-the-desks-own-key", desk["rival"], "backtest", {})
    assert rival.post("/_dash-update-component", json=job_body(app, forged)).status_code == 403
    # No grant at all: nothing to run, no job (what a crafted request with empty inputs gets).
    assert rival.post("/_dash-update-component", json=job_body(app, None)).status_code == 204


def test_a_valid_grant_runs_a_real_job_which_checks_what_it_was_granted(app: Dash, desk: dict) -> None:
    """Through the real diskcache manager (a forked job process): the grant names a file digest,
    and a job handed other bytes than the ones checked refuses to run them."""
    trader = signed_in(app, "trader")
    with app.server.app_context():
        token = background.issue_grant(desk["trader"], "backtest", PARAMS)
    contents = "data:text/csv;base64,dGltZSxzeW1ib2wK"  # "time,symbol\n": not what was granted
    outputs = job_result(trader, job_body(app, token, contents))
    assert "The file changed after the check" in str(outputs["bt-message"]["children"])
    # An analyst is refused the page and every normal callback of it.
    analyst = signed_in(app, "analyst")
    assert analyst.get("/backtest").status_code == 403
    for name in BACKTEST_TRADER_OUTPUTS[:-1]:
        key = next(k for k in app.callback_map if name in k)
        assert analyst.post("/_dash-update-component", json=body_of(app, key)).status_code == 403, key


def test_another_user_cannot_poll_a_job_for_its_result(app: Dash, desk: dict) -> None:
    """Dash's polls carry its signed handles and none of the values: the door checks the job was
    started by the caller, so a handle seen elsewhere reads nothing of another user's run."""
    trader, rival = signed_in(app, "trader"), signed_in(app, "rival")
    with app.server.app_context():
        token = background.issue_grant(desk["trader"], "backtest", PARAMS)
    body = job_body(app, token, "data:text/csv;base64,dGltZSxzeW1ib2wK")
    handles = start_job(trader, body)
    poll = {
        **body,
        "inputs": [{**body["inputs"][0], "value": None}],
        "state": [{**s, "value": None} for s in body["state"]],
    }
    query = urlencode({"cacheKey": handles["cacheKey"], "job": handles["job"]})
    assert rival.post(f"/_dash-update-component?{query}", json=poll).status_code == 403
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the owner's polls get the job's answer
        answer = trader.post(f"/_dash-update-component?{query}", json=poll)
        assert answer.status_code == 200
        if "response" in answer.get_json():
            break
        time.sleep(0.2)
    assert "The file changed" in str(answer.get_json()["response"]["bt-message"]["children"])


def test_the_celery_broker_setting_is_a_redis_url_or_unset() -> None:
    assert background.celery_broker_setting({}) is None
    assert background.celery_broker_setting({"TRADEBLOCK_CELERY_BROKER": " "}) is None
    url = "redis://127.0.0.1:6379/1"
    assert background.celery_broker_setting({"TRADEBLOCK_CELERY_BROKER": url}) == url
    with pytest.raises(ValueError, match="TRADEBLOCK_CELERY_BROKER must be a redis:// URL"):
        background.celery_broker_setting({"TRADEBLOCK_CELERY_BROKER": "amqp://guest@localhost//"})
