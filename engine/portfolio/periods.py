"""A user's period: what each trade booked on each day (engine.portfolio.bookings, one SQL query),
the funding paid on each day (engine.portfolio.funding_days), the day totals, and the equity at the
start of each day, bridged from the end-of-day snapshots, or for a replay account (which has none)
from its starting balance (engine.portfolio.scope). Every figure of the calendar pages is computed
from one of these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from db.models import EquitySnapshot
from engine.common.precision import wide_context
from engine.portfolio.bookings import Booking, DayTotal, as_decimal, bookings, day_totals, start_equity, zone
from engine.portfolio.funding_days import FundingBooking, funding_bookings
from engine.portfolio.scope import Scope, replay_closes, resolve
from engine.runtime import Runtime

ZERO = Decimal(0)


@dataclass(frozen=True)
class Period:
    first: date
    last: date
    tz: str
    bookings: tuple[Booking, ...]
    totals: dict[date, DayTotal]
    equity: dict[date, Decimal | None]  # at the start of each day first..last
    first_close: date | None = None  # the earliest snapshot day loaded (before `first` if the account was older)
    funding: tuple[FundingBooking, ...] = ()  # perpetual funding paid first..last (in `totals` too)


def closes(
    session: Session, user_ids: list[int], first: date, last: date, scope: Scope | None = None
) -> dict[int, dict[date, Decimal]]:
    """End-of-day equity per user and day (the scope's accounts summed): the days from `first` - 1
    to `last`, and the nearest snapshot day on either side, which start_equity needs to bridge gaps."""
    out: dict[int, dict[date, Decimal]] = {uid: {} for uid in user_ids}
    accounts = scope.where(EquitySnapshot.account_id) if scope is not None else None
    mine = EquitySnapshot.user_id.in_(user_ids)
    mine = mine if accounts is None else and_(mine, accounts)
    near = (
        select(EquitySnapshot.user_id, func.max(EquitySnapshot.day))
        .where(mine, EquitySnapshot.day < first)
        .group_by(EquitySnapshot.user_id)
        .union_all(
            select(EquitySnapshot.user_id, func.min(EquitySnapshot.day))
            .where(mine, EquitySnapshot.day > last)
            .group_by(EquitySnapshot.user_id)
        )
    )
    conn = session.connection()
    edges = {(uid, d) for uid, d in conn.execute(near) if d is not None}
    wanted = and_(EquitySnapshot.day >= first, EquitySnapshot.day <= last)
    rows = conn.execute(
        select(EquitySnapshot.user_id, EquitySnapshot.day, EquitySnapshot.equity).where(
            mine,
            wanted | EquitySnapshot.day.in_(sorted({d for _, d in edges})),
        )
    )
    with wide_context():
        for uid, day, equity in rows:
            if (first <= day <= last) or (uid, day) in edges:
                out[uid][day] = out[uid].get(day, ZERO) + as_decimal(equity)
    return out


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def load_periods(
    session: Session, users: Sequence[tuple[int, str]], first: date, last: date, scope: Scope | None = None
) -> dict[int, Period]:
    """Periods of several users (id, timezone): one bookings query per timezone. `scope` says which
    accounts count; by default (None) their live and paper accounts, not the replay ones."""
    ids = [uid for uid, _ in users]
    scope = scope if scope is not None else resolve(session, ids)
    by_tz: dict[str, list[int]] = {}
    for uid, tz in users:
        by_tz.setdefault(str(zone(tz)), []).append(uid)
    days = days_between(first, last)
    eq = closes(session, ids, first, last, scope)
    begins = {uid: min(eq[uid], default=None) for uid in ids}
    if scope.replay and scope.only is not None and len(users) == 1:
        # No snapshots: the starting balance plus what was booked before the period.
        uid, tz = users[0]
        eq[uid], begins[uid] = replay_closes(session, scope.only, str(zone(tz)), first)
    out = {}
    for tz, uids in by_tz.items():
        paid = funding_bookings(session, uids, tz, first, last, scope)
        for uid, rows in bookings(session, uids, tz, first, last, scope).items():
            totals = day_totals(rows, ((f.day, f.amount) for f in paid[uid]))
            pnl = {d: t.pnl for d, t in totals.items()}
            equity = start_equity(days, eq[uid], pnl)
            out[uid] = Period(first, last, tz, tuple(rows), totals, equity, begins[uid], tuple(paid[uid]))
    return out


def load_period(
    runtime: Runtime, user_id: int, tz: str, first: date, last: date, account_id: int | None = None
) -> Period:
    """The user's period: their live and paper accounts, or `account_id` alone (AccountAccessError
    when it is not theirs)."""
    with runtime.sessions() as s:
        return load_periods(s, [(user_id, tz)], first, last, resolve(s, [user_id], account_id))[user_id]
