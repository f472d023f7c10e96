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

from decimal import ROUND_DOWN, Decimal

from db.enums import EntryType, SizeMode
from engine.blocks import leverage
from engine.blocks.bounds import range_problem
from engine.blocks.plan_checks import HUNDRED, amount_tick, analyse, compute_size, fmt
from engine.blocks.plan_model import (
    MAX_TARGETS,
    BlockPlan,
    BlockPreview,
    BlockRejected,
    BlockRequest,
    FieldError,
    PlannedTrade,
    TargetSpec,
)
from engine.common.precision import (
    RoundMode,
    divide,
    format_number,
    multiply,
    quantize_to_tick,
    round_price,
)
from engine.exchanges.api import MarketInfo

__all__ = [  # the planning's data (engine.blocks.plan_model) is imported from here too
    "MAX_TARGETS",
    "BlockPlan",
    "BlockPreview",
    "BlockRejected",
    "BlockRequest",
    "FieldError",
    "TargetSpec",
    "compute_size",
    "plan_block",
    "preview",
    "validate_block",
]

_RR_STEP = Decimal("0.01")


def validate_block(
    req: BlockRequest, market: MarketInfo, equity: Decimal, free_balance: Decimal | None
) -> list[FieldError]:
    """Every problem with the block, one FieldError each, in form order; [] when it can be placed.

    `free_balance` None skips the balance check (the live preview uses that).
    """
    return list(analyse(req, market, equity, free_balance).errors)


def _reward_risk(entry: Decimal | None, stop: Decimal | None, target: Decimal | None) -> Decimal | None:
    if entry is None or stop is None or target is None or entry == stop:
        return None
    return quantize_to_tick(divide(abs(target - entry), abs(entry - stop), RoundMode.DOWN), _RR_STEP, ROUND_DOWN)


def plan_block(req: BlockRequest, market: MarketInfo, equity: Decimal, free_balance: Decimal | None) -> BlockPlan:
    """The block split into one trade per target; raises BlockRejected with every FieldError."""
    a = analyse(req, market, equity, free_balance)
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
    a = analyse(req, market, equity, free_balance)
    size = a.total
    if size is None:
        try:
            size = compute_size(req, market, equity)
        except (BlockRejected, ValueError):
            size = None
    entry, stop = a.entry, a.stop
    risk = multiply(size, abs(entry - stop)) if size is not None and entry is not None and stop is not None else None
    risk_pct = (
        divide(risk * HUNDRED, equity, RoundMode.NEAREST).quantize(_RR_STEP)
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
    step = fmt(amount_tick(market))
    return [FieldError("size_value", f"Rounded down to the amount step {step}: {fmt(size)}.")]


def _on_tick(value: Decimal | None, market: MarketInfo) -> Decimal | None:
    """A form price rounded to the tick, or None when it is not a positive number."""
    if value is None or not value.is_finite() or value <= 0 or range_problem(value, "price") is not None:
        return None
    rounded = round_price(value, market.price_tick)
    return rounded if rounded > 0 else None
