"""A small stateful stand-in for Binance's spot REST API, at the HTTP layer.

It replaces `client.fetch` of a real ccxt binance client (like tests/ccxt_replay.Transport), so ccxt's
own request signing, error handling and parsing run for real. Every answer is built from a RECORDED
Binance body (tests/fixtures/ccxt/binance.json, cancel_orders.json) with our order's fields put in;
refusals are Binance's own error bodies, run through ccxt's `handle_errors` (so ccxt raises what it
raises against the real venue).

Endpoints: POST/GET/DELETE /api/v3/order, GET /api/v3/openOrders, /api/v3/myTrades, /api/v3/account,
/api/v3/ticker/24hr. MARKET orders fill at once at `price`; LIMIT, STOP_LOSS and STOP_LOSS_LIMIT
rest (funds locked) until `move_price` crosses them. Binance's rules kept: a client order id is
refused (-2010 "Duplicate order sent.") while an order holding it is not FILLED (Binance accepts
it again once the earlier order filled); a stop that would trigger at once is refused; an unknown
order is -2013 (lookup) / -2011 (cancel). Commissions as Binance charges them: by default in the asset
received (a buy pays in the base coin, so buying 1 LTC leaves 0.999 LTC; a sell pays in USDT);
`commission="quote"` charges everything in the quote asset (the older simplification some scenarios
keep); `commission="BNB"` pays every fee in BNB, worth `bnb_price` quote (no discount modelled).
Faults: `fail_next_create(before=exc)` raises before the order reaches the book; `after=exc`
executes it and then loses the answer (both for single orders and OCO lists).

OCO lists (POST /api/v3/orderList/oco, DELETE /api/v3/orderList): a LIMIT_MAKER leg and a
STOP_LOSS(_LIMIT) leg on the same quantity, locked once; when one leg fills the other EXPIRES (as on
Binance); canceling either leg (DELETE /api/v3/order) or the list cancels both; a maker leg that would
take at once is refused (-2010), as is a list whose list or leg client id is taken. `fill_part`
fills part of a resting order (a partial fill of a leg).
"""

from __future__ import annotations

import copy
import json
from collections import Counter, defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import ccxt

from tests.helpers.ccxt_replay import Request, fixture_entries
from tests.helpers.ccxt_trading import cancel_fixture

D = Decimal
ZERO = D(0)
EIGHT = D("0.00000001")


def _recorded(method: str) -> Any:
    return fixture_entries("binance", method)[0]["httpResponse"]


ORDER = _recorded("fetchOrder")  # GET /api/v3/order
CREATED = {k: v for k, v in _recorded("createOrder").items() if k != "icebergQty"}  # POST, FULL; no iceberg
TRADE = _recorded("fetchMyTrades")[0]  # one /api/v3/myTrades row
ACCOUNT = _recorded("fetchBalance")  # "Spot balance": /api/v3/account
TICKER = _recorded("fetchTicker")  # /api/v3/ticker/24hr
CANCELED = cancel_fixture("binance")["httpResponse"]  # DELETE /api/v3/order

# Binance's error bodies (HTTP 400), from its spot API error code list.
DUPLICATE = {"code": -2010, "msg": "Duplicate order sent."}
NO_FUNDS = {"code": -2010, "msg": "Account has insufficient balance for requested action."}
WOULD_TRIGGER = {"code": -2010, "msg": "Stop price would trigger immediately."}
WOULD_TAKE = {"code": -2010, "msg": "Order would immediately match and take."}
NO_LIST = {"code": -2011, "msg": "Unknown order list sent."}
NO_ORDER = {"code": -2013, "msg": "Order does not exist."}
UNKNOWN_ORDER = {"code": -2011, "msg": "Unknown order sent."}
NO_SYMBOL = {"code": -1102, "msg": "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."}

OPEN = ("NEW", "PARTIALLY_FILLED")
STOPS = ("STOP_LOSS", "STOP_LOSS_LIMIT")


def _s(value: Decimal) -> str:
    return f"{value:.8f}"


class BinanceSpotSim:
    """Binance spot for one account: its orders, trades and balances; `client.fetch` is this object."""

    def __init__(
        self,
        client: ccxt.Exchange,
        price: str,
        balances: dict[str, str],
        fee_rate: str = "0.001",
        now: int = 0,
        commission: str = "received",
        bnb_price: str = "600",
    ) -> None:
        """`commission`: "received" (Binance's default: the asset an order receives), "quote" or "BNB"."""
        if commission not in ("received", "quote", "BNB"):
            raise ValueError(f"unknown commission mode {commission!r}")
        self.client = client
        self.price = D(price)
        self.fee_rate = D(fee_rate)
        self.commission = commission
        self.bnb_price = D(bnb_price)
        self.free: defaultdict[str, Decimal] = defaultdict(D, {a: D(v) for a, v in balances.items()})
        self.locked: defaultdict[str, Decimal] = defaultdict(D)
        self.orders: dict[str, dict[str, Any]] = {}  # orderId -> the order in Binance's fields
        self.locks: dict[str, tuple[str, Decimal]] = {}  # orderId -> (asset, amount) locked for it
        self.trades: list[dict[str, Any]] = []
        self.requests: list[Request] = []
        self.posts: Counter[str] = Counter()  # POST /api/v3/order per newClientOrderId (reaching the venue)
        self.lists: dict[str, list[str]] = {}  # listClientOrderId -> its legs' orderIds
        self.list_posts: Counter[str] = Counter()  # POST /api/v3/orderList/oco per listClientOrderId
        self.faults: list[tuple[str, BaseException]] = []
        self.now = now or int(client.milliseconds())
        self._next_id = 5_000_000_000
        client.fetch = self

    # --- the test's controls ---

    def fail_next_create(self, before: BaseException | None = None, after: BaseException | None = None) -> None:
        self.faults.append(("before", before) if before is not None else ("after", after))  # type: ignore[arg-type]

    def move_price(self, price: str) -> list[str]:
        """The market trades at `price`: resting orders it crosses fill there. Returns their client ids."""
        self.price = p = D(price)
        filled = []
        for order in list(self.orders.values()):
            if order["status"] not in OPEN:
                continue
            side, limit, stop = order["side"], D(order["price"]), D(order["stopPrice"])
            if order["type"] in STOPS and not order["isWorking"]:
                if (p <= stop) if side == "SELL" else (p >= stop):
                    order.update(isWorking=True, workingTime=str(self._tick()))
                else:
                    continue
            if order["type"] == "STOP_LOSS" or (order["type"] == "STOP_LOSS_LIMIT" and _marketable(side, limit, p)):
                self._fill(order, p, maker=False)
            elif order["type"] in ("LIMIT", "LIMIT_MAKER") and _marketable(side, limit, p):
                self._fill(order, limit, maker=True)
            else:
                continue
            filled.append(order["clientOrderId"])
        return filled

    def fill_part(self, client_order_id: str, qty: str) -> None:
        """`qty` of a resting order trades at its limit price (a partial fill; the order stays open)."""
        order = self.by_client_id(client_order_id)
        assert order is not None, client_order_id
        assert order["status"] in OPEN, client_order_id
        self._fill(order, D(order["price"]), maker=True, qty=D(qty))

    def open_orders(self) -> list[dict[str, Any]]:
        return [o for o in self.orders.values() if o["status"] in OPEN]

    def by_client_id(self, client_order_id: str) -> dict[str, Any] | None:
        return next((o for o in reversed(self.orders.values()) if o["clientOrderId"] == client_order_id), None)

    # --- HTTP ---

    def __call__(self, url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        request = Request(url, method, headers, body)
        self.requests.append(request)
        params = dict(parse_qsl(urlsplit(url).query)) | (dict(parse_qsl(body)) if isinstance(body, str) else {})
        route = {
            ("POST", "/api/v3/order"): self._create,
            ("POST", "/api/v3/orderList/oco"): self._create_oco,
            ("DELETE", "/api/v3/orderList"): self._cancel_list,
            ("GET", "/api/v3/order"): self._get,
            ("DELETE", "/api/v3/order"): self._cancel,
            ("GET", "/api/v3/openOrders"): self._open,
            ("GET", "/api/v3/myTrades"): self._my_trades,
            ("GET", "/api/v3/account"): self._account,
            ("GET", "/api/v3/ticker/24hr"): self._ticker,
        }.get((method, urlsplit(url).path))
        if route is None:
            raise AssertionError(f"binance sim: unexpected request {method} {url}")
        answer = route(params)
        if isinstance(answer, dict) and "code" in answer and "msg" in answer:
            self._refuse(request, answer)
        return json.loads(json.dumps(answer))

    def _refuse(self, request: Request, body: dict[str, Any]) -> None:
        text = json.dumps(body)
        self.client.handle_errors(400, "Bad Request", request.url, request.method, {}, text, body, None, request.body)
        self.client.handle_http_status_code(400, "Bad Request", request.url, request.method, text)
        raise AssertionError(f"ccxt did not treat {text} as an error")

    # --- endpoints ---

    def _create(self, p: dict[str, str]) -> Any:
        fault = self.faults.pop(0) if self.faults else None
        if fault is not None and fault[0] == "before":
            raise fault[1]
        cid = p["newClientOrderId"]
        self.posts[cid] += 1
        earlier = self.by_client_id(cid)
        if earlier is not None and earlier["status"] != "FILLED":
            return DUPLICATE
        kind, side, qty = p["type"], p["side"], D(p["quantity"])
        price, stop = D(p.get("price", "0")), D(p.get("stopPrice", "0"))
        if kind in STOPS and ((self.price <= stop) if side == "SELL" else (self.price >= stop)):
            return WOULD_TRIGGER
        base, quote = self._assets(p["symbol"])
        # A buy whose commission is paid in quote must afford it too.
        surcharge = 1 + self.fee_rate if self.commission == "quote" else 1
        asset, need = (base, qty) if side == "SELL" else (quote, qty * (price or self.price) * surcharge)
        if self.free[asset] < need:
            return NO_FUNDS
        oid, now = str(self._next_id), self._tick()
        self._next_id += 1
        order = copy.deepcopy(ORDER) | {
            "symbol": p["symbol"], "orderId": oid, "clientOrderId": cid, "price": _s(price), "origQty": _s(qty),
            "executedQty": _s(ZERO), "cummulativeQuoteQty": _s(ZERO), "status": "NEW",
            "timeInForce": p.get("timeInForce", "GTC"), "type": kind, "side": side, "stopPrice": _s(stop),
            "time": str(now), "updateTime": str(now), "isWorking": kind not in STOPS,
            "workingTime": str(now) if kind not in STOPS else "-1", "selfTradePreventionMode": "EXPIRE_MAKER",
        }  # fmt: skip
        self.orders[oid] = order
        fills = []
        if kind == "MARKET" or (kind == "LIMIT" and _marketable(side, price, self.price)):
            fills.append(self._fill(order, self.price, maker=False))
        else:
            self.free[asset] -= need
            self.locked[asset] += need
            self.locks[oid] = (asset, need)
        answer = {k: order.get(k, v) for k, v in CREATED.items()} | {"transactTime": str(now), "fills": fills}
        if kind in STOPS:
            answer["stopPrice"] = order["stopPrice"]
        if fault is not None:  # executed, but the answer is lost on the way back
            raise fault[1]
        return answer

    def _find(self, p: dict[str, str]) -> dict[str, Any] | None:
        cid = p.get("origClientOrderId", "")
        order = self.orders.get(p["orderId"]) if "orderId" in p else self.by_client_id(cid)
        return order if order is not None and order["symbol"] == p.get("symbol") else None

    def _get(self, p: dict[str, str]) -> Any:
        order = self._find(p)
        return NO_ORDER if order is None else _view(order)

    def _cancel(self, p: dict[str, str]) -> Any:
        order = self._find(p)
        if order is None or order["status"] not in OPEN:
            return UNKNOWN_ORDER
        for leg in self._list_of(order):  # canceling a leg of a list cancels the list
            self._cancel_one(leg)
        return self._cancel_answer(order)

    def _cancel_one(self, order: dict[str, Any]) -> None:
        if order["status"] in OPEN:
            self._unlock(order["orderId"])
            order.update(status="CANCELED", updateTime=str(self._tick()))

    def _cancel_answer(self, order: dict[str, Any]) -> dict[str, Any]:
        keys = ("symbol", "orderId", "price", "origQty", "executedQty", "cummulativeQuoteQty", "status")
        keys += ("timeInForce", "type", "side", "selfTradePreventionMode")
        answer = copy.deepcopy(CANCELED) | {k: order[k] for k in keys}
        answer |= {"origClientOrderId": order["clientOrderId"], "clientOrderId": f"cancel{order['orderId']}"}
        answer["orderListId"] = int(order["orderListId"])
        answer["transactTime"] = order["updateTime"]
        if order["type"] in STOPS:
            answer["stopPrice"] = order["stopPrice"]
        return answer

    def _create_oco(self, p: dict[str, str]) -> Any:
        fault = self.faults.pop(0) if self.faults else None
        if fault is not None and fault[0] == "before":
            raise fault[1]
        list_cid = p["listClientOrderId"]
        self.list_posts[list_cid] += 1
        legs = {pos: {k[len(pos) :]: v for k, v in p.items() if k.startswith(pos)} for pos in ("above", "below")}
        taken = list_cid in self.lists and any(self.orders[o]["status"] in OPEN for o in self.lists[list_cid])
        for leg in legs.values():
            earlier = self.by_client_id(leg["ClientOrderId"])
            taken = taken or (earlier is not None and earlier["status"] != "FILLED")
        if taken:
            return DUPLICATE
        side, qty = p["side"], D(p["quantity"])
        for leg in legs.values():
            if leg["Type"] == "LIMIT_MAKER" and _marketable(side, D(leg["Price"]), self.price):
                return WOULD_TAKE
            if leg["Type"] in STOPS and _triggered(side, D(leg["StopPrice"]), self.price):
                return WOULD_TRIGGER
        base, quote = self._assets(p["symbol"])
        highest = max(D(leg.get("Price", "0")) or D(leg.get("StopPrice", "0")) for leg in legs.values())
        asset, need = (base, qty) if side == "SELL" else (quote, qty * highest)
        if self.free[asset] < need:
            return NO_FUNDS
        list_id, now = str(len(self.lists) + 1), self._tick()
        ids = []
        for leg in legs.values():
            kind, oid = leg["Type"], str(self._next_id)
            self._next_id += 1
            self.orders[oid] = copy.deepcopy(ORDER) | {
                "symbol": p["symbol"], "orderId": oid, "orderListId": list_id, "clientOrderId": leg["ClientOrderId"],
                "price": _s(D(leg.get("Price", "0"))), "origQty": _s(qty), "executedQty": _s(ZERO),
                "cummulativeQuoteQty": _s(ZERO), "status": "NEW", "timeInForce": leg.get("TimeInForce", "GTC"),
                "type": kind, "side": side, "stopPrice": _s(D(leg.get("StopPrice", "0"))), "time": str(now),
                "updateTime": str(now), "isWorking": kind not in STOPS,
                "workingTime": str(now) if kind not in STOPS else "-1", "selfTradePreventionMode": "EXPIRE_MAKER",
            }  # fmt: skip
            ids.append(oid)
        self.lists[list_cid] = ids
        self.free[asset] -= need
        self.locked[asset] += need
        self.locks[ids[0]] = (asset, need)  # one lock for the list
        answer = self._list_answer(list_cid, "EXEC_STARTED", "EXECUTING", now)
        if fault is not None:  # executed, but the answer is lost on the way back
            raise fault[1]
        return answer

    def _cancel_list(self, p: dict[str, str]) -> Any:
        ids = self.lists.get(p.get("listClientOrderId", ""))
        if not ids or self.orders[ids[0]]["symbol"] != p.get("symbol"):
            return NO_LIST
        legs = [self.orders[o] for o in ids]
        if not any(leg["status"] in OPEN for leg in legs):
            return NO_LIST
        for leg in legs:
            self._cancel_one(leg)
        answer = self._list_answer(p["listClientOrderId"], "ALL_DONE", "ALL_DONE", self._tick())
        answer["orderReports"] = [self._cancel_answer(leg) for leg in legs]
        return answer

    def _list_answer(self, list_cid: str, list_status: str, order_status: str, now: int) -> dict[str, Any]:
        legs = [self.orders[o] for o in self.lists[list_cid]]
        report_keys = ("symbol", "orderId", "orderListId", "clientOrderId", "price", "origQty", "executedQty")
        report_keys += ("cummulativeQuoteQty", "status", "timeInForce", "type", "side", "stopPrice", "workingTime")
        report_keys += ("selfTradePreventionMode",)
        return {
            "orderListId": int(legs[0]["orderListId"]), "contingencyType": "OCO", "listStatusType": list_status,
            "listOrderStatus": order_status, "listClientOrderId": list_cid, "transactionTime": now,
            "symbol": legs[0]["symbol"],
            "orders": [{k: leg[k] for k in ("symbol", "orderId", "clientOrderId")} for leg in legs],
            "orderReports": [{k: leg[k] for k in report_keys} | {"transactTime": now} for leg in legs],
        }  # fmt: skip

    def _list_of(self, order: dict[str, Any]) -> list[dict[str, Any]]:
        """The order's list's legs (itself alone when it is in none)."""
        for ids in self.lists.values():
            if order["orderId"] in ids:
                return [self.orders[o] for o in ids]
        return [order]

    def _open(self, p: dict[str, str]) -> Any:
        return [_view(o) for o in self.open_orders() if p.get("symbol") in (None, o["symbol"])]

    def _my_trades(self, p: dict[str, str]) -> Any:
        if "symbol" not in p:
            return NO_SYMBOL
        lo, hi = int(p.get("startTime", 0)), int(p.get("endTime", 2**62))
        rows = [t for t in self.trades if t["symbol"] == p["symbol"] and lo <= int(t["time"]) <= hi]
        rows = [t for t in rows if "orderId" not in p or t["orderId"] == p["orderId"]]
        return rows[: int(p.get("limit", 500))]

    def _account(self, p: dict[str, str]) -> Any:
        assets = sorted(set(self.free) | set(self.locked))
        balances = [{"asset": a, "free": _s(self.free[a]), "locked": _s(self.locked[a])} for a in assets]
        return copy.deepcopy(ACCOUNT) | {"balances": balances, "updateTime": str(self.now)}

    def _ticker(self, p: dict[str, str]) -> Any:
        last = _s(self.price)
        fields = {"symbol": p["symbol"], "lastPrice": last, "bidPrice": last, "askPrice": last}
        return copy.deepcopy(TICKER) | fields | {"closeTime": str(self._tick())}

    # --- the book ---

    def _fill(self, order: dict[str, Any], price: Decimal, maker: bool, qty: Decimal | None = None) -> dict[str, Any]:
        """Fill `qty` (by default all that is left) of `order` at `price`: balances move, a trade is
        recorded; the other leg of its list, if any, expires."""
        left = D(order["origQty"]) - D(order["executedQty"])
        qty = left if qty is None else min(qty, left)
        legs = self._list_of(order)
        self._release(legs, None if qty == left else qty)
        quote_qty = qty * price
        base, quote = self._assets(order["symbol"])
        buy = order["side"] == "BUY"
        if self.commission == "BNB":
            fee_asset, fee = "BNB", (quote_qty * self.fee_rate / self.bnb_price).quantize(EIGHT, ROUND_HALF_UP)
        elif buy and self.commission == "received":
            fee_asset, fee = base, (qty * self.fee_rate).quantize(EIGHT, ROUND_HALF_UP)
        else:
            fee_asset, fee = quote, (quote_qty * self.fee_rate).quantize(EIGHT, ROUND_HALF_UP)
        if buy:
            self.free[quote] -= quote_qty
            self.free[base] += qty
        else:
            self.free[base] -= qty
            self.free[quote] += quote_qty
        self.free[fee_asset] -= fee
        now = str(self._tick())
        cumulative = D(order["cummulativeQuoteQty"]) + quote_qty
        executed = D(order["executedQty"]) + qty
        status = "FILLED" if executed == D(order["origQty"]) else "PARTIALLY_FILLED"
        order.update(executedQty=_s(executed), cummulativeQuoteQty=_s(cumulative), status=status, updateTime=now)
        if status == "FILLED":
            for other in legs:
                if other is not order and other["status"] in OPEN:
                    other.update(status="EXPIRED", updateTime=now)
        trade_id = str(400_000_000 + len(self.trades))
        trade = copy.deepcopy(TRADE) | {
            "symbol": order["symbol"], "id": trade_id, "orderId": order["orderId"], "price": _s(price),
            "qty": _s(qty), "quoteQty": _s(quote_qty), "commission": _s(fee), "commissionAsset": fee_asset,
            "time": now, "isBuyer": order["side"] == "BUY", "isMaker": maker,
        }  # fmt: skip
        self.trades.append(trade)
        return {"tradeId": trade_id} | {k: trade[k] for k in ("price", "qty", "commission", "commissionAsset")}

    def _release(self, legs: list[dict[str, Any]], part: Decimal | None) -> None:
        """Unlock what the filled part takes (all of the lock when `part` is None)."""
        for leg in legs:
            if leg["orderId"] in self.locks and part is not None:
                asset, amount = self.locks[leg["orderId"]]
                quote = self._assets(leg["symbol"])[1]
                freed = amount * part / D(leg["origQty"]) if asset == quote else min(amount, part)
                self.locks[leg["orderId"]] = (asset, amount - freed)
                self.locked[asset] -= freed
                self.free[asset] += freed
            elif part is None:
                self._unlock(leg["orderId"])

    def _unlock(self, order_id: str) -> None:
        if order_id in self.locks:
            asset, amount = self.locks.pop(order_id)
            self.locked[asset] -= amount
            self.free[asset] += amount

    def _assets(self, market_id: str) -> tuple[str, str]:
        market = self.client.markets_by_id[market_id][0]
        return market["base"], market["quote"]

    def _tick(self) -> int:
        """The venue's clock: wall time, strictly increasing."""
        self.now = max(self.now + 1, int(self.client.milliseconds()))
        return self.now


def _triggered(side: str, stop: Decimal, price: Decimal) -> bool:
    return price <= stop if side == "SELL" else price >= stop


def _marketable(side: str, limit: Decimal, price: Decimal) -> bool:
    return price <= limit if side == "BUY" else price >= limit


def _view(order: dict[str, Any]) -> dict[str, Any]:
    """The order as GET /api/v3/order and /openOrders show it (the recorded order's keys)."""
    return {k: order[k] for k in ORDER}
