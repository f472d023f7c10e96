"""Balances and equity of exchange accounts: synced from the venues, valued in the account's quote
currency, snapshotted once per trading day; open positions with their unrealized P&L.

Two functions for the scheduler, both safe to run often and idempotent:
- `sync_balances(runtime)`: every account's `fetch_balance` (paper and live alike, through
  engine.exchanges.venues) into `account_balances`. An account that cannot be reached (live trading off, no
  credentials, venue down) keeps its last balances and is reported, not raised.
- `snapshot_equity(runtime, now)`: each account's equity from its stored balances at the last
  prices, written as the snapshot of the owner's current trading day (users.timezone). Run it
  every few minutes: each run rewrites the day's row, so the row left at midnight values the day at
  its last price, and the calendar's "equity at the start of the day" is the previous day's row.

The quote currency of an account is the first of QUOTES it holds (USDT when it holds none).
Every other currency is valued at the last price of <currency>/<quote> on the account's exchange;
one with no such market is left out of the equity (logged) rather than guessed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.enums import AccountKind, Side, TradeStatus
from db.models import AccountBalance, Block, EquitySnapshot, ExchangeAccount, Trade, User
from engine.common.pnl import unrealized
from engine.common.precision import to_decimal, wide_context
from engine.exchanges.api import source, venue_for
from engine.market.api import Ticks, ticks
from engine.portfolio.bookings import day_of
from engine.portfolio.scope import resolve
from engine.runtime import Runtime

log = logging.getLogger(__name__)
ZERO = Decimal(0)
QUOTES = ("USDT", "USDC", "USD", "EUR", "BUSD", "FDUSD")


@dataclass
class PortfolioReport:
    accounts: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)


def quote_of(currencies: list[str]) -> str:
    held = set(currencies)
    return next((q for q in QUOTES if q in held), "USDT")


def sync_balances(runtime: Runtime) -> PortfolioReport:
    """Fetch every account's balances from its venue into `account_balances` (see module doc)."""
    report = PortfolioReport()
    with runtime.sessions() as s:
        accounts = list(s.scalars(select(ExchangeAccount).order_by(ExchangeAccount.id)))
    for account in accounts:
        if getattr(account, "disabled", False):  # switched off in the settings: not asked
            continue
        if account.kind is AccountKind.REPLAY:  # its venue plays past bars: no balance of today to take
            continue
        report.accounts += 1
        try:
            balances = venue_for(runtime, account).fetch_balance()
        except Exception as exc:  # one unreachable account must not stop the others
            report.errors.append(f"account {account.name!r}: {exc}")
            log.info("balances of account %s not synced: %s", account.id, exc)
            continue
        with runtime.sessions.begin() as s:
            stored = {
                b.currency: b for b in s.scalars(select(AccountBalance).where(AccountBalance.account_id == account.id))
            }
            for currency, bal in balances.items():
                row = stored.pop(currency, None)
                if row is None:
                    row = AccountBalance(account_id=account.id, currency=currency)
                    s.add(row)
                row.free, row.used, row.total = bal.free, bal.used, bal.total
                row.updated_at = datetime.now(UTC)  # touched even when unchanged: "synced at"
            for gone in stored.values():  # the venue no longer reports it: nothing held
                s.delete(gone)
        report.updated += 1
    return report


@dataclass(frozen=True)
class Position:
    """An open trade's position: its open amount and unrealized P&L at the last price."""

    account_id: int
    block_id: int
    trade_id: int
    symbol: str
    side: Side
    amount: Decimal
    entry_average: Decimal
    last_price: Decimal | None
    unrealized_pnl: Decimal | None
    ticks: Ticks  # the market's precision, to show prices and amounts in


def _positions(s: Session, account_ids: list[int]) -> list[tuple[int, int, int, str, Side, Decimal, Decimal]]:
    rows = s.execute(
        select(
            Block.account_id,
            Block.id,
            Trade.id,
            Block.symbol,
            Block.side,
            Trade.entry_filled,
            Trade.exit_filled,
            Trade.entry_average,
        )
        .join(Trade, Trade.block_id == Block.id)
        .where(Block.account_id.in_(account_ids), Trade.status == TradeStatus.OPEN)
        .order_by(Block.id, Trade.index)
    ).all()
    out = []
    with wide_context():
        for account_id, block_id, trade_id, symbol, side, entry, exited, avg in rows:
            amount = entry - exited
            if amount > 0 and avg is not None:
                out.append((account_id, block_id, trade_id, symbol, Side(side), amount, avg))
    return out


def _last_price(runtime: Runtime, exchange: str, symbol: str) -> Decimal | None:
    try:
        return to_decimal(source(runtime, exchange).fetch_ticker(symbol).last)
    except Exception as exc:  # no market or no feed: the caller leaves the value out
        log.info("no last price for %s on %s: %s", symbol, exchange, exc)
        return None


def open_positions(runtime: Runtime, user_id: int, account_id: int | None = None) -> list[Position]:
    """The user's open positions (open trades) with unrealized P&L at the feed's last price: of
    their live and paper accounts, or of `account_id` alone (AccountAccessError if not theirs)."""
    with runtime.sessions() as s:
        scope = resolve(s, [user_id], account_id)
        mine = select(ExchangeAccount).where(ExchangeAccount.user_id == user_id)
        accounts = {
            a.id: a.exchange for a in s.scalars(mine) if a.id not in scope.excluded and scope.only in (None, a.id)
        }
        rows = _positions(s, sorted(accounts))
        precision = ticks(s, {(accounts[r[0]], r[3]) for r in rows})
    prices: dict[tuple[str, str], Decimal | None] = {}
    out = []
    for account_id, block_id, trade_id, symbol, side, amount, avg in rows:
        key = (accounts[account_id], symbol)
        if key not in prices:
            prices[key] = _last_price(runtime, *key)
        last = prices[key]
        pnl = unrealized(side, avg, last, amount) if last is not None else None
        out.append(Position(account_id, block_id, trade_id, symbol, side, amount, avg, last, pnl, precision[key]))
    return out


def snapshot_equity(runtime: Runtime, now: datetime | None = None) -> PortfolioReport:
    """Write (or rewrite) each account's equity snapshot for its owner's current trading day."""
    now = now or datetime.now(UTC)
    now_ms = int(now.timestamp() * 1000) if now.tzinfo else int(now.replace(tzinfo=UTC).timestamp() * 1000)
    report = PortfolioReport()
    with runtime.sessions() as s:
        accounts = s.execute(
            select(ExchangeAccount.id, ExchangeAccount.user_id, ExchangeAccount.exchange, User.timezone)
            .join(User, User.id == ExchangeAccount.user_id)
            .where(ExchangeAccount.kind != AccountKind.REPLAY)  # replays have no snapshots (engine.portfolio.scope)
        ).all()
        balances: dict[int, dict[str, Decimal]] = {}
        for b in s.scalars(select(AccountBalance)):
            balances.setdefault(b.account_id, {})[b.currency] = b.total
        positions = _positions(s, [a[0] for a in accounts])
    for account_id, user_id, exchange, tz in accounts:
        report.accounts += 1
        held = balances.get(account_id)
        if held is None:
            continue  # never synced: no snapshot rather than a zero equity
        quote = quote_of(list(held))
        cash, value = held.get(quote, ZERO), ZERO
        with wide_context():
            for currency, total in held.items():
                if currency == quote or not total:
                    continue
                price = _last_price(runtime, exchange, f"{currency}/{quote}")
                if price is None:
                    report.errors.append(f"account {account_id}: {currency} has no {quote} price")
                    continue
                value += total * price
            pnl = ZERO
            for acc, _block, _trade, symbol, side, amount, avg in positions:
                if acc == account_id:
                    last = _last_price(runtime, exchange, symbol)
                    pnl += unrealized(side, avg, last, amount) if last is not None else ZERO
        _write_snapshot(runtime, account_id, user_id, day_of(now_ms, tz), now_ms, quote, cash, value, pnl)
        report.updated += 1
    return report


def _write_snapshot(
    runtime: Runtime,
    account_id: int,
    user_id: int,
    day: date,
    ts: int,
    quote: str,
    cash: Decimal,
    value: Decimal,
    pnl: Decimal,
) -> None:
    with runtime.sessions.begin() as s:
        row = s.scalar(select(EquitySnapshot).where(EquitySnapshot.account_id == account_id, EquitySnapshot.day == day))
        if row is None:
            row = EquitySnapshot(account_id=account_id, user_id=user_id, day=day)
            s.add(row)
        elif row.ts > ts:
            return  # a later snapshot of the day is already stored (runs out of order)
        row.ts, row.quote, row.cash, row.positions_value, row.unrealized_pnl = ts, quote, cash, value, pnl
        with wide_context():
            row.equity = cash + value
