"""The data of block planning: the request a form, the API or a webhook sends, the field errors
it can have, the plan of its trades and the form's live preview (engine.blocks.plan makes them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from db.enums import EntryType, MarginMode, Side, SizeMode

MAX_TARGETS = 10


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
