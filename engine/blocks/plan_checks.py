"""The checks of a block request, field by field in form order: every FieldError with the message
shown at its field, and what the inputs allow of the prices, shares and size (engine.blocks.plan's
conventions)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from db.enums import EntryType, Side, SizeMode
from engine.blocks import leverage
from engine.blocks.bounds import MAX_VALUE, request_problems
from engine.blocks.plan_model import MAX_TARGETS, BlockRejected, BlockRequest, FieldError
from engine.common.precision import (
    RoundMode,
    divide,
    format_money,
    format_number,
    multiply,
    round_amount,
    round_price,
    split_amount,
    wide_context,
)
from engine.exchanges.api import MarketInfo

# A market that publishes no amount tick is split on the storage scale (Numeric(36, 18)), so that
# amounts stay exact once stored; 1 / 3 would otherwise carry 60 digits.
FINEST_AMOUNT_TICK = Decimal("1E-18")
HUNDRED = Decimal(100)


def fmt(d: Decimal) -> str:
    """A number as a trader writes it: no exponent, no trailing zeros (100, 0.001, 101.5)."""
    return format(d.normalize(), "f")


def _pct(share: Decimal) -> str:
    return fmt(share * HUNDRED) + "%"


def _show(raw: Decimal | None, rounded: Decimal) -> str:
    return fmt(rounded) if raw is None or raw == rounded else f"{fmt(raw)} (rounded to {fmt(rounded)})"


@dataclass
class Analysis:
    """Everything worked out of a request; fields stay None where the inputs do not allow them."""

    errors: list[FieldError] = field(default_factory=list)
    entry: Decimal | None = None
    stop: Decimal | None = None
    targets: list[Decimal | None] = field(default_factory=list)
    shares: list[Decimal] | None = None  # None = equal split
    shares_ok: bool = False
    total: Decimal | None = None
    amounts: list[Decimal] | None = None
    liquidation: Decimal | None = None

    def add(self, field_name: str, message: str) -> None:
        self.errors.append(FieldError(field_name, message))


def _price(a: Analysis, name: str, label: str, value: Decimal | None, market: MarketInfo) -> Decimal | None:
    """The price rounded to the tick, or None after recording why it cannot be used."""
    if value is None:
        a.add(name, f"Enter the {label.lower()} price.")
        return None
    if not value.is_finite() or value <= 0:
        a.add(name, f"{label} price must be a positive number, not {value}.")
        return None
    rounded = round_price(value, market.price_tick)
    if rounded <= 0:
        a.add(name, f"{label} price {fmt(value)} is below this market's price step {fmt(market.price_tick)}.")
        return None
    if market.min_price is not None and rounded < market.min_price:
        a.add(name, f"{label} price {fmt(rounded)} is below this market's lowest price {fmt(market.min_price)}.")
        return None
    if market.max_price is not None and rounded > market.max_price:
        a.add(name, f"{label} price {fmt(rounded)} is above this market's highest price {fmt(market.max_price)}.")
        return None
    return rounded


def _check_market(a: Analysis, req: BlockRequest, market: MarketInfo) -> None:
    if req.symbol != market.symbol:
        a.add("symbol", f"{req.symbol} does not match the market {market.symbol} on {market.exchange}.")
    if not market.active:
        a.add("symbol", f"{market.symbol} is not trading on {market.exchange} right now.")
    if req.side is Side.SHORT and not market.can_short:
        a.add(
            "side",
            f"{market.symbol} on {market.exchange} is a {market.type} market and cannot be shorted: "
            "choose long, or a market that allows shorting.",
        )


def _entry(a: Analysis, req: BlockRequest, market: MarketInfo) -> Decimal | None:
    if req.entry_type is not EntryType.MARKET:
        return _price(a, "entry_price", "Entry", req.entry_price, market)
    reference = req.reference_price if req.reference_price is not None else req.entry_price
    if reference is None:
        a.add("entry_price", f"No current price for {req.symbol} yet: a market entry cannot be sized without one.")
        return None
    return _price(a, "entry_price", "Entry", reference, market)


def _check_stop_entry(a: Analysis, req: BlockRequest, market: MarketInfo) -> None:
    """A stop entry triggers on a breakout: it must sit beyond the current price, or it fires at once."""
    if req.entry_type is not EntryType.STOP or req.reference_price is None or a.entry is None:
        return
    now = round_price(req.reference_price, market.price_tick)
    if not _beyond(req.side, a.entry, now):
        what, where, limit = (
            ("buys a breakout", "above", "buy lower")
            if req.side is Side.LONG
            else ("sells a breakdown", "below", "sell higher")
        )
        a.add(
            "entry_price",
            f"A stop entry {what}: {fmt(a.entry)} must be {where} the current price {fmt(now)} "
            f"(use a limit entry to {limit}).",
        )


def amount_tick(market: MarketInfo) -> Decimal:
    return market.amount_tick if market.amount_tick is not None else FINEST_AMOUNT_TICK


def _beyond(side: Side, price: Decimal, reference: Decimal) -> bool:
    """Whether `price` is on the profit side of `reference` (above for a long, below for a short)."""
    return price > reference if side is Side.LONG else price < reference


def _check_prices(a: Analysis, req: BlockRequest, market: MarketInfo) -> None:
    side = req.side
    word, against = ("above", "below") if side is Side.LONG else ("below", "above")
    a.entry = _entry(a, req, market)
    _check_stop_entry(a, req, market)
    a.stop = _price(a, "stop_price", "Stop", req.stop_price, market)
    if a.entry is not None and a.stop is not None and not _beyond(side, a.entry, a.stop):
        shown = _show(req.stop_price, a.stop)
        a.add("stop_price", f"Stop {shown} must be {against} the entry {fmt(a.entry)} for a {side.value}.")
        a.stop = None
    if not req.targets:
        a.add("targets", "Add at least one profit target.")
    elif len(req.targets) > MAX_TARGETS:
        a.add("targets", f"At most {MAX_TARGETS} profit targets; this block has {len(req.targets)}.")
    previous: tuple[int, Decimal] | None = None
    for i, target in enumerate(req.targets):
        name, label = f"targets[{i}].price", f"Target {i + 1}"
        price = _price(a, name, label, target.price, market)
        if price is not None and a.entry is not None and not _beyond(side, price, a.entry):
            shown = _show(target.price, price)
            a.add(name, f"{label} at {shown} must be {word} the entry {fmt(a.entry)} for a {side.value}.")
            price = None
        elif price is not None and previous is not None and not _beyond(side, price, previous[1]):
            shown = _show(target.price, price)
            a.add(
                name,
                f"{label} at {shown} must be {word} target {previous[0] + 1} at {fmt(previous[1])}: "
                "list targets from nearest to farthest.",
            )
            price = None
        a.targets.append(price)
        if price is not None:
            previous = (i, price)


def _check_shares(a: Analysis, req: BlockRequest) -> None:
    shares = [t.share for t in req.targets]
    if not shares or len(shares) > MAX_TARGETS:
        return
    if all(s is None for s in shares):
        a.shares, a.shares_ok = None, True
        return
    if any(s is None for s in shares):
        a.add("targets.share", "Give a share to every target, or to none for an equal split.")
        return
    given = [s for s in shares if s is not None]
    bad = [(i, s) for i, s in enumerate(given) if not s.is_finite() or s <= 0]
    for i, share in bad:
        a.add(f"targets[{i}].share", f"Target {i + 1} share must be more than 0%, not {share}.")
    if bad:
        return
    total = sum(given, Decimal(0))
    if total != 1:
        a.add("targets.share", f"Target shares add up to {_pct(total)}; they must add up to 100%.")
        return
    a.shares, a.shares_ok = given, True


def _check_size_value(a: Analysis, req: BlockRequest, market: MarketInfo, equity: Decimal) -> bool:
    value = req.size_value
    if value is None or not value.is_finite() or value <= 0:
        a.add("size_value", "Enter a size above 0.")
        return False
    if req.size_mode is SizeMode.RISK_PCT and value > HUNDRED:
        a.add("size_value", f"Risking {fmt(value)}% is more than the whole account: enter at most 100%.")
        return False
    if req.size_mode in (SizeMode.EQUITY_PCT, SizeMode.RISK_PCT) and equity <= 0:
        a.add(
            "size_value",
            f"Account equity is {format_money(equity, RoundMode.DOWN)} {market.quote}: "
            "a size in percent of equity is zero; "
            f"give the size in {market.base} or {market.quote}.",
        )
        return False
    return True


def _check_timing(a: Analysis, req: BlockRequest) -> None:
    if req.entry_timeout_s is not None and req.entry_timeout_s <= 0:
        a.add("entry_timeout_s", "Entry timeout must be at least 1 second (leave it empty for none).")
    if req.max_duration_s is not None and req.max_duration_s <= 0:
        a.add("max_duration_s", "Maximum duration must be at least 1 second (leave it empty for none).")


def _raw_size(mode: SizeMode, value: Decimal, entry: Decimal, stop: Decimal | None, equity: Decimal) -> Decimal:
    """The unrounded base amount; quotients round down so that rounding never adds size or risk."""
    if mode is SizeMode.BASE:
        return value
    if mode is SizeMode.QUOTE:
        return divide(value, entry, RoundMode.DOWN)
    budget = multiply(equity, value)  # equity x percent, divided by 100 below
    if mode is SizeMode.EQUITY_PCT:
        return divide(budget, multiply(HUNDRED, entry), RoundMode.DOWN)
    if stop is None or stop == entry:
        raise ValueError("risk sizing needs a stop away from the entry")
    return divide(budget, multiply(HUNDRED, abs(entry - stop)), RoundMode.DOWN)


def _lowest_leg(a: Analysis, i: int) -> tuple[str, Decimal]:
    """The lowest of a trade's three prices, named: its smallest order value is there."""
    legs = [("entry", a.entry), ("stop", a.stop), (f"target {i + 1}", a.targets[i])]
    name, price = min(((n, p) for n, p in legs if p is not None), key=lambda leg: leg[1])
    return name, price


def _check_amounts(a: Analysis, req: BlockRequest, market: MarketInfo, free_balance: Decimal | None) -> None:
    """Minimums per trade, maximum per trade, and the free balance; needs a.total and a.amounts."""
    assert a.total is not None
    assert a.amounts is not None
    assert a.entry is not None
    base, quote, total, side = market.base, market.quote, a.total, req.side
    if total <= 0:
        a.add(
            "size_value", f"The size rounds down to 0 {base} at this market's amount step {fmt(amount_tick(market))}."
        )
        return
    if market.min_amount is not None and total < market.min_amount:
        a.add(
            "size_value",
            f"The size {fmt(total)} {base} is below this market's minimum {fmt(market.min_amount)} {base}.",
        )
        return
    for i, amount in enumerate(a.amounts):
        row, label = f"targets[{i}]", f"Target {i + 1}"
        leg, price = _lowest_leg(a, i)
        if market.min_amount is not None and amount < market.min_amount:
            a.add(
                row,
                f"{label} gets {fmt(amount)} {base}, below this market's minimum amount "
                f"{fmt(market.min_amount)} {base}: use fewer targets or a bigger size.",
            )
        elif market.min_cost is not None and multiply(amount, price) < market.min_cost:
            a.add(
                row,
                f"{label} gets {fmt(amount)} {base}, worth {format_money(multiply(amount, price), RoundMode.DOWN)} "
                f"{quote} at the {leg} {fmt(price)}: below this market's minimum order of "
                f"{format_money(market.min_cost, RoundMode.UP)} {quote}. "
                "Use fewer targets or a bigger size.",
            )
        elif market.max_amount is not None and amount > market.max_amount:
            a.add(
                row,
                f"{label} gets {fmt(amount)} {base}, above this market's maximum order amount "
                f"{fmt(market.max_amount)} {base}: use more targets or a smaller size.",
            )
    cost = multiply(total, a.entry)
    risk = multiply(total, abs(a.entry - a.stop)) if a.stop is not None else Decimal(0)
    if max(total, cost, risk) > MAX_VALUE:
        a.add(
            "size_value",
            f"This block ({format_number(total)} {base}, {format_money(cost)} {quote}) is beyond the largest size "
            f"Tradeblock handles ({format_number(MAX_VALUE)}): enter a smaller size.",
        )
        return
    needed = leverage.margin_needed(cost, req.leverage)
    if free_balance is not None and needed > free_balance:
        if req.leverage is not None:
            why = f" of margin at {req.leverage}x"
        else:
            why = "" if side is Side.LONG else " as collateral for the short"
        a.add(
            "size_value",
            f"This block needs {format_money(needed, RoundMode.UP)} {quote}{why}, "
            f"but only {format_money(free_balance, RoundMode.DOWN)} {quote} is free.",
        )


def _out_of_range(req: BlockRequest) -> list[FieldError]:
    """The request's values outside engine.blocks.bounds; the rest of the analysis needs them in range."""
    return [FieldError(name, message) for name, message in request_problems(req)]


def analyse(req: BlockRequest, market: MarketInfo, equity: Decimal, free_balance: Decimal | None) -> Analysis:
    a = Analysis(errors=_out_of_range(req))
    if a.errors:
        return a
    with wide_context():  # differences and sums of money stay exact
        _check_market(a, req, market)
        _check_prices(a, req, market)
        _check_shares(a, req)
        size_ok = _check_size_value(a, req, market, equity)
        _check_timing(a, req)
        prices_ok = a.entry is not None and a.stop is not None and all(p is not None for p in a.targets)
        if size_ok and prices_ok and a.shares_ok and req.size_value is not None:
            raw = _raw_size(req.size_mode, req.size_value, a.entry, a.stop, equity)
            a.total = round_amount(raw, amount_tick(market))
            a.amounts = split_amount(a.total, len(req.targets), a.shares, amount_tick(market))
            _check_amounts(a, req, market, free_balance)
        _check_leverage(a, req, market, free_balance)
    return a


def _check_leverage(a: Analysis, req: BlockRequest, market: MarketInfo, free_balance: Decimal | None) -> None:
    mode = leverage.margin_mode_of(req.leverage, req.margin_mode)
    a.liquidation = leverage.estimate(req.side, market, a.entry, a.total, req.leverage, mode, free_balance)
    for name, message in leverage.problems(req.side, market, req.leverage, req.margin_mode, a.stop, a.liquidation):
        a.add(name, message)


def compute_size(req: BlockRequest, market: MarketInfo, equity: Decimal) -> Decimal:
    """The block's base amount, rounded DOWN to the amount tick. BASE: the value; QUOTE: value / entry;
    EQUITY_PCT: equity x pct / 100 / entry; RISK_PCT: equity x pct / 100 / |entry - stop|.
    Raises BlockRejected when the prices or the size value do not allow a size."""
    a = Analysis(errors=_out_of_range(req))
    if a.errors:
        raise BlockRejected(a.errors)
    a.entry = _entry(a, req, market)
    if req.size_mode is SizeMode.RISK_PCT:
        a.stop = _price(a, "stop_price", "Stop", req.stop_price, market)
        if a.stop is not None and a.stop == a.entry:
            a.add("stop_price", f"Stop {fmt(a.stop)} is the entry price: a size by risk needs a stop away from it.")
    _check_size_value(a, req, market, equity)
    if a.errors or a.entry is None or req.size_value is None:
        raise BlockRejected(a.errors)
    return round_amount(_raw_size(req.size_mode, req.size_value, a.entry, a.stop, equity), amount_tick(market))
