"""Funding of perpetual positions fetched from the venues and booked in the P&L (issue 12): one job,
`book_funding(runtime)`, run by the scheduler every few minutes, safe to run twice at once.

Accounts asked: those whose venue has perpetuals (`capabilities.supports_leverage`) and that have a
derivative block (a symbol with a settle currency) open now, or closed since the account's last
fetch by this process (after a restart: since its newest stored payment). What is asked for: every
payment since the newest one stored less OVERLAP (the venue may publish one late), or since the
account's first derivative block. A payment already stored is skipped by its id, and the insert
does nothing on the unique (account, payment id, part): two runs at once book it once.

Attribution: to the block whose position on the symbol was open at the payment's instant (its entry
fills less its exit fills up to then). Several open blocks share it by their open amounts, each
share cut toward zero to the cent of the currency (COIN_STEP for a coin) and the remainder to the
largest; with none open it is stored without a block and still counts in the account's day. One
transaction per account.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from db.enums import EXIT_ROLES, AccountKind, BlockStatus, OrderRole
from db.models import Block, ExchangeAccount, Fill, FundingPayment, Trade
from engine.common.precision import CASH_CURRENCIES, CENTS, COIN_STEP, quantize_to_tick, wide_context
from engine.exchanges.api import FundingPayment as VenuePayment
from engine.exchanges.api import FundingVenue, venue_for
from engine.runtime import Runtime
from engine.users.api import as_utc

log = logging.getLogger(__name__)
ZERO = Decimal(0)
OVERLAP_MS = 3_600_000  # asked again: an hour before the newest payment stored
FUNDING_MARKET = "swap"  # the market type a live account's funding venue is built for


@dataclass
class FundingReport:
    accounts: int = 0  # accounts asked
    booked: int = 0  # payments stored (a split one counts once)
    errors: list[str] = field(default_factory=list)


def book_funding(runtime: Runtime, now_ms: int | None = None) -> FundingReport:
    """Fetch and book the funding of every account that needs it (see the module docstring)."""
    report = FundingReport()
    now = now_ms if now_ms is not None else int(datetime.now(UTC).timestamp() * 1000)
    fetched = runtime.trading.funding_fetched
    with runtime.sessions() as s:
        accounts = list(
            s.scalars(
                select(ExchangeAccount)
                .where(ExchangeAccount.disabled.is_(False), ExchangeAccount.kind != AccountKind.REPLAY)
                .order_by(ExchangeAccount.id)
            )
        )
    for account in accounts:
        with runtime.sessions() as s:
            newest = _newest_ms(s, account.id)
            since = _since(s, account.id, newest)
            if since is None or not _needs_fetch(s, account.id, fetched.get(account.id, newest)):
                continue
        try:
            venue = venue_for(runtime, account, FUNDING_MARKET)
            if not venue.capabilities.supports_leverage:
                continue
            report.accounts += 1
            payments = cast(FundingVenue, venue).fetch_funding_history(since=since)
        except Exception as exc:  # one unreachable account must not stop the others
            report.errors.append(f"account {account.name!r}: {exc}")
            log.info("funding of account %s not fetched: %s", account.id, exc)
            continue
        try:
            with runtime.sessions.begin() as s:
                report.booked += book_payments(s, account.id, [p for p in payments if p.ts >= since])
        except Exception as exc:  # nothing of this account stored: the next run fetches it again
            report.errors.append(f"account {account.name!r}: funding not booked: {exc}")
            log.warning("funding of account %s not booked", account.id, exc_info=True)
            continue
        fetched[account.id] = now
    return report


def book_payments(session: Session, account_id: int, payments: Sequence[VenuePayment]) -> int:
    """Store the payments of `account_id` not stored yet, attributed to their blocks, in the
    caller's transaction; returns how many this call stored."""
    ids = {p.id for p in payments}
    known = set(
        session.scalars(
            select(FundingPayment.payment_id).where(
                FundingPayment.account_id == account_id, FundingPayment.payment_id.in_(ids)
            )
        )
    )
    new = {p.id: p for p in payments if p.id not in known}  # a payment given twice in one answer: once
    if not new:
        return 0
    held = _positions(session, account_id, {p.symbol for p in new.values()}, min(p.ts for p in new.values()))
    rows = []
    for payment in new.values():
        at = datetime.fromtimestamp(payment.ts / 1000, tz=UTC)
        shares = split(payment.amount, payment.currency, open_at(held.get(payment.symbol, {}), payment.ts))
        for part, (block_id, amount) in enumerate(shares):
            row = {"account_id": account_id, "block_id": block_id, "symbol": payment.symbol, "part": part}
            rows.append(row | {"payment_id": payment.id, "amount": amount, "currency": payment.currency, "paid_at": at})
    # Part 0 first: a run racing this one may have stored a payment meanwhile (its insert then does
    # nothing), and only the payments whose part 0 this call wrote get their other parts, so two
    # runs that split one payment differently still book it once.
    won = set(_insert(session, [r for r in rows if r["part"] == 0]))
    _insert(session, [r for r in rows if r["part"] and r["payment_id"] in won])
    return len(won)


def _insert(session: Session, rows: list[dict[str, Any]]) -> list[str]:
    """Insert `rows`, those already stored (account, payment id, part) left alone; the ids written."""
    if not rows:
        return []
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    insert: Any = dialect.insert(FundingPayment).values(rows)
    insert = insert.on_conflict_do_nothing(index_elements=["account_id", "payment_id", "part"])
    return list(session.scalars(insert.returning(FundingPayment.payment_id)))


# --- attribution (pure) ---

Moves = list[tuple[int, Decimal]]  # (fill ts, signed change of the open amount), in ts order


def open_at(blocks: dict[int, Moves], ts: int) -> dict[int, Decimal]:
    """Each block's open amount at `ts` (fills at `ts` itself count), the blocks holding none left out."""
    out = {}
    with wide_context():
        for block_id, moves in blocks.items():
            amount = sum((change for at, change in moves if at <= ts), ZERO)
            if amount > 0:
                out[block_id] = amount
    return out


def split(amount: Decimal, currency: str, held: dict[int, Decimal]) -> list[tuple[int | None, Decimal]]:
    """(block id, share) of a payment over the blocks holding `held`: by open amount, each share cut
    toward zero to the currency's cent, the remainder to the largest (the lowest id on a tie); a
    share cut to nothing is left out. [(None, amount)] when none held anything."""
    if not held:
        return [(None, amount)]
    step = CENTS if currency.upper() in CASH_CURRENCIES else COIN_STEP
    largest = max(held, key=lambda b: (held[b], -b))
    with wide_context():
        total = sum(held.values(), ZERO)
        cut = {b: quantize_to_tick(amount * a / total, step, ROUND_DOWN) for b, a in held.items() if b != largest}
        shares = {b: share for b, share in cut.items() if share}
        shares[largest] = amount - sum(shares.values(), ZERO)
    return sorted(shares.items())


# --- reads ---


def _newest_ms(s: Session, account_id: int) -> int | None:
    newest = s.scalar(select(func.max(FundingPayment.paid_at)).where(FundingPayment.account_id == account_id))
    moment = as_utc(newest)
    return int(moment.timestamp() * 1000) if moment is not None else None


def _derivative() -> ColumnElement[bool]:
    return Block.symbol.contains(":")  # a settle currency: 'BTC/USDT:USDT'


def _since(s: Session, account_id: int, newest: int | None) -> int | None:
    """Where the fetch starts: OVERLAP_MS before the newest payment stored, else before the first
    entry fill of the account's derivative blocks; None when it never held a derivative position."""
    if newest is not None:
        return newest - OVERLAP_MS
    first = s.scalar(
        select(func.min(Fill.ts))
        .join(Trade, Trade.id == Fill.trade_id)
        .join(Block, Block.id == Trade.block_id)
        .where(Block.account_id == account_id, _derivative(), Fill.role == OrderRole.ENTRY)
    )
    return int(first) - OVERLAP_MS if first is not None else None


def _needs_fetch(s: Session, account_id: int, last_ms: int | None) -> bool:
    """Whether a derivative block of the account holds a position (active), or closed after
    `last_ms` (None: ever). A pending or canceled block never held one: no funding to fetch."""
    closed = Block.status == BlockStatus.CLOSED
    if last_ms is not None:
        closed = and_(closed, Block.closed_at >= datetime.fromtimestamp(last_ms / 1000, tz=UTC))
    wanted = and_(
        Block.account_id == account_id, Block.symbol.contains(":"), or_(Block.status == BlockStatus.ACTIVE, closed)
    )
    return s.scalar(select(Block.id).where(wanted).limit(1)) is not None


def _positions(s: Session, account_id: int, symbols: set[str], since: int) -> dict[str, dict[int, Moves]]:
    """symbol -> block id -> its fills as moves of its open amount, for the blocks of `symbols`
    not closed before `since`."""
    rows = s.execute(
        select(Block.symbol, Block.id, Block.closed_at, Fill.role, Fill.amount, Fill.ts)
        .join(Trade, Trade.block_id == Block.id)
        .join(Fill, Fill.trade_id == Trade.id)
        .where(Block.account_id == account_id, Block.symbol.in_(symbols))
        .order_by(Fill.ts, Fill.id)
    ).all()
    out: dict[str, dict[int, Moves]] = {}
    for symbol, block_id, closed_at, role, amount, ts in rows:
        closed = as_utc(closed_at)
        if closed is not None and closed.timestamp() * 1000 < since:
            continue  # flat long before any payment booked now
        change = -amount if role in EXIT_ROLES else amount
        out.setdefault(symbol, {}).setdefault(block_id, []).append((int(ts), change))
    return out
