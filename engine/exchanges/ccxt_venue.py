"""Trading on any real exchange through a synchronous ccxt client: the TradingVenue of a live account.

One `CcxtTradingVenue` serves one account on one market type (spot, swap, future) of one exchange.
Requests go through ccxt's unified API; amounts are in the base currency here and converted to
contracts where the market trades contracts. The pure mapping of ccxt's structures onto ours lives
in `engine.exchanges.ccxt_orders`.

Placing an order never duplicates it. When the answer to a create request is lost (ccxt.NetworkError),
the order is first looked up by its client order id and only sent again when the venue does not know
it; a "duplicate client order id" refusal means it was placed, so it is fetched and returned.
Other calls are retried on network errors with exponential backoff (tenacity). Errors are raised as
the trading interface's VenueError family, with credentials and signed query strings masked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, TypeVar

import ccxt
from tenacity import Retrying

from db.enums import OrderType
from engine.exchanges.ccxt_alpaca import MarketClock
from engine.exchanges.ccxt_feed import feature_section, network_retrying
from engine.exchanges.ccxt_leverage import LeverageSettings, to_funding_payments
from engine.exchanges.ccxt_oco import OcoMixin
from engine.exchanges.ccxt_orders import (
    as_sent,
    capabilities_of,
    contract_size,
    is_duplicate_client_id,
    map_error,
    mask,
    stop_needs_limit,
    to_balances,
    to_venue_order,
    to_venue_trade,
)
from engine.exchanges.ccxt_triggered import actual_order_id, with_actual_fill
from engine.exchanges.quirks import DERIVATIVES, quirks_of
from engine.exchanges.venue import (
    Balance,
    FundingPayment,
    InvalidOrder,
    OrderNotFound,
    OrderRequest,
    OrderSide,
    VenueCapabilities,
    VenueError,
    VenueOrder,
    VenueStatus,
    VenueTrade,
    validate_request,
)

__all__ = ["CcxtTradingVenue", "capabilities_of", "to_venue_order", "to_venue_trade"]

log = logging.getLogger(__name__)
T = TypeVar("T")


class CcxtTradingVenue(OcoMixin):
    """The TradingVenue of one account on one market type of a ccxt exchange (an OcoVenue too
    where the quirks table gives the market type OCO lists)."""

    def __init__(
        self,
        client: ccxt.Exchange,
        retry_attempts: int = 3,
        retry_wait: float = 1.0,
        *,
        market_type: str = "spot",
        balance_params: dict[str, Any] | None = None,
        stop_limit_slippage: Decimal = Decimal("0.01"),
    ) -> None:
        """`client` is a ccxt exchange with credentials set; `retry_attempts` tries in all per call,
        waiting `retry_wait` seconds doubling (0 in tests). `balance_params` go to fetch_balance (e.g.
        {'type': 'funding'}); by default derivatives ask for their own account type. Where a market
        has no stop-market orders (most of binance spot), a stop becomes a stop-limit whose limit lies
        `stop_limit_slippage` (a fraction) beyond the trigger."""
        self.stop_limit_slippage = stop_limit_slippage
        self.client = client
        self.id: str = client.id
        self.quirks = quirks_of(client.id)
        self.market_type = market_type
        self.retry_attempts = max(1, retry_attempts)
        self.retry_wait = retry_wait
        default_balance = {"type": market_type} if market_type in DERIVATIVES else {}
        self.balance_params = default_balance if balance_params is None else dict(balance_params)
        self._symbols: dict[str, str] = {}  # client order id -> symbol, for lookups without a symbol
        self._client_ids: dict[str, str] = {}  # venue order id -> client order id, to label trades
        self.settings = LeverageSettings(client, self._retrying)  # leverage, margin mode per symbol
        self.clock = MarketClock(client, lambda fn: self._call("clock", None, fn), self._now)  # market hours

    @property
    def capabilities(self) -> VenueCapabilities:
        return capabilities_of(self.market_type, self.quirks, self.client.has)

    # --- orders ---

    def create_order(self, req: OrderRequest) -> VenueOrder:
        validate_request(req)
        market = self._market(req.symbol)
        args = self._order_args(req, market)
        sent = as_sent(req, args, contract_size(market))
        self.clock.before_post(market, args)  # closed market: MarketClosed, nothing sent
        self.settings.apply(req, market)  # margin mode, then leverage: a refusal posts nothing
        self._symbols[req.client_order_id] = req.symbol  # a lost answer is then looked up in its market
        try:
            for attempt in self._retrying():
                with attempt:
                    if attempt.retry_state.attempt_number > 1:
                        # The last answer may have been lost: resend only if the venue does not know the order.
                        found = self._find(req.client_order_id, req.symbol, req.type == OrderType.STOP_MARKET)
                        if found is not None:
                            return found
                    raw = self.client.create_order(*args)
                    return self._remember(to_venue_order(raw, contract_size(market), sent, self._now()))
        except ccxt.BaseError as exc:
            if not is_duplicate_client_id(exc, self.quirks):
                raise self._error(exc, "create_order", req.symbol) from exc
            found = self._call("create_order", req.symbol, self._find, req.client_order_id, req.symbol, None)
            if found is None:
                message = f"{self.id} create_order {req.symbol}: client order id {req.client_order_id} is taken"
                raise InvalidOrder(f"{message}, yet no order has it") from exc
            return found
        raise AssertionError("unreachable: tenacity returns or raises")  # pragma: no cover

    def cancel_order(
        self, order_id: str | None = None, client_order_id: str | None = None, symbol: str | None = None
    ) -> VenueOrder:
        symbol = self._symbol_for(order_id, client_order_id, symbol)
        market = self._market(symbol)
        try:
            raw = self._cancel_raw(order_id, client_order_id, symbol)
        except (ccxt.OrderNotFound, OrderNotFound) as exc:
            # Already done (canceled, filled, expired) or unknown: the order's own state tells which.
            try:
                order = self.fetch_order(order_id, client_order_id, symbol)
            except OrderNotFound:
                raise OrderNotFound(f"{self.id} cancel_order {symbol}: no order {order_id or client_order_id}") from exc
            if order.status == VenueStatus.CLOSED:
                raise InvalidOrder(f"{self.id} cancel_order {symbol}: order {order.id} is already filled") from exc
            if order.status == VenueStatus.OPEN:
                raise VenueError(
                    f"{self.id} cancel_order {symbol}: order {order.id} is open but not cancelable"
                ) from exc
            return order
        if raw.get("amount") is not None:
            return self._remember(to_venue_order(raw, contract_size(market), now_ms=self._now()))
        # A bare acknowledgement (okx, bybit): the order itself tells the rest.
        acknowledged_id = str(raw.get("id") or "") or order_id
        order = self.fetch_order(acknowledged_id, None if acknowledged_id else client_order_id, symbol)
        if order.status == VenueStatus.OPEN:  # the venue confirmed the cancel; its order view may lag
            order = replace(order, status=VenueStatus.CANCELED)
        return order

    def market_closed(self, symbol: str) -> bool:
        """Whether `symbol` keeps market hours and they are over now (alpaca's stocks; the clock cached)."""
        return self.clock.closed(self._market(symbol))

    def fetch_order(
        self, order_id: str | None = None, client_order_id: str | None = None, symbol: str | None = None
    ) -> VenueOrder:
        if order_id is None and client_order_id is None:
            raise InvalidOrder("fetch_order needs an order id or a client order id")
        symbol = self._symbol_for(order_id, client_order_id, symbol, required=False)
        if symbol is None:
            found = next((o for o in self.fetch_open_orders() if _matches(o, order_id, client_order_id)), None)
        elif order_id is None:
            found = self._call("fetch_order", symbol, self._find, client_order_id, symbol, None)
        else:
            found = self._call("fetch_order", symbol, self._fetch_by_id, order_id, symbol)
        if found is None:
            raise OrderNotFound(f"{self.id} fetch_order {symbol}: no order {order_id or client_order_id}")
        return found

    def fetch_open_orders(self, symbol: str | None = None) -> list[VenueOrder]:
        params: dict[str, Any] = {} if symbol is not None else {"type": self.market_type}
        orders = self._open_orders(symbol, params)
        if self._separate_triggers():
            orders += self._open_orders(symbol, {**params, "trigger": True})
        return orders

    def fetch_orders_by_client_ids(self, client_order_ids: list[str]) -> list[VenueOrder]:
        """One lookup per id (none of binance, okx, bybit has a batch query by client id in ccxt);
        ids whose symbol this venue never saw are looked for among the open orders."""
        wanted = list(dict.fromkeys(client_order_ids))
        found: dict[str, VenueOrder] = {}
        unknown_symbol = [cid for cid in wanted if cid not in self._symbols]
        if unknown_symbol:
            found.update({o.client_order_id: o for o in self.fetch_open_orders() if o.client_order_id in wanted})
        for cid in wanted:
            if cid not in found and cid in self._symbols:
                symbol = self._symbols[cid]
                order = self._call("fetch_order", symbol, self._find, cid, symbol, None)
                if order is not None:
                    found[cid] = order
        return [found[cid] for cid in wanted if cid in found]

    def remember_symbols(self, symbols: dict[str, str]) -> None:
        """Client order id -> symbol, from the engine's records: a fresh venue (after a restart) then
        looks orders up in their market. Without it, `fetch_orders_by_client_ids` falls back to the
        open orders of every market, which binance spot refuses (ccxt's warnWithoutSymbol) and which
        misses orders that filled or were canceled meanwhile."""
        self._symbols.update(symbols)

    def fetch_my_trades(self, symbol: str | None = None, since: int | None = None) -> list[VenueTrade]:
        params: dict[str, Any] = {} if symbol is not None else {"type": self.market_type}
        raws = self._call("fetch_my_trades", symbol, self.client.fetch_my_trades, symbol, since, None, params)
        trades = [self._to_trade(raw) for raw in raws]
        trades = [t for t in trades if since is None or t.ts >= since]
        return sorted(trades, key=lambda t: (t.ts, t.id))

    def fetch_funding_history(self, symbol: str | None = None, since: int | None = None) -> list[FundingPayment]:
        fetch = self.client.fetch_funding_history
        return to_funding_payments(self._call("fetch_funding_history", symbol, fetch, symbol, since, None, {}), since)

    def fetch_balance(self) -> dict[str, Balance]:
        raw = self._call("fetch_balance", None, self.client.fetch_balance, dict(self.balance_params))
        return to_balances(raw)

    # --- request building ---

    def _order_args(self, req: OrderRequest, market: dict[str, Any]) -> tuple[Any, ...]:
        """ccxt create_order's (symbol, type, side, amount, price, params) for `req`, rounded to the
        market's precision (amounts down, by ccxt's TRUNCATE; prices to the nearest tick)."""
        symbol = req.symbol
        amount = self._precise(self.client.amount_to_precision, symbol, req.amount / contract_size(market))
        params: dict[str, Any] = {"clientOrderId": req.client_order_id}
        price: str | None = None
        if req.type == OrderType.LIMIT:
            price = self._precise(self.client.price_to_precision, symbol, req.price)
        elif req.type == OrderType.STOP_MARKET:
            params["triggerPrice"] = self._precise(self.client.price_to_precision, symbol, req.stop_price)
            if stop_needs_limit(market) or self.quirks.stops_as_stop_limit:
                price = self._precise(self.client.price_to_precision, symbol, self._stop_limit(req))
            if self._create_features(market).get("triggerDirection"):
                # A stop buys when the price rises to it and sells when it falls to it.
                params["triggerDirection"] = "above" if req.side == OrderSide.BUY else "below"
        if req.reduce_only:
            params["reduceOnly"] = True
        ccxt_type = "limit" if price is not None else "market"
        return (symbol, ccxt_type, req.side.value, amount, price, params)

    def _stop_limit(self, req: OrderRequest) -> Decimal:
        """The limit price of a stop emulated as stop-limit: `stop_limit_slippage` past the trigger."""
        assert req.stop_price is not None  # validated
        factor = 1 + self.stop_limit_slippage if req.side == OrderSide.BUY else 1 - self.stop_limit_slippage
        return req.stop_price * factor

    def _precise(self, fn: Callable[[str, Any], str], symbol: str, value: Decimal | None) -> str:
        try:
            return fn(symbol, format(value, "f"))
        except ccxt.BaseError as exc:
            raise self._error(exc, "create_order", symbol) from exc

    def _create_features(self, market: dict[str, Any]) -> dict[str, Any]:
        section = feature_section(getattr(self.client, "features", None) or {}, market) or {}
        return section.get("createOrder") or {}

    # --- lookups ---

    def _find(self, client_order_id: str, symbol: str, trigger: bool | None) -> VenueOrder | None:
        """The order with this client id, or None when the venue does not know it."""
        return self._lookup(Ref(client_order_id=client_order_id), symbol, trigger)

    def _fetch_by_id(self, order_id: str, symbol: str) -> VenueOrder | None:
        return self._lookup(Ref(order_id=order_id), symbol, None)

    def _lookup(self, ref: Ref, symbol: str, trigger: bool | None) -> VenueOrder | None:
        """Where trigger orders live apart (okx algo orders, binance contract algo orders, bybit spot
        stop orders), both lists are asked unless `trigger` says which."""
        variants = [False, True] if trigger is None else [trigger]
        if not self._separate_triggers():
            variants = [False]
        for is_trigger in variants:
            raw = self._lookup_raw(ref, symbol, {"trigger": True} if is_trigger else {})
            if raw is not None and is_trigger and actual_order_id(raw):
                raw = with_actual_fill(raw, lambda oid: self.client.fetch_order(oid, symbol, {}))
                # Its fills are the actual order's: label them with the stop's client id.
                self._client_ids[str(actual_order_id(raw))] = str(raw.get("clientOrderId") or "")
            if raw is not None:
                return self._remember(to_venue_order(raw, contract_size(self._market(symbol)), now_ms=self._now()))
        return None

    def _lookup_raw(self, ref: Ref, symbol: str, extra: dict[str, Any]) -> dict[str, Any] | None:
        key = self.quirks.fetch_by_client_id
        if key is not None:  # fetch_order takes either id (binance, okx)
            params = {**extra, key: ref.client_order_id} if ref.client_order_id else extra
            try:
                return self.client.fetch_order(ref.order_id, symbol, params)
            except ccxt.OrderNotFound:
                return None
        list_key = self.quirks.list_filter_by_client_id
        if list_key is not None:  # the order lists filter by either id (bybit)
            params = {**extra, **({list_key: ref.client_order_id} if ref.client_order_id else {})}
            params |= {"orderId": ref.order_id} if ref.order_id else {}
            sources = [self.client.fetch_open_orders, self.client.fetch_canceled_and_closed_orders]
        else:  # any other exchange: its open, then its recent orders
            params, has = extra, self.client.has
            sources = [self.client.fetch_open_orders]
            sources += [self.client.fetch_orders] if has.get("fetchOrders") else []
            sources += [self.client.fetch_closed_orders] if has.get("fetchClosedOrders") else []
        for fetch in sources:
            match = next((o for o in fetch(symbol, None, None, params) if ref.matches(o)), None)
            if match is not None:
                return match
        return None

    def _cancel_raw(self, order_id: str | None, client_order_id: str | None, symbol: str) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if order_id is None and self.quirks.cancel_by_client_id is None:
            order_id = self._venue_id(str(client_order_id), symbol)
        elif order_id is None:
            params[self.quirks.cancel_by_client_id] = client_order_id
        variants = [{}, {"trigger": True}] if self._separate_triggers() else [{}]
        for i, extra in enumerate(variants):
            try:
                return self._call("cancel_order", symbol, self.client.cancel_order, order_id, symbol, params | extra)
            except OrderNotFound:
                if i == len(variants) - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _venue_id(self, client_order_id: str, symbol: str) -> str:
        """The venue's id of our order (remembered, else looked up); OrderNotFound when it has none."""
        known = next((oid for oid, cid in self._client_ids.items() if cid == client_order_id), None)
        found = known or getattr(self.fetch_order(None, client_order_id, symbol), "id", None)
        if not found:
            raise OrderNotFound(f"{self.id} cancel_order {symbol}: no order {client_order_id}")
        return found

    def _separate_triggers(self) -> bool:
        """Whether the venue lists trigger (stop) orders apart from ordinary ones (ccxt 4.5.90)."""
        return self.market_type in self.quirks.separate_trigger_markets

    def _symbol_for(
        self, order_id: str | None, client_order_id: str | None, symbol: str | None, required: bool = True
    ) -> str | None:
        if symbol is None and client_order_id is not None:
            symbol = self._symbols.get(client_order_id)
        if symbol is None and order_id is not None:
            cid = self._client_ids.get(order_id)
            symbol = self._symbols.get(cid) if cid else None
        if symbol is None and required:
            raise InvalidOrder(f"{self.id}: a symbol is needed for order {order_id or client_order_id}")
        return symbol

    # --- plumbing ---

    def _open_orders(self, symbol: str | None, params: dict[str, Any]) -> list[VenueOrder]:
        raws = self._call("fetch_open_orders", symbol, self.client.fetch_open_orders, symbol, None, None, params)
        return [self._to_order(raw) for raw in raws if raw]

    def _to_order(self, raw: dict[str, Any]) -> VenueOrder:
        market = self.client.markets.get(raw.get("symbol")) if raw.get("symbol") else None
        return self._remember(to_venue_order(raw, contract_size(market), now_ms=self._now()))

    def _to_trade(self, raw: dict[str, Any]) -> VenueTrade:
        market = self.client.markets.get(raw.get("symbol")) if raw.get("symbol") else None
        trade = to_venue_trade(raw, contract_size(market), (market or {}).get("quote") or "")
        if not trade.client_order_id and trade.order_id in self._client_ids:
            trade = replace(trade, client_order_id=self._client_ids[trade.order_id])
        return trade

    def _remember(self, order: VenueOrder) -> VenueOrder:
        if order.client_order_id:
            self._symbols[order.client_order_id] = order.symbol
            if order.id:
                self._client_ids[order.id] = order.client_order_id
        return order

    def _market(self, symbol: str) -> dict[str, Any]:
        try:
            if not self.client.markets:
                self._call("load_markets", symbol, self.client.load_markets)
            return self.client.market(symbol)
        except ccxt.BaseError as exc:
            raise InvalidOrder(f"{self.id} has no market {symbol!r}") from exc

    def _now(self) -> int:
        return int(self.client.milliseconds())

    def _retrying(self) -> Retrying:
        return network_retrying(
            self.id, self.retry_attempts, self.retry_wait, 30.0, lambda text: mask(self.client, text)
        )

    def _call(self, method: str, symbol: str | None, fn: Callable[..., T], *args: Any) -> T:
        """fn(*args) retried on network errors; ccxt's errors become the VenueError family."""
        try:
            return self._retrying()(fn, *args)
        except ccxt.BaseError as exc:
            raise self._error(exc, method, symbol) from exc

    def _error(self, exc: ccxt.BaseError, method: str, symbol: str | None) -> VenueError:
        error = map_error(exc, self.client, method, symbol)
        # An unknown order is a routine answer (lookups, cancels of finished orders), not a failure.
        log.log(logging.INFO if isinstance(error, OrderNotFound) else logging.WARNING, "%s", error)
        return error


# --- small helpers ---


@dataclass(frozen=True)
class Ref:
    """An order named by its venue id or by our client id."""

    order_id: str | None = None
    client_order_id: str | None = None

    def matches(self, order: dict[str, Any]) -> bool:
        if self.order_id is not None:
            return str(order.get("id")) == self.order_id
        return order.get("clientOrderId") == self.client_order_id


def _matches(order: VenueOrder, order_id: str | None, client_order_id: str | None) -> bool:
    return (order_id is not None and order.id == order_id) or (
        client_order_id is not None and order.client_order_id == client_order_id
    )
