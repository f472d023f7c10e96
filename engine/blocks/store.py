"""Between the trading tables and the pure bracket views: load the live blocks of an account as
`BlockView`s (plain Core selects, fast enough for thousands of orders per tick), and write back what
settling them changes (trade figures and statuses, block statuses), only where something changed."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from db.enums import AccountKind, BlockStatus, OrderRole, OrderStatus
from db.models import Block, ExchangeAccount, Market, Order, Trade
from engine.blocks.states import LIVE_BLOCKS, ORDER_TERMINAL
from engine.blocks.views import BlockView, OrderView, TradeFigures, TradeView, settle_block, settle_trade

DEFAULT_FEE = Decimal("0.001")
_FIGURES = (
    "entry_filled",
    "entry_average",
    "exit_filled",
    "exit_average",
    "fees",
    "realized_pnl",
    "fee_note",
    "close_reason",
)


def to_ms(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # SQLite hands back naive datetimes; they are stored as UTC
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def client_order_id(block_id: int, trade_index: int, role: str, seq: int) -> str:
    """Deterministic: the same intent always gets the same id (at most 36 chars of [A-Za-z0-9-])."""
    return f"tb{block_id}-{trade_index}-{role}-{seq}"


def seq_of(client_id: str) -> int:
    tail = client_id.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 1


@dataclass
class Loaded:
    """The views of an account's live blocks, and the stored trade figures to compare against."""

    blocks: list[BlockView]
    stored: dict[int, dict[str, object]]  # trade id -> stored figures and status
    account_of: dict[int, int]  # block id -> account id


_ORDER_COLUMNS = (
    Order.trade_id,
    Order.id,
    Order.role,
    Order.type,
    Order.side,
    Order.amount,
    Order.price,
    Order.stop_price,
    Order.status,
    Order.filled,
    Order.average,
    Order.fee,
    Order.reduce_only,
    Order.client_order_id,
    Order.fee_base,
    Order.fee_other,
    Order.fee_other_currency,
)
_TRADE_COLUMNS = (
    Trade.block_id,
    Trade.id,
    Trade.index,
    Trade.status,
    Trade.amount,
    Trade.target_price,
    Trade.stop_price,
    Trade.close_reason,
    Trade.opened_at,
    *(getattr(Trade, name) for name in _FIGURES if name != "close_reason"),
)


def _order_view(row: tuple) -> OrderView:  # type: ignore[type-arg]
    _trade, oid, role, type_, side, amount, price, stop, status, filled, average, fee, reduce_only, cid, *fees = row
    fee_base, fee_other, fee_other_currency = fees
    return OrderView(
        id=oid,
        role=role,
        type=type_,
        side=side,
        amount=amount,
        price=price,
        stop_price=stop,
        status=status,
        filled=filled,
        average=average,
        fee=fee,
        seq=seq_of(cid),
        reduce_only=reduce_only,
        client_order_id=cid,
        fee_base=fee_base,
        fee_other=fee_other,
        fee_other_currency=fee_other_currency,
    )


def load_live(
    session: Session,
    account_id: int | None = None,
    block_ids: list[int] | None = None,
    account: tuple[str, AccountKind] | None = None,
) -> Loaded:
    """Live (PENDING/ACTIVE) blocks of `account_id`, or the blocks `block_ids`, with trades and orders.
    Plain column selects: no ORM objects, so a tick over thousands of orders stays cheap. `account`:
    the exchange and kind of `account_id` when the caller has them (not read again)."""
    block_query, trade_query, order_query = _live_queries(block_ids is not None, account_id is not None)
    params = {"ids": block_ids, "account_id": account_id}
    blocks = list(session.scalars(block_query, params))
    if not blocks:
        return Loaded([], {}, {})
    connection = session.connection()
    trades_by_block: dict[int, list[tuple]] = defaultdict(list)  # type: ignore[type-arg]
    for row in connection.execute(trade_query, params):
        trades_by_block[row[0]].append(tuple(row))
    orders_by_trade: dict[int, list[OrderView]] = defaultdict(list)
    for row in connection.execute(order_query, params):
        orders_by_trade[row[0]].append(_order_view(tuple(row)))
    known = {account_id: account} if account is not None and account_id is not None else None
    markets, paper = _market_terms(session, blocks, known)
    views, stored = [], {}
    for block in blocks:
        tick, amount_tick, fee = markets.get(block.symbol, (None, None, DEFAULT_FEE))
        trade_views = []
        for row in trades_by_block[block.id]:
            _block, tid, index, status, amount, target, stop, reason, opened_at, *figures = row
            names = [n for n in _FIGURES if n != "close_reason"]
            stored[tid] = dict(zip(names, figures, strict=True)) | {"close_reason": reason, "status": status}
            trade_views.append(
                TradeView(
                    id=tid,
                    index=index,
                    status=status,
                    amount=amount,
                    target_price=target,
                    stop_price=stop,
                    close_reason=reason,
                    opened_ms=to_ms(opened_at),
                    orders=tuple(orders_by_trade[tid]),
                    amount_tick=amount_tick,
                )
            )
        views.append(
            BlockView(
                id=block.id,
                symbol=block.symbol,
                side=block.side,
                protection=block.protection_mode,
                stop_price=block.stop_price,
                status=block.status,
                created_ms=to_ms(block.created_at) or 0,
                trades=tuple(trade_views),
                breakeven_after_first=block.breakeven_after_first,
                entry_timeout_s=block.entry_timeout_s,
                max_duration_s=block.max_duration_s,
                price_tick=tick,
                fee_rate=fee,
                stops_from_fill_bar=block.account_id in paper,
            )
        )
    return Loaded(views, stored, {b.id: b.account_id for b in blocks})


_ACCOUNT_TERMS = select(ExchangeAccount.id, ExchangeAccount.exchange, ExchangeAccount.kind).where(
    ExchangeAccount.id.in_(bindparam("ids", expanding=True))
)
_MARKET_TERMS = select(Market.symbol, Market.price_tick, Market.amount_tick, Market.taker_fee).where(
    Market.exchange.in_(bindparam("exchanges", expanding=True)), Market.symbol.in_(bindparam("symbols", expanding=True))
)


@cache
def _live_queries(by_ids: bool, by_account: bool) -> tuple[Select[Any], Select[Any], Select[Any]]:
    """load_live's blocks, trades and orders statements for one shape of its arguments (parameters
    `ids`, `account_id`), built once (docs/benchmarks.md, "statements built once"). The trades and
    orders repeat the blocks' filter instead of taking a parameter per block."""
    where = [Block.id.in_(bindparam("ids", expanding=True))] if by_ids else [Block.status.in_(LIVE_BLOCKS)]
    if by_account:
        where.append(Block.account_id == bindparam("account_id"))
    chosen = select(Block.id).where(*where)
    return (
        select(Block).where(*where).order_by(Block.id),
        select(*_TRADE_COLUMNS).where(Trade.block_id.in_(chosen)).order_by(Trade.block_id, Trade.index),
        select(*_ORDER_COLUMNS).where(Order.block_id.in_(chosen)).order_by(Order.id),
    )


def _market_terms(
    session: Session, blocks: list[Block], known: dict[int, tuple[str, AccountKind]] | None = None
) -> tuple[dict[str, tuple[Decimal | None, Decimal | None, Decimal]], set[int]]:
    """Price tick, amount tick and taker fee per symbol of the blocks' exchange(s); and which of the
    blocks' accounts are simulated, paper or replay (their venue books stops from the entry's fill bar).
    `known`: account id -> (exchange, kind) of the blocks' one account, given by the caller."""
    account_ids = {b.account_id for b in blocks}
    if known is not None and account_ids <= known.keys():
        accounts = [(i, exchange, kind) for i, (exchange, kind) in known.items() if i in account_ids]
    else:
        accounts = session.connection().execute(_ACCOUNT_TERMS, {"ids": sorted(account_ids)}).all()
    exchanges = {exchange for _id, exchange, _kind in accounts}
    paper = {account_id for account_id, _exchange, kind in accounts if kind is not AccountKind.LIVE}
    symbols = {b.symbol for b in blocks}
    rows = session.connection().execute(_MARKET_TERMS, {"exchanges": sorted(exchanges), "symbols": sorted(symbols)})
    terms = {
        symbol: (tick, amount_tick, fee if fee is not None else DEFAULT_FEE) for symbol, tick, amount_tick, fee in rows
    }
    return terms, paper


def _changed(figures: TradeFigures, stored: dict[str, object]) -> bool:
    return stored["status"] != figures.status or any(stored[n] != getattr(figures, n) for n in _FIGURES)


def write_settlement(session: Session, loaded: Loaded, now_ms: int) -> int:
    """Settle every loaded block and write what changed; returns how many rows changed. A block whose
    rows contradict the state tables is left as it is, with the reason on block.last_error."""
    changed = 0
    for block in loaded.blocks:
        try:
            figures = [settle_trade(block, trade) for trade in block.trades]
            status = settle_block(block, [f.status for f in figures])
        except ValueError as exc:  # IllegalTransition included
            row = session.get(Block, block.id)
            if row is not None and row.last_error != str(exc):
                row.last_error = str(exc)[:2000]
                changed += 1
            continue
        for trade, f in zip(block.trades, figures, strict=True):
            if _changed(f, loaded.stored[trade.id]):
                _write_trade(session, trade.id, f, now_ms)
                changed += 1
        if status is not block.status:
            _write_block(session, block.id, status, now_ms)
            changed += 1
    return changed


def _write_block(session: Session, block_id: int, status: BlockStatus, now_ms: int) -> None:
    row = session.get(Block, block_id)
    assert row is not None
    row.status = status
    if status is not BlockStatus.PENDING and row.activated_at is None and status is not BlockStatus.CANCELED:
        row.activated_at = from_ms(now_ms)
    if status in (BlockStatus.CLOSED, BlockStatus.CANCELED):
        row.closed_at = from_ms(now_ms)


def _write_trade(session: Session, trade_id: int, f: TradeFigures, now_ms: int) -> None:
    row = session.get(Trade, trade_id)
    assert row is not None
    row.status = f.status
    for name in _FIGURES:
        setattr(row, name, getattr(f, name))
    if f.opened and row.opened_at is None:
        row.opened_at = from_ms(now_ms)
    if f.closed:
        row.closed_at = from_ms(now_ms)


class LiveOrder(NamedTuple):
    id: int
    client_order_id: str
    status: OrderStatus
    filled: Decimal
    average: Decimal | None
    fee: Decimal
    exchange_order_id: str | None
    block_id: int
    trade_id: int
    role: OrderRole
    fee_base: Decimal
    price: Decimal | None = None  # limit price (a resting TP)
    stop_price: Decimal | None = None  # trigger price (an SL): the screening compares it to the trade's stop


def live_order_rows(session: Session, account_id: int, block_ids: set[int] | None = None) -> list[LiveOrder]:
    """The account's unfinished orders (of `block_ids` only, when given), INITIALIZED ones included,
    as plain rows (most ticks change none of them, so no ORM objects are built)."""
    query = _live_orders_query(block_ids is not None)
    params = {"account_id": account_id, "ids": sorted(block_ids or ())}
    return [LiveOrder(*row) for row in session.connection().execute(query, params)]


@cache
def _live_orders_query(by_ids: bool) -> Select[Any]:
    """live_order_rows' statement, with or without its `ids` filter, built once."""
    query = (
        select(
            Order.id,
            Order.client_order_id,
            Order.status,
            Order.filled,
            Order.average,
            Order.fee,
            Order.exchange_order_id,
            Order.block_id,
            Order.trade_id,
            Order.role,
            Order.fee_base,
            Order.price,
            Order.stop_price,
        )
        .join(Block, Block.id == Order.block_id)
        .where(Block.account_id == bindparam("account_id"), Order.status.not_in(ORDER_TERMINAL))
        .order_by(Order.id)
    )
    return query.where(Order.block_id.in_(bindparam("ids", expanding=True))) if by_ids else query
