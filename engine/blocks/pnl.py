"""Exact realized P&L of trades, in Decimal: profit after fees, R multiples, average fill prices,
and the break-even stop price. Pure functions.

Fees are in the quote currency here. `fee_parts` is the one place a venue's fee (in whatever currency
it was charged) becomes that: a fee in the base coin is worth fee x fill price and, on spot, leaves
the account holding less than it bought; a fee in a third currency (BNB) is kept apart, unvalued.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Context, Decimal, localcontext

from db.enums import Side
from engine.common.precision import WIDE_PRECISION, RoundMode, divide, multiply, round_price
from engine.common.symbols import SymbolError, parse_symbol

ZERO = Decimal(0)


def realized_pnl(side: Side, entry_price: Decimal, exit_price: Decimal, amount: Decimal, fees: Decimal) -> Decimal:
    """Quote money made: long (exit - entry) x amount - fees; short (entry - exit) x amount - fees."""
    if amount < 0:
        raise ValueError(f"amount must not be negative, got {amount}")
    with localcontext(Context(prec=WIDE_PRECISION)):
        move = exit_price - entry_price if Side(side) is Side.LONG else entry_price - exit_price
        return move * amount - fees


def r_multiple(pnl: Decimal, risk: Decimal) -> Decimal | None:
    """P&L in units of the money that was at risk (1R = lost exactly the planned risk); None without a risk."""
    if risk <= 0:
        return None
    return divide(pnl, risk, RoundMode.NEAREST)


def average_price(fills: Iterable[tuple[Decimal, Decimal]]) -> Decimal:
    """Volume-weighted average price of (price, amount) fills. ValueError when nothing filled."""
    notional, volume = Decimal(0), Decimal(0)
    with localcontext(Context(prec=WIDE_PRECISION)):
        for price, amount in fills:
            if amount < 0:
                raise ValueError(f"fill amount must not be negative, got {amount}")
            notional += price * amount
            volume += amount
    if volume == 0:
        raise ValueError("no filled amount to average")
    return divide(notional, volume, RoundMode.NEAREST)


def breakeven_price(side: Side, avg_entry: Decimal, fee_rate: Decimal, tick: Decimal | None = None) -> Decimal:
    """The exit (stop) price at which the trade loses nothing after paying `fee_rate` on both the
    entry and the exit notional, rounded safely to `tick`: UP for a long, DOWN for a short.

    Long: (X - E) - f E - f X = 0, so X = E (1 + f) / (1 - f). Short: X = E (1 - f) / (1 + f).
    """
    if not 0 <= fee_rate < 1:
        raise ValueError(f"fee rate must be in [0, 1), got {fee_rate}")
    one = Decimal(1)
    with localcontext(Context(prec=WIDE_PRECISION)):
        if Side(side) is Side.LONG:
            exact = divide(avg_entry * (one + fee_rate), one - fee_rate, RoundMode.UP)
            return round_price(exact, tick, RoundMode.UP)
        exact = divide(avg_entry * (one - fee_rate), one + fee_rate, RoundMode.DOWN)
        return round_price(exact, tick, RoundMode.DOWN)


# --- fees by currency ---


@dataclass(frozen=True)
class FeeParts:
    """A venue's fee as the books need it. `quote`: its value in the quote currency (what P&L
    subtracts; a base-coin fee is in it at its fill price). `base`: the base coin it took from a spot
    position (the account holds that much less than it bought). `other`: a fee in a third currency
    (e.g. BNB) that nothing at hand values, in `other_currency`; left out of `quote`."""

    quote: Decimal = ZERO
    base: Decimal = ZERO
    other: Decimal = ZERO
    other_currency: str | None = None

    def __add__(self, more: FeeParts) -> FeeParts:
        if self.other_currency and more.other_currency and self.other_currency != more.other_currency:
            raise ValueError(f"unvalued fees in two currencies: {self.other_currency} and {more.other_currency}")
        with localcontext(Context(prec=WIDE_PRECISION)):
            return FeeParts(
                self.quote + more.quote,
                self.base + more.base,
                self.other + more.other,
                self.other_currency or more.other_currency,
            )


def fee_parts(fee: Decimal, currency: str | None, symbol: str, price: Decimal | None) -> FeeParts:
    """`fee` charged in `currency` on a fill (or an order) of `symbol` at `price`, split as FeeParts.

    A fee without a currency, or on a symbol that names none, counts as quote (what every venue but
    spot base-coin charging does). A base-coin fee is valued fee x price, exactly; it reduces the
    position only on spot (a derivative pays it from its margin). Anything else is not guessed."""
    if not fee:
        return FeeParts()
    try:
        base, quote, settle = parse_symbol(symbol)
    except SymbolError:
        return FeeParts(quote=fee)
    if currency is None:
        return FeeParts(quote=fee)
    if currency in (quote, settle) and currency != base:
        return FeeParts(quote=fee)
    if currency == base:
        taken = fee if settle is None else ZERO
        if price is None:
            return FeeParts(base=taken, other=fee, other_currency=currency)
        return FeeParts(quote=multiply(fee, price), base=taken)
    return FeeParts(other=fee, other_currency=currency)
