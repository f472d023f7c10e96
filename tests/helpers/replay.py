"""Helpers for the replay and backtest tests: stored candles written from a script of bars, and a
trader with the demo markets loaded."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from db.models import Market
from engine.market.api import get_or_create_series, ingest_candles
from engine.runtime import Runtime
from tests.helpers.trading import MIN, T0, add_user, load_demo_markets

Bar = tuple[float, float, float, float]  # open, high, low, close


def store_bars(
    runtime: Runtime, bars: Sequence[Bar], symbol: str = "SOL/USDT", start: int = T0, step: int = MIN
) -> list[int]:
    """Store `bars` as consecutive 1m candles of demo `symbol` from `start`; returns their open times."""
    with runtime.sessions.begin() as s:
        series_id = get_or_create_series(s, "demo", symbol, "1m").id
    rows = [(start + i * step, o, h, lo, c, 10.0) for i, (o, h, lo, c) in enumerate(bars)]
    with runtime.db.begin() as conn:
        ingest_candles(conn, series_id, "1m", rows)
    return [r[0] for r in rows]


def store_rows(runtime: Runtime, symbol: str, rows: Sequence[Sequence[float]]) -> None:
    """Store candle rows [ts, open, high, low, close, volume] (a demo feed's) as demo `symbol` 1m."""
    with runtime.sessions.begin() as s:
        series_id = get_or_create_series(s, "demo", symbol, "1m").id
    with runtime.db.begin() as conn:
        ingest_candles(conn, series_id, "1m", [tuple(r) for r in rows])


def flat(price: float, count: int) -> list[Bar]:
    return [(price, price, price, price)] * count


def trader(runtime: Runtime, name: str = "alice") -> int:
    """A trader on a runtime with the demo markets stored."""
    with runtime.sessions() as s:
        have = s.scalar(select(func.count(Market.id)))
    if not have:
        load_demo_markets(runtime.sessions)
    runtime.reset_trading()
    return add_user(runtime.sessions, name)
