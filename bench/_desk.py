"""A desk for the benches that trade: the demo feed on a standing clock (no fills while timing),
its markets, one trader and a well-funded paper account, in the bench's scratch database."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Engine

from db.enums import Role
from db.models import User
from db.session import make_session_factory
from engine.common.precision import to_decimal
from engine.config import load_settings
from engine.exchanges.api import DemoExchange
from engine.market.api import sync_markets
from engine.runtime import Runtime
from engine.users.api import open_paper_account

NOW = 1_717_200_000_000  # the demo feed's clock stands still: no fills during the timing
SYMBOL = "BTC/USDT"


@dataclass(frozen=True)
class Desk:
    runtime: Runtime
    user_id: int
    account_id: int
    last: Decimal  # the demo feed's last BTC/USDT price at NOW


def demo_trader(engine: Engine, feed: DemoExchange) -> tuple[Runtime, int]:
    """A runtime on `feed` (the demo exchange) with its markets, and one trader's id."""
    settings = load_settings({"TRADEBLOCK_INSTANCE_DIR": tempfile.mkdtemp(), "SECRET_KEY": "bench-secret-key-123"})
    runtime = Runtime(settings, engine, make_session_factory(engine), {"demo": feed})
    sync_markets(runtime.sessions, feed)
    with runtime.sessions.begin() as s:
        user = User(username="bench", password_hash="x", role=Role.TRADER)
        s.add(user)
        s.flush()
        return runtime, user.id


def demo_desk(engine: Engine) -> Desk:
    feed = DemoExchange(clock=lambda: NOW)
    runtime, user_id = demo_trader(engine, feed)
    account = open_paper_account(runtime.sessions, user_id, "bench", balance=Decimal("10000000"))
    return Desk(runtime, user_id, account.id, to_decimal(feed.fetch_ticker(SYMBOL).last))
