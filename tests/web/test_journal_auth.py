"""Authorization of the journal page at the HTTP level: analysts are refused (403) the page and every
journal callback; a trader's crafted requests cannot list, read or edit another trader's trades or
journal fields (block ids come from the browser and are checked on the server)."""

from __future__ import annotations

import pytest
from dash import Dash
from sqlalchemy import select

from db.enums import Role
from db.models import Block, BlockTag
from engine.config import Settings
from engine.journal.api import save_journal
from engine.runtime import Runtime
from tests.helpers.dashboard import (
    app_runtime,
    body_of,
    build_app,
    callback_bodies,
    make_user,
    post,
    route,
    signed_in,
)
from tests.helpers.portfolio import add_account, add_trade, ms

# Outputs of the journal's callbacks (a name in the callback's output key): traders' and admins' only.
JOURNAL_TRADER_OUTPUTS = ("jr-grid.rowData", "jr-block.data", "jr-message.children")


@pytest.fixture(scope="module")
def app(test_settings: Settings, runtime_session: Runtime) -> Dash:
    return build_app(test_settings)


@pytest.fixture
def desk(runtime: Runtime, app: Dash) -> dict[str, int]:
    """A trader and a rival with a closed trade each (the rival's block has a journal), an analyst."""
    ids: dict[str, int] = {}
    for name, role in (("trader", Role.TRADER), ("rival", Role.TRADER), ("analyst", Role.ANALYST)):
        ids[name] = make_user(app_runtime(app), name, role).id
    for name in ("trader", "rival"):
        account = add_account(runtime.sessions, ids[name])
        ids[f"{name}_trade"] = add_trade(
            runtime.sessions, ids[name], account, ms("2024-05-01 10:00"), [(ms("2024-05-01 12:00"), "105")]
        )
        with runtime.sessions() as s:
            ids[f"{name}_block"] = int(s.scalar(select(Block.id).where(Block.user_id == ids[name])) or 0)
    save_journal(runtime, ids["rival"], ids["rival_block"], "Secret setup", "private notes", "mine")
    return ids


def test_analysts_are_refused_the_page_and_every_journal_callback(app: Dash, desk: dict) -> None:
    analyst, trader = signed_in(app, "analyst"), signed_in(app, "trader")
    seen = set()
    for key, body in callback_bodies(app):
        if not any(name in key for name in JOURNAL_TRADER_OUTPUTS):
            continue
        seen.update(name for name in JOURNAL_TRADER_OUTPUTS if name in key)
        assert analyst.post("/_dash-update-component", json=body).status_code == 403, key
        assert trader.post("/_dash-update-component", json=body).status_code in (200, 204), key
    assert seen == set(JOURNAL_TRADER_OUTPUTS)
    assert analyst.get("/journal").status_code == 403
    assert route(analyst, "/journal").status_code == 403
    assert trader.get("/journal").status_code == 200


def test_a_trader_lists_only_their_own_trades(app: Dash, desk: dict) -> None:
    body = body_of(app, "jr-grid.rowData")
    rows = post(signed_in(app, "trader"), body)["jr-grid"]["rowData"]
    assert [r["trade_id"] for r in rows] == [desk["trader_trade"]]
    # The rival's setup and tag are not offered as filter options either.
    answer = post(signed_in(app, "trader"), body)
    assert answer["jr-setup"]["options"] == []
    assert answer["jr-tag"]["options"] == []


def test_a_trader_cannot_read_another_traders_journal(app: Dash, desk: dict) -> None:
    body = body_of(app, "jr-block.data")
    body["inputs"][0]["value"] = [{"block_id": desk["rival_block"], "trade_id": desk["rival_trade"]}]
    answer = post(signed_in(app, "trader"), body)
    assert "not one of yours" in str(answer["jr-message"]["children"])
    assert "Secret" not in str(answer)
    assert "private" not in str(answer)
    assert answer["jr-block"]["data"] is None
    mine = post(signed_in(app, "rival"), body)
    assert mine["jr-setup-input"]["value"] == "Secret setup"


def save_body(app: Dash, block_id: int, setup: str, tags: str) -> dict:
    body = body_of(app, "jr-message.children@")
    body["inputs"][0]["value"] = 1
    values = {"jr-block": block_id, "jr-setup-input": setup, "jr-tags-input": tags, "jr-notes-input": "n"}
    for arg in body["state"]:
        if arg["id"] in values:
            arg["value"] = values[arg["id"]]
    return body


def journal(runtime: Runtime, block_id: int) -> tuple[str | None, set[str]]:
    with runtime.sessions() as s:
        block = s.get(Block, block_id)
        assert block is not None
        return block.setup, set(s.scalars(select(BlockTag.tag).where(BlockTag.block_id == block_id)))


def test_a_trader_cannot_edit_another_traders_journal(app: Dash, desk: dict) -> None:
    runtime = app_runtime(app)
    answer = post(signed_in(app, "trader"), save_body(app, desk["rival_block"], "Overwritten", "pwned"))
    assert "not one of yours" in str(answer["jr-message"]["children"])
    assert journal(runtime, desk["rival_block"]) == ("Secret setup", {"mine"})
    # Their own block: saved, tags cleaned.
    answer = post(signed_in(app, "trader"), save_body(app, desk["trader_block"], " Breakout ", "News, news"))
    assert "Saved" in str(answer["jr-message"]["children"])
    assert journal(runtime, desk["trader_block"]) == ("Breakout", {"news"})


def test_a_refused_field_is_named_at_the_field(app: Dash, desk: dict) -> None:
    answer = post(signed_in(app, "trader"), save_body(app, desk["trader_block"], "ok", "x" * 41))
    assert answer["jr-tags-input"]["invalid"] is True
    assert answer["jr-setup-input"]["invalid"] is False
    assert "at most 40 characters" in answer["jr-tags-feedback"]["children"]
    assert journal(app_runtime(app), desk["trader_block"]) == (None, set())
