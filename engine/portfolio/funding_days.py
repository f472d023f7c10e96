"""Funding booked per trading day: the stored payments (engine.portfolio.funding) of a user's
accounts, on the local day of their instant in the user's timezone, as the calendar adds them to
the day's P&L (those in the symbol's quote currency: engine.common.pnl.funding_counted)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from db.models import ExchangeAccount, FundingPayment
from engine.common.pnl import funding_counted
from engine.common.precision import wide_context
from engine.portfolio.bookings import as_decimal, day_of, day_start_ms
from engine.portfolio.scope import resolve
from engine.runtime import Runtime
from engine.users.api import as_utc

if TYPE_CHECKING:
    from engine.portfolio.scope import Scope


class FundingBooking(NamedTuple):
    """One stored payment (or a block's share of one) on its trading day."""

    day: date
    account_id: int
    block_id: int | None  # None: no block of the account was open on the symbol then
    symbol: str
    amount: Decimal  # signed, in the symbol's quote currency
    ts: int  # ms


def funding_bookings(
    session: Session, user_ids: list[int], tz: str, first: date, last: date, scope: Scope | None = None
) -> dict[int, list[FundingBooking]]:
    """Per user, the funding of their accounts (those `scope` counts) paid from `first` to `last`
    (inclusive local days of `tz`), oldest first."""
    out: dict[int, list[FundingBooking]] = {uid: [] for uid in user_ids}
    if not user_ids:
        return out
    start = datetime.fromtimestamp(day_start_ms(first, tz) / 1000, tz=UTC)
    end = datetime.fromtimestamp(day_start_ms(last + timedelta(days=1), tz) / 1000, tz=UTC)
    wanted = and_(ExchangeAccount.user_id.in_(user_ids), FundingPayment.paid_at >= start, FundingPayment.paid_at < end)
    accounts = scope.where(FundingPayment.account_id) if scope is not None else None
    rows = session.execute(
        select(
            ExchangeAccount.user_id,
            FundingPayment.account_id,
            FundingPayment.block_id,
            FundingPayment.symbol,
            FundingPayment.amount,
            FundingPayment.currency,
            FundingPayment.paid_at,
        )
        .join(ExchangeAccount, ExchangeAccount.id == FundingPayment.account_id)
        .where(wanted if accounts is None else and_(wanted, accounts))
        .order_by(FundingPayment.paid_at, FundingPayment.id)
    ).all()
    for uid, account_id, block_id, symbol, amount, currency, paid_at in rows:
        if not funding_counted(symbol, currency):
            continue
        moment = as_utc(paid_at)
        assert moment is not None  # a NOT NULL column
        ts = int(moment.timestamp() * 1000)
        out[uid].append(FundingBooking(day_of(ts, tz), account_id, block_id, symbol, as_decimal(amount), ts))
    return out


class DayFunding(NamedTuple):
    """A day's funding of one block (or of an account's payments without a block), for its detail."""

    block_id: int | None
    account_id: int
    symbol: str
    amount: Decimal


def day_funding(runtime: Runtime, user_id: int, tz: str, day: date, account_id: int | None = None) -> list[DayFunding]:
    """The funding booked on `day` per block and symbol (the payments without a block per account
    and symbol), blocks in id order, those without last; of the accounts `day_trades` counts
    (AccountAccessError when `account_id` is not the user's)."""
    with runtime.sessions() as s:
        rows = funding_bookings(s, [user_id], tz, day, day, resolve(s, [user_id], account_id))[user_id]
    sums: dict[tuple[int | None, int, str], Decimal] = {}
    with wide_context():
        for f in rows:
            key = (f.block_id, f.account_id, f.symbol)
            sums[key] = sums.get(key, Decimal(0)) + f.amount
    order = sorted(sums, key=lambda k: (k[0] is None, k[0] or 0, k[1], k[2]))
    return [DayFunding(*key, sums[key]) for key in order]
