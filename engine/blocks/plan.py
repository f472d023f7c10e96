"""Trade blocks before they reach an exchange: validate the form, size the position, split it
into one trade per profit target, and preview the money at risk. Pure: no database, no I/O.

Conventions the dashboard relies on:
- Field names: "symbol", "side", "entry_price", "stop_price", "targets", "targets.share" (every
  target's share: they add up wrong together), "targets[i].price",
  "targets[i].share", "targets[i]" (the row as a whole, e.g. its amount), "size_value",
  "entry_timeout_s", "max_duration_s". Indexes in field names start at 0; messages say
  "Target 1" for targets[0].
- Prices are rounded to the market's price tick (nearest) before any check, so the checks judge
  the prices that will be sent. A market entry is sized at `reference_price` (the current price),
  falling back to `entry_price`.
- Shares are fractions of 1 (0.25 = 25%); all None means an equal split.
- Balance check, kept simple: `free_balance` is free QUOTE money. A long needs amount x entry of
  it; a short (only on markets that can short) is assumed to need the same notional as
  collateral (1x); with a leverage (derivatives, engine.blocks.leverage) the notional / leverage.
  Sizes are notional whatever the leverage. Fees and slippage are not included in sizing or in
  the balance check.
- `plan_block` raises BlockRejected (carrying every FieldError) rather than returning errors.
- Every entry point first holds the request against engine.blocks.bounds (the one table of sane
  values): a value out of range is a FieldError, never an exception from Decimal arithmetic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import NamedTuple

from db.enums import EntryType, MarginMode, Side, SizeMode
from engine.blocks import leverage
from engine.blocks.bounds import MAX_VALUE, range_problem, request_problems
from engine.common.precision import (
    RoundMode,
    divide,
    format_money,
    format_number,
    multiply,
    quantize_to_tick,
    round_amount,
    round_price,
    split_amount,
    wide_context,
)
from engine.exchanges.api import MarketInfo

MAX_TARGETS = 10
# A market that publishes no amount tick is split on the storage scale (Numeric(36, 18)), so that
# amounts stay exact once stored; 1 / 3 would otherwise carry 60 digits.
FINEST_AMOUNT_TICK = Decimal("1E-18")
_HUNDRED = Decimal(100)
_RR_STEP = Decimal("0.01")


class TargetSpec(NamedTuple):
    price: Decimal | None
    share: Decimal | None = None  # fraction of the block's size; None on every target = equal split


@dataclass(frozen=True)
class BlockRequest:
    symbol: str
    side: Side
    entry_type: EntryType
    entry_price: Decimal | None  # None only for market entries
    stop_price: Decimal | None
    targets: tuple[TargetSpec, ...]  # nearest first; plain (price, share) tuples are accepted
    size_mode: SizeMode
    size_value: Decimal | None
    breakeven_after_first_target: bool = False
    entry_timeout_s: int | None = None
    max_duration_s: int | None = None
    reference_price: Decimal | None = None  # current price: sizes market entries, checks stop entries
    # The exchange of the market (the chart's series); the account must trade there. None: the
    # account's own exchange (callers that name the market through the account: benches, scripts).
    exchange: str | None = None
    # Derivatives: set on the venue before the entry (None: leave the venue's setting as it is).
    leverage: int | None = None
    margin_mode: MarginMode | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "targets", tuple(TargetSpec(*t) for t in self.targets))


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class BlockRejected(ValueError):  # noqa: N818 - the name says what happened to the block
    """The block cannot be planned; `errors` holds every problem found, one per field problem."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        self.errors = tuple(errors)
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in self.errors))


@dataclass(frozen=True)
class PlannedTrade:
    index: int  # 0-based target index
    target_price: Decimal
    amount: Decimal  # base amount, a multiple of the amount tick
    entry_price: Decimal | None  # None for a market entry (the order carries no price)
    stop_price: Decimal


@dataclass(frozen=True)
class BlockPlan:
    symbol: str
    side: Side
    entry_type: EntryType
    entry_price: Decimal  # price the block is sized at (the rounded reference price for a market entry)
    stop_price: Decimal
    total_amount: Decimal
    trades: tuple[PlannedTrade, ...]
    risk: Decimal  # quote money lost if every stop fills at its price: total x |entry - stop|
    cost: Decimal  # total x entry, in quote
    reward_risk: tuple[Decimal, ...]  # per target: |target - entry| / |entry - stop|, rounded down to 0.01
    # Derivatives (engine.blocks.leverage): what the venue is set to before the entry; None on spot.
    leverage: int | None = None
    margin_mode: MarginMode | None = None
    liquidation_price: Decimal | None = None


@dataclass(frozen=True)
class BlockPreview:
    """What the form shows live; each figure is None when the inputs do not allow it yet."""

    size: Decimal | None
    cost: Decimal | None
    risk: Decimal | None
    risk_pct: Decimal | None  # risk as percent of equity
    reward_risk: tuple[Decimal | None, ...]
    amounts: tuple[Decimal, ...] | None
    errors: tuple[FieldError, ...] = field(default_factory=tuple)
    # The form's prices rounded to the price tick, valid or not, so the chart can draw them where
    # they would be sent (None where a price is missing or not a positive number).
    entry_price: Decimal | None = None
    stop_price: Decimal | None = None
    target_prices: tuple[Decimal | None, ...] = ()
    price_tick: Decimal | None = None
    # A note per form price that is off the tick, at its field: "Rounded to the tick 0.01: 100.12."
    notes: tuple[FieldError, ...] = ()
    # Where the exits rest and what the desk watches (engine.blocks.resting), once the venue is known.
    protection: str | None = None
    # Derivatives with a leverage: the margin the block ties up and where it would be liquidated.
    margin: Decimal | None = None
    liquidation_price: Decimal | None = None
    leverage: int | None = None
    margin_mode: MarginMode | None = None


def _fmt(d: Decimal) -> str:
    """A number as a trader writes it: no exponent, no trailing zeros (100, 0.001, 101.5)."""
    return format(d.normalize(), "f")


def _pct(share: Decimal) -> str:
    return _fmt(share * _HUNDRED) + "%"


def _show(raw: Decimal | None, rounded: Decimal) -> str:
    return _fmt(rounded) if raw is None or raw == rounded else f"{_fmt(raw)} (rounded to {_fmt(rounded)})"


@dataclass
class _Analysis:
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


def _price(a: _Analysis, name: str, label: str, value: Decimal | None, market: MarketInfo) -> Decimal | None:
    """The price rounded to the tick, or None after recording why it cannot be used."""
    if value is None:
        a.add(name, f"Enter the {label.lower()} price.")
        return None
    if not value.is_finite() or value <= 0:
        a.add(name, f"{label} price must be a positive number, not {value}.")
        return None
    rounded = round_price(value, market.price_tick)
    if rounded <= 0:
        a.add(name, f"{label} price {_fmt(value)} is below this market's price step {_fmt(market.price_tick)}.")
        return None
    if market.min_price is not None and rounded < market.min_price:
        a.add(name, f"{label} price {_fmt(rounded)} is below this market's lowest price {_fmt(market.min_price)}.")
        return None
    if market.max_price is not None and rounded > market.max_price:
        a.add(name, f"{label} price {_fmt(rounded)} is above this market's highest price {_fmt(market.max_price)}.")
        return None
    return rounded


def _check_market(a: _Analysis, req: BlockRequest, market: MarketInfo) -> None:
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


def _entry(a: _Analysis, req: BlockRequest, market: MarketInfo) -> Decimal | None:
    if req.entry_type is not EntryType.MARKET:
        return _price(a, "entry_price", "Entry", req.entry_price, market)
    reference = req.reference_price if req.reference_price is not None else req.entry_price
    if reference is None:
        a.add("entry_price", f"No current price for {req.symbol} yet: a market entry cannot be sized without one.")
        return None
    return _price(a, "entry_price", "Entry", reference, market)


def _check_stop_entry(a: _Analysis, req: BlockRequest, market: MarketInfo) -> None:
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
            f"A stop entry {what}: {_fmt(a.entry)} must be {where} the current price {_fmt(now)} "
            f"(use a limit entry to {limit}).",
        )


def _amount_tick(market: MarketInfo) -> Decimal:
    return market.amount_tick if market.amount_tick is not None else FINEST_AMOUNT_TICK


def _beyond(side: Side, price: Decimal, reference: Decimal) -> bool:
    """Whether `price` is on the profit side of `reference` (above for a long, below for a short)."""
    return price > reference if side is Side.LONG else price < reference


def _check_prices(a: _Analysis, req: BlockRequest, market: MarketInfo) -> None:
    side = req.side
    word, against = ("above", "below") if side is Side.LONG else ("below", "above")
    a.entry = _entry(a, req, market)
    _check_stop_entry(a, req, market)
    a.stop = _price(a, "stop_price", "Stop", req.stop_price, market)
    if a.entry is not None and a.stop is not None and not _beyond(side, a.entry, a.stop):
        shown = _show(req.stop_price, a.stop)
        a.add("stop_price", f"Stop {shown} must be {against} the entry {_fmt(a.entry)} for a {side.value}.")
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
            a.add(name, f"{label} at {shown} must be {word} the entry {_fmt(a.entry)} for a {side.value}.")
            price = None
        elif price is not None and previous is not None and not _beyond(side, price, previous[1]):
            shown = _show(target.price, price)
            a.add(
                name,
                f"{label} at {shown} must be {word} target {previous[0] + 1} at {_fmt(previous[1])}: "
                "list targets from nearest to farthest.",
            )
            price = None
        a.targets.append(price)
        if price is not None:
            previous = (i, price)


def _check_shares(a: _Analysis, req: BlockRequest) -> None:
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


def _check_size_value(a: _Analysis, req: BlockRequest, market: MarketInfo, equity: Decimal) -> bool:
    value = req.size_value
    if value is None or not value.is_finite() or value <= 0:
        a.add("size_value", "Enter a size above 0.")
        return False
    if req.size_mode is SizeMode.RISK_PCT and value > _HUNDRED:
        a.add("size_value", f"Risking {_fmt(value)}% is more than the whole account: enter at most 100%.")
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


def _check_timing(a: _Analysis, req: BlockRequest) -> None:
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
        return divide(budget, multiply(_HUNDRED, entry), RoundMode.DOWN)
    if stop is None or stop == entry:
        raise ValueError("risk sizing needs a stop away from the entry")
    return divide(budget, multiply(_HUNDRED, abs(entry - stop)), RoundMode.DOWN)


def _lowest_leg(a: _Analysis, i: int) -> tuple[str, Decimal]:
    """The lowest of a trade's three prices, named: its smallest order value is there."""
    legs = [("entry", a.entry), ("stop", a.stop), (f"target {i + 1}", a.targets[i])]
    name, price = min(((n, p) for n, p in legs if p is not None), key=lambda leg: leg[1])
    return name, price


def _check_amounts(a: _Analysis, req: BlockRequest, market: MarketInfo, free_balance: Decimal | None) -> None:
    """Minimums per trade, maximum per trade, and the free balance; needs a.total and a.amounts."""
    assert a.total is not None
    assert a.amounts is not None
    assert a.entry is not None
    base, quote, total, side = market.base, market.quote, a.total, req.side
    if total <= 0:
        a.add(
            "size_value", f"The size rounds down to 0 {base} at this market's amount step {_fmt(_amount_tick(market))}."
        )
        return
    if market.min_amount is not None and total < market.min_amount:
        a.add(
            "size_value",
            f"The size {_fmt(total)} {base} is below this market's minimum {_fmt(market.min_amount)} {base}.",
        )
        return
    for i, amount in enumerate(a.amounts):
        row, label = f"targets[{i}]", f"Target {i + 1}"
        leg, price = _lowest_leg(a, i)
        if market.min_amount is not None and amount < market.min_amount:
            a.add(
                row,
                f"{label} gets {_fmt(amount)} {base}, below this market's minimum amount "
                f"{_fmt(market.min_amount)} {base}: use fewer targets or a bigger size.",
            )
        elif market.min_cost is not None and multiply(amount, price) < market.min_cost:
            a.add(
                row,
                f"{label} gets {_fmt(amount)} {base}, worth {format_money(multiply(amount, price), RoundMode.DOWN)} "
                f"{quote} at the {leg} {_fmt(price)}: below this market's minimum order of "
                f"{format_money(market.min_cost, RoundMode.UP)} {quote}. "
                "Use fewer targets or a bigger size.",
            )
        elif market.max_amount is not None and amount > market.max_amount:
            a.add(
                row,
                f"{label} gets {_fmt(amount)} {base}, above this market's maximum order amount "
                f"{_fmt(market.max_amount)} {base}: use more targets or a smaller size.",
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


def _analyse(req: BlockRequest, market: MarketInfo, equity: Decimal, free_balance: Decimal | None) -> _Analysis:
    a = _Analysis(errors=_out_of_range(req))
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
            a.total = round_amount(raw, _amount_tick(market))
            a.amounts = split_amount(a.total, len(req.targets), a.shares, _amount_tick(market))
            _check_amounts(a, req, market, free_balance)
        _check_leverage(a, req, market, free_balance)
    return a


def _check_leverage(a: _Analysis, req: BlockRequest, market: MarketInfo, free_balance: Decimal | None) -> None:
    mode = leverage.margin_mode_of(req.leverage, req.margin_mode)
    a.liquidation = leverage.estimate(req.side, market, a.entry, a.total, req.leverage, mode, free_balance)
    for name, message in leverage.problems(req.side, market, req.leverage, req.margin_mode, a.stop, a.liquidation):
        a.add(name, message)


def validate_block(
    req: BlockRequest, market: MarketInfo, equity: Decimal, free_balance: Decimal | None
) -> list[FieldError]:
    """Every problem with the block, one FieldError each, in form order; [] when it can be placed.

    `free_balance` None skips the balance check (the live preview uses that).
    """
    return list(_analyse(req, market, equity, free_balance).errors)


def compute_size(req: BlockRequest, market: MarketInfo, equity: Decimal) -> Decimal:
    """The block's base amount, rounded DOWN to the amount tick. BASE: the value; QUOTE: value / entry;
    EQUITY_PCT: equity x pct / 100 / entry; RISK_PCT: equity x pct / 100 / |entry - stop|.
    Raises BlockRejected when the prices or the size value do not allow a size."""
    a = _Analysis(errors=_out_of_range(req))
    if a.errors:
        raise BlockRejected(a.errors)
    a.entry = _entry(a, req, market)
    if req.size_mode is SizeMode.RISK_PCT:
        a.stop = _price(a, "stop_price", "Stop", req.stop_price, market)
        if a.stop is not None and a.stop == a.entry:
            a.add("stop_price", f"Stop {_fmt(a.stop)} is the entry price: a size by risk needs a stop away from it.")
    _check_size_value(a, req, market, equity)
    if a.errors or a.entry is None or req.size_value is None:
        raise BlockRejected(a.errors)
    return round_amount(_raw_size(req.size_mode, req.size_value, a.entry, a.stop, equity), _amount_tick(market))


def _reward_risk(entry: Decimal | None, stop: Decimal | None, target: Decimal | None) -> Decimal | None:
    if entry is None or stop is None or target is None or entry == stop:
        return None
    return quantize_to_tick(divide(abs(target - entry), abs(entry - stop), RoundMode.DOWN), _RR_STEP, ROUND_DOWN)


def plan_block(req: BlockRequest, market: MarketInfo, equity: Decimal, free_balance: Decimal | None) -> BlockPlan:
    """The block split into one trade per target; raises BlockRejected with every FieldError."""
    a = _analyse(req, market, equity, free_balance)
    if a.errors:
        raise BlockRejected(a.errors)
    assert a.entry is not None
    assert a.stop is not None
    assert a.total is not None
    assert a.amounts is not None
    order_entry = None if req.entry_type is EntryType.MARKET else a.entry
    targets = [t for t in a.targets if t is not None]
    trades = tuple(
        PlannedTrade(index=i, target_price=t, amount=amt, entry_price=order_entry, stop_price=a.stop)
        for i, (t, amt) in enumerate(zip(targets, a.amounts, strict=True))
    )
    return BlockPlan(
        symbol=req.symbol,
        side=req.side,
        entry_type=req.entry_type,
        entry_price=a.entry,
        stop_price=a.stop,
        total_amount=a.total,
        trades=trades,
        risk=multiply(a.total, abs(a.entry - a.stop)),
        cost=multiply(a.total, a.entry),
        reward_risk=tuple(_reward_risk(a.entry, a.stop, t) or Decimal(0) for t in targets),
        leverage=req.leverage,
        margin_mode=leverage.margin_mode_of(req.leverage, req.margin_mode),
        liquidation_price=a.liquidation,
    )


def preview(
    req: BlockRequest, market: MarketInfo, equity: Decimal, free_balance: Decimal | None = None
) -> BlockPreview:
    """Live figures for the form: size, cost, money at risk, reward:risk per target, and the errors.
    Works on an incomplete or wrong form: every figure the inputs allow is filled in."""
    a = _analyse(req, market, equity, free_balance)
    size = a.total
    if size is None:
        try:
            size = compute_size(req, market, equity)
        except (BlockRejected, ValueError):
            size = None
    entry, stop = a.entry, a.stop
    risk = multiply(size, abs(entry - stop)) if size is not None and entry is not None and stop is not None else None
    risk_pct = (
        divide(risk * _HUNDRED, equity, RoundMode.NEAREST).quantize(_RR_STEP)
        if risk is not None and equity > 0
        else None
    )
    drawn_entry = req.reference_price if req.entry_type is EntryType.MARKET else req.entry_price
    cost = multiply(size, entry) if size is not None and entry is not None else None
    return BlockPreview(
        size=size,
        cost=cost,
        risk=risk,
        risk_pct=risk_pct,
        reward_risk=tuple(_reward_risk(entry, stop, t) for t in a.targets),
        amounts=tuple(a.amounts) if a.amounts is not None else None,
        errors=tuple(a.errors),
        entry_price=_on_tick(drawn_entry, market),
        stop_price=_on_tick(req.stop_price, market),
        target_prices=tuple(_on_tick(t.price, market) for t in req.targets),
        price_tick=market.price_tick,
        notes=(*_rounding_notes(req, market), *_size_note(req, size, market)),
        margin=leverage.margin_needed(cost, req.leverage) if cost is not None and req.leverage is not None else None,
        liquidation_price=a.liquidation,
        leverage=req.leverage,
        margin_mode=leverage.margin_mode_of(req.leverage, req.margin_mode),
    )


def _rounding_notes(req: BlockRequest, market: MarketInfo) -> list[FieldError]:
    """Where a typed price is off the tick: the price that will be sent, at its field."""
    typed = [("stop_price", req.stop_price)] + [(f"targets[{i}].price", t.price) for i, t in enumerate(req.targets)]
    if req.entry_type is not EntryType.MARKET:
        typed.insert(0, ("entry_price", req.entry_price))
    notes = []
    for name, value in typed:
        rounded = _on_tick(value, market)
        if rounded is not None and rounded != value and market.price_tick is not None:
            shown = format_number(rounded, market.price_tick)
            notes.append(FieldError(name, f"Rounded to the tick {format_number(market.price_tick)}: {shown}."))
    return notes


def _size_note(req: BlockRequest, size: Decimal | None, market: MarketInfo) -> list[FieldError]:
    """Where a typed amount is off the market's amount step (10.7 shares of a whole-share stock): the
    amount that will be traded, at the size field. Sizes the planner computes are not typed ones."""
    if req.size_mode is not SizeMode.BASE or size is None or size <= 0 or size == req.size_value:
        return []
    step = _fmt(_amount_tick(market))
    return [FieldError("size_value", f"Rounded down to the amount step {step}: {_fmt(size)}.")]


def _on_tick(value: Decimal | None, market: MarketInfo) -> Decimal | None:
    """A form price rounded to the tick, or None when it is not a positive number."""
    if value is None or not value.is_finite() or value <= 0 or range_problem(value, "price") is not None:
        return None
    rounded = round_price(value, market.price_tick)
    return rounded if rounded > 0 else None
