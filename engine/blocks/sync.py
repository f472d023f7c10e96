"""The sync tick: reconcile every live order with its venue, record fills, and drive the brackets.

Per account, rate-limit aware: the paper venue first replays its price feed (fills happen on real
candles); then ONE `fetch_orders_by_client_ids` for all its sent, unfinished orders (the venue falls
back to one request per order when it has no batch call); ONE ticker per symbol for target watching
(none where a ticker stream pushed a fresh price: engine.exchanges.ticker_accounts);
ONE `fetch_my_trades` (since the oldest order that filled) when something filled (fetched before the
brackets decide when a buy filled without a word on its fees: its fills say what the fee took of the
coin, binance spot's order queries do not). Orders move only through engine.blocks.states; the bracket
rules (engine.blocks.rules) then decide and the executor acts, a few rounds per tick so that a fill is
protected within the same tick.

An order the venue does not know (by client id): never answered (SUBMITTED) -> sent again with the
same id; otherwise -> CANCELED with a note, and the brackets re-protect the trade. `recover` is the
tick run at start-up; it also records fills a crash left unrecorded.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from db.enums import AccountKind, OrderStatus
from db.models import Block, ExchangeAccount, Fill, Market, Order
from engine.blocks import market_hours
from engine.blocks.answers import apply_venue_order, venue_fees
from engine.blocks.executor import MAX_ATTEMPTS, Executor, Fence, fence_for, mark_unknown
from engine.blocks.fills import record_fills
from engine.blocks.rules import decide
from engine.blocks.screening import FULL_PASS_TICKS, needs_attention
from engine.blocks.states import (
    ORDER_TERMINAL,
    ccxt_status_to_event,
    transition_order,
)
from engine.blocks.store import (
    LIVE_BLOCKS,
    LiveOrder,
    Loaded,
    from_ms,
    live_order_rows,
    load_live,
    write_settlement,
)
from engine.common.precision import to_decimal
from engine.exchanges.api import (
    OrderSide,
    TradingVenue,
    VenueError,
    VenueOrder,
    VenueStatus,
    account_venue,
    engine_clock,
    feed_for,
    pushed_price,
    tickers_changed,
)
from engine.runtime import Runtime, TradingState

log = logging.getLogger(__name__)
MAX_ROUNDS = 4  # decide/act rounds per tick: fill -> cancel -> replace fits in one tick
RECOVER_DAYS = 7  # recover() looks for unrecorded fills in blocks closed this recently


@dataclass
class SyncReport:
    accounts: int = 0
    orders_checked: int = 0
    orders_updated: int = 0
    orders_placed: int = 0
    orders_canceled: int = 0
    fills_recorded: int = 0
    errors: list[str] = field(default_factory=list)
    duration_ms: float = 0.0


def sync_tick(runtime: Runtime, now_ms: int | None = None) -> SyncReport:
    """One reconciliation of every account with live blocks or orders. Run it every few seconds."""
    return _run(runtime, now_ms, recovering=False)


def recover(runtime: Runtime, now_ms: int | None = None) -> SyncReport:
    """The start-up tick: resolves what a crash left in flight and records missed fills."""
    return _run(runtime, now_ms, recovering=True)


def _run(runtime: Runtime, now_ms: int | None, recovering: bool) -> SyncReport:
    started = time.perf_counter()
    state = runtime.trading
    state.tick += 1
    report = SyncReport()
    for account in _accounts(runtime.sessions, every=recovering, also=set(state.fills_due)):
        report.accounts += 1
        with state.account_lock(account.id):
            try:
                AccountSync(runtime, state, account, now_ms, report).run(recovering)
                state.failures.pop(account.id, None)
            except Exception as exc:  # one broken account must not stop the others; Crash is a BaseException
                _account_failed(runtime.sessions, state, account, exc, report)
    report.duration_ms = (time.perf_counter() - started) * 1000
    return report


def sync_account(
    runtime: Runtime, account_id: int, now_ms: int | None = None, blocks: set[int] | None = None
) -> SyncReport:
    """Reconcile and drive one account now (after a submit or a cancel). Errors propagate. `blocks`:
    only these blocks' orders (an amend: its latency does not grow with the account's other blocks,
    which the regular tick keeps reconciling)."""
    with runtime.sessions() as s:
        account = s.get(ExchangeAccount, account_id)
    if account is None:
        raise LookupError(f"no exchange account {account_id}")
    return sync_loaded(runtime, account, now_ms, blocks)


def sync_loaded(
    runtime: Runtime,
    account: ExchangeAccount,
    now_ms: int | None = None,
    blocks: set[int] | None = None,
    fence: Fence | None = None,
) -> SyncReport:
    """`sync_account` of an account the caller has just read (a submit: not read again), under
    `fence` when the caller has just read it too (else fence_for's, as the tick does)."""
    state = runtime.trading
    report = SyncReport(accounts=1)
    with state.account_lock(account.id):
        AccountSync(runtime, state, account, now_ms, report, blocks, fence).run(recovering=False)
    return report


def _accounts(
    sessions: sessionmaker[Session], every: bool = False, also: set[int] | None = None
) -> list[ExchangeAccount]:
    """Accounts with live blocks or orders, or in `also` (fills still to fetch); `every`: all accounts
    with blocks (start-up looks for fills a crash left unrecorded in blocks that closed just before)."""
    live_orders = select(Order.block_id).where(Order.status.not_in(ORDER_TERMINAL))
    ids = select(Block.account_id)
    if not every:
        ids = ids.where(or_(Block.status.in_(LIVE_BLOCKS), Block.id.in_(live_orders)))
    wanted = or_(ExchangeAccount.id.in_(ids.distinct()), ExchangeAccount.id.in_(sorted(also or ())))
    # A replay account lives on its run's clock: its run plays it (engine.replay), never the tick.
    query = select(ExchangeAccount).where(wanted, ExchangeAccount.kind != AccountKind.REPLAY)
    with sessions() as s:
        return list(s.scalars(query.order_by(ExchangeAccount.id)))


def _account_failed(
    sessions: sessionmaker[Session], state: TradingState, account: ExchangeAccount, exc: Exception, report: SyncReport
) -> None:
    # Persistent failures (or any unexpected one) are written on the account's live blocks.
    failures = state.failures.get(account.id, 0) + 1
    state.failures[account.id] = failures
    message = f"sync of account {account.name!r} failed ({failures}x): {exc}"
    report.errors.append(message)
    log.warning(message, exc_info=not isinstance(exc, VenueError))
    if failures >= MAX_ATTEMPTS or not isinstance(exc, VenueError):
        with sessions.begin() as s:
            for block in s.scalars(select(Block).where(Block.account_id == account.id, Block.status.in_(LIVE_BLOCKS))):
                block.last_error = message[:2000]


def _market_types(runtime: Runtime, account: ExchangeAccount, now_ms: int) -> dict[str, str]:
    """Symbol -> market type of the account's live blocks and of those closed in the last
    RECOVER_DAYS (a crash may have left their fills to record): a live venue serves one type, so
    these choose the venue(s) of the tick. A paper account's one venue serves every type: no query."""
    if account.kind is not AccountKind.LIVE:
        return {}
    recent = from_ms(now_ms) - timedelta(days=RECOVER_DAYS)
    query = (
        select(Block.symbol, Market.type)
        .join(Market, (Block.symbol == Market.symbol) & (Market.exchange == account.exchange))
        .where(Block.account_id == account.id, or_(Block.status.in_(LIVE_BLOCKS), Block.closed_at >= recent))
        .distinct()
    )
    with runtime.sessions() as s:
        return {row.symbol: row.type for row in s.execute(query)}


# Built once (docs/benchmarks.md, "statements built once"): the account's live symbols, of `ids` only.
_LIVE_SYMBOLS = (
    select(Block.symbol).where(Block.account_id == bindparam("account_id"), Block.status.in_(LIVE_BLOCKS)).distinct()
)
_LIVE_SYMBOLS_OF = _LIVE_SYMBOLS.where(Block.id.in_(bindparam("ids", expanding=True)))


class AccountSync:
    """One tick of one account (see the module docstring)."""

    def __init__(
        self,
        runtime: Runtime,
        state: TradingState,
        account: ExchangeAccount,
        now_ms: int | None,
        report: SyncReport,
        only: set[int] | None = None,
        fence: Fence | None = None,
    ) -> None:
        self.runtime, self.state, self.account, self.report = runtime, state, account, report
        self.only = only  # these blocks alone (sync_account's `blocks`), else every live block
        self.fence = fence  # None: fence_for's when the tick starts
        self.sessions = runtime.sessions
        self.now = now_ms if now_ms is not None else engine_clock(runtime, account)()
        self.venue: TradingVenue = account_venue(runtime, account, _market_types(runtime, account, self.now))
        self.filled: list[VenueOrder] = []  # venue orders whose fills must be recorded
        self.changed_blocks: set[int] = set()  # blocks whose orders the venue changed this tick
        self.touched_seen = 0  # executor answers already taken into self.filled
        self._live = account.kind is AccountKind.LIVE

    def run(self, recovering: bool) -> None:
        with self.sessions() as s:
            symbols = self._symbols(s)
            fence = self.fence or fence_for(self.runtime, s)
        self._replay_feed(symbols)
        executor = Executor(self.sessions, self.venue, self.state, fence)
        live = self._reconcile(executor)
        self._learn_fees(executor)
        prices = self._prices(symbols)
        self._drive(executor, self._focus(live, prices, everything=recovering), prices)
        self._take_answers(executor)
        if recovering:
            self.filled += self._unrecorded()
        self._record_fills()
        self.report.orders_placed += executor.stats.placed
        self.report.orders_canceled += executor.stats.canceled
        self.report.errors += executor.stats.errors
        if self._live and (self.changed_blocks or executor.stats.placed or executor.stats.canceled):
            tickers_changed(self.runtime)  # an entry filled, a trade closed: the watched targets follow

    # --- steps ---

    def _symbols(self, s: Session) -> list[str]:
        query = _LIVE_SYMBOLS_OF if self.only is not None else _LIVE_SYMBOLS
        params = {"account_id": self.account.id, "ids": sorted(self.only or ())}
        return sorted(set(s.connection().execute(query, params).scalars()))

    def _replay_feed(self, symbols: list[str]) -> None:
        replay = getattr(self.venue, "sync_with_feed", None)
        if replay is None:
            return
        for symbol in symbols:
            try:
                replay(symbol)
            except VenueError as exc:  # no prices now: the paper venue simply fills nothing this tick
                self.report.errors.append(f"{symbol}: price feed: {exc}")

    def _reconcile(self, executor: Executor) -> list[LiveOrder]:
        """Apply the venue's word to every sent, unfinished order; send what is not sent. Returns the
        live rows as they were before (for the screening of blocks)."""
        with self.sessions() as s:
            rows = live_order_rows(s, self.account.id, self.only)
            sent = [row.client_order_id for row in rows if row.status is not OrderStatus.INITIALIZED]
            self._remember_symbols(s, sent)
        self.report.orders_checked += len(sent)
        found = {o.client_order_id: o for o in self.venue.fetch_orders_by_client_ids(sent)} if sent else {}
        resend = [row.id for row in rows if row.status is OrderStatus.INITIALIZED]
        touched = [row for row in rows if row.status is not OrderStatus.INITIALIZED and _differs(row, found)]
        self.changed_blocks.update(row.block_id for row in touched)
        if touched:
            with self.sessions.begin() as s:
                for row in s.scalars(select(Order).where(Order.id.in_([t.id for t in touched]))):
                    venue_order = found.get(row.client_order_id)
                    if venue_order is not None:
                        before = row.filled
                        if apply_venue_order(row, venue_order):
                            self.report.orders_updated += 1
                        if row.filled != before:
                            self.filled.append(venue_order)
                    elif row.status is OrderStatus.SUBMITTED:
                        resend.append(row.id)  # the venue never got it: same client id again
                    else:
                        mark_unknown(row, "the venue no longer knows this order")
                        self.report.orders_updated += 1
        for order_id in sorted(resend):
            executor.send(order_id)
        return rows

    def _remember_symbols(self, s: Session, client_order_ids: list[str]) -> None:
        """Tell a venue that looks orders up per market (ccxt: `remember_symbols`) each order's symbol."""
        remember = getattr(self.venue, "remember_symbols", None)
        if remember is None or not client_order_ids:
            return
        query = (
            select(Order.client_order_id, Block.symbol)
            .join(Block, Block.id == Order.block_id)
            .where(Block.account_id == self.account.id, Order.client_order_id.in_(client_order_ids))
        )
        remember({row.client_order_id: row.symbol for row in s.execute(query)})

    def _prices(self, symbols: list[str]) -> dict[str, Decimal]:
        """The last price per symbol: a live account's fresh pushed one (the price a ticker stream just
        gave, maybe the one that asked for this sync), else the feed's ticker."""
        feed = feed_for(self.runtime, self.account)
        prices = {}
        for symbol in symbols:
            pushed = pushed_price(self.runtime, self.account.exchange, symbol) if self._live else None
            if pushed is not None:
                prices[symbol] = pushed
                continue
            try:
                last = to_decimal(feed.fetch_ticker(symbol).last)
                if self.account.kind is not AccountKind.REPLAY:  # a replay's prices are of the past
                    self.runtime.trading.last_prices[(self.account.exchange, symbol)] = last
                if market_hours.tradeable(self.venue, symbol):  # else no decision on a price outside hours
                    prices[symbol] = last
            except Exception as exc:  # any feed failure: no target watching for this symbol this tick
                self.report.errors.append(f"{symbol}: ticker: {exc}")
        return prices

    def _settled(self, block_ids: set[int] | None) -> Loaded:
        """Settle (write trade and block statuses) and load the blocks (all live ones for None)."""
        ids = None if block_ids is None else sorted(block_ids)
        terms = (self.account.exchange, self.account.kind)
        with self.sessions.begin() as s:
            loaded = load_live(s, self.account.id, ids, terms)
            changed = write_settlement(s, loaded, self.now)
        if changed:
            with self.sessions() as s:
                loaded = load_live(s, self.account.id, ids, terms)
        return loaded

    def _focus(self, live: list[LiveOrder], prices: dict[str, Decimal], everything: bool) -> set[int] | None:
        if self.only is not None:
            return set(self.only)
        if everything or self.state.tick % FULL_PASS_TICKS == 0:
            return None
        with self.sessions() as s:
            return needs_attention(s, self.account.id, self.now, prices, live, self.changed_blocks)

    def _drive(self, executor: Executor, focus: set[int] | None, prices: dict[str, Decimal]) -> None:
        for _ in range(MAX_ROUNDS):
            if focus is not None and not focus:
                return
            acted: set[int] = set()
            for block in self._settled(focus).blocks:
                actions = decide(block, self.now, prices.get(block.symbol))
                if actions:
                    executor.apply(block, actions)
                    acted.add(block.id)
            if not acted:
                return
            self._learn_fees(executor)
            focus = acted
        self._settled(focus)

    def _take_answers(self, executor: Executor) -> None:
        """The executor's venue answers not seen yet that filled: their fills are to be recorded."""
        self.filled += [o for o in executor.stats.touched[self.touched_seen :] if o.filled > 0]
        self.touched_seen = len(executor.stats.touched)

    def _learn_fees(self, executor: Executor) -> None:
        """A buy filled and the venue's order view has no fees (binance spot order queries, a lost
        create answer looked up): its fills say how much of the coin the fee took, which the stop and
        the exits must leave out (the venue refuses to sell coins the account does not hold).
        Recorded now, before the next decisions; otherwise at the end of the tick as usual."""
        self._take_answers(executor)
        if not any(_fees_unknown(o) for o in self.filled):
            return
        try:
            self._record_fills()
        except VenueError as exc:  # kept in fills_due: asked again at the end of the tick
            self.report.errors.append(f"fills: {exc}")

    # --- fills ---

    def _unrecorded(self) -> list[VenueOrder]:
        """Venue orders of recently live blocks whose fills are not (all) recorded yet."""
        recent = from_ms(self.now) - timedelta(days=RECOVER_DAYS)  # closed_at is on the engine clock
        with self.sessions() as s:
            rows = s.execute(
                select(Order.client_order_id, Order.filled, func.count(Fill.id))
                .join(Block, Block.id == Order.block_id)
                .outerjoin(Fill, Fill.order_id == Order.id)
                .where(Block.account_id == self.account.id)
                .where(or_(Block.status.in_(LIVE_BLOCKS), Block.closed_at >= recent))
                .group_by(Order.id, Order.client_order_id, Order.filled)
            ).all()
        wanted = [cid for cid, filled, count in rows if filled and filled > 0 and count == 0]
        with self.sessions() as s:
            self._remember_symbols(s, wanted)
        return [o for o in self.venue.fetch_orders_by_client_ids(wanted) if o.filled > 0] if wanted else []

    def _record_fills(self) -> None:
        due = self.state.fills_due.pop(self.account.id, []) + self.filled
        self.filled = []
        if not due:
            return
        symbols = {o.symbol for o in due}
        since = min(o.ts for o in due)
        try:
            trades = self.venue.fetch_my_trades(next(iter(symbols)) if len(symbols) == 1 else None, since)
        except VenueError:
            self.state.fills_due[self.account.id] = due  # asked again next tick
            raise
        wanted = {o.client_order_id for o in due}
        trades = [t for t in trades if t.client_order_id in wanted]
        if trades:
            self.report.fills_recorded += record_fills(self.sessions, trades, self.now)


def _fees_unknown(order: VenueOrder) -> bool:
    """A buy that filled (more) with no word on its fees: a spot venue may have taken them in the coin."""
    return order.side == OrderSide.BUY and order.filled > 0 and venue_fees(order) is None


def _differs(row: LiveOrder, found: dict[str, VenueOrder]) -> bool:
    """Whether the venue's view of an order differs from the row: missing, another status, or other
    fill figures."""
    status, filled, average, venue_id = row.status, row.filled, row.average, row.exchange_order_id
    venue_order = found.get(row.client_order_id)
    if venue_order is None:
        return True
    if (  # the common case, a stop resting untouched, without the transition tables
        status is OrderStatus.ACCEPTED
        and venue_order.status == VenueStatus.OPEN
        and not venue_order.filled
        and venue_order.id == venue_id
    ):
        return False
    try:
        new = transition_order(status, ccxt_status_to_event(venue_order.status, venue_order.filled, venue_order.amount))
    except ValueError:
        return True  # the ORM path records why
    fees = venue_fees(venue_order)  # None: the venue says nothing about fees, the row's stand
    fee_changed = fees is not None and (fees.quote, fees.base) != (row.fee, row.fee_base)
    return fee_changed or (new, venue_order.filled, venue_order.average, venue_order.id) != (
        status,
        filled,
        average,
        venue_id,
    )
