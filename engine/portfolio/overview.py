"""The admins' overview of the desk over a period: who is active (seen in the last day or week,
enabled, disabled), each user's blocks, traded volume and realized P&L, and the P&L overview's
totals over time (every user's daily realized P&L summed, and its running total) for a chart.

A few grouped queries, never one per user: the users; then per timezone among them (users'
trading days are their own local days, as on the P&L overview, so its month totals and these
agree) one query of P&L per user and day, one of volume per user and symbol, one of block counts
per user. Money stays exact Decimal (NUMERIC sums on PostgreSQL, the joined-text sums of
engine.portfolio.bookings on SQLite); the page rounds to cents when it shows it.

Replay and backtest accounts (engine.portfolio.scope) are left out of every figure: they are
practice on past markets, not the desk's trading.

Volume is the filled notional, entry and exit fills alike (price x amount), in each symbol's quote
currency, which is what the account is valued in; a user trading several quotes gets one figure
per currency, never a sum of unlike money.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, String, and_, case, func, literal_column, select, type_coerce
from sqlalchemy.orm import Session

from db.enums import EXIT_ROLES, LIVE_BLOCKS, BlockStatus
from db.models import Block, Fill, Trade, User
from engine.common.precision import wide_context
from engine.common.symbols import parse_symbol
from engine.portfolio.bookings import (
    as_decimal,
    day_from_number,
    day_start_ms,
    decimal_sum,
    local_day_sql,
    offset_segments,
    zone,
)
from engine.portfolio.scope import Scope, resolve
from engine.runtime import Runtime
from engine.users.api import as_utc

ZERO = Decimal(0)
ACTIVE_WINDOWS = {"day": timedelta(days=1), "week": timedelta(days=7)}


@dataclass(frozen=True)
class UserFigures:
    """One user's row of the overview, over the period (blocks total and live: now)."""

    user_id: int
    username: str
    role: str
    is_active: bool
    last_seen_at: datetime | None  # UTC; None: never signed in since activity is recorded
    blocks: int  # every block the user ever placed
    live_blocks: int  # pending or active now
    opened_blocks: int  # placed in the period
    closed_blocks: int  # closed in the period
    volume: tuple[tuple[str, Decimal], ...]  # (quote currency, filled notional), by currency
    pnl: Decimal  # realized in the period (exit fills, fees included)


@dataclass(frozen=True)
class TotalDay:
    day: date
    pnl: Decimal  # realized that day, summed over users (each user's own trading day)
    cumulative: Decimal  # since the period's first day


@dataclass(frozen=True)
class DeskOverview:
    first: date
    last: date
    users: tuple[UserFigures, ...]  # by username
    totals: tuple[TotalDay, ...]  # every day first..last
    active: dict[str, int]  # users seen within each ACTIVE_WINDOWS entry of `now`
    enabled: int
    disabled: int

    @property
    def pnl(self) -> Decimal:
        return self.totals[-1].cumulative if self.totals else ZERO

    @property
    def volume(self) -> tuple[tuple[str, Decimal], ...]:
        """The desk's volume per quote currency."""
        acc: dict[str, Decimal] = {}
        with wide_context():
            for u in self.users:
                for currency, value in u.volume:
                    acc[currency] = acc.get(currency, ZERO) + value
        return tuple(sorted(acc.items()))


@dataclass
class _Acc:
    """What the grouped queries found for one user."""

    pnl_by_day: dict[date, Decimal]
    volume: dict[str, Decimal]
    blocks: tuple[int, int, int, int] = (0, 0, 0, 0)  # total, live, opened, closed


def desk_overview(runtime: Runtime, first: date, last: date, now: datetime | None = None) -> DeskOverview:
    """The overview of `first`..`last` (inclusive; each user's own local days), activity as of `now`."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    with runtime.sessions() as s:
        users = s.execute(
            select(User.id, User.username, User.role, User.is_active, User.timezone, User.last_seen_at).order_by(
                User.username
            )
        ).all()
        by_tz: dict[str, list[int]] = {}
        for u in users:
            by_tz.setdefault(str(zone(u.timezone)), []).append(u.id)
        acc = {u.id: _Acc({}, {}) for u in users}
        scope = resolve(s, [u.id for u in users])
        for tz, ids in by_tz.items():
            _load(s, acc, ids, tz, first, last, scope)
    seen = [as_utc(u.last_seen_at) for u in users]
    active = {name: sum(1 for t in seen if t is not None and t > now - span) for name, span in ACTIVE_WINDOWS.items()}
    rows = tuple(_figures(u, acc[u.id]) for u in users)
    enabled = sum(1 for u in users if u.is_active)
    return DeskOverview(first, last, rows, _totals(acc.values(), first, last), active, enabled, len(users) - enabled)


def _figures(u: Row[Any], a: _Acc) -> UserFigures:
    with wide_context():
        pnl = sum(a.pnl_by_day.values(), ZERO)
    total, live, opened, closed = a.blocks
    return UserFigures(
        user_id=u.id,
        username=u.username,
        role=str(u.role),
        is_active=bool(u.is_active),
        last_seen_at=as_utc(u.last_seen_at),
        blocks=total,
        live_blocks=live,
        opened_blocks=opened,
        closed_blocks=closed,
        volume=tuple(sorted(a.volume.items())),
        pnl=pnl,
    )


def _totals(accs: Iterable[_Acc], first: date, last: date) -> tuple[TotalDay, ...]:
    per_day: dict[date, Decimal] = {}
    out, running = [], ZERO
    with wide_context():
        for a in accs:
            for day, pnl in a.pnl_by_day.items():
                per_day[day] = per_day.get(day, ZERO) + pnl
        for i in range((last - first).days + 1):
            day = first + timedelta(days=i)
            pnl = per_day.get(day, ZERO)
            running += pnl
            out.append(TotalDay(day, pnl, running))
    return tuple(out)


def _load(s: Session, acc: dict[int, _Acc], ids: list[int], tz: str, first: date, last: date, scope: Scope) -> None:
    """The three grouped queries of the users `ids`, who share the timezone `tz`, over the scope's accounts."""
    start_ms, end_ms = day_start_ms(first, tz), day_start_ms(last + timedelta(days=1), tz)
    start_at = datetime.fromtimestamp(start_ms / 1000, tz=UTC)
    end_at = datetime.fromtimestamp(end_ms / 1000, tz=UTC)
    conn = s.connection()
    sqlite = s.get_bind().dialect.name == "sqlite"
    accounts = scope.where(Block.account_id)
    mine = Block.user_id.in_(ids) if accounts is None else and_(Block.user_id.in_(ids), accounts)
    in_period = and_(mine, Fill.ts >= start_ms, Fill.ts < end_ms)

    day_no = literal_column(local_day_sql(f"{Fill.__tablename__}.ts", offset_segments(start_ms, end_ms, tz)))
    pnl = (
        select(Block.user_id, day_no.label("day_no"), decimal_sum(s, Fill.realized_pnl))
        .select_from(Fill)
        .join(Trade, Trade.id == Fill.trade_id)
        .join(Block, Block.id == Trade.block_id)
        .where(in_period, Fill.role.in_(EXIT_ROLES))
        .group_by(Block.user_id, literal_column("day_no"))
    )
    for uid, number, total in conn.execute(pnl):
        acc[uid].pnl_by_day[day_from_number(number)] = as_decimal(total)

    # An exact product per fill: NUMERIC on PostgreSQL, "price*amount" text on SQLite (as_decimal multiplies).
    notional = (
        type_coerce(Fill.price, String) + "*" + type_coerce(Fill.amount, String) if sqlite else Fill.price * Fill.amount
    )
    volume = (
        select(Block.user_id, Block.symbol, decimal_sum(s, notional))
        .select_from(Fill)
        .join(Trade, Trade.id == Fill.trade_id)
        .join(Block, Block.id == Trade.block_id)
        .where(in_period)
        .group_by(Block.user_id, Block.symbol)
    )
    with wide_context():
        for uid, symbol, total in conn.execute(volume):
            quote = _quote(symbol)
            acc[uid].volume[quote] = acc[uid].volume.get(quote, ZERO) + as_decimal(total)

    counts = select(
        Block.user_id,
        func.count(),
        func.sum(case((Block.status.in_(LIVE_BLOCKS), 1), else_=0)),
        func.sum(case((and_(Block.created_at >= start_at, Block.created_at < end_at), 1), else_=0)),
        func.sum(
            case(
                (and_(Block.status == BlockStatus.CLOSED, Block.closed_at >= start_at, Block.closed_at < end_at), 1),
                else_=0,
            )
        ),
    ).where(mine)
    for uid, total, live, opened, closed in conn.execute(counts.group_by(Block.user_id)):
        acc[uid].blocks = (int(total), int(live or 0), int(opened or 0), int(closed or 0))


def _quote(symbol: str) -> str:
    """The currency a symbol's prices are in (BTC/USDT:USDT -> USDT); the symbol itself if unparsable."""
    try:
        return parse_symbol(symbol).quote
    except ValueError:
        return symbol
