"""The chart's price-alert callbacks and the desk's toast at the HTTP level: a trader sets alerts
only on a series they watch and cancels only their own (the user comes from the session, never
the request); the lines read are the user's own; an analyst is refused setting one; the toast
shows a user their own triggered alerts, once."""

from __future__ import annotations

import json
from typing import Any

import pytest
from dash import Dash
from flask.testing import FlaskClient

from db.enums import AlertState, Role
from engine.alerts import api as alerts
from engine.config import Settings
from engine.market import api as market
from engine.runtime import Runtime
from tests.helpers.dashboard import build_app, call, key_of, make_user, outputs_of, signed_in, watch_backfilled

# The traders' own alert callbacks (pages/components/chart_alerts_callbacks.py): set and cancel, the badges.
ALERT_TRADER_OUTPUTS = ("alert-list", "alert-message")


@pytest.fixture(scope="module")
def app(test_settings: Settings, runtime_session: Runtime) -> Dash:
    return build_app(test_settings)


@pytest.fixture
def people(runtime: Runtime, app: Dash) -> dict[str, int]:
    ids = {n: make_user(runtime, n, r).id for n, r in (("alice", Role.TRADER), ("bob", Role.TRADER))}
    ids["ana"] = make_user(runtime, "ana", Role.ANALYST).id
    ids["series"] = watch_backfilled(runtime, ids["alice"]).id
    return ids


def act(
    client: FlaskClient, app: Dash, series_id: int, price: str = "", cancel: int | None = None, note: str = ""
) -> Any:
    key = key_of(app, "chart-alerts-version")
    cancels = (
        []
        if cancel is None
        else [{"id": {"type": "alert-cancel", "alert": cancel}, "property": "n_clicks", "value": 1}]
    )
    inputs = [{"id": "alert-add", "property": "n_clicks", "value": 0 if cancel else 1}, cancels]
    state = [
        {"id": "alert-price", "property": "value", "value": price},
        {"id": "alert-note", "property": "value", "value": note},
        {"id": "chart-view", "property": "data", "value": {"series_id": series_id}},
        {"id": "chart-alerts-version", "property": "data", "value": 0},
    ]
    body = {"output": key, "outputs": outputs_of(key), "inputs": inputs, "state": state}
    changed = json.dumps({"alert": cancel, "type": "alert-cancel"}, separators=(",", ":")) if cancel else "alert-add"
    body["changedPropIds"] = [f"{changed}.n_clicks"]
    return client.post("/_dash-update-component", json=body)


def lines(client: FlaskClient, app: Dash, series_id: int) -> Any:
    view = {"id": "chart-view", "property": "data", "value": {"series_id": series_id}}
    inputs = [
        view,
        {"id": "chart-alerts-version", "property": "data", "value": 1},
        {"id": "live-poll", "property": "n_intervals", "value": 1},
    ]
    state = [{"id": "chart-alerts", "property": "data", "value": None}]
    return call(client, "chart-alerts.data", inputs, state, {"id": "chart-alerts", "property": "data"})


def nothing(answer: Any) -> bool:
    """The callback answered and changed nothing (no_update)."""
    return answer.status_code == 204 or (answer.status_code == 200 and answer.get_json()["response"] == {})


def said(answer: Any) -> str:
    return json.dumps(answer.get_json(), ensure_ascii=False)


def test_a_trader_sets_and_cancels_only_their_own_alerts(app: Dash, runtime: Runtime, people: dict) -> None:
    alice, bob = signed_in(app, "alice"), signed_in(app, "bob")
    answer = act(alice, app, people["series"], "90000", note="  range high \n retest ")
    assert "Alert set: BTC/USDT crosses above 90,000.00." in said(answer)
    assert answer.get_json()["response"]["alert-note"]["value"] == ""  # the bar is ready for the next
    (alert,) = alerts.list_alerts(runtime, people["alice"])
    assert alert.note == "range high retest"
    refused = act(bob, app, people["series"], "95000")  # a series bob does not watch
    assert "Choose a series of your watchlist." in said(refused)
    assert alerts.list_alerts(runtime, people["bob"]) == []
    assert "No such alert of yours." in said(act(bob, app, people["series"], cancel=alert.id))
    assert alerts.get_alert(runtime, people["alice"], alert.id).state is AlertState.ACTIVE
    assert nothing(lines(bob, app, people["series"]))  # not bob's series: nothing read
    drawn = lines(alice, app, people["series"]).get_json()["response"]["chart-alerts"]["data"]
    shown = {"id": alert.id, "price": 90000.0, "label": "90,000.00", "text": alert.text, "note": alert.note}
    assert drawn["alerts"] == [shown]
    assert "Alert cancelled" in said(act(alice, app, people["series"], cancel=alert.id))
    assert alerts.get_alert(runtime, people["alice"], alert.id).state is AlertState.CANCELLED


def test_an_analyst_is_refused_setting_an_alert(app: Dash, runtime: Runtime, people: dict) -> None:
    ana = signed_in(app, "ana")
    assert act(ana, app, people["series"], "90000").status_code == 403
    assert alerts.list_alerts(runtime, people["ana"]) == []


def test_the_toast_shows_a_user_their_own_triggered_alert_once(app: Dash, runtime: Runtime, people: dict) -> None:
    alert = alerts.create_alert(runtime, people["alice"], {"series_id": people["series"], "price": "90000"})
    runtime.trading.last_prices[("demo", "BTC/USDT")] = alert.price
    key = key_of(app, "alert-toasts")
    inputs = [{"id": "alert-toast-poll", "property": "n_intervals", "value": 1}]

    def poll(client: FlaskClient) -> Any:
        return call(client, key, inputs, outputs=outputs_of(key))

    # The stored close is read first: make the ticker the only price by dropping alice's series.
    market.remove_series(runtime, people["alice"], people["series"])
    assert alerts.check_alerts(runtime).triggered == [alert.id]
    assert nothing(poll(signed_in(app, "bob")))
    alice = signed_in(app, "alice")
    assert "BTC/USDT crosses above 90,000.00" in said(poll(alice))
    assert nothing(poll(alice))
