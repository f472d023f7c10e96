"""Which of a user's accounts a figure counts (docs/pnl.md): by default every live and paper account,
replay accounts left out (practice on past markets must not pollute real results); or, given an
account id, that one account alone, checked to be the user's on the server.

A replay account (AccountKind.REPLAY, engine/replay) has no daily equity snapshots: its equity is
its starting balance plus the P&L booked. The starting balance is read back from its paper account:
the quote currency's balance now, less every paper fill's cash flow (sales add price x amount, buys
take it, every fee is taken), which is exact whatever is still open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from db.enums import EXIT_ROLES, AccountKind
from db.models import Block, ExchangeAccount, Fill, PaperBalance, PaperFill, Trade
from engine.common.precision import wide_context
from engine.portfolio.bookings import as_decimal, day_of, day_start_ms, decimal_sum
from engine.users.api import AccountAccessError

ZERO = Decimal(0)


@dataclass(frozen=True)
class Scope:
    """The accounts counted: `only` that one, else all but the `excluded` (replay) ones."""

    only: int | None = None
    replay: bool = False  # `only` is a replay account: equity from its starting balance
    excluded: tuple[int, ...] = ()

    def where(self, column: Any) -> ColumnElement[bool] | None:
        """The condition on an account id column (None: every account counts)."""
        if self.only is not None:
            return column == self.only
        return column.not_in(self.excluded) if self.excluded else None

    def sql(self, column: str) -> str:
        """The same condition as SQL text (" AND ..."), for the literal SQL of the bookings query;
        the ids are our own integers."""
        if self.only is not None:
            return f" AND {column} = {int(self.only)}"
        if self.excluded:
            return f" AND {column} NOT IN ({', '.join(str(int(a)) for a in self.excluded)})"
        return ""


def resolve(session: Session, user_ids: list[int], account_id: int | None = None) -> Scope:
    """The scope of `user_ids`' figures: `account_id` alone (it must belong to the one user asked
    about: AccountAccessError otherwise, another user's or not), or their live and paper accounts."""
    if account_id is not None:
        account = session.get(ExchangeAccount, int(account_id))
        if account is None or len(user_ids) != 1 or account.user_id != user_ids[0]:
            raise AccountAccessError(int(account_id))
        return Scope(only=account.id, replay=account.kind is AccountKind.REPLAY)
    if not user_ids:
        return Scope()
    replays = session.scalars(
        select(ExchangeAccount.id)
        .where(ExchangeAccount.user_id.in_(user_ids), ExchangeAccount.kind == AccountKind.REPLAY)
        .order_by(ExchangeAccount.id)
    )
    return Scope(excluded=tuple(replays))


def starting_balance(session: Session, account_id: int) -> Decimal | None:
    """A replay account's starting funds in its quote currency (the paper account's first balance
    row, the one it was funded in); None without a paper account."""
    paper_id = session.scalar(select(ExchangeAccount.paper_account_id).where(ExchangeAccount.id == account_id))
    if paper_id is None:
        return None
    funded = session.execute(
        select(PaperBalance.currency, PaperBalance.free, PaperBalance.used)
        .where(PaperBalance.account_id == paper_id)
        .order_by(PaperBalance.id)
        .limit(1)
    ).first()
    if funded is None:
        return None
    quote, free, used = funded
    paper = PaperFill
    columns = (paper.symbol, paper.side, paper.price, paper.amount, paper.fee, paper.fee_currency)
    fills = session.execute(select(*columns).where(paper.account_id == paper_id))
    with wide_context():
        balance = as_decimal(free) + as_decimal(used)
        for symbol, side, price, amount, fee, fee_currency in fills:
            if _quote(symbol) == quote:
                cost = as_decimal(price) * as_decimal(amount)
                balance += cost if side == "buy" else -cost  # undo the fill's cash flow
            if fee_currency == quote:
                balance += as_decimal(fee)
    return balance


def _quote(symbol: str) -> str:
    # "BTC/USDT" and "BTC/USDT:USDT" both settle in USDT
    return symbol.split("/", 1)[-1].split(":", 1)[0]


def replay_closes(session: Session, account_id: int, tz: str, first: date) -> tuple[dict[date, Decimal], date | None]:
    """(the replay account's equity at the close of the day before `first`, as start_equity takes
    snapshots; the day of its first fill, where its history begins). The close is its starting
    balance plus the P&L booked before `first`; nothing without a starting balance or a fill."""
    start = starting_balance(session, account_id)
    in_account = (
        select(Fill.ts, Fill.role, Fill.realized_pnl)
        .join(Trade, Trade.id == Fill.trade_id)
        .join(Block, Block.id == Trade.block_id)
        .where(Block.account_id == account_id)
        .subquery()
    )
    begun = session.scalar(select(func.min(in_account.c.ts)))
    if start is None or begun is None:
        return {}, None
    before = session.scalar(
        select(decimal_sum(session, in_account.c.realized_pnl)).where(
            in_account.c.role.in_(EXIT_ROLES), in_account.c.ts < day_start_ms(first, tz)
        )
    )
    with wide_context():
        close = start + as_decimal(before)
    return {first - timedelta(days=1): close}, day_of(int(begun), tz)
