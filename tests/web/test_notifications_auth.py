"""The settings page's notification callbacks at the HTTP level: signed out, refused; each user reads,
saves, tests and removes only their own URL (the user comes from the session, never the request);
a URL apprise refuses is refused at the field and nothing is saved; no answer ever carries the URL."""

from __future__ import annotations

import json
from typing import Any

import pytest
from dash import Dash
from flask.testing import FlaskClient

from db.enums import Role
from engine.config import Settings
from engine.notify.api import channel_of, save_url
from engine.runtime import Runtime
from tests.helpers.dashboard import build_app, key_of, make_user, outputs_of, signed_in
from tests.helpers.notify_endpoint import BOT_TOKEN, TELEGRAM_URL


@pytest.fixture(scope="module")
def app(test_settings: Settings, runtime_session: Runtime) -> Dash:
    return build_app(test_settings)


@pytest.fixture
def people(runtime: Runtime, app: Dash) -> dict[str, int]:
    ids = {n: make_user(runtime, n, r).id for n, r in (("alice", Role.TRADER), ("ana", Role.ANALYST))}
    save_url(runtime, ids["alice"], TELEGRAM_URL)
    return ids


def actions(client: FlaskClient, app: Dash, button: str, url: str | None = None) -> Any:
    key = key_of(app, "notify-message")
    inputs = [
        {"id": f"notify-{b}", "property": "n_clicks", "value": int(b == button)} for b in ("save", "test", "remove")
    ]
    state = [
        {"id": "notify-url", "property": "value", "value": url},
        {"id": "notify-version", "property": "data", "value": 1},
    ]
    body = {
        "output": key,
        "outputs": outputs_of(key),
        "inputs": inputs,
        "state": state,
        "changedPropIds": [f"notify-{button}.n_clicks"],
    }
    return client.post("/_dash-update-component", json=body)


def text_of(answer: Any) -> str:
    return json.dumps(answer.get_json(), ensure_ascii=False)


def status(client: FlaskClient, app: Dash) -> Any:
    key = key_of(app, "notify-status")
    inputs = [{"id": "notify-version", "property": "data", "value": 1}]
    body = {"output": key, "outputs": outputs_of(key), "inputs": inputs, "state": [], "changedPropIds": []}
    return client.post("/_dash-update-component", json=body)


def test_signed_out_requests_are_refused(app: Dash, people: dict) -> None:
    client = app.server.test_client()
    for button in ("save", "test", "remove"):
        assert actions(client, app, button, "json://127.0.0.1/x").status_code == 401
    assert status(client, app).status_code == 401


def test_each_user_sees_only_their_own_url_and_never_the_url(app: Dash, people: dict) -> None:
    alice = text_of(status(signed_in(app, "alice"), app))
    assert "tgram://…" in alice
    assert BOT_TOKEN.split(":")[1] not in alice
    ana = status(signed_in(app, "ana"), app).get_data(as_text=True)
    assert "No notification URL" in ana


def test_another_user_removes_and_replaces_only_their_own(app: Dash, people: dict, runtime: Runtime) -> None:
    ana = signed_in(app, "ana")
    assert "There was no notification URL." in actions(ana, app, "remove").get_data(as_text=True)
    assert "Save a notification URL first." in actions(ana, app, "test").get_data(as_text=True)
    saved = text_of(actions(ana, app, "save", "json://127.0.0.1:9/ana"))
    assert "Saved: notifications go to your json URL." in saved
    assert "127.0.0.1:9/ana" not in saved
    alice_channel = channel_of(runtime, people["alice"])
    assert alice_channel is not None
    assert alice_channel.scheme == "tgram"
    assert channel_of(runtime, people["ana"]) is not None


def test_a_url_apprise_refuses_is_refused_at_the_field(app: Dash, people: dict, runtime: Runtime) -> None:
    ana = signed_in(app, "ana")
    answer = actions(ana, app, "save", "tgram://not-a-bot-token").get_json()["response"]
    assert answer["notify-url"]["invalid"] is True
    assert "apprise does not accept this URL" in answer["notify-url-feedback"]["children"]
    assert channel_of(runtime, people["ana"]) is None
