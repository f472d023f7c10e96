"""The calendar's account picker at the HTTP level: the page's callbacks show the picked account's
figures only when it is the signed-in user's; another user's account id (a value the picker never
offered) gets the user's own default figures and a word at the field, never the other's numbers;
an export of another's account sends nothing."""

from __future__ import annotations

import json

import pytest
from dash import Dash

from db.enums import Role
from engine.config import Settings
from engine.runtime import Runtime
from pages.components.calendar_accounts import NOT_YOURS
from tests.helpers.dashboard import body_of, build_app, make_user, post, signed_in
from tests.helpers.portfolio import add_account, add_replay_account, add_trade, ms


@pytest.fixture(scope="module")
def app(test_settings: Settings, runtime_session: Runtime) -> Dash:
    return build_app(test_settings)


def calendar(app: Dash, client, account: str) -> dict:  # type: ignore[no-untyped-def]
    body = body_of(app, "cal-account-note")
    values = {"cal-anchor": "2025-06-01", "cal-view": "month", "cal-mode": "money", "cal-account": account}
    for arg in body["inputs"]:
        if arg["id"] in values:
            arg["value"] = values[arg["id"]]
    return post(client, body)


def seeded(runtime: Runtime) -> tuple[int, int]:
    """owner: +7 on paper and +300 on a replay account on 2 June 2025; other: nothing."""
    owner = make_user(runtime, "owner", Role.TRADER).id
    make_user(runtime, "other", Role.TRADER)
    paper = add_account(runtime.sessions, owner)
    replay = add_replay_account(runtime.sessions, owner, "Backtest #3")
    add_trade(runtime.sessions, owner, paper, ms("2025-06-02 09:00"), [(ms("2025-06-02 10:00"), "107")])
    add_trade(runtime.sessions, owner, replay, ms("2025-06-02 09:00"), [(ms("2025-06-02 10:00"), "400")])
    return paper, replay


def test_the_picked_account_is_shown_only_to_its_owner(app: Dash, runtime: Runtime) -> None:
    _, replay = seeded(runtime)
    owner = signed_in(app, "owner")
    default = json.dumps(calendar(app, owner, "all"))
    assert "+7.00" in default
    assert "+300.00" not in default  # the replay is practice: not in the default figures
    alone = calendar(app, owner, str(replay))
    assert "+300.00" in json.dumps(alone["cal-body"])
    assert alone["cal-account-note"]["children"] == ""

    other = calendar(app, signed_in(app, "other"), str(replay))
    assert other["cal-account-note"]["children"] == NOT_YOURS
    assert "+300.00" not in json.dumps(other)  # their own (empty) month instead


def test_an_export_of_another_users_account_sends_nothing(app: Dash, runtime: Runtime) -> None:
    _, replay = seeded(runtime)
    body = body_of(app, "cal-download-xlsx")
    for arg in body["inputs"]:
        arg["value"] = 1 if arg["id"] == "cal-export-trades" else 0
    body["changedPropIds"] = ["cal-export-trades.n_clicks"]
    states = {"cal-anchor": "2025-06-01", "cal-view": "month", "cal-account": str(replay)}
    for arg in body["state"]:
        arg["value"] = states.get(arg["id"], arg["value"])
    assert post(signed_in(app, "other"), body) == {}  # nothing sent
    sent = post(signed_in(app, "owner"), body)["cal-download"]["data"]
    assert sent["content"].count("\n") == 2  # the header and the replay's one trade
    assert ",300" in sent["content"]
