"""Derivatives in a block: the margin it takes, where its position would be liquidated, and the
checks leverage adds to a block. Pure: no database, no I/O.

Only swaps and futures take a leverage or a margin mode; a leverage above the market's highest is
refused at the field, and so is a stop the position would never reach because it is liquidated
first. A leverage without a margin mode is isolated: the block then says what it sets.

The liquidation price is Binance's USDⓈ-M formula for one position with no maintenance amount,
from the margin behind each unit: the position's own (entry / leverage) when isolated, plus the
account's other free collateral per unit when cross. A position of amount Q, side s (+1 long,
-1 short), entry E and margin M per unit is liquidated where its margin left equals the
maintenance margin:  M + s (P - E) = mmr P,  so  P = (s E - M) / (s - mmr).
Rounded against the trader (a long's up, a short's down): the estimate errs on the side of the
venue acting first. Fees and funding are left out, so it is an estimate ("≈").
"""

from __future__ import annotations

from decimal import Decimal

from db.enums import MarginMode, Side
from engine.common.precision import RoundMode, divide, format_number, round_price, wide_context
from engine.exchanges.api import DERIVATIVES, MarketInfo, quirks_of

_ONE = Decimal(1)


def margin_mode_of(leverage: int | None, margin_mode: MarginMode | None) -> MarginMode | None:
    """The margin mode a block sets: the one chosen, or isolated when only a leverage is."""
    if margin_mode is None and leverage is not None:
        return MarginMode.ISOLATED
    return margin_mode


def margin_needed(cost: Decimal, leverage: int | None) -> Decimal:
    """The quote money a position of notional `cost` ties up: all of it without leverage."""
    return cost if leverage is None else divide(cost, Decimal(leverage), RoundMode.UP)


def liquidation_price(
    side: Side,
    entry: Decimal,
    leverage: int,
    maintenance_rate: Decimal,
    extra_margin_per_unit: Decimal = Decimal(0),
    tick: Decimal | None = None,
) -> Decimal | None:
    """Where the position is liquidated (see the module docstring); None when it never is (a long
    whose margin covers a fall to zero)."""
    with wide_context():
        margin = entry / leverage + extra_margin_per_unit
        if side is Side.LONG:
            price = (entry - margin) / (_ONE - maintenance_rate)
            return round_price(price, tick, RoundMode.UP) if price > 0 else None
        price = (entry + margin) / (_ONE + maintenance_rate)
        return round_price(price, tick, RoundMode.DOWN)


def estimate(
    side: Side,
    market: MarketInfo,
    entry: Decimal | None,
    total: Decimal | None,
    leverage: int | None,
    margin_mode: MarginMode | None,
    free_balance: Decimal | None,
) -> Decimal | None:
    """The block's liquidation price, once its entry and leverage are known (cross also needs its
    size and the free balance; without them the isolated figure, the nearer one, stands in)."""
    if entry is None or leverage is None or market.type not in DERIVATIVES:
        return None
    extra = Decimal(0)
    if margin_mode is MarginMode.CROSS and total and free_balance is not None:
        own = margin_needed(total * entry, leverage)
        extra = max(free_balance - own, Decimal(0)) / total
    rate = quirks_of(market.exchange).maintenance_margin_rate
    return liquidation_price(side, entry, leverage, rate, extra, market.price_tick)


def problems(
    side: Side,
    market: MarketInfo,
    leverage: int | None,
    margin_mode: MarginMode | None,
    stop: Decimal | None,
    liquidation: Decimal | None,
) -> list[tuple[str, str]]:
    """(field, message) for what leverage makes wrong with a block: on spot at all, above the
    market's highest, a stop beyond the liquidation price."""
    if leverage is None and margin_mode is None:
        return []
    if market.type not in DERIVATIVES:
        field = "leverage" if leverage is not None else "margin_mode"
        kind = f"{market.symbol} is a {market.type} market"
        return [(field, f"Leverage and margin mode apply to perpetuals and futures; {kind}.")]
    if leverage is not None and market.max_leverage is not None and leverage > market.max_leverage:
        return [("leverage", f"{market.symbol} allows at most {market.max_leverage}x on {market.exchange}.")]
    if liquidation is None or stop is None:
        return []
    if stop <= liquidation if side is Side.LONG else stop >= liquidation:
        mode = margin_mode_of(leverage, margin_mode)
        assert mode is not None
        fix = "raise" if side is Side.LONG else "lower"
        return [
            (
                "stop_price",
                f"Stop {format_number(stop, market.price_tick)} lies beyond the liquidation price "
                f"≈ {format_number(liquidation, market.price_tick)} at {leverage}x {mode.value}: the position "
                f"would be liquidated before its stop. Lower the leverage or {fix} the stop.",
            )
        ]
    return []
