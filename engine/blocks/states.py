"""Legal state moves of orders, trades and blocks, as explicit tables (after nautilus_trader's
order state machine), and the mapping of ccxt's order statuses onto order events.

Every status change in the engine goes through `transition_order`, `transition_trade` or
`transition_block`; a move missing from its table raises `IllegalTransition`. Terminal states
are absorbing: no event leaves them (callers skip orders already terminal when reconciling).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from decimal import Decimal

from db.enums import EXIT_ROLES as EXIT_ROLES
from db.enums import LIVE_BLOCKS as LIVE_BLOCKS
from db.enums import BlockStatus, OrderStatus, TradeStatus
from engine.common.precision import to_decimal


class OrderEvent(enum.StrEnum):
    SUBMIT = "submit"  # sent to the venue
    ACCEPT = "accept"  # venue says it rests (or a poll still sees it open, unfilled)
    REJECT = "reject"  # venue (or our own pre-check) refused it
    PARTIAL_FILL = "partial_fill"  # some, not all, filled; repeats
    FILL = "fill"  # completely filled
    CANCEL_REQUEST = "cancel_request"  # we asked the venue to cancel
    CANCEL_REJECT = "cancel_reject"  # venue refused the cancel: the order still rests
    CANCEL = "cancel"  # venue confirms it is canceled (by us, by the venue, or found so)
    EXPIRE = "expire"  # time in force ran out on the venue
    UNSENT = "unsent"  # the venue sent nothing (its market is closed): an intent again, to go after the open


class TradeEvent(enum.StrEnum):
    ENTRY_FILLED = "entry_filled"  # the entry filled, wholly or in part
    ENTRY_CANCELED = "entry_canceled"  # the entry ended (canceled, expired, rejected) with no more fills to come
    POSITION_CLOSED = "position_closed"  # TP, SL or an exit left the position flat


class BlockEvent(enum.StrEnum):
    TRADE_OPENED = "trade_opened"  # some trade of the block holds a position
    ALL_CLOSED = "all_closed"  # every trade is closed or canceled, at least one closed
    ALL_CANCELED = "all_canceled"  # every trade canceled before any fill


class IllegalTransition(ValueError):  # noqa: N818 - the name the engine and UI use
    """A state move that the tables do not allow."""

    def __init__(self, entity: str, status: enum.Enum, event: enum.Enum) -> None:
        self.entity = entity
        self.status = status
        self.event = event
        super().__init__(
            f"illegal {entity} transition: event {event.value!r} is not allowed in status {status.value!r}"
        )


_O, _E = OrderStatus, OrderEvent

ORDER_TRANSITIONS: dict[tuple[OrderStatus, OrderEvent], OrderStatus] = {
    (_O.INITIALIZED, _E.SUBMIT): _O.SUBMITTED,
    (_O.INITIALIZED, _E.REJECT): _O.REJECTED,  # refused by our own pre-trade checks
    (_O.INITIALIZED, _E.CANCEL): _O.CANCELED,  # withdrawn before it was ever sent
    # The answer to a submit can be lost: reconciliation may then find the order in any state.
    (_O.SUBMITTED, _E.ACCEPT): _O.ACCEPTED,
    (_O.SUBMITTED, _E.REJECT): _O.REJECTED,
    (_O.SUBMITTED, _E.PARTIAL_FILL): _O.PARTIALLY_FILLED,
    (_O.SUBMITTED, _E.FILL): _O.FILLED,
    (_O.SUBMITTED, _E.CANCEL_REQUEST): _O.PENDING_CANCEL,
    (_O.SUBMITTED, _E.CANCEL): _O.CANCELED,
    (_O.SUBMITTED, _E.EXPIRE): _O.EXPIRED,
    (_O.SUBMITTED, _E.UNSENT): _O.INITIALIZED,  # never sent before this attempt (engine.blocks.market_hours)
    # A poll that sees the order still open repeats ACCEPT: harmless.
    (_O.ACCEPTED, _E.ACCEPT): _O.ACCEPTED,
    (_O.ACCEPTED, _E.PARTIAL_FILL): _O.PARTIALLY_FILLED,
    (_O.ACCEPTED, _E.FILL): _O.FILLED,
    (_O.ACCEPTED, _E.CANCEL_REQUEST): _O.PENDING_CANCEL,
    (_O.ACCEPTED, _E.CANCEL): _O.CANCELED,  # canceled by the venue, or on the venue's web page
    (_O.ACCEPTED, _E.EXPIRE): _O.EXPIRED,
    (_O.PARTIALLY_FILLED, _E.PARTIAL_FILL): _O.PARTIALLY_FILLED,
    (_O.PARTIALLY_FILLED, _E.FILL): _O.FILLED,
    (_O.PARTIALLY_FILLED, _E.CANCEL_REQUEST): _O.PENDING_CANCEL,
    (_O.PARTIALLY_FILLED, _E.CANCEL): _O.CANCELED,  # the filled part stays filled; the order is done
    (_O.PARTIALLY_FILLED, _E.EXPIRE): _O.EXPIRED,
    # While a cancel is in flight the venue may still fill, expire or refuse the cancel.
    (_O.PENDING_CANCEL, _E.CANCEL_REQUEST): _O.PENDING_CANCEL,  # asking again
    (_O.PENDING_CANCEL, _E.ACCEPT): _O.PENDING_CANCEL,  # a poll seeing it open says nothing about the cancel
    (_O.PENDING_CANCEL, _E.PARTIAL_FILL): _O.PENDING_CANCEL,  # the cancel is still pending for the rest
    (_O.PENDING_CANCEL, _E.FILL): _O.FILLED,  # the fill won the race
    (_O.PENDING_CANCEL, _E.CANCEL): _O.CANCELED,
    # Refused cancel: back to ACCEPTED; a caller that knows of fills then applies PARTIAL_FILL.
    (_O.PENDING_CANCEL, _E.CANCEL_REJECT): _O.ACCEPTED,
    (_O.PENDING_CANCEL, _E.EXPIRE): _O.EXPIRED,
    (_O.PENDING_CANCEL, _E.REJECT): _O.REJECTED,  # cancel sent before the venue answered the submit
}

# The live block statuses and the exit roles live beside their enums
# (db.enums: users and portfolio need them too) and are re-exported here.
ORDER_TERMINAL: frozenset[OrderStatus] = frozenset({_O.FILLED, _O.CANCELED, _O.REJECTED, _O.EXPIRED})

_T, _TE = TradeStatus, TradeEvent

TRADE_TRANSITIONS: dict[tuple[TradeStatus, TradeEvent], TradeStatus] = {
    (_T.PENDING, _TE.ENTRY_FILLED): _T.OPEN,
    (_T.PENDING, _TE.ENTRY_CANCELED): _T.CANCELED,
    (_T.OPEN, _TE.ENTRY_FILLED): _T.OPEN,  # more partial fills of the entry
    (_T.OPEN, _TE.ENTRY_CANCELED): _T.OPEN,  # the unfilled rest of a partly filled entry timed out
    (_T.OPEN, _TE.POSITION_CLOSED): _T.CLOSED,
}

TRADE_TERMINAL: frozenset[TradeStatus] = frozenset({_T.CLOSED, _T.CANCELED})

_B, _BE = BlockStatus, BlockEvent

BLOCK_TRANSITIONS: dict[tuple[BlockStatus, BlockEvent], BlockStatus] = {
    (_B.PENDING, _BE.TRADE_OPENED): _B.ACTIVE,
    (_B.PENDING, _BE.ALL_CANCELED): _B.CANCELED,
    (_B.PENDING, _BE.ALL_CLOSED): _B.CLOSED,  # opened and closed between two looks
    (_B.ACTIVE, _BE.TRADE_OPENED): _B.ACTIVE,
    (_B.ACTIVE, _BE.ALL_CLOSED): _B.CLOSED,
}

BLOCK_TERMINAL: frozenset[BlockStatus] = frozenset({_B.CLOSED, _B.CANCELED})


def transition_order(status: OrderStatus, event: OrderEvent) -> OrderStatus:
    """The order status after `event`; IllegalTransition if the table has no such move."""
    try:
        return ORDER_TRANSITIONS[(OrderStatus(status), OrderEvent(event))]
    except KeyError:
        raise IllegalTransition("order", OrderStatus(status), OrderEvent(event)) from None


def transition_trade(status: TradeStatus, event: TradeEvent) -> TradeStatus:
    """The trade status after `event`; IllegalTransition if the table has no such move."""
    try:
        return TRADE_TRANSITIONS[(TradeStatus(status), TradeEvent(event))]
    except KeyError:
        raise IllegalTransition("trade", TradeStatus(status), TradeEvent(event)) from None


def transition_block(status: BlockStatus, event: BlockEvent) -> BlockStatus:
    """The block status after `event`; IllegalTransition if the table has no such move."""
    try:
        return BLOCK_TRANSITIONS[(BlockStatus(status), BlockEvent(event))]
    except KeyError:
        raise IllegalTransition("block", BlockStatus(status), BlockEvent(event)) from None


def is_order_terminal(status: OrderStatus) -> bool:
    return OrderStatus(status) in ORDER_TERMINAL


def is_open(status: OrderStatus) -> bool:
    """Whether the order may still fill (or is about to be sent): everything not terminal."""
    return not is_order_terminal(status)


def is_working(status: OrderStatus) -> bool:
    """Whether the order is (or may be) live on the venue: sent and not terminal."""
    return is_open(status) and OrderStatus(status) is not OrderStatus.INITIALIZED


def is_trade_terminal(status: TradeStatus) -> bool:
    return TradeStatus(status) in TRADE_TERMINAL


def is_block_terminal(status: BlockStatus) -> bool:
    return BlockStatus(status) in BLOCK_TERMINAL


def block_status_from_trades(trade_statuses: Iterable[TradeStatus]) -> BlockStatus:
    """The block's status derived from its trades.

    All trades finished (closed or canceled): CLOSED if any was closed, else CANCELED.
    Otherwise ACTIVE once any trade holds or has held a position (OPEN or CLOSED), else PENDING.
    """
    statuses = [TradeStatus(s) for s in trade_statuses]
    if not statuses:
        raise ValueError("a block has at least one trade")
    if all(s in TRADE_TERMINAL for s in statuses):
        return BlockStatus.CLOSED if TradeStatus.CLOSED in statuses else BlockStatus.CANCELED
    if any(s in (TradeStatus.OPEN, TradeStatus.CLOSED) for s in statuses):
        return BlockStatus.ACTIVE
    return BlockStatus.PENDING


_EVENT_FOR_DERIVED = {
    BlockStatus.ACTIVE: BlockEvent.TRADE_OPENED,
    BlockStatus.CLOSED: BlockEvent.ALL_CLOSED,
    BlockStatus.CANCELED: BlockEvent.ALL_CANCELED,
}


def advance_block(status: BlockStatus, trade_statuses: Iterable[TradeStatus]) -> BlockStatus:
    """The block's next status given its trades, checked against BLOCK_TRANSITIONS.

    Returns `status` unchanged when the trades imply the status it already has. A move the table
    does not allow (a CANCELED block whose trade now shows a fill) raises IllegalTransition.
    """
    current, derived = BlockStatus(status), block_status_from_trades(trade_statuses)
    if derived is current:
        return current
    if derived is BlockStatus.PENDING:
        # Trades cannot un-open: a block past PENDING whose trades all look unfilled is corrupt.
        raise ValueError(f"block is {current.value!r} but none of its trades was ever filled")
    return transition_block(current, _EVENT_FOR_DERIVED[derived])


def ccxt_status_to_event(
    ccxt_status: str, filled: Decimal | float | str | None, amount: Decimal | float | str | None
) -> OrderEvent:
    """The order event that a ccxt unified order (status, filled, amount) reports.

    'open' is ACCEPT, or PARTIAL_FILL once something filled (FILL if it is all filled);
    'closed' is FILL; 'canceled' is CANCEL even after partial fills (the filled part is kept by
    the caller); 'expired' EXPIRE; 'rejected' REJECT. Anything else raises ValueError.
    """
    status = (ccxt_status or "").strip().lower()
    done = to_decimal(filled) if filled is not None else Decimal(0)
    if status == "open":
        if done <= 0:
            return OrderEvent.ACCEPT
        if amount is not None and done >= to_decimal(amount):
            return OrderEvent.FILL
        return OrderEvent.PARTIAL_FILL
    simple = {
        "closed": OrderEvent.FILL,
        "canceled": OrderEvent.CANCEL,
        "cancelled": OrderEvent.CANCEL,
        "expired": OrderEvent.EXPIRE,
        "rejected": OrderEvent.REJECT,
    }
    if status not in simple:
        raise ValueError(f"unknown ccxt order status {ccxt_status!r}")
    return simple[status]
