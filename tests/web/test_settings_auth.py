"""The settings page at the HTTP level: crafted callback requests as dash-renderer sends them.

Analysts are refused every account callback (403); one trader's requests naming another trader's
account ids (test, remove, live switch, the confirmation's pending id) change and reveal nothing;
the accounts table never carries a credential; the password callback changes only the signed-in
user's password.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from dash import Dash
from flask.testing import FlaskClient

from db.enums import Role
from engine.config import Settings
from engine.runtime import Runtime
from engine.users import settings as acc
from engine.users.directory import check_login
from tests.helpers.dashboard import PASSWORD, app_runtime, build_app, key_of, make_user, outputs_of, signed_in

SECRET = "the-api-secret-nobody-sees-0042"
KEY = "the-api-key-0123-LAST"


@pytest.fixture(scope="module")
def app(test_settings: Settings, runtime_session: Runtime) -> Dash:
    return build_app(test_settings)


@pytest.fixture
def users(runtime: Runtime, app: Dash) -> dict[str, int]:
    made = {name: make_user(runtime, name, Role(role)) for name, role in ROLES.items()}
    return {name: view.id for name, view in made.items()}


ROLES = {"alice": "trader", "bob": "trader", "ana": "analyst"}


def post(client: FlaskClient, key: str, inputs: list, state: list, changed: str) -> Any:
    body = {"output": key, "outputs": outputs_of(key), "inputs": inputs, "state": state, "changedPropIds": [changed]}
    return client.post("/_dash-update-component", json=body)


def table(client: FlaskClient, app: Dash) -> Any:
    inputs = [{"id": "accounts-version", "property": "data", "value": 1}]
    return post(client, key_of(app, "accounts-table"), inputs, [], "accounts-version.data")


def row_action(client: FlaskClient, app: Dash, kind: str, account_id: int, value: Any = 1, pending: Any = None) -> Any:
    """The row callback as if `kind` ("account-test", "account-remove", "account-live",
    "live-confirm-yes") had been clicked for `account_id`."""
    ident = {"type": kind, "account": account_id}
    lists: dict[str, list] = {"account-test": [], "account-remove": [], "account-live": []}
    if kind in lists:
        prop = "value" if kind == "account-live" else "n_clicks"
        lists[kind] = [{"id": ident, "property": prop, "value": value}]
        changed = f"{json.dumps(ident, sort_keys=True, separators=(',', ':'))}.{prop}"
    else:
        changed = f"{kind}.n_clicks"
    inputs = [
        lists["account-test"],
        lists["account-remove"],
        lists["account-live"],
        {"id": "live-confirm-yes", "property": "n_clicks", "value": 1 if kind == "live-confirm-yes" else 0},
        {"id": "live-confirm-no", "property": "n_clicks", "value": 0},
    ]
    state = [
        {"id": "live-pending", "property": "data", "value": pending},
        {"id": "accounts-version", "property": "data", "value": 1},
    ]
    key = next(k for k in app.callback_map if "live-pending.data" in k)
    return post(client, key, inputs, state, changed)


def forms(client: FlaskClient, app: Dash, **fields: Any) -> Any:
    names = [
        ("paper-name", "value"),
        ("paper-exchange", "value"),
        ("paper-quote", "value"),
        ("paper-balance", "value"),
        ("paper-margin", "value"),
        ("live-name", "value"),
        ("live-exchange", "value"),
        ("live-key", "value"),
        ("live-secret", "value"),
        ("live-passphrase", "value"),
        ("accounts-version", "data"),
    ]
    state = [{"id": i, "property": p, "value": fields.get(i.replace("-", "_"))} for i, p in names]
    button = "live-add" if fields.get("live_name") else "paper-open"
    inputs = [
        {"id": "paper-open", "property": "n_clicks", "value": 1 if button == "paper-open" else 0},
        {"id": "live-add", "property": "n_clicks", "value": 1 if button == "live-add" else 0},
    ]
    form_keys = [k for k in app.callback_map if "paper-name.value" in k]
    assert len(form_keys) == 1
    return post(client, form_keys[0], inputs, state, f"{button}.n_clicks")


def test_analysts_are_refused_every_account_callback(app: Dash, users: dict) -> None:
    analyst = signed_in(app, "ana")
    assert table(analyst, app).status_code == 403
    assert row_action(analyst, app, "account-test", 1).status_code == 403
    assert forms(analyst, app, paper_name="P", paper_exchange="demo", paper_balance="1").status_code == 403
    assert acc.list_accounts(app_runtime(app), users["ana"]) == []
    # ... while the page itself, with its timezone and password cards, is theirs.
    assert analyst.get("/settings").status_code == 200


def test_the_forms_open_accounts_and_the_secret_never_comes_back(app: Dash, users: dict) -> None:
    alice = signed_in(app, "alice")
    made = forms(alice, app, live_name="Live", live_exchange="binance", live_key=KEY, live_secret=SECRET)
    assert made.status_code == 200
    answer = made.get_data(as_text=True)
    assert "Added live account Live on binance" in answer
    assert SECRET not in answer
    assert KEY not in answer
    opened = forms(alice, app, paper_name="Paper", paper_exchange="demo", paper_quote="USDT", paper_balance="500")
    assert "Opened paper account Paper" in opened.get_data(as_text=True)
    listed = json.dumps(table(alice, app).get_json(), ensure_ascii=False)
    assert "key ••••LAST" in listed
    assert SECRET not in listed
    assert KEY not in listed
    assert "Paper" in listed


def test_a_trader_cannot_see_or_change_another_traders_accounts(app: Dash, users: dict) -> None:
    runtime = app_runtime(app)
    theirs = acc.add_live(runtime, users["alice"], "Alice live", "binance", KEY, SECRET)
    bob = signed_in(app, "bob")

    listed = table(bob, app).get_data(as_text=True)
    assert "Alice live" not in listed
    assert "No exchange accounts yet." in listed

    for kind, value in (("account-live", True), ("account-remove", 1), ("account-test", 1)):
        response = row_action(bob, app, kind, theirs.id, value)
        assert response.status_code in (200, 204), kind
        text = response.get_data(as_text=True)
        assert "Alice live" not in text
        assert SECRET not in text
        if kind != "account-live":  # a switch of a row bob has not got changes nothing at all
            assert "is not one of yours" in text, kind
    confirmed = row_action(bob, app, "live-confirm-yes", 0, pending=theirs.id)
    assert "is not one of yours" in confirmed.get_data(as_text=True)

    (still,) = acc.list_accounts(runtime, users["alice"])
    assert (still.live_enabled, still.disabled) == (False, False)


def test_the_owner_switches_live_trading_on_only_through_the_confirmation(app: Dash, users: dict) -> None:
    runtime = app_runtime(app)
    mine = acc.add_live(runtime, users["alice"], "Mine", "binance", KEY, SECRET)
    alice = signed_in(app, "alice")
    asked = row_action(alice, app, "account-live", mine.id, True).get_json()["response"]
    assert asked["live-confirm-modal"]["is_open"] is True
    assert asked["live-pending"]["data"] == mine.id
    assert acc.list_accounts(runtime, users["alice"])[0].live_enabled is False  # not yet
    row_action(alice, app, "live-confirm-yes", 0, pending=mine.id)
    assert acc.list_accounts(runtime, users["alice"])[0].live_enabled is True
    row_action(alice, app, "account-live", mine.id, False)
    assert acc.list_accounts(runtime, users["alice"])[0].live_enabled is False


def password_change(client: FlaskClient, app: Dash, current: str, new: str, repeat: str) -> Any:
    key = next(k for k in app.callback_map if "pw-current.invalid" in k)
    state = [
        {"id": "pw-current", "property": "value", "value": current},
        {"id": "pw-new", "property": "value", "value": new},
        {"id": "pw-repeat", "property": "value", "value": repeat},
    ]
    inputs = [{"id": "pw-save", "property": "n_clicks", "value": 1}]
    return post(client, key, inputs, state, "pw-save.n_clicks")


def test_the_password_callback_changes_the_signed_in_users_password_only(app: Dash, users: dict) -> None:
    runtime = app_runtime(app)
    ana = signed_in(app, "ana")
    wrong = password_change(ana, app, "nope", "a long new password", "a long new password").get_json()["response"]
    assert wrong["pw-current"]["invalid"] is True
    assert wrong["pw-current-feedback"]["children"] == "That is not your current password."
    ok = password_change(ana, app, PASSWORD, "a long new password", "a long new password")
    assert "Password changed." in ok.get_data(as_text=True)
    assert check_login(runtime, "ana", "a long new password") is not None
    assert check_login(runtime, "alice", PASSWORD) is not None  # nobody else's changed
