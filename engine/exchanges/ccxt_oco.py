"""OCO order lists through ccxt's raw Binance spot endpoints (ccxt has no unified OCO call):
POST /api/v3/orderList/oco to place (aboveType/belowType, one client id per leg and one for the
list) and DELETE /api/v3/orderList to cancel both legs at once. Each leg is an ordinary order
afterwards: looked up, listed and filled like any other (its `orderListId` names the list).

A sell list (a long's exits) puts the LIMIT_MAKER target above and the stop below; a buy list (a
short's) the reverse. The stop is a STOP_LOSS_LIMIT (limit `stop_limit_slippage` past the trigger)
where the market has no STOP_LOSS, as for a lone stop (engine.exchanges.ccxt_venue).

Placing never duplicates: a lost answer is looked up by the legs' client ids before the list is sent
again, and a "duplicate" refusal means it is there. `OcoMixin` is part of CcxtTradingVenue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any, TypeVar

import ccxt
from tenacity import Retrying

from db.enums import OrderType
from engine.exchanges.ccxt_orders import contract_size, is_duplicate_client_id, to_venue_order
from engine.exchanges.quirks import Quirks
from engine.exchanges.venue import (
    InvalidOrder,
    OcoLegs,
    OcoRequest,
    OrderNotFound,
    OrderRequest,
    OrderSide,
    VenueError,
    VenueOrder,
)

T = TypeVar("T")


class OcoMixin:
    """`place_oco` and `cancel_oco` for CcxtTradingVenue (which provides the attributes below)."""

    client: ccxt.Exchange
    id: str
    quirks: Quirks
    stop_limit_slippage: Decimal
    _symbols: dict[str, str]

    # provided by CcxtTradingVenue
    _market: Callable[[str], dict[str, Any]]
    _find: Callable[[str, str, bool | None], VenueOrder | None]
    _remember: Callable[[VenueOrder], VenueOrder]
    _retrying: Callable[[], Retrying]
    _now: Callable[[], int]
    _call: Callable[..., Any]
    _error: Callable[[ccxt.BaseError, str, str | None], VenueError]
    _precise: Callable[[Callable[[str, Any], str], str, Decimal | None], str]

    def place_oco(self, req: OcoRequest) -> OcoLegs:
        market = self._market(req.symbol)
        params = self._oco_params(req, market)
        for cid in (req.limit_client_order_id, req.stop_client_order_id):
            self._symbols[cid] = req.symbol
        try:
            for attempt in self._retrying():
                with attempt:
                    if attempt.retry_state.attempt_number > 1:  # the last answer may have been lost
                        found = self._find_legs(req)
                        if found is not None:
                            return found
                    raw = self.client.private_post_orderlist_oco(params)
                    return self._legs(raw, market, req)
        except ccxt.BaseError as exc:
            if not is_duplicate_client_id(exc, self.quirks):
                raise self._error(exc, "create_order", req.symbol) from exc
            found = self._call("create_order", req.symbol, self._find_legs, req)
            if found is None:
                raise InvalidOrder(
                    f"{self.id} place_oco {req.symbol}: the list's ids are taken, yet no order has them"
                ) from exc
            return found
        raise AssertionError("unreachable: tenacity returns or raises")  # pragma: no cover

    def cancel_oco(self, req: OcoRequest) -> OcoLegs:
        market = self._market(req.symbol)
        params = {"symbol": market["id"], "listClientOrderId": req.list_client_order_id}
        try:
            raw = self._call("cancel_order", req.symbol, self.client.private_delete_orderlist, params)
        except OrderNotFound as exc:  # done already (a leg filled, or canceled): its legs tell how
            found = self._call("fetch_order", req.symbol, self._find_legs, req)
            if found is None:
                raise OrderNotFound(f"{self.id} cancel_oco {req.symbol}: no list {req.list_client_order_id}") from exc
            return found
        return self._legs(raw, market, req)

    # --- helpers ---

    def _oco_params(self, req: OcoRequest, market: dict[str, Any]) -> dict[str, Any]:
        price_of = self.client.price_to_precision
        quantity = self._precise(self.client.amount_to_precision, req.symbol, req.amount / contract_size(market))
        target = {
            "Type": "LIMIT_MAKER",
            "Price": self._precise(price_of, req.symbol, req.price),
            "ClientOrderId": req.limit_client_order_id,
        }
        stop: dict[str, Any] = {
            "Type": "STOP_LOSS",
            "StopPrice": self._precise(price_of, req.symbol, req.stop_price),
            "ClientOrderId": req.stop_client_order_id,
        }
        kinds = (market.get("info") or {}).get("orderTypes")
        if isinstance(kinds, list) and "STOP_LOSS" not in kinds:
            factor = 1 - self.stop_limit_slippage if req.side == OrderSide.SELL else 1 + self.stop_limit_slippage
            limit = self._precise(price_of, req.symbol, req.stop_price * factor)
            stop |= {"Type": "STOP_LOSS_LIMIT", "Price": limit, "TimeInForce": "GTC"}
        above, below = (target, stop) if req.side == OrderSide.SELL else (stop, target)
        params: dict[str, Any] = {
            "symbol": market["id"],
            "side": req.side.value.upper(),
            "quantity": quantity,
            "listClientOrderId": req.list_client_order_id,
        }
        params |= {f"above{key}": value for key, value in above.items()}
        params |= {f"below{key}": value for key, value in below.items()}
        return params

    def _legs(self, raw: dict[str, Any], market: dict[str, Any], req: OcoRequest) -> OcoLegs:
        """Both legs from a list answer's orderReports, read through ccxt's own order parser."""
        size = contract_size(market)
        requests = {leg.client_order_id: leg for leg in leg_requests(req)}
        orders = {}
        for report in raw.get("orderReports") or []:
            parsed = self.client.parse_order(report, market)
            cid = str((report.get("origClientOrderId") or report.get("clientOrderId")) or "")
            order = to_venue_order(parsed, size, requests.get(cid), self._now())
            if order.ts <= 0:  # a stop leg's answer gives workingTime -1 (not working yet) first
                order = replace(order, ts=self._now())
            order = self._remember(order)
            orders[order.client_order_id] = order
        limit, stop = orders.get(req.limit_client_order_id), orders.get(req.stop_client_order_id)
        if limit is None or stop is None:  # an answer without its reports: ask for each leg
            found = self._find_legs(req)
            if found is None:
                raise VenueError(
                    f"{self.id} oco {req.symbol}: the answer names neither leg of {req.list_client_order_id}"
                )
            return found
        return OcoLegs(limit, stop)

    def _find_legs(self, req: OcoRequest) -> OcoLegs | None:
        limit = self._find(req.limit_client_order_id, req.symbol, False)
        stop = self._find(req.stop_client_order_id, req.symbol, None)
        if limit is None and stop is None:
            return None
        if limit is None or stop is None:
            raise VenueError(f"{self.id} oco {req.symbol}: list {req.list_client_order_id} has only one leg")
        return OcoLegs(limit, stop)


def leg_requests(req: OcoRequest) -> tuple[OrderRequest, OrderRequest]:
    """The legs as single-order requests (what fills in a bare answer's missing fields)."""
    limit = OrderRequest(req.limit_client_order_id, req.symbol, req.side, OrderType.LIMIT, req.amount, price=req.price)
    stop = OrderRequest(
        req.stop_client_order_id, req.symbol, req.side, OrderType.STOP_MARKET, req.amount, stop_price=req.stop_price
    )
    return limit, stop
