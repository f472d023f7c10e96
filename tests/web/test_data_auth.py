"""Authorization of the data page at the HTTP level: every signed-in user reads the inventory and
downloads a range (market data is shared), only traders and admins start a repair or backfill (an
analyst's crafted request is refused 403 and records no job), and a crafted unknown series id is
answered with a message, never a job row."""

from __future__ import annotations

import time

import pytest
from dash import Dash
from sqlalchemy import func, select

from db.enums import Role
from db.models import DataJob
from engine.config import Settings
from engine.market.rollups import ingest_candles
from engine.runtime import Runtime
from tests.helpers.candles import MIN, candles, new_series
from tests.helpers.dashboard import NOW, app_runtime, body_of, build_app, make_user, post, route, signed_in

# Output keys of the data page's callbacks that only traders and admins may call: starting a job
# (its message and the poll; the detail's poll clears the message too, so both are named).
DATA_TRADER_OUTPUTS = (
    "dt-job-message.children...dt-poll.disabled",
    "dt-import-filename.children",  # the import card's: the chosen file, the start, its progress
    "dt-import-message.children...dt-import-job.data",
    "dt-import-progress.value",
)


@pytest.fixture(scope="module")
def app(test_settings: Settings, runtime_session: Runtime) -> Dash:
    return build_app(test_settings)


@pytest.fixture
def desk(runtime: Runtime, app: Dash) -> dict[str, int]:
    """A trader, an analyst and a stored 1m series with a 10-candle gap, ending before NOW."""
    ids = {name: make_user(app_runtime(app), name, role).id for name, role in
           (("trader", Role.TRADER), ("analyst", Role.ANALYST))}  # fmt: skip
    ids["series"] = new_series(runtime)
    start = NOW - NOW % MIN - 200 * MIN
    rows = [r for i, r in enumerate(candles(200, start=start)) if not 50 <= i < 60]
    with runtime.db.begin() as conn:
        ingest_candles(conn, ids["series"], "1m", rows)
    return ids


def jobs(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(DataJob)) or 0)


def start_body(app: Dash, series_id: int) -> dict:
    body = body_of(app, DATA_TRADER_OUTPUTS[0])
    body["inputs"][0]["value"] = 1  # Repair gaps pressed
    body["inputs"][1]["value"] = 0
    body["changedPropIds"] = ["dt-repair.n_clicks"]
    body["state"][0]["value"] = [{"series_id": series_id, "row_id": str(series_id)}]
    return body


def test_an_analyst_reads_the_inventory_and_downloads_but_cannot_start_a_job(app: Dash, desk: dict) -> None:
    runtime = app_runtime(app)
    analyst = signed_in(app, "analyst")
    assert analyst.get("/data").status_code == 200
    assert route(analyst, "/data").status_code == 200
    rows = post(analyst, body_of(app, "dt-grid.rowData"))["dt-grid"]["rowData"]
    assert [(r["symbol"], r["missing"]) for r in rows] == [("BTC/USDT", "10")]
    download = body_of(app, "dt-download.data")
    download["inputs"][0]["value"] = 1
    values = {"dt-grid": [{"series_id": desk["series"]}], "dt-level": "1m", "dt-format": ".csv"}
    for arg in download["state"]:
        arg["value"] = values.get(arg["id"])
    sent = post(analyst, download)["dt-download"]["data"]
    assert sent["filename"] == "demo_BTC-USDT_1m.csv"
    assert analyst.post("/_dash-update-component", json=start_body(app, desk["series"])).status_code == 403
    assert jobs(runtime) == 0


def test_a_trader_starts_a_repair_and_an_unknown_series_is_refused_with_a_message(app: Dash, desk: dict) -> None:
    runtime = app_runtime(app)
    trader = signed_in(app, "trader")
    refused = post(trader, start_body(app, 999_999))
    assert "no stored series" in str(refused["dt-job-message"]["children"])
    assert jobs(runtime) == 0
    started = post(trader, start_body(app, desk["series"]))
    assert "running" in str(started["dt-job-message"]["children"])
    assert started["dt-poll"]["disabled"] is False
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with runtime.sessions() as session:
            job = session.scalars(select(DataJob)).one()
            if job.status != "running":
                break
        time.sleep(0.1)
    assert (job.status, job.user_id) == ("done", desk["trader"])
    rows = post(trader, body_of(app, "dt-grid.rowData"))["dt-grid"]["rowData"]
    assert rows[0]["missing"] == "0"  # the demo exchange had the 10 candles
