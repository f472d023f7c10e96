"""The webhook's route on the real app: POST /hooks/tv/<hook_id> answers JSON (never the sign-in
page), takes the body whatever its content type (TradingView sends text/plain unless the message
is JSON), is not refused by the origin check or the sign-in guard, and places the block."""

from __future__ import annotations

import pytest
from dash import Dash
from flask.testing import FlaskClient

from engine.config import Settings
from engine.runtime import Runtime
from tests.helpers.dashboard import app_runtime, build_app
from tests.helpers.trading import PathFeed, setup
from tests.helpers.webhooks import alert, at, make_hook


@pytest.fixture(scope="module")
def app(test_settings: Settings, runtime_session: Runtime) -> Dash:
    return build_app(test_settings)


@pytest.fixture
def client(app: Dash) -> FlaskClient:
    return app.server.test_client()


def test_an_alert_posted_as_text_places_its_block(
    runtime: Runtime, feed: PathFeed, app: Dash, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_id, account_id = setup(runtime, feed)
    served = app_runtime(app)
    served.sources["demo"] = feed  # the app's paper venue trades on the test's prices and clock
    served.reset_trading()
    hook = make_hook(runtime, user_id, account_id)
    body = alert(hook.secret, feed.now)
    monkeypatch.setattr("engine.webhooks.receive.datetime", _Frozen)
    _Frozen.moment = at(feed.now)
    headers = {"Content-Type": "text/plain; charset=utf-8", "Origin": "https://www.tradingview.com"}
    done = client.post(f"/hooks/tv/{hook.hook_id}", data=body, headers=headers)
    assert done.status_code == 201, done.get_json()
    assert done.get_json()["status"] == "accepted"
    again = client.post(f"/hooks/tv/{hook.hook_id}", data=body, headers=headers)
    assert again.get_json() == {"status": "duplicate", "block_id": done.get_json()["block_id"]}
    assert "Set-Cookie" not in done.headers  # a webhook opens no web session


def test_bad_calls_get_json_errors(runtime: Runtime, feed: PathFeed, client: FlaskClient) -> None:
    user_id, account_id = setup(runtime, feed)
    hook = make_hook(runtime, user_id, account_id)
    malformed = client.post(f"/hooks/tv/{hook.hook_id}", data=b"{oops", content_type="application/json")
    assert malformed.status_code == 400
    assert "not valid JSON" in malformed.get_json()["error"]
    unknown = client.post("/hooks/tv/nosuch", data=b"{}", content_type="application/json")
    assert unknown.status_code == 401
    assert unknown.get_json() == {"error": "Unknown webhook or wrong secret."}
    huge = client.post(f"/hooks/tv/{hook.hook_id}", data=b"x" * 70_000, content_type="text/plain")
    assert huge.status_code == 413
    assert client.get(f"/hooks/tv/{hook.hook_id}").status_code == 405  # JSON, never a page
    assert client.post("/hooks/other", data=b"{}").status_code == 404


class _Frozen:
    """datetime with now() at the feed's clock (the paper venue's), for the time window."""

    moment = None

    @classmethod
    def now(cls, tz=None):
        return cls.moment
