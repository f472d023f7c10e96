"""Fixtures of the report tests: a trader with a year of closed trades (a few per day, two symbols,
setups and tags), daily equity snapshots, and a second trader with nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import update

from db.models import Block, BlockTag, Trade, User
from engine.runtime import Runtime
from tests.helpers.portfolio import add_account, add_close, add_trade, ms
from tests.helpers.trading import add_user

YEAR = 2025
SETUPS = ("breakout", "pullback", None)


def seed_year(runtime: Runtime, user_id: int, account_id: int, year: int, per_day: int = 2, step: int = 3) -> None:
    """Every `step`-th day of `year`: `per_day` trades on BTC/ETH, wins and losses, with setups and
    tags on some blocks, and the day's closing equity."""
    day, n, equity = date(year, 1, 1), 0, 10_000
    while day.year == year:
        for k in range(per_day):
            symbol = "BTC/USDT" if (n + k) % 3 else "ETH/USDT"
            price = str(100 + ((n * 7 + k * 13) % 23) - 9)  # -9 .. +13 a trade
            at = ms(f"{day.isoformat()} {10 + k:02d}:00")
            trade = add_trade(runtime.sessions, user_id, account_id, at - 3_600_000, [(at, price)], symbol=symbol,
                              exit_fee="0.1")  # fmt: skip
            equity += int(price) - 100
            _journal(runtime, trade, SETUPS[(n + k) % 3], ["a+"] if (n + k) % 4 == 0 else [])
        add_close(runtime.sessions, user_id, account_id, day, str(equity))
        day += timedelta(days=step)
        n += 1


def _journal(runtime: Runtime, trade_id: int, setup: str | None, tags: list[str]) -> None:
    with runtime.sessions.begin() as s:
        block_id = s.get(Trade, trade_id).block_id
        if setup:
            s.execute(update(Block).where(Block.id == block_id).values(setup=setup))
        s.add_all(BlockTag(block_id=block_id, tag=t) for t in tags)


@pytest.fixture
def trader(runtime: Runtime) -> int:
    uid = add_user(runtime.sessions, "rita")
    with runtime.sessions.begin() as s:
        s.execute(update(User).where(User.id == uid).values(timezone="Europe/Berlin"))
    seed_year(runtime, uid, add_account(runtime.sessions, uid), YEAR)
    return uid


@pytest.fixture
def newcomer(runtime: Runtime) -> int:
    uid = add_user(runtime.sessions, "nils")
    add_account(runtime.sessions, uid)
    return uid
