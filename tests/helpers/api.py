"""Helpers of the REST API tests: a desk of two traders and an analyst (paper accounts, a watched
series, one block and one conditional block of the rival's) with tokens of every kind, backtests
of the stored series, a price alert's body, and Bearer requests through the app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from dash import Dash
from flask.testing import FlaskClient

from db.enums import EntryType, Role, Side, SizeMode
from engine.blocks.api import BlockRequest, TargetSpec, submit_block
from engine.conditions.api import create_condition
from engine.exchanges.demo import DemoExchange
from engine.market.api import stored_candles
from engine.market.markets import sync_markets
from engine.replay.api import block_row, run_backtest
from engine.runtime import Runtime
from engine.users.accounts import open_paper_account
from engine.users.tokens import create_token, revoke_token
from tests.helpers.dashboard import app_runtime, make_user, watch_backfilled

# A limit long on the demo market that the paper exchange accepts (demo BTC/USDT trades near 42,000
# at the tests' fixed clock): 0.01 BTC, stop 29,000, one target.
LIMIT_BLOCK = {
    "symbol": "BTC/USDT",
    "side": "long",
    "entry_type": "limit",
    "entry_price": "30000",
    "stop_price": "29000",
    "target_prices": ["31000"],
    "target_shares": [None],
    "size_mode": "base",
    "size_value": "0.01",
}


def make_desk(runtime: Runtime, app: Dash) -> dict[str, Any]:
    """Users, accounts, a series each, the rival's block, and tokens: `<user>_read`, `<user>_trade`,
    `revoked` (the trader's, revoked) and `analyst_read`."""
    runtime.reset_trading()
    runtime.sources["demo"] = app_runtime(app).sources["demo"]
    sync_markets(runtime.sessions, DemoExchange(seed=7))
    desk: dict[str, Any] = {}
    for name, role in (("trader", Role.TRADER), ("rival", Role.TRADER), ("analyst", Role.ANALYST)):
        user = make_user(runtime, name, role)
        desk[name] = user.id
        desk[f"{name}_account"] = open_paper_account(runtime.sessions, user.id, "Paper").id
        desk[f"{name}_series"] = watch_backfilled(runtime, user.id).id
        desk[f"{name}_read"] = create_token(runtime, user.id, f"{name} read", "read").token
        if role is Role.TRADER:
            desk[f"{name}_trade"] = create_token(runtime, user.id, f"{name} trade", "trade").token
    revoked = create_token(runtime, desk["trader"], "old", "trade")
    revoke_token(runtime, desk["trader"], revoked.view.id)
    desk["revoked"] = revoked.token
    req = BlockRequest(
        "BTC/USDT", Side.LONG, EntryType.LIMIT, Decimal("30000"), Decimal("29000"),
        (TargetSpec(Decimal("31000")),), SizeMode.BASE, Decimal("0.01"),
    )  # fmt: skip
    desk["rival_block"] = submit_block(runtime, desk["rival"], desk["rival_account"], req)
    desk["rival_condition"] = create_condition(runtime, desk["rival"], condition_body(desk["rival_account"]))
    return desk


def condition_body(account_id: int) -> dict[str, Any]:
    """A block that waits until tomorrow (at_time), as POST /conditions takes it."""
    at = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    return {"kind": "at_time", "account_id": account_id, "at": at, "block": LIMIT_BLOCK}


def alert_body(series_id: int) -> dict[str, Any]:
    """A price alert far above the demo BTC/USDT (near 42,000 at the tests' clock), as POST /alerts takes it."""
    return {"series_id": series_id, "price": "90000", "note": "moon"}


def backtest_body(runtime: Runtime) -> dict[str, Any]:
    """Ten minutes of the desk's stored demo BTC/USDT 1m candles with one block (LIMIT_BLOCK's), as
    POST /backtests takes it."""
    first = int(stored_candles(runtime, "demo", "BTC/USDT", "1m", 0, 2**62)[0, 0])
    block = {k: v for k, v in LIMIT_BLOCK.items() if not k.startswith("target")}
    block = {**block, "time": first, "targets": [{"price": "31000"}]}
    return {"exchange": "demo", "timeframe": "1m", "end": first + 600_000, "blocks": [block]}


def backtest_of(runtime: Runtime, user_id: int) -> int:
    """A finished backtest of `user_id` (backtest_body's), run synchronously through the engine."""
    body = backtest_body(runtime)
    row = block_row(0, {**body["blocks"][0], "target_prices": ["31000"], "target_shares": [None]})
    assert not isinstance(row, list), row
    return run_backtest(runtime, user_id, [row], "demo", "1m", end_ms=body["end"]).id


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def api(client: FlaskClient, method: str, path: str, token: str | None, body: Any = None, **kw: Any) -> Any:
    """One API call with `token` (None: no Authorization header)."""
    send = getattr(client, method.lower())
    if body is not None:
        kw["json"] = body
    return send(f"/api/v1{path}", headers={**bearer(token), **kw.pop("headers", {})}, **kw)
