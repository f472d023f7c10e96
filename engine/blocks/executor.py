"""The only code that places or cancels orders on a venue.

The rule that makes crashes harmless: an intent is written (INITIALIZED) and moved to SUBMITTED in a
committed transaction BEFORE the venue is called, and the answer is recorded in a new transaction
after. A crash in between leaves a SUBMITTED order, which the sync resolves by its client order id
(found: take the venue's word; not found: send again with the SAME id, which the venue treats as a
retry). Errors: VenueUnavailable (or any other transient venue error) keeps the order for a retry
with exponential backoff counted in sync ticks, and after MAX_ATTEMPTS puts the message on the
block; InsufficientFunds / InvalidOrder reject the order and say why on the order and the block.

Fencing (one engine per database, engine.scheduler): every executor acts under a `Fence`, made by
`fence_for` when it is built. In a process that runs the engine, the fence is that engine's epoch
(engine_state.epoch when it took the lock) and its deposed flag; in a process that runs none (a web
worker on standby, the CLI, tests), the database's epoch as it was when the executor was built,
never deposed: a web request sends on behalf of whichever engine holds the lock now. The rule: the
same transaction that moves an intent to SUBMITTED (or a live order to PENDING_CANCEL) re-reads the
database's epoch after claiming the row, and rolls back without calling the venue when the
fence's epoch is older or its engine has been deposed; the order stays as it was (INITIALIZED)
and the current engine's next tick sends it. So a deposed engine, even with a job mid-flight,
never starts a venue call once a new engine has raised the epoch (or once it has noticed it
lost the lock). A call already started when the epoch is raised is covered by the client order
id: the new engine's recovery finds it on the venue or sends it again with the same id. Every
intent records the epoch it was written under (`Order.epoch`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from db.enums import OrderRole, OrderStatus, ProtectionMode
from db.models import Block, EngineState, Order, Trade
from engine.blocks import market_hours
from engine.blocks.answers import FencedError, apply_venue_order
from engine.blocks.market_hours import hold_for_open
from engine.blocks.oco_exec import OcoExecution
from engine.blocks.rules import Action, CancelOrder, CloseTrade, MoveStop, PlaceOco, PlaceOrder
from engine.blocks.sequencing import contingent_on, entry_may_go, waiting_entries
from engine.blocks.states import (
    OrderEvent,
    is_order_terminal,
    transition_order,
)
from engine.blocks.store import client_order_id
from engine.blocks.views import BlockView
from engine.exchanges.api import (
    InsufficientFunds,
    InvalidOrder,
    MarketClosed,
    OrderNotFound,
    OrderRequest,
    OrderSide,
    TradingVenue,
    VenueError,
    VenueOrder,
)
from engine.runtime import Runtime, TradingState

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5  # failed sends before the block shows the error
MAX_BACKOFF_TICKS = 32


@dataclass
class ExecStats:
    placed: int = 0
    canceled: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)
    touched: list[VenueOrder] = field(default_factory=list)  # venue answers seen (for fills since their ts)


def _never() -> bool:
    return False


@dataclass(frozen=True)
class Fence:
    """The epoch an executor acts under and whether its engine has been deposed (module docstring)."""

    epoch: int
    deposed: Callable[[], bool] = _never


# Built once (docs/benchmarks.md, "statements built once"): a statement built per call pays for
# its construction and cache key every time, about half of a small query's CPU.
_EPOCH = select(EngineState.epoch).where(EngineState.id == 1)


def database_epoch(s: Session) -> int:
    """engine_state.epoch (0 before any engine ever ran on this database)."""
    # A plain read: an epoch raised after it is the case of a takeover after the claim's commit,
    # which the client order id covers (see the module docstring); a row lock would add a write per send.
    return s.connection().execute(_EPOCH).scalar() or 0


def fence_for(runtime: Runtime, s: Session) -> Fence:
    """This process's engine's epoch when it runs one, else the database's (see the module docstring)."""
    run = runtime.engine
    if run is not None:
        return Fence(run.epoch, run.deposed.is_set)
    return Fence(database_epoch(s))


def mark_unknown(row: Order, note: str) -> None:
    """The venue does not know an order we thought was live: it is gone (canceled) for good."""
    row.status = transition_order(row.status, OrderEvent.CANCEL)
    row.last_error = note


class Executor(OcoExecution):
    """Applies bracket actions for the blocks of one account on its venue (OCO lists: OcoExecution)."""

    def __init__(self, sessions: sessionmaker[Session], venue: TradingVenue, state: TradingState, fence: Fence) -> None:
        self.sessions, self.venue, self.state, self.fence = sessions, venue, state, fence
        self._symbols: dict[int, str] = {}  # block id -> symbol
        self._modes: dict[int, ProtectionMode] = {}  # block id -> protection mode
        self._lists_canceled: set[tuple[int, int]] = set()  # OCO lists canceled in this apply
        self.stats = ExecStats()

    def symbol(self, s: Session, block_id: int) -> str:
        if block_id not in self._symbols:
            block = s.get(Block, block_id)
            assert block is not None
            self._symbols[block_id] = block.symbol
        return self._symbols[block_id]

    # --- actions ---

    def apply(self, block: BlockView, actions: list[Action]) -> None:
        # Decisions are persisted first (they survive a crash), then cancels, then new orders.
        marks = [a for a in actions if isinstance(a, MoveStop | CloseTrade)]
        if marks:
            with self.sessions.begin() as s:
                for action in marks:
                    self._mark(s, action)
        self._lists_canceled = set()
        for action in actions:
            if isinstance(action, CancelOrder):
                self.cancel(action.order_id)
        for oco in (a for a in actions if isinstance(a, PlaceOco)):
            pair = self.write_oco(block, oco, self.fence.epoch)
            if pair is not None:
                self.send_oco(pair)
        # Stops before anything else, across the block's trades: a paper venue books a stop and a
        # target contingent on the same fill bar in the order they arrive, and stop first is the rule
        # when one bar reaches both (docs/fill-rules.md, rule 10); the sort is stable otherwise.
        places = sorted((a for a in actions if isinstance(a, PlaceOrder)), key=lambda a: a.role is not OrderRole.SL)
        for action in places:
            order_id = self.write_intent(block, action)
            if order_id is not None:
                self.send(order_id)

    def _mark(self, s: Session, action: MoveStop | CloseTrade) -> None:
        trade = s.get(Trade, action.trade_id)
        assert trade is not None
        if isinstance(action, MoveStop):
            trade.stop_price = action.stop_price
        elif trade.close_reason is None:
            trade.close_reason = action.reason

    def write_intent(self, block: BlockView, action: PlaceOrder) -> int | None:
        """Write the order intent (INITIALIZED) and commit; None when an identical intent exists."""
        trade = next(t for t in block.trades if t.id == action.trade_id)
        cid = client_order_id(block.id, trade.index, action.role.value, action.seq)
        row = Order(
            block_id=block.id,
            trade_id=trade.id,
            role=action.role,
            type=action.type,
            side=action.side,
            amount=action.amount,
            price=action.price,
            stop_price=action.stop_price,
            reduce_only=action.reduce_only,
            client_order_id=cid,
            status=OrderStatus.INITIALIZED,
            epoch=self.fence.epoch,
        )
        try:
            with self.sessions.begin() as s:
                s.add(row)
                s.flush()
                return row.id
        except IntegrityError:
            # Someone else (a concurrent sync, a page) wrote this very intent: the deterministic
            # client id makes the second writer fail instead of doubling the order.
            log.info("intent %s exists already", cid)
            return None

    # --- the venue ---

    def send(self, order_id: int) -> None:
        """Send an INITIALIZED intent, or resend a SUBMITTED one the venue never got (same client id)."""
        pair = self.oco_pair(order_id)
        if pair is not None:
            self.send_oco(pair)
            return
        if self.state.retry_after.get(order_id, 0) > self.state.tick:
            return
        try:
            with self.sessions.begin() as s:
                row = s.get(Order, order_id)
                if row is None or row.status not in (OrderStatus.INITIALIZED, OrderStatus.SUBMITTED):
                    return
                was = row.status
                if row.role is OrderRole.ENTRY and row.status is OrderStatus.INITIALIZED and not entry_may_go(s, row):
                    return
                status = row.status
                if status is OrderStatus.INITIALIZED:
                    status = transition_order(status, OrderEvent.SUBMIT)
                claimed = s.execute(
                    update(Order)
                    .where(Order.id == order_id, Order.status == row.status)
                    .values(status=status, attempts=Order.attempts + 1)
                ).rowcount
                if not claimed:
                    return  # a concurrent sender took it
                self._check_fence(s, order_id)
                request = self._request(s, row)
        except FencedError:
            return
        try:
            answer = self.venue.create_order(request)
        except (InsufficientFunds, InvalidOrder) as exc:
            self._rejected(order_id, exc)
            return
        except MarketClosed as exc:  # nothing sent: held for the open, no backoff
            hold_for_open(self.sessions, order_id, was, exc)
            return
        except VenueError as exc:
            self._failed(order_id, exc)
            return
        self.stats.placed += 1
        self.stats.touched.append(answer)
        self.state.retry_after.pop(order_id, None)
        with self.sessions.begin() as s:
            row = s.get(Order, order_id)
            assert row is not None
            apply_venue_order(row, answer)
            market_hours.sent(s, row)

    def cancel(self, order_id: int) -> None:
        pair = self.oco_pair(order_id)
        if pair is not None:
            self.cancel_oco(pair)
            return
        try:
            with self.sessions.begin() as s:
                row = s.get(Order, order_id)
                if row is None or is_order_terminal(row.status):
                    return
                if row.status is OrderStatus.INITIALIZED:
                    # Never sent (SUBMITTED is committed before any send): withdraw it without the venue.
                    new = transition_order(row.status, OrderEvent.CANCEL)
                    s.execute(update(Order).where(Order.id == order_id, Order.status == row.status).values(status=new))
                    self.stats.canceled += 1
                    return
                if row.status is not OrderStatus.PENDING_CANCEL:
                    row.status = transition_order(row.status, OrderEvent.CANCEL_REQUEST)
                cid, symbol = row.client_order_id, self.symbol(s, row.block_id)
                self._check_fence(s, order_id)
        except FencedError:
            return
        try:
            answer = self.venue.cancel_order(client_order_id=cid, symbol=symbol)
        except InvalidOrder:
            answer = self._fetch_quietly(cid, symbol)  # filled before the cancel arrived: learn how
        except OrderNotFound:
            return  # the sync's batch lookup settles it (never placed, or gone)
        except VenueError as exc:
            self._note(order_id, f"cancel failed, will retry: {exc}")
            return
        if answer is None:
            return
        self.stats.canceled += 1
        self.stats.touched.append(answer)
        with self.sessions.begin() as s:
            row = s.get(Order, order_id)
            assert row is not None
            apply_venue_order(row, answer)
            waiting = waiting_entries(s, row) if row.role is OrderRole.ENTRY and is_order_terminal(row.status) else []
        for waiting_id in waiting:  # an amend's replacement entry may go now (see sequencing.entry_may_go)
            self.send(waiting_id)

    # --- helpers ---

    def _fenced(self, s: Session, order_id: int) -> bool:
        """True (and logged) when the fence forbids a venue call now; read inside the claim's transaction."""
        if self.fence.deposed():
            reason = f"engine of epoch {self.fence.epoch} is deposed"
        else:
            current = database_epoch(s)
            if self.fence.epoch >= current:
                return False
            reason = f"epoch {self.fence.epoch} is older than the database's {current}"
        log.warning("order %s: no venue call: %s", order_id, reason)
        self.stats.errors.append(f"{order_id}: fenced: {reason}")
        return True

    def _check_fence(self, s: Session, order_id: int) -> None:
        if self._fenced(s, order_id):
            raise FencedError(order_id)

    def _fetch_quietly(self, cid: str, symbol: str) -> VenueOrder | None:
        try:
            return self.venue.fetch_order(client_order_id=cid, symbol=symbol)
        except VenueError:
            return None

    def _request(self, s: Session, row: Order) -> OrderRequest:
        leverage, margin_mode = None, None
        if row.role is OrderRole.ENTRY:  # the venue is set for the symbol with the entry, never after
            # One read of the block for its symbol too: the session keeps no strong reference to a
            # block `symbol` loaded, so asking it first would read the row twice.
            block = s.get(Block, row.block_id)
            assert block is not None
            self._symbols[row.block_id] = block.symbol
            leverage, margin_mode = block.leverage, block.margin_mode
        symbol = self.symbol(s, row.block_id)
        return OrderRequest(
            client_order_id=row.client_order_id,
            symbol=symbol,
            side=OrderSide(row.side),
            type=row.type,
            amount=row.amount,
            price=row.price,
            stop_price=row.stop_price,
            reduce_only=row.reduce_only,
            contingent_on=contingent_on(s, row),
            leverage=leverage,
            margin_mode=margin_mode,
        )

    def _rejected(self, order_id: int, exc: VenueError) -> None:
        with self.sessions.begin() as s:
            row = s.get(Order, order_id)
            assert row is not None
            if row.status is OrderStatus.SUBMITTED:
                row.status = transition_order(row.status, OrderEvent.REJECT)
            row.last_error = str(exc)[:2000]
            block = s.get(Block, row.block_id)
            assert block is not None
            block.last_error = f"{row.role.value} order {row.client_order_id} rejected: {exc}"[:2000]
        self.stats.errors.append(f"{order_id}: rejected: {exc}")
        log.warning("order %s rejected: %s", order_id, exc)

    def _failed(self, order_id: int, exc: VenueError) -> None:
        with self.sessions.begin() as s:
            row = s.get(Order, order_id)
            assert row is not None
            row.last_error = str(exc)[:2000]
            attempts = row.attempts
            if attempts >= MAX_ATTEMPTS:
                block = s.get(Block, row.block_id)
                assert block is not None
                block.last_error = (
                    f"{row.role.value} order {row.client_order_id} not placed after {attempts} attempts: {exc}"
                )[:2000]
        self.state.retry_after[order_id] = self.state.tick + min(2 ** max(attempts - 1, 0), MAX_BACKOFF_TICKS)
        self.stats.errors.append(f"{order_id}: {exc}")
        log.warning("order %s not placed (attempt %d): %s", order_id, attempts, exc)

    def _note(self, order_id: int, message: str) -> None:
        with self.sessions.begin() as s:
            row = s.get(Order, order_id)
            if row is not None:
                row.last_error = message[:2000]
        self.stats.errors.append(f"{order_id}: {message}")
