"""The conditions package's public surface: trade blocks that wait for a condition (a candle
closing beyond a price, the price crossing a level, a time) before they are placed, with an
optional `then` step armed when the first fires. Save (checked like the form's block), list,
cancel; and the engine's check, run on each sync tick and each new candle (engine.scheduler).
Blocks are placed only through engine.blocks.api. `market_price`: the last price the checks read
(price alerts, engine.alerts, read the same); `highs_lows` and `candles_end`: the highs and
lows of a series' candles since a moment (the alerts' wicks)."""

from engine.conditions.fire import CheckReport, check_conditions
from engine.conditions.parse import KINDS, MAX_STEPS, ConditionSpec, parse_condition
from engine.conditions.prices import candles_end, highs_lows, market_price
from engine.conditions.store import (
    ConditionAccessError,
    ConditionRefused,
    ConditionView,
    cancel_condition,
    chain,
    create_condition,
    get_condition,
    list_conditions,
)

__all__ = [
    "KINDS",
    "MAX_STEPS",
    "CheckReport",
    "ConditionAccessError",
    "ConditionRefused",
    "ConditionSpec",
    "ConditionView",
    "cancel_condition",
    "candles_end",
    "chain",
    "check_conditions",
    "create_condition",
    "get_condition",
    "highs_lows",
    "list_conditions",
    "market_price",
    "parse_condition",
]
