"""The settings page's token callbacks at the HTTP level: signed out, refused; a crafted revoke naming
another user's token id revokes nothing; the table lists only the caller's tokens and never a
token's secret or hash; an analyst's crafted request for a trade token is refused by the engine."""

from __future__ import annotations

import json
from typing import Any

import pytest
from dash import Dash
from flask.testing import FlaskClient

from db.enums import Role
from engine.config import Settings
from engine.runtime import Runtime
from engine.users.api import authenticate, create_token, list_tokens
from tests.helpers.dashboard import build_app, key_of, login, make_user, outputs_of


@pytest.fixture(scope="module")
def app(test_settings: Settings, runtime_session: Runtime) -> Dash:
    return build_app(test_settings)


@pytest.fixture
def people(runtime: Runtime, app: Dash) -> dict[str, Any]:
    ids: dict[str, Any] = {n: make_user(runtime, n, r).id for n, r in (("alice", Role.TRADER), ("ana", Role.ANALYST))}
    ids["alice_token"] = create_token(runtime, ids["alice"], "alice bot", "trade")
    return ids


def actions(client: FlaskClient, app: Dash, revoke: int | None = None, scope: str = "read", name: str = "x") -> Any:
    key = key_of(app, "tokens-message")
    ident = {"type": "token-revoke", "token": revoke}
    revokes = [{"id": ident, "property": "n_clicks", "value": 1}] if revoke is not None else []
    changed = (
        f"{json.dumps(ident, sort_keys=True, separators=(',', ':'))}.n_clicks" if revoke else "token-create.n_clicks"
    )
    body = {
        "output": key,
        "outputs": outputs_of(key),
        "inputs": [{"id": "token-create", "property": "n_clicks", "value": 0 if revoke else 1}, revokes],
        "state": [
            {"id": "token-name", "property": "value", "value": name},
            {"id": "token-scope", "property": "value", "value": scope},
            {"id": "tokens-version", "property": "data", "value": 1},
        ],
        "changedPropIds": [changed],
    }
    return client.post("/_dash-update-component", json=body)


def table(client: FlaskClient, app: Dash) -> Any:
    key = key_of(app, "tokens-table")
    inputs = [{"id": "tokens-version", "property": "data", "value": 1}]
    body = {"output": key, "outputs": outputs_of(key), "inputs": inputs, "state": [], "changedPropIds": []}
    return client.post("/_dash-update-component", json=body)


def signed_in(app: Dash, username: str) -> FlaskClient:
    client = app.server.test_client()
    assert login(client, username).status_code == 302
    return client


def test_signed_out_requests_are_refused(app: Dash, people: dict) -> None:
    client = app.server.test_client()
    assert actions(client, app).status_code == 401
    assert table(client, app).status_code == 401


def test_another_users_token_cannot_be_revoked(app: Dash, people: dict, runtime: Runtime) -> None:
    ana = signed_in(app, "ana")
    answer = actions(ana, app, revoke=people["alice_token"].view.id)
    assert answer.status_code == 200
    assert "No such token of yours." in answer.get_data(as_text=True)
    assert authenticate(runtime, people["alice_token"].token) is not None


def test_the_table_shows_only_ones_own_tokens_and_no_secret(app: Dash, people: dict, runtime: Runtime) -> None:
    alice = signed_in(app, "alice")
    text = table(alice, app).get_data(as_text=True)
    assert "alice bot" in text
    assert people["alice_token"].token not in text
    # The secret is everything after the second underscore: token_urlsafe may put underscores in it.
    assert people["alice_token"].token.split("_", 2)[2] not in text
    ana = signed_in(app, "ana")
    assert "alice bot" not in table(ana, app).get_data(as_text=True)


def test_an_analyst_cannot_make_a_trade_token_by_crafting_the_request(
    app: Dash, people: dict, runtime: Runtime
) -> None:
    ana = signed_in(app, "ana")
    answer = actions(ana, app, scope="trade", name="sneaky")
    assert "Your role cannot trade" in answer.get_data(as_text=True)
    assert list_tokens(runtime, people["ana"]) == []
    made = actions(ana, app, scope="read", name="notebook").get_data(as_text=True)
    assert "Copy it now" in made
    assert [t.name for t in list_tokens(runtime, people["ana"])] == ["notebook"]
