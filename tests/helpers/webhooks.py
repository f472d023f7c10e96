"""Helpers of the webhook tests: a trader's paper account with a webhook and a saved template,
and TradingView-format alert bodies at the feed's clock."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from engine.runtime import Runtime
from engine.webhooks.api import Outcome, receive, rotate_secret, save_template

TV_IP = "52.89.214.238"  # one of TradingView's published senders
TEMPLATE = {
    "side": "alert",
    "entry_type": "market",
    "price_mode": "distance",
    "stop": "5",
    "targets": ["5", "10"],
    "size_mode": "base",
    "size_value": "1",
}


@dataclass(frozen=True)
class Hook:
    user_id: int
    account_id: int
    hook_id: str
    secret: str


def make_hook(runtime: Runtime, user_id: int, account_id: int, **template: Any) -> Hook:
    made = rotate_secret(runtime, user_id)
    saved = save_template(runtime, user_id, {**TEMPLATE, "account_id": account_id, **template})
    assert not isinstance(saved, dict), saved
    return Hook(user_id, account_id, made.hook_id, made.secret)


def at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def iso(ms: int) -> str:
    return at(ms).strftime("%Y-%m-%dT%H:%M:%SZ")


def alert(secret: str | None, now_ms: int, **fields: Any) -> bytes:
    """The README's alert message as TradingView fills it in."""
    body: dict[str, Any] = {
        "ticker": "SOLUSDT",
        "exchange": "BINANCE",
        "interval": "1",
        "action": "buy",
        "close": "101",
        "time": iso(now_ms - 60_000),
        "timenow": iso(now_ms),
        **fields,
    }
    if secret is not None:
        body["secret"] = secret
    return json.dumps({k: v for k, v in body.items() if v is not None}).encode()


def post(runtime: Runtime, hook: Hook, body: bytes, now_ms: int, ip: str = TV_IP) -> Outcome:
    return receive(runtime, hook.hook_id, body, ip, at(now_ms))
