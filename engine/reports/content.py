"""What an account report shows, gathered once: who and what (user, accounts, currency, period), the
calendar grids, the statistics and the equity curve exactly as the calendar page computes them
(engine.portfolio.api.calendar_page: the same call, the same numbers), and the by-symbol and
by-setup tables (engine.portfolio.api.group_stats). No figure is computed here."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from db.enums import AccountKind
from db.models import EquitySnapshot, ExchangeAccount
from engine.portfolio import api as portfolio
from engine.runtime import Runtime
from engine.users import api as users

DEFAULT_CURRENCY = "USDT"


@dataclass(frozen=True)
class ReportData:
    username: str
    timezone: str
    accounts: tuple[str, ...]  # "paper · binance (paper)"
    currency: str
    view: str  # "month", "week" or "year"
    title: str  # "March 2026", "Week of 02 Mar 2026", "2026"
    first: date
    last: date
    today: date  # the user's today when it was made
    months: tuple[portfolio.Month, ...]  # the calendar grids (none for a week)
    week: portfolio.Week | None
    stats: portfolio.Stats
    curve: tuple[portfolio.CurvePoint, ...]
    by_symbol: tuple[portfolio.GroupStats, ...]
    by_setup: tuple[portfolio.GroupStats, ...]

    @property
    def empty(self) -> bool:
        """No trade closed in the period: the report says so instead of showing empty tables."""
        return self.stats.trades == 0


class ReportError(LookupError):
    """The report's user does not exist."""


def _accounts(runtime: Runtime, user_id: int, account_id: int | None = None) -> tuple[tuple[str, ...], str]:
    """The report's accounts ("name · exchange (kind)": the user's live and paper ones, or
    `account_id` alone) and the quote currency their equity is in (the latest snapshot's; several
    when accounts differ; USDT before any snapshot)."""
    mine = ExchangeAccount.user_id == user_id
    counted = ExchangeAccount.id == account_id if account_id is not None else ExchangeAccount.kind != AccountKind.REPLAY
    with runtime.sessions() as s:
        accounts = s.execute(
            select(ExchangeAccount.name, ExchangeAccount.exchange, ExchangeAccount.kind)
            .where(mine, counted)
            .order_by(ExchangeAccount.id)
        ).all()
        quotes = s.scalars(select(EquitySnapshot.quote).where(EquitySnapshot.user_id == user_id).distinct()).all()
    names = tuple(f"{name} · {exchange} ({kind.value})" for name, exchange, kind in accounts)
    return names, " + ".join(sorted(quotes)) or DEFAULT_CURRENCY


def gather(
    runtime: Runtime, user_id: int, view: str, anchor: date, today: date | None = None, account_id: int | None = None
) -> ReportData:
    """Everything the report of `user_id`'s view (month, week or year around `anchor`) shows, of
    the accounts the calendar counts (live and paper, or `account_id` alone)."""
    user = users.load_user(runtime, user_id)
    if user is None:
        raise ReportError(f"no user {user_id}")
    tz = user.timezone
    today = today or portfolio.day_of(time.time_ns() // 1_000_000, tz)
    page = portfolio.calendar_page(runtime, user_id, tz, view, anchor, "money", today, account_id)
    accounts, currency = _accounts(runtime, user_id, account_id)
    months = tuple(page.months or ([page.month] if page.month is not None else []))
    return ReportData(
        username=user.username,
        timezone=tz,
        accounts=accounts,
        currency=currency,
        view=page.view,
        title=page.title,
        first=page.first,
        last=page.last,
        today=today,
        months=months,
        week=page.week,
        stats=page.stats,
        curve=tuple(page.curve),
        by_symbol=tuple(portfolio.group_stats(runtime, user_id, page.first, page.last, tz, "symbol", account_id)),
        by_setup=tuple(portfolio.group_stats(runtime, user_id, page.first, page.last, tz, "setup", account_id)),
    )
