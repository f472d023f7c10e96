"""Bookkeeping of the paper exchange inside one DB transaction: exact Decimal money in and out of the
paper tables, an account's balances with their locks (what an order locks, whether a fill can be
paid, whether a reduce-only order still reduces), and paper rows turned into venue dataclasses.

Money columns are exact on both databases (db.types.Money); `Money.write` cuts a value to the
column's 18 decimals so that what Python holds is what the database stores.
"""

from __future__ import annotations

from decimal import Context, Decimal
from typing import Any

from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import Session, sessionmaker

from db.enums import OrderType
from db.models import PaperAccount, PaperBalance, PaperFill, PaperOrder
from db.session import transaction
from db.types import to_scale
from engine.common.symbols import split_symbol
from engine.exchanges.fill_rules import FeeSchedule, FillRules, Liquidity, slip
from engine.exchanges.venue import (
    Balance,
    InsufficientFunds,
    InvalidOrder,
    OrderRequest,
    OrderSide,
    VenueOrder,
    VenueStatus,
    VenueTrade,
)

_SCALE = Decimal("1e-18")  # the scale of db.models.PRICE
_WIDE = Context(prec=60)
ZERO = Decimal(0)


class Money:
    """Converts money between Python and the paper tables of one database dialect."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect

    @staticmethod
    def read(value: Decimal | None) -> Decimal | None:
        return value

    def must(self, value: Decimal | None) -> Decimal:
        result = self.read(value)
        assert result is not None
        return result

    @staticmethod
    def write(value: Decimal) -> Decimal:
        """`value` cut to the column's 18 decimals, so what Python holds is what the DB stores."""
        return to_scale(value)


def create_paper_account(
    sessions: sessionmaker[Session],
    owner_user_id: int | None,
    name: str,
    balances: dict[str, Decimal],
    margin: bool = False,
) -> int:
    """Create a simulated account holding `balances` (all free) and return its id."""
    if any(not isinstance(v, Decimal) or v < 0 for v in balances.values()):
        raise ValueError("starting balances must be non-negative Decimals")
    with transaction(sessions) as s:
        account = PaperAccount(owner_user_id=owner_user_id, name=name, margin=margin)
        s.add(account)
        s.flush()
        s.add_all(PaperBalance(account_id=account.id, currency=c, free=v, used=ZERO) for c, v in balances.items())
        return account.id


# Built once (docs/benchmarks.md, "statements built once"): a statement built per call pays for
# its construction and cache key every time, about half of a small query's CPU.
_BALANCES = select(PaperBalance).where(PaperBalance.account_id == bindparam("account_id"))


class Ledger:
    """The balances of one account, loaded once per transaction and changed in place."""

    def __init__(self, session: Session, account_id: int, money: Money) -> None:
        self.session, self.account_id, self.money = session, account_id, money
        rows = session.scalars(_BALANCES, {"account_id": account_id})
        self._rows = {row.currency: row for row in rows}

    def _row(self, currency: str) -> PaperBalance:
        row = self._rows.get(currency)
        if row is None:
            row = PaperBalance(account_id=self.account_id, currency=currency, free=ZERO, used=ZERO)
            self.session.add(row)
            self._rows[currency] = row
        return row

    def free(self, currency: str) -> Decimal:
        row = self._rows.get(currency)
        return ZERO if row is None else self.money.must(row.free)

    def used(self, currency: str) -> Decimal:
        row = self._rows.get(currency)
        return ZERO if row is None else self.money.must(row.used)

    def total(self, currency: str) -> Decimal:
        return self.free(currency) + self.used(currency)

    def add_free(self, currency: str, delta: Decimal) -> None:
        self._row(currency).free = Money.write(self.free(currency) + delta)

    def lock(self, currency: str, amount: Decimal) -> None:
        row = self._row(currency)
        row.free = Money.write(self.free(currency) - amount)
        row.used = Money.write(self.used(currency) + amount)

    def release(self, currency: str, amount: Decimal) -> None:
        self.lock(currency, -amount)

    def balances(self) -> dict[str, Balance]:
        return {cur: Balance(cur, self.free(cur), self.used(cur), self.total(cur)) for cur in sorted(self._rows)}


def release_order_lock(ledger: Ledger, row: PaperOrder) -> None:
    """Give back whatever the order still locks (called whenever it leaves 'open' or fills)."""
    locked = ledger.money.must(row.locked_amount)
    if row.locked_currency and locked:
        ledger.release(row.locked_currency, locked)
    row.locked_amount = ZERO


def new_order_row(account_id: int, req: OrderRequest, created_ts: int, now: int) -> PaperOrder:
    """An open order row for `req`, resting since `created_ts` (candles before it are not its own)."""
    return PaperOrder(
        account_id=account_id,
        client_order_id=req.client_order_id,
        symbol=req.symbol,
        side=req.side.value,
        type=req.type,
        amount=req.amount,
        price=req.price,
        stop_price=req.stop_price,
        reduce_only=req.reduce_only,
        leverage=req.leverage,
        status=VenueStatus.OPEN.value,
        filled=ZERO,
        cost=ZERO,
        fee=ZERO,
        locked_amount=ZERO,
        created_ts=created_ts,
        updated_ts=now,
    )


def lock_funds(ledger: Ledger, row: PaperOrder, req: OrderRequest, rules: FillRules, margin: bool) -> None:
    """Lock what the resting order `row` may need (docs/fill-rules.md, "Spot accounts lock funds"), or
    raise InsufficientFunds."""
    base, quote = split_symbol(req.symbol)
    if margin and req.reduce_only:
        # It can only shrink a position: a short's stop and target both buy back the same coins,
        # and locking quote for each would refuse the second (or the closing order) for nothing.
        return
    if req.leverage is not None:
        return  # a perpetual's entry: its margin is checked against the account's equity when it fills (can_pay)
    if req.side == OrderSide.BUY:
        # The dearest fill a resting buy can get without a gap, plus the highest fee it could pay.
        trigger = req.price if req.type == OrderType.LIMIT else req.stop_price
        assert trigger is not None  # validate_request saw to it
        worst = trigger if req.type == OrderType.LIMIT else slip(trigger, "buy", rules.slippage_bps)
        currency, amount = quote, worst * req.amount * (1 + rules.fees.highest)
    elif margin:
        return  # a margin account may sell what it does not hold: nothing to lock
    else:
        currency, amount = base, req.amount
    if ledger.free(currency) < amount:
        raise InsufficientFunds(f"{currency}: {amount} needed, {ledger.free(currency)} free")
    ledger.lock(currency, amount)
    row.locked_currency, row.locked_amount = currency, Money.write(amount)


def can_pay(
    ledger: Ledger,
    symbol: str,
    side: str,
    amount: Decimal,
    price: Decimal,
    liquidity: Liquidity,
    fees: FeeSchedule,
    margin: bool,
    leverage: int | None = None,
) -> bool:
    """Whether the account can pay for a fill now (its locks released first by the caller).

    A leveraged buy (a perpetual's entry: the planner takes leverage nowhere else) pays its initial
    margin (cost / leverage) out of the account's equity in this market (free quote plus the base
    held at `price`): the simulation borrows the rest and models no maintenance margin or
    liquidation."""
    base, quote = split_symbol(symbol)
    fee = fees.fee(price, amount, liquidity)
    if side == OrderSide.BUY and leverage is not None:
        return ledger.free(quote) + ledger.total(base) * price >= price * amount / leverage + fee
    if side == OrderSide.BUY:
        return ledger.free(quote) >= price * amount + fee
    return margin or ledger.free(base) >= amount


def check_reduce_only(
    ledger: Ledger, symbol: str, side: str, amount: Decimal, reduce_only: bool, raise_error: bool
) -> bool:
    """A reduce-only order must shrink the position (the base total) without flipping it."""
    if not reduce_only:
        return True
    position = ledger.total(split_symbol(symbol)[0])
    ok = position >= amount if side == OrderSide.SELL else -position >= amount
    if not ok and raise_error:
        raise InvalidOrder(f"reduce-only {side} {amount} would not reduce the position {position}")
    return ok


_SIDES = {side.value: side for side in OrderSide}
_STATUSES = {status.value: status for status in VenueStatus}


def order_of(row: PaperOrder | Row[Any], money: Money) -> VenueOrder:
    """The venue's view of an order, from its ORM object or a plain row of its columns."""
    filled = money.must(row.filled)
    amount = money.must(row.amount)
    return VenueOrder(
        id=str(row.id),
        client_order_id=row.client_order_id,
        symbol=row.symbol,
        side=_SIDES[row.side],
        type=row.type,
        amount=amount,
        price=money.read(row.price),
        stop_price=money.read(row.stop_price),
        status=_STATUSES[row.status],
        filled=filled,
        remaining=amount - filled,
        average=money.must(row.cost) / filled if filled else None,
        fee=money.must(row.fee),
        fee_currency=split_symbol(row.symbol)[1],
        ts=row.created_ts,
        last_update_ts=row.updated_ts,
        reduce_only=row.reduce_only,
    )


def trade_of(fill: PaperFill, client_order_id: str, money: Money) -> VenueTrade:
    return VenueTrade(
        id=str(fill.id),
        order_id=str(fill.order_id),
        client_order_id=client_order_id,
        symbol=fill.symbol,
        side=OrderSide(fill.side),
        price=money.must(fill.price),
        amount=money.must(fill.amount),
        fee=money.must(fill.fee),
        fee_currency=fill.fee_currency,
        ts=fill.ts,
        taker_or_maker=fill.taker_or_maker,
    )
