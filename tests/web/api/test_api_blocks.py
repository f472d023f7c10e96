"""The REST API's behaviour on the paper exchange: a block placed through the API is sent and shows
its orders (and, for a market entry, its fill); a refused block answers 422 with the engine's
message at each field and writes no row; preview writes nothing; cancel cancels; candles are
point-budgeted like the chart; the calendar and statistics answer for the caller's timezone."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from dash import Dash
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from db.models import Block, Order, Trade
from engine.config import Settings
from engine.runtime import Runtime
from tests.helpers.api import LIMIT_BLOCK, api, make_desk
from tests.helpers.dashboard import app_runtime, build_app
from tests.helpers.portfolio import add_trade, ms


@pytest.fixture(scope="module")
def app(test_settings: Settings, runtime_session: Runtime) -> Dash:
    return build_app(test_settings)


@pytest.fixture
def desk(runtime: Runtime, app: Dash) -> dict[str, Any]:
    return make_desk(runtime, app)


@pytest.fixture
def client(app: Dash) -> FlaskClient:
    return app.server.test_client()


def rows(runtime: Runtime) -> tuple[int, int, int]:
    with runtime.sessions() as s:
        return tuple(int(s.scalar(select(func.count()).select_from(t)) or 0) for t in (Block, Trade, Order))  # type: ignore[return-value]


def block(desk: dict, **changes: Any) -> dict[str, Any]:
    return {**LIMIT_BLOCK, "account_id": desk["trader_account"], **changes}


def test_a_limit_block_placed_through_the_api_is_sent_with_its_orders(client: FlaskClient, desk: dict) -> None:
    two_targets = block(desk, target_prices=["31000", "32000"], target_shares=[50, 50], size_value="0.02")
    placed = api(client, "POST", "/blocks", desk["trader_trade"], two_targets)
    assert placed.status_code == 201, placed.get_json()
    detail = placed.get_json()
    assert detail["block"]["symbol"] == "BTC/USDT"
    assert Decimal(detail["block"]["total_amount"]) == Decimal("0.02")  # exact, as a decimal string
    assert [Decimal(t["target_price"]) for t in detail["block"]["trades"]] == [31000, 32000]
    entries = [o for o in detail["orders"] if o["role"] == "entry"]
    assert len(entries) == 2
    assert {o["status"] for o in entries} == {"accepted"}  # sent to the paper exchange at once
    assert {Decimal(o["price"]) for o in entries} == {30000}
    again = api(client, "GET", f"/blocks/{detail['block']['id']}", desk["trader_read"]).get_json()
    assert again["orders"] == detail["orders"]
    listed = api(client, "GET", "/blocks?status=live", desk["trader_read"]).get_json()["blocks"]
    assert [b["id"] for b in listed] == [detail["block"]["id"]]
    assert api(client, "GET", "/blocks?status=closed", desk["trader_read"]).get_json()["blocks"] == []


def test_a_market_block_fills_and_its_fill_is_listed(client: FlaskClient, desk: dict) -> None:
    market = block(desk, entry_type="market", entry_price=None, stop_price="30000", target_prices=["60000"])
    placed = api(client, "POST", "/blocks", desk["trader_trade"], market)
    assert placed.status_code == 201, placed.get_json()
    detail = placed.get_json()
    assert [f["role"] for f in detail["fills"]] == ["entry"]
    assert Decimal(detail["fills"][0]["amount"]) == Decimal("0.01")
    assert detail["block"]["status"] == "active"
    positions = api(client, "GET", "/positions", desk["trader_read"]).get_json()["positions"]
    assert [p["block_id"] for p in positions] == [detail["block"]["id"]]


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"stop_price": "30500"}, "stop_price", "below"),  # a long's stop above its entry: the planner
        ({"entry_price": "1,000"}, "entry_price", "could mean"),  # the form's parser
        ({"symbol": "NOPE/USDT"}, "symbol", "not a market"),
        ({"size_value": None}, "size_value", "size"),
        ({"side": "LONG"}, "side", "long"),  # the schema: a choice by its exact value
        ({"breakeven": "yes"}, "breakeven", "boolean"),
    ],
)
def test_a_refused_block_writes_no_row_and_names_the_field(
    client: FlaskClient, desk: dict, runtime: Runtime, changes: dict, field: str, words: str
) -> None:
    before = rows(runtime)
    refused = api(client, "POST", "/blocks", desk["trader_trade"], block(desk, **changes))
    assert refused.status_code == 422
    answer = refused.get_json()
    assert field in answer["fields"], answer
    assert words.lower() in answer["fields"][field].lower(), answer
    assert rows(runtime) == before


def test_a_body_that_is_not_json_is_refused_with_each_missing_field(client: FlaskClient, desk: dict) -> None:
    refused = api(
        client, "POST", "/blocks", desk["trader_trade"], data="side=long", headers={"Content-Type": "text/plain"}
    )
    assert refused.status_code == 422
    assert {"account_id", "symbol", "side", "entry_type", "size_mode"} <= set(refused.get_json()["fields"])


def test_preview_sizes_the_block_and_writes_nothing(client: FlaskClient, desk: dict, runtime: Runtime) -> None:
    before = rows(runtime)
    shown = api(client, "POST", "/blocks/preview", desk["trader_read"], block(desk)).get_json()
    assert Decimal(shown["size"]) == Decimal("0.01")
    assert Decimal(shown["risk"]) == 10  # 0.01 x (30,000 - 29,000)
    assert shown["errors"] == []
    assert shown["protection"].startswith("The stop rests on the paper account")  # what the form says too
    bad = api(client, "POST", "/blocks/preview", desk["trader_read"], block(desk, stop_price="31000")).get_json()
    assert [e["field"] for e in bad["errors"]] == ["stop_price"]
    assert rows(runtime) == before


def test_cancel_through_the_api(client: FlaskClient, desk: dict) -> None:
    placed = api(client, "POST", "/blocks", desk["trader_trade"], block(desk)).get_json()
    block_id = placed["block"]["id"]
    done = api(client, "POST", f"/blocks/{block_id}/cancel", desk["trader_trade"], {"close_positions": False})
    assert done.status_code == 200
    assert done.get_json() == {"block_id": block_id, "before": "pending", "after": "canceled", "open_trades": 0}
    detail = api(client, "GET", f"/blocks/{block_id}", desk["trader_read"]).get_json()
    assert {o["status"] for o in detail["orders"]} == {"canceled"}


def test_candles_stay_within_the_point_budget(client: FlaskClient, desk: dict, runtime: Runtime) -> None:
    path = f"/series/{desk['trader_series']}/candles"
    recent = api(client, "GET", path, desk["trader_read"]).get_json()
    assert recent["timeframe"] == "1m"
    assert 0 < len(recent["ts"]) <= runtime.settings.point_budget
    assert len(recent["open"]) == len(recent["ts"])
    wide = api(client, "GET", f"{path}?start=0&end={recent['ts'][-1] + 60_000}", desk["trader_read"]).get_json()
    assert len(wide["ts"]) <= runtime.settings.point_budget
    assert (wide["coarser"], wide["requested"]) == (True, "1m")
    bad = api(client, "GET", f"{path}?start=-1", desk["trader_read"])
    assert bad.status_code == 422
    assert "start" in bad.get_json()["fields"]
    series = api(client, "GET", "/series", desk["trader_read"]).get_json()["series"]
    assert [(s["series_id"], s["symbol"]) for s in series] == [(desk["trader_series"], "BTC/USDT")]


def test_reads_run_a_few_statements(client: FlaskClient, desk: dict, app: Dash) -> None:
    """Every call authenticates in one query (the token with its user) and a series' access check
    reads that one entry: the API's latency under 50 clients is mostly the statements it runs."""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.append(statement)

    paths = {"/blocks?status=all": 3, "/accounts": 5, "/positions": 4, f"/series/{desk['trader_series']}/candles": 4}
    db = app_runtime(app).db
    api(client, "GET", "/me", desk["trader_read"])  # stamps the token's last use (once a minute)
    event.listen(db, "before_cursor_execute", count)
    try:
        for path, most in paths.items():
            statements.clear()
            assert api(client, "GET", path, desk["trader_read"]).status_code == 200
            assert len(statements) <= most, (path, statements)
    finally:
        event.remove(db, "before_cursor_execute", count)


# What a creation runs with the engine off (as in a web worker that runs none), a resting limit
# long on the paper venue: the token (1); the account, market, its margin and the balance (4); the
# epoch and the block, trade and intent (4); the sync of the block: its symbols, the feed cursor and
# its live orders (3), the send (13: claim with the entry check and the epoch, the block, the paper
# venue's 6, the answer), the settlement (4); the detail it answers with (5).
CREATION_STATEMENTS = 34
LIST_STATEMENTS = 4  # the token; the blocks with their exchange, their trades, their funding


def test_a_creation_and_the_block_list_run_a_pinned_number_of_statements(
    client: FlaskClient, desk: dict, app: Dash
) -> None:
    """Pinned, so that a statement added to the API's hottest paths is a decision, not a drift: under
    50 clients the latency is mostly the work per request (docs/benchmarks.md, issue 13)."""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.append(statement)

    # Not counted: the first use builds the paper venue and stamps the token's last use.
    assert api(client, "POST", "/blocks", desk["trader_trade"], block(desk)).status_code == 201
    db = app_runtime(app).db
    event.listen(db, "before_cursor_execute", count)
    try:
        placed = api(client, "POST", "/blocks", desk["trader_trade"], block(desk))
        assert placed.status_code == 201, placed.get_json()
        assert len(statements) == CREATION_STATEMENTS, statements
        statements.clear()
        listed = api(client, "GET", "/blocks?status=all", desk["trader_trade"])
        assert len(listed.get_json()["blocks"]) == 2
        assert len(statements) == LIST_STATEMENTS, statements
    finally:
        event.remove(db, "before_cursor_execute", count)


def test_calendar_and_statistics_of_a_period(client: FlaskClient, desk: dict) -> None:
    month = api(client, "GET", "/calendar?view=month&date=2024-02-10", desk["analyst_read"]).get_json()
    assert (month["first"], month["last"], len(month["days"])) == ("2024-02-01", "2024-02-29", 29)
    assert (month["pnl"], month["trades"]) == ("0", 0)
    week = api(client, "GET", "/calendar?view=week&date=2024-02-10", desk["analyst_read"]).get_json()
    assert [d["day"] for d in week["days"]][::6] == ["2024-02-05", "2024-02-11"]  # Monday to Sunday
    stats = api(client, "GET", "/stats?view=year&date=2024-02-10&unit=r", desk["analyst_read"]).get_json()
    assert (stats["first"], stats["last"], stats["unit"], stats["trades"]) == ("2024-01-01", "2024-12-31", "r", 0)
    bad = api(client, "GET", "/calendar?view=decade", desk["analyst_read"])
    assert bad.status_code == 422
    assert "view" in bad.get_json()["fields"]


def test_calendar_and_statistics_carry_the_booked_trades(client: FlaskClient, desk: dict, runtime: Runtime) -> None:
    account = desk["analyst_account"]
    add_trade(runtime.sessions, desk["analyst"], account, ms("2024-02-05 10:00"), [(ms("2024-02-05 12:00"), "110")])
    add_trade(runtime.sessions, desk["analyst"], account, ms("2024-02-07 10:00"), [(ms("2024-02-08 09:00"), "95")])
    month = api(client, "GET", "/calendar?date=2024-02-01", desk["analyst_read"]).get_json()
    booked = {d["day"]: (Decimal(d["pnl"]), d["trades"]) for d in month["days"] if d["trades"]}
    assert booked == {"2024-02-05": (10, 1), "2024-02-08": (-5, 1)}
    assert (Decimal(month["pnl"]), month["trades"]) == (5, 2)
    stats = api(client, "GET", "/stats?date=2024-02-01", desk["analyst_read"]).get_json()
    assert (stats["trades"], Decimal(stats["net_pnl"]), Decimal(stats["win_rate"])) == (2, 5, Decimal("0.5"))
    assert {k: Decimal(v) for k, v in stats["by_symbol"].items()} == {"BTC/USDT": 5}
    in_r = api(client, "GET", "/stats?date=2024-02-01&unit=r", desk["analyst_read"]).get_json()
    assert Decimal(in_r["net_pnl"]) == Decimal("0.5")  # +1 R and -0.5 R (risk 10 each)


def test_an_amend_through_the_api_moves_the_stop_and_a_refused_one_says_why(
    client: FlaskClient, desk: dict, runtime: Runtime
) -> None:
    placed = api(client, "POST", "/blocks", desk["trader_trade"], block(desk)).get_json()
    block_id = placed["block"]["id"]
    moved = api(client, "PATCH", f"/blocks/{block_id}", desk["trader_trade"], {"stop_price": "29500", "size": "0,02"})
    assert moved.status_code == 200, moved.get_json()
    detail = moved.get_json()
    assert [Decimal(t["stop_price"]) for t in detail["block"]["trades"]] == [29500]
    assert [Decimal(t["amount"]) for t in detail["block"]["trades"]] == [Decimal("0.02")]  # "0,02" read as 0.02
    live = [o for o in detail["orders"] if o["role"] == "entry" and o["status"] == "accepted"]
    assert [(o["client_order_id"][-7:], Decimal(o["amount"])) for o in live] == [("entry-2", Decimal("0.02"))]
    before = rows(runtime)
    refused = api(
        client,
        "PATCH",
        f"/blocks/{block_id}",
        desk["trader_trade"],
        {"stop_price": "30500", "targets": [{"index": 0, "price": "29999.999"}]},
    )
    assert refused.status_code == 422
    answer = refused.get_json()
    assert answer["error"] == "The amend was refused: see the message at each field."
    assert set(answer["fields"]) == {"stop_price", "targets[0].price"}
    assert "below the entry 30,000.00 for a long" in answer["fields"]["stop_price"]
    assert rows(runtime) == before
