"""Helpers of the portfolio tests: trades with their fills written straight into the tables (the
engine's own path is exercised by the end-to-end test), equity snapshots, UTC timestamps."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from db.enums import (
    AccountKind,
    BlockStatus,
    CloseReason,
    EntryType,
    OrderRole,
    OrderStatus,
    OrderType,
    ProtectionMode,
    Side,
    SizeMode,
    TradeStatus,
)
from db.models import Block, EquitySnapshot, ExchangeAccount, Fill, Order, PaperAccount, PaperBalance, Trade

D = Decimal


def ms(text: str) -> int:
    """UTC milliseconds of 'YYYY-MM-DD HH:MM' (UTC)."""
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC).timestamp() * 1000)


def add_account(sessions: sessionmaker[Session], user_id: int, name: str = "paper") -> int:
    with sessions.begin() as s:
        account = ExchangeAccount(user_id=user_id, name=name, kind=AccountKind.PAPER, exchange="demo")
        s.add(account)
        s.flush()
        return account.id


def add_trade(
    sessions: sessionmaker[Session],
    user_id: int,
    account_id: int,
    entry_ts: int,
    exits: Sequence[tuple[int, str]],
    symbol: str = "BTC/USDT",
    side: Side = Side.LONG,
    entry: str = "100",
    amount: str = "1",
    risk: str = "10",
    entry_fee: str = "0",
    exit_fee: str = "0",
) -> int:
    """A block with one trade: its entry fill at `entry_ts` and exit fills (ts, price), the amount
    split evenly over them; each exit books (price - entry) x part - its fee - its entry fee share."""
    amt, e = D(amount), D(entry)
    parts = [amt / len(exits)] * len(exits) if exits else []
    with sessions.begin() as s:
        block = Block(user_id=user_id, account_id=account_id, symbol=symbol, side=side, entry_type=EntryType.LIMIT,
                      entry_price=e, stop_price=e - D(risk) / amt, size_mode=SizeMode.BASE, size_value=amt,
                      total_amount=amt, risk=D(risk), protection_mode=ProtectionMode.STOP_RESTS,
                      status=BlockStatus.CLOSED if exits else BlockStatus.ACTIVE)  # fmt: skip
        s.add(block)
        s.flush()
        trade = Trade(block_id=block.id, index=0, amount=amt, target_price=e * 2, stop_price=block.stop_price,
                      status=TradeStatus.CLOSED if exits else TradeStatus.OPEN, entry_filled=amt, entry_average=e,
                      exit_filled=sum(parts, D(0)), close_reason=CloseReason.TARGET if exits else None,
                      opened_at=_at(entry_ts), closed_at=_at(exits[-1][0]) if exits else None,
                      realized_pnl=D(0), fees=D(0))  # fmt: skip
        s.add(trade)
        s.flush()
        buy, sell = ("buy", "sell") if side is Side.LONG else ("sell", "buy")
        entry_order = _order(s, block.id, trade.id, OrderRole.ENTRY, buy, amt, f"tb{block.id}-0-entry-1")
        s.add(Fill(order_id=entry_order, trade_id=trade.id, exchange_trade_id=f"e{block.id}", role=OrderRole.ENTRY,
                   price=e, amount=amt, fee=D(entry_fee), ts=entry_ts))  # fmt: skip
        for i, ((ts, price), part) in enumerate(zip(exits, parts, strict=True)):
            p = D(price)
            move = (p - e) if side is Side.LONG else (e - p)
            share = D(entry_fee) * part / amt
            pnl = move * part - D(exit_fee) - share
            order = _order(s, block.id, trade.id, OrderRole.TP, sell, part, f"tb{block.id}-0-tp-{i + 1}")
            s.add(Fill(order_id=order, trade_id=trade.id, exchange_trade_id=f"x{block.id}-{i}", role=OrderRole.TP,
                       price=p, amount=part, fee=D(exit_fee), realized_pnl=pnl, ts=ts))  # fmt: skip
            trade.realized_pnl += pnl  # the trade's own figures agree with its fills (the journal lists them)
            trade.fees += D(exit_fee)
        trade.fees += D(entry_fee)
        trade.exit_average = sum((D(p) for _, p in exits), D(0)) / len(exits) if exits else None  # equal parts
        return trade.id


def _at(ts: int) -> datetime:
    return datetime.fromtimestamp(ts / 1000, tz=UTC)


def _order(s: Session, block_id: int, trade_id: int, role: OrderRole, side: str, amount: Decimal, cid: str) -> int:
    order = Order(block_id=block_id, trade_id=trade_id, role=role, type=OrderType.LIMIT, side=side, amount=amount,
                  price=D(1), client_order_id=cid, status=OrderStatus.FILLED, filled=amount)  # fmt: skip
    s.add(order)
    s.flush()
    return order.id


def add_close(sessions: sessionmaker[Session], user_id: int, account_id: int, day: date, equity: str) -> None:
    """An end-of-day equity snapshot."""
    with sessions.begin() as s:
        s.add(EquitySnapshot(account_id=account_id, user_id=user_id, day=day, ts=0, quote="USDT", cash=D(equity),
                             positions_value=D(0), unrealized_pnl=D(0), equity=D(equity)))  # fmt: skip


def add_replay_account(
    sessions: sessionmaker[Session], user_id: int, name: str = "Backtest #1", balance: str = "1000"
) -> int:
    """A replay account as engine/replay opens one: AccountKind.REPLAY on a margin paper account
    funded with `balance` USDT (its trades are then booked with add_trade, like any account's)."""
    with sessions.begin() as s:
        paper = PaperAccount(owner_user_id=user_id, name=name, margin=True)
        s.add(paper)
        s.flush()
        s.add(PaperBalance(account_id=paper.id, currency="USDT", free=D(balance), used=D(0)))
        account = ExchangeAccount(user_id=user_id, name=name, kind=AccountKind.REPLAY, exchange="demo",
                                  paper_account_id=paper.id)  # fmt: skip
        s.add(account)
        s.flush()
        return account.id
