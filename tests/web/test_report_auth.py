"""The calendar page's report and xlsx downloads at the HTTP level: refused to anonymous requests,
and a signed-in user gets their own report whatever the browser sends (the user is the session's)."""

from __future__ import annotations

import base64

import pypdfium2
import pytest
from dash import Dash

from db.enums import Role
from engine.config import Settings
from engine.runtime import Runtime
from tests.helpers.dashboard import build_app, call, login, make_user
from tests.helpers.portfolio import add_account
from tests.reports.conftest import seed_year


@pytest.fixture(scope="module")
def app(test_settings: Settings, runtime_session: Runtime) -> Dash:
    return build_app(test_settings)


def ask_report(client, anchor: str = "2025-06-01", account: str = "all"):  # type: ignore[no-untyped-def]
    return call(
        client,
        "cal-download-report.data",
        [{"id": "cal-report", "property": "n_clicks", "value": 1}],
        [
            {"id": "cal-anchor", "property": "data", "value": anchor},
            {"id": "cal-view", "property": "value", "value": "year"},
            {"id": "cal-account", "property": "value", "value": account},
        ],
        outputs={"id": "cal-download-report", "property": "data"},
    )


def test_only_the_signed_in_user_gets_their_own_report(app: Dash, runtime: Runtime) -> None:
    owner = make_user(runtime, "owner", Role.TRADER)
    make_user(runtime, "other", Role.TRADER)
    seed_year(runtime, owner.id, add_account(runtime.sessions, owner.id), 2025, per_day=1, step=10)

    anonymous = app.server.test_client()
    assert ask_report(anonymous).status_code == 401

    texts = {}
    for name in ("owner", "other"):
        client = app.server.test_client()
        assert login(client, name).status_code == 302
        response = ask_report(client)
        assert response.status_code == 200
        data = response.get_json()["response"]["cal-download-report"]["data"]
        assert data["filename"] == "tradeblock-report-2025-01-01-2025-12-31.pdf"
        doc = pypdfium2.PdfDocument(base64.b64decode(data["content"]))
        texts[name] = " ".join(doc[0].get_textpage().get_text_range().split())
        doc.close()
    assert "Trader owner" in texts["owner"]
    assert "NET P&L" in texts["owner"]
    assert "Trader other" in texts["other"]
    assert "No trade closed between" in texts["other"]  # not the owner's figures


def test_a_report_of_another_users_account_is_refused(app: Dash, runtime: Runtime) -> None:
    owner = make_user(runtime, "owner", Role.TRADER)
    make_user(runtime, "other", Role.TRADER)
    account = add_account(runtime.sessions, owner.id)
    seed_year(runtime, owner.id, account, 2025, per_day=1, step=10)
    client = app.server.test_client()
    assert login(client, "other").status_code == 302
    refused = ask_report(client, account=str(account))
    assert refused.get_json()["response"] == {}  # nothing sent (the running outputs make it a 200)
    client = app.server.test_client()
    assert login(client, "owner").status_code == 302
    mine = ask_report(client, account=str(account)).get_json()["response"]["cal-download-report"]["data"]
    doc = pypdfium2.PdfDocument(base64.b64decode(mine["content"]))
    assert "NET P&L" in " ".join(doc[0].get_textpage().get_text_range().split())
    doc.close()


def test_an_admin_downloads_the_chosen_users_report_and_trades_and_a_trader_cannot(app: Dash, runtime: Runtime) -> None:
    owner = make_user(runtime, "owner", Role.TRADER)
    make_user(runtime, "boss", Role.ADMIN)
    seed_year(runtime, owner.id, add_account(runtime.sessions, owner.id), 2025, per_day=1, step=10)
    state = [
        {"id": "adm-cal-user", "property": "value", "value": str(owner.id)},
        {"id": "adm-cal-anchor", "property": "data", "value": "2025-06-01"},
        {"id": "adm-cal-view", "property": "value", "value": "year"},
    ]
    report = ("adm-cal-download-report.data", [{"id": "adm-cal-report", "property": "n_clicks", "value": 1}])
    clients = {}
    for name in ("boss", "owner"):
        clients[name] = app.server.test_client()
        assert login(clients[name], name).status_code == 302
    refused = call(clients["owner"], *report, state, outputs={"id": "adm-cal-download-report", "property": "data"})
    assert refused.status_code == 403  # the owner is a trader: the admin page's callbacks are not theirs

    response = call(clients["boss"], *report, state, outputs={"id": "adm-cal-download-report", "property": "data"})
    assert response.status_code == 200
    doc = pypdfium2.PdfDocument(
        base64.b64decode(response.get_json()["response"]["adm-cal-download-report"]["data"]["content"])
    )
    text = " ".join(doc[0].get_textpage().get_text_range().split())
    doc.close()
    assert "Trader owner" in text  # the chosen user's report, not the admin's

    buttons = [{"id": f"adm-cal-{suffix}", "property": "n_clicks", "value": 0} for suffix in
               ("export-trades", "export-trades-xlsx", "export-daily", "export-daily-xlsx")]  # fmt: skip
    buttons[0]["value"] = 1
    outputs = [{"id": "adm-cal-download", "property": "data"}, {"id": "adm-cal-download-xlsx", "property": "data"}]
    trades = call(clients["boss"], "..adm-cal-download.data...adm-cal-download-xlsx.data..", buttons, state, outputs)
    assert trades.status_code == 200
    sent = trades.get_json()["response"]["adm-cal-download"]["data"]
    assert sent["filename"].endswith(".csv")
    assert sent["content"].count("\n") == 38  # the header and the 37 trades seeded for the owner (every 10th day)
