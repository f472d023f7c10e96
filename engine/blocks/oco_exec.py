"""Placing and canceling OCO lists (engine.blocks.oco) on the venue, crash-safe like single orders
(engine.blocks.executor's rules, which this mixin of the Executor follows):

- both legs' intents are written INITIALIZED in ONE transaction (deterministic client ids, one seq);
- ONE transaction claims both (SUBMITTED, fence checked) before the list is sent with its ids; the
  answer (both legs) is recorded in one transaction after. A crash in between leaves two SUBMITTED
  legs: the sync looks them up by client id and, when the venue knows neither, sends the list again
  with the same ids (engine.exchanges.ccxt_oco never doubles it);
- canceling either leg cancels the list: both rows go PENDING_CANCEL in one transaction, one venue
  call cancels both, and both answers are recorded. A list the venue finished meanwhile (a leg
  filled, the other expired) is recorded as the venue says, never canceled twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from db.enums import OrderRole, OrderStatus, OrderType, ProtectionMode
from db.models import Block, Order
from engine.blocks.answers import FencedError, apply_venue_order
from engine.blocks.oco import is_leg, pair_ids
from engine.blocks.rules import PlaceOco
from engine.blocks.states import OrderEvent, is_order_terminal, transition_order
from engine.blocks.store import client_order_id
from engine.blocks.views import BlockView
from engine.exchanges.api import (
    InsufficientFunds,
    InvalidOrder,
    OcoLegs,
    OcoRequest,
    OcoVenue,
    OrderNotFound,
    OrderSide,
    TradingVenue,
    VenueError,
)
from engine.runtime import TradingState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pair:
    """The two rows of one list: (limit leg id, stop leg id)."""

    limit_id: int
    stop_id: int

    @property
    def ids(self) -> tuple[int, int]:
        return (self.limit_id, self.stop_id)


class OcoExecution:
    """The Executor's OCO part (the Executor provides the attributes below)."""

    sessions: sessionmaker[Session]
    venue: TradingVenue
    state: TradingState
    stats: Any  # ExecStats
    _modes: dict[int, ProtectionMode]
    _lists_canceled: set[tuple[int, int]]
    symbol: Callable[[Session, int], str]
    _check_fence: Callable[[Session, int], None]
    _rejected: Callable[[int, VenueError], None]
    _failed: Callable[[int, VenueError], None]
    _note: Callable[[int, str], None]

    def write_oco(self, block: BlockView, action: PlaceOco, epoch: int) -> Pair | None:
        """Both legs' intents in one commit; None when they exist already (a concurrent writer)."""
        trade = next(t for t in block.trades if t.id == action.trade_id)
        common = {"block_id": block.id, "trade_id": trade.id, "side": action.side, "amount": action.amount}
        common |= {"status": OrderStatus.INITIALIZED, "epoch": epoch}
        limit = Order(
            role=OrderRole.TP,
            type=OrderType.LIMIT,
            price=action.price,
            client_order_id=client_order_id(block.id, trade.index, OrderRole.TP.value, action.seq),
            **common,
        )
        stop = Order(
            role=OrderRole.SL,
            type=OrderType.STOP_MARKET,
            stop_price=action.stop_price,
            client_order_id=client_order_id(block.id, trade.index, OrderRole.SL.value, action.seq),
            **common,
        )
        try:
            with self.sessions.begin() as s:
                s.add_all([limit, stop])
                s.flush()
                return Pair(limit.id, stop.id)
        except IntegrityError:
            log.info("oco intents %s exist already", limit.client_order_id)
            return None

    def oco_pair(self, order_id: int) -> Pair | None:
        """The list the order is a leg of, or None for any other order (no query on a venue without lists)."""
        capabilities = getattr(self.venue, "capabilities", None)
        if capabilities is None or not capabilities.supports_oco:
            return None
        with self.sessions() as s:
            row = s.get(Order, order_id)
            if row is None or not is_leg(self._mode(s, row.block_id), row.role, row.type):
                return None
            _list, limit_cid, stop_cid = pair_ids(row.client_order_id)
            query = select(Order.client_order_id, Order.id).where(Order.client_order_id.in_([limit_cid, stop_cid]))
            ids: dict[str, int] = dict(s.execute(query).all())  # type: ignore[arg-type]
        if limit_cid not in ids or stop_cid not in ids:
            return None  # a lone leg (never written as a list): treated as a single order
        return Pair(ids[limit_cid], ids[stop_cid])

    def send_oco(self, pair: Pair) -> None:
        """Send a list whose legs are INITIALIZED, or resend one both of whose legs are SUBMITTED."""
        if any(self.state.retry_after.get(i, 0) > self.state.tick for i in pair.ids):
            return
        try:
            with self.sessions.begin() as s:
                rows = [s.get(Order, i) for i in pair.ids]
                statuses = {r.status for r in rows if r is not None}
                if len(statuses) != 1 or not statuses <= {OrderStatus.INITIALIZED, OrderStatus.SUBMITTED}:
                    return
                (status,) = statuses
                new = transition_order(status, OrderEvent.SUBMIT) if status is OrderStatus.INITIALIZED else status
                claimed = s.execute(
                    update(Order)
                    .where(Order.id.in_(pair.ids), Order.status == status)
                    .values(status=new, attempts=Order.attempts + 1)
                ).rowcount
                if claimed != 2:
                    raise FencedError(pair.limit_id)  # a concurrent sender took it: roll back, send nothing
                self._check_fence(s, pair.limit_id)
                request = self._oco_request(s, rows[0], rows[1])  # type: ignore[arg-type]
        except FencedError:
            return
        try:
            legs = self._oco_venue().place_oco(request)
        except (InsufficientFunds, InvalidOrder) as exc:
            for i in pair.ids:
                self._rejected(i, exc)
            return
        except VenueError as exc:
            for i in pair.ids:
                self._failed(i, exc)
            return
        for i in pair.ids:
            self.state.retry_after.pop(i, None)
        self._record(pair, legs, placed=True)

    def cancel_oco(self, pair: Pair) -> None:
        """Cancel the list (module docstring); never-sent legs are withdrawn without the venue."""
        if pair.ids in self._lists_canceled:
            return  # its other leg's cancel in this round asked already
        self._lists_canceled.add(pair.ids)
        try:
            with self.sessions.begin() as s:
                rows = [s.get(Order, i) for i in pair.ids]
                live = [r for r in rows if r is not None and not is_order_terminal(r.status)]
                if not live:
                    return
                for row in live:
                    event = OrderEvent.CANCEL if row.status is OrderStatus.INITIALIZED else OrderEvent.CANCEL_REQUEST
                    if row.status is not OrderStatus.PENDING_CANCEL:
                        row.status = transition_order(row.status, event)
                if all(r.status is OrderStatus.CANCELED for r in live):
                    return  # never sent: nothing on the venue
                request = self._oco_request(s, rows[0], rows[1])  # type: ignore[arg-type]
                self._check_fence(s, pair.limit_id)
        except FencedError:
            return
        try:
            legs = self._oco_venue().cancel_oco(request)
        except OrderNotFound:
            return  # the sync's lookup settles it (never placed, or gone)
        except VenueError as exc:
            self._note(pair.stop_id, f"oco cancel failed, will retry: {exc}")
            return
        self._record(pair, legs, placed=False)

    # --- helpers ---

    def _record(self, pair: Pair, legs: OcoLegs, placed: bool) -> None:
        self.stats.touched += [legs.limit, legs.stop]
        if placed:
            self.stats.placed += 1
        else:
            self.stats.canceled += 1
        with self.sessions.begin() as s:
            for order_id, answer in zip(pair.ids, (legs.limit, legs.stop), strict=True):
                row = s.get(Order, order_id)
                assert row is not None
                apply_venue_order(row, answer)
                if placed:
                    row.last_error = None

    def _oco_request(self, s: Session, limit: Order, stop: Order) -> OcoRequest:
        list_cid, _limit_cid, _stop_cid = pair_ids(limit.client_order_id)
        assert limit.price is not None  # written so by write_oco
        assert stop.stop_price is not None
        return OcoRequest(
            list_client_order_id=list_cid,
            symbol=self.symbol(s, limit.block_id),
            side=OrderSide(limit.side),
            amount=limit.amount,
            limit_client_order_id=limit.client_order_id,
            price=limit.price,
            stop_client_order_id=stop.client_order_id,
            stop_price=stop.stop_price,
        )

    def _oco_venue(self) -> OcoVenue:
        return cast(OcoVenue, self.venue)  # NATIVE_OCO was chosen from its capabilities

    def _mode(self, s: Session, block_id: int) -> ProtectionMode:
        if block_id not in self._modes:
            block = s.get(Block, block_id)
            assert block is not None
            self._modes[block_id] = block.protection_mode
        return self._modes[block_id]
