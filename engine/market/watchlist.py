"""Watchlists: which (exchange, symbol, timeframe) series each user follows.

A series is stored once, whoever watches it; the engine fetches every series with a watcher.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from db.enums import BackfillStatus
from db.models import Market, Series, Watch
from engine.market.candles import get_or_create_series


class WatchError(ValueError):
    """The series cannot be watched; the message says why."""


class NotWatchedError(PermissionError):
    """The user does not watch this series: no data for them."""


@dataclass(frozen=True)
class WatchEntry:
    series_id: int
    exchange: str
    symbol: str
    timeframe: str
    backfill_status: BackfillStatus
    backfill_done: int
    backfill_total: int
    backfill_error: str | None

    @property
    def progress(self) -> float:
        """Backfill progress from 0 to 1 (1 when done)."""
        if self.backfill_status is BackfillStatus.DONE:
            return 1.0
        return self.backfill_done / self.backfill_total if self.backfill_total else 0.0


def check_enabled(exchange: str, exchanges: tuple[str, ...]) -> None:
    """Checked before anything talks to the exchange."""
    if exchange not in exchanges:
        raise WatchError(f"exchange {exchange!r} is not enabled (TRADEBLOCK_EXCHANGES={','.join(exchanges)})")


def check_watchable(session: Session, exchange: str, symbol: str, timeframe: str, timeframes: tuple[str, ...]) -> None:
    if timeframe not in timeframes:
        raise WatchError(f"{exchange} has no {timeframe!r} candles; choose one of {', '.join(timeframes)}")
    market = session.scalar(select(Market).where(Market.exchange == exchange, Market.symbol == symbol))
    if market is None:
        raise WatchError(f"{exchange} has no market {symbol!r} (sync markets first if it is new)")
    if not market.active:
        raise WatchError(f"{exchange} {symbol} is not active")


def add_watch(session: Session, user_id: int, exchange: str, symbol: str, timeframe: str) -> tuple[Series, bool]:
    """Watch a series (validated by `check_watchable` first); returns it and whether it was new to the user."""
    series = get_or_create_series(session, exchange, symbol, timeframe)
    known = session.scalar(select(Watch).where(Watch.user_id == user_id, Watch.series_id == series.id))
    if known is None:
        session.add(Watch(user_id=user_id, series_id=series.id))
        session.flush()
    return series, known is None


def remove_watch(session: Session, user_id: int, series_id: int) -> bool:
    """Stop watching; the candles stay stored for others (and for this user's history)."""
    result = session.execute(delete(Watch).where(Watch.user_id == user_id, Watch.series_id == series_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def user_watchlist(session: Session, user_id: int, series_id: int | None = None) -> list[WatchEntry]:
    """The user's watchlist in the order it was made; with `series_id`, only that entry (if any)."""
    query = select(Series).join(Watch, Watch.series_id == Series.id).where(Watch.user_id == user_id)
    if series_id is not None:
        query = query.where(Series.id == series_id)
    rows = session.scalars(query.order_by(Watch.id))
    return [
        WatchEntry(
            s.id,
            s.exchange,
            s.symbol,
            s.timeframe,
            s.backfill_status,
            s.backfill_done,
            s.backfill_total,
            s.backfill_error,
        )
        for s in rows
    ]


def watched_series(session: Session) -> list[Series]:
    """Every series somebody watches: what the scheduler keeps fresh."""
    watched = exists().where(Watch.series_id == Series.id)
    return list(session.scalars(select(Series).where(watched).order_by(Series.id)))
