"""Domain states and kinds, stored as strings. The legal moves between states live in
`engine/blocks/states.py`; here are only the names, so that `db` depends on nothing of ours."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    ADMIN = "admin"
    TRADER = "trader"
    ANALYST = "analyst"


class BackfillStatus(enum.StrEnum):
    IDLE = "idle"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Side(enum.StrEnum):
    LONG = "long"
    SHORT = "short"


class EntryType(enum.StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"  # stop-entry: buy a breakout above / sell a breakdown below


class SizeMode(enum.StrEnum):
    BASE = "base"  # amount of the base currency
    QUOTE = "quote"  # amount of the quote currency
    EQUITY_PCT = "equity_pct"  # percent of account equity
    RISK_PCT = "risk_pct"  # percent of equity lost if the stop is hit


class OrderRole(enum.StrEnum):
    ENTRY = "entry"
    TP = "tp"
    SL = "sl"
    EXIT = "exit"  # market close (cancel with close, time exit)


# The orders that take a position off (portfolio and blocks both count them); a tuple for SQL's IN.
EXIT_ROLES: tuple[OrderRole, ...] = (OrderRole.TP, OrderRole.SL, OrderRole.EXIT)


class OrderType(enum.StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP_MARKET = "stop_market"


class OrderStatus(enum.StrEnum):
    """Life of one order, after nautilus_trader's order state machine (simplified)."""

    INITIALIZED = "initialized"  # intent written, not sent yet
    SUBMITTED = "submitted"  # sent; answer not yet seen (maybe lost)
    ACCEPTED = "accepted"  # resting on the exchange
    PARTIALLY_FILLED = "partially_filled"
    PENDING_CANCEL = "pending_cancel"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"


class TradeStatus(enum.StrEnum):
    PENDING = "pending"  # entry not filled yet
    OPEN = "open"  # position held (entry filled at least in part)
    CLOSED = "closed"  # position flat after an exit
    CANCELED = "canceled"  # entry never filled


class BlockStatus(enum.StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    CLOSED = "closed"
    CANCELED = "canceled"


# Blocks still working on the venue (users' accounts holding one cannot be removed); the rest are
# terminal (engine.blocks.states.BLOCK_TERMINAL). A tuple for SQL's IN.
LIVE_BLOCKS: tuple[BlockStatus, ...] = (BlockStatus.PENDING, BlockStatus.ACTIVE)


class AccountKind(enum.StrEnum):
    PAPER = "paper"
    LIVE = "live"
    REPLAY = "replay"  # a replay or backtest's own simulated account (engine.replay)


class ProtectionMode(enum.StrEnum):
    """How a filled entry is protected on the venue (chosen per exchange and market)."""

    NATIVE_OCO = "native_oco"  # the venue holds target and stop as one-cancels-other
    STOP_RESTS = "stop_rests"  # the stop rests on the venue; the engine takes profit at the target
    REDUCE_ONLY = "reduce_only"  # derivatives: target and stop both rest as reduce-only orders


class MarginMode(enum.StrEnum):
    """How a derivatives position is margined (ccxt's unified names)."""

    ISOLATED = "isolated"  # the position's own margin only: a loss beyond it liquidates this position
    CROSS = "cross"  # the whole account's free collateral backs the position


class CloseReason(enum.StrEnum):
    TARGET = "target"
    STOP = "stop"
    BREAKEVEN = "breakeven"
    TIME = "time"
    CANCEL = "cancel"


class AlertState(enum.StrEnum):
    """A price alert's life (engine/alerts/states.py holds the one transition function)."""

    ACTIVE = "active"
    TRIGGERED = "triggered"
    CANCELLED = "cancelled"


class AlertDirection(enum.StrEnum):
    """Which way the price must cross an alert's level."""

    ABOVE = "above"  # from below: fires once the price is at or above the level
    BELOW = "below"  # from above: fires once the price is at or below the level
    CROSSES = "crosses"  # either way, from the first price seen
