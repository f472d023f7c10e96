"""The REST API's price alerts: set (201, at the market's tick, in words), listed by state and
cancelled; a refused alert answers 422 with a message per field and writes nothing; another
user's alert answers 404 and stays active."""

from __future__ import annotations

from typing import Any

import pytest
from dash import Dash

from engine.config import Settings
from engine.runtime import Runtime
from tests.helpers.api import alert_body, api, make_desk
from tests.helpers.dashboard import build_app


@pytest.fixture(scope="module")
def app(test_settings: Settings, runtime_session: Runtime) -> Dash:
    return build_app(test_settings)


@pytest.fixture
def desk(runtime: Runtime, app: Dash) -> dict[str, Any]:
    return make_desk(runtime, app)


def test_an_alert_is_set_listed_and_cancelled(app: Dash, desk: dict) -> None:
    client, token = app.server.test_client(), desk["trader_trade"]
    saved = api(client, "POST", "/alerts", token, {**alert_body(desk["trader_series"]), "price": "90000.123"})
    assert saved.status_code == 201, saved.get_json()
    alert = saved.get_json()
    assert (alert["state"], alert["direction"], alert["note"]) == ("active", "above", "moon")
    assert alert["text"] == "BTC/USDT crosses above 90,000.12"
    assert alert["price"] == "90000.12"
    listed = api(client, "GET", "/alerts?state=active", desk["trader_read"]).get_json()["alerts"]
    assert [a["id"] for a in listed] == [alert["id"]]
    cancelled = api(client, "DELETE", f"/alerts/{alert['id']}", token)
    assert cancelled.get_json()["state"] == "cancelled"
    assert api(client, "GET", "/alerts?state=active", token).get_json()["alerts"] == []
    assert [a["state"] for a in api(client, "GET", "/alerts", token).get_json()["alerts"]] == ["cancelled"]


def test_a_bad_alert_is_refused_at_its_fields_and_writes_nothing(app: Dash, desk: dict) -> None:
    client, token = app.server.test_client(), desk["trader_trade"]
    answer = api(client, "POST", "/alerts", token, {"series_id": 999_999, "price": "1,000"})
    assert answer.status_code == 422
    fields = answer.get_json()["fields"]
    assert "watchlist" in fields["series_id"]
    assert "positive number" in fields["price"]
    past = api(client, "POST", "/alerts", token, {**alert_body(desk["trader_series"]), "direction": "below"})
    assert past.status_code == 422
    assert "already below" in past.get_json()["fields"]["price"]
    assert api(client, "GET", "/alerts", token).get_json()["alerts"] == []


def test_another_users_alert_answers_404_and_stays_active(app: Dash, desk: dict) -> None:
    client = app.server.test_client()
    theirs = api(client, "POST", "/alerts", desk["rival_trade"], alert_body(desk["rival_series"])).get_json()
    gone = api(client, "DELETE", f"/alerts/{theirs['id']}", desk["trader_trade"])
    assert (gone.status_code, gone.get_json()["error"]) == (404, "No such alert of yours.")
    assert api(client, "GET", "/alerts", desk["trader_read"]).get_json()["alerts"] == []
    (kept,) = api(client, "GET", "/alerts", desk["rival_read"]).get_json()["alerts"]
    assert kept["state"] == "active"
