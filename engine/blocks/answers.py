"""Recording a venue's answer on an order row (status through engine.blocks.states, fill figures,
fees), shared by the executor (engine.blocks.executor, engine.blocks.oco_exec) and the sync."""

from __future__ import annotations

import logging

from db.models import Order
from engine.blocks.pnl import FeeParts, fee_parts
from engine.blocks.states import IllegalTransition, ccxt_status_to_event, is_order_terminal, transition_order
from engine.exchanges.api import VenueOrder

log = logging.getLogger(__name__)


class FencedError(Exception):
    """Rolls back a claim the fence refuses (engine.blocks.executor's module docstring)."""


def venue_fees(vo: VenueOrder) -> FeeParts | None:
    """The order's fees as the books need them (valued at its average), or None when the venue's
    answer says nothing about fees (binance spot order queries carry no commission): the fees known
    so far then stand, and the fills tell the rest (engine.blocks.fills.fees_from_fills)."""
    if not vo.fee and vo.fee_currency is None:
        return None
    return fee_parts(vo.fee, vo.fee_currency, vo.symbol, vo.average)


def _fee_columns(row: Order) -> tuple[object, ...]:
    return (row.fee, row.fee_base, row.fee_other, row.fee_other_currency)


def set_fees(row: Order, fees: FeeParts) -> None:
    row.fee, row.fee_base = fees.quote, fees.base
    row.fee_other, row.fee_other_currency = fees.other, fees.other_currency


def apply_venue_order(row: Order, vo: VenueOrder) -> bool:
    """Move `row` to what the venue reports (through engine.blocks.states); False when nothing changed."""
    if is_order_terminal(row.status):
        return False
    event = ccxt_status_to_event(vo.status, vo.filled, vo.amount)
    try:
        status = transition_order(row.status, event)
    except IllegalTransition as exc:
        row.last_error = str(exc)
        log.warning("order %s: %s", row.client_order_id, exc)
        return False
    before = (row.status, row.filled, row.average, row.exchange_order_id, *_fee_columns(row))
    row.status, row.filled, row.average = status, vo.filled, vo.average
    fees = venue_fees(vo)
    if fees is not None:
        set_fees(row, fees)
    row.exchange_order_id = vo.id
    return before != (row.status, row.filled, row.average, row.exchange_order_id, *_fee_columns(row))
