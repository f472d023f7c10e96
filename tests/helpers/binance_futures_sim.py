"""A small stateful stand-in for Binance's USD-M futures REST API (one-way position mode), at the
HTTP layer, in the style of tests/helpers/binance_spot_sim.py: it replaces `client.fetch` of a real
ccxt binance client, so ccxt's own signing, error mapping and parsing run for real.

What ccxt 4.5.90 sends for our requests on a linear swap: market and limit orders (reduce-only
exits too) go to POST /fapi/v1/order; a stop (any order with a trigger price) is a conditional
"algo" order, POST /fapi/v1/algoOrder (looked up, listed and canceled at /fapi/v1/algoOrder and
/fapi/v1/openAlgoOrders). When its trigger is crossed the algo service places a MARKET order in the
matching engine (its id is the algo order's `actualOrderId`), which fills at once; the algo order
then reads FINISHED and carries no fill of its own: the fill and its /userTrades row are the actual
order's. Also: /fapi/v1/openOrders, /fapi/v1/userTrades, /fapi/v3/account (fetch_balance on a
linear market), /fapi/v3/positionRisk (fetch_positions), POST /fapi/v1/leverage, POST
/fapi/v1/marginType, GET /fapi/v1/income (FUNDING_FEE rows), GET /fapi/v1/ticker/24hr.

Answers are built from RECORDED Binance bodies (tests/fixtures/ccxt/binance.json: fetchOpenOrder
"swap open order", fetchMyTrades "Swap private trade", fetchBalance "Linear swap balance",
fetchPositions "Fetch linear positions with symbols", fetchFundingHistory); where no recorded body
exists (algo orders, leverage, margin type) Binance's API documentation example is used, as noted
at each. Refusals are Binance's own error bodies run through ccxt's `handle_errors`. The account
side (margin, balance, positions, funding, leverage and margin type) is
tests/helpers/binance_futures_account.py.

Rules kept: a reduce-only order that would open, increase or flip the position is refused (-2022);
a new order's initial margin (notional / leverage) must fit the available balance (-2019); a client
id held by an open order is refused (-4116); a stop that would trigger at once is refused (-2021);
leverage above the symbol's maximum is -4028; a margin type that does not change is -4046, one that
would change under a position (-4048) or open orders (-4047) is refused. Each fill books its
realized P&L and commission (taker `fee_rate`, maker `maker_rate`) on the USDT wallet. Controls:
`move_price`, `pay_funding(rate)` (a long pays when rate > 0), `fail_next_create(before=/after=)`
(orders and algo orders alike), the request log `requests`.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import ccxt

from tests.helpers.binance_futures_account import FuturesAccount, recorded, s8
from tests.helpers.ccxt_replay import Request

D = Decimal
ZERO = D(0)
EIGHT = D("0.00000001")


ORDER = recorded("fetchOpenOrder", "swap open order")  # a /fapi/v1/order body
TRADE = recorded("fetchMyTrades", "Swap private trade")[0]  # one /fapi/v1/userTrades row
# No recorded futures ticker: the spot one without the keys /fapi/v1/ticker/24hr does not have.
_SPOT_ONLY = ("prevClosePrice", "bidPrice", "bidQty", "askPrice", "askQty")
TICKER = {k: v for k, v in recorded("fetchTicker", "public spot ticker").items() if k not in _SPOT_ONLY}
# No recorded algo order body: the example of Binance's "New Algo Order" documentation
# (USDⓈ-M futures, POST /fapi/v1/algoOrder), also what GET /fapi/v1/algoOrder shows.
ALGO = {
    "algoId": 2146760, "clientAlgoId": "6B2I9XVcJpCjqPAJ4YoFX7", "algoType": "CONDITIONAL",
    "orderType": "TAKE_PROFIT", "symbol": "BNBUSDT", "side": "SELL", "positionSide": "BOTH",
    "timeInForce": "GTC", "quantity": "0.01", "algoStatus": "NEW", "triggerPrice": "750.000",
    "price": "750.000", "icebergQuantity": None, "selfTradePreventionMode": "EXPIRE_MAKER",
    "workingType": "CONTRACT_PRICE", "priceMatch": "NONE", "closePosition": False, "priceProtect": False,
    "reduceOnly": False, "actualOrderId": "", "actualPrice": "0.00000", "createTime": 1750485492076,
    "updateTime": 1750485492076, "triggerTime": 0, "goodTillDate": 0,
}  # fmt: skip

# Binance's error bodies (HTTP 400), from its futures error code list.
DUPLICATE = {"code": -4116, "msg": "ClientOrderId is duplicated."}
NO_MARGIN = {"code": -2019, "msg": "Margin is insufficient."}
REDUCE_ONLY = {"code": -2022, "msg": "ReduceOnly Order is rejected."}
WOULD_TRIGGER = {"code": -2021, "msg": "Order would immediately trigger."}
NO_ORDER = {"code": -2013, "msg": "Order does not exist."}
UNKNOWN_ORDER = {"code": -2011, "msg": "Unknown order sent."}
NO_SYMBOL = {"code": -1102, "msg": "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."}

OPEN = ("NEW", "PARTIALLY_FILLED")


_s = s8


class BinanceFuturesSim(FuturesAccount):
    """Binance USD-M futures for one account; `client.fetch` is this object."""

    def __init__(
        self,
        client: ccxt.Exchange,
        price: str,
        wallet: str = "10000",
        fee_rate: str = "0.0005",
        maker_rate: str = "0.0002",
        max_leverage: int = 125,
        now: int = 0,
    ) -> None:
        super().__init__(wallet, max_leverage)
        self.client = client
        self.price = D(price)
        self.fee_rate, self.maker_rate = D(fee_rate), D(maker_rate)
        self.orders: dict[str, dict[str, Any]] = {}  # orderId -> the order in Binance's fields
        self.algos: dict[str, dict[str, Any]] = {}  # algoId -> the algo order
        self.trades: list[dict[str, Any]] = []
        self.requests: list[Request] = []
        self.posts: Counter[str] = Counter()  # order and algo order creations reaching the venue, per client id
        self.faults: list[tuple[str, BaseException]] = []
        self.now = now or int(client.milliseconds())
        self._next_id = 8_000_000_000
        client.fetch = self

    # --- the test's controls ---

    def fail_next_create(self, before: BaseException | None = None, after: BaseException | None = None) -> None:
        self.faults.append(("before", before) if before is not None else ("after", after))  # type: ignore[arg-type]

    def move_price(self, price: str) -> list[str]:
        """The market trades at `price`: resting limits it crosses fill at their price, stops it
        crosses trigger and fill there. Returns the client ids (algo ids for stops) that filled."""
        self.price = p = D(price)
        filled = []
        for order in [o for o in self.orders.values() if o["status"] in OPEN and o["type"] == "LIMIT"]:
            if _marketable(order["side"], D(order["price"]), p) and self._fill(order, D(order["price"]), maker=True):
                filled.append(order["clientOrderId"])
        for algo in [a for a in self.algos.values() if a["algoStatus"] == "NEW"]:
            if _triggered(algo["orderType"], algo["side"], D(algo["triggerPrice"]), p):
                self._trigger(algo)
                filled += [algo["clientAlgoId"]] if algo["algoStatus"] == "FINISHED" else []
        return filled

    def fill_part(self, client_order_id: str, qty: str) -> None:
        """`qty` of a resting limit order trades at its price (a partial fill; the order stays open)."""
        order = self.by_client_id(client_order_id)
        assert order is not None, client_order_id
        assert order.get("status") in OPEN, client_order_id
        self._fill(order, D(order["price"]), maker=True, qty=D(qty))

    def open_orders(self) -> list[dict[str, Any]]:
        return [o for o in self.orders.values() if o["status"] in OPEN] + [
            a for a in self.algos.values() if a["algoStatus"] == "NEW"
        ]

    def by_client_id(self, client_order_id: str) -> dict[str, Any] | None:
        """The order or algo order holding this client id (the latest)."""
        for algo in reversed(self.algos.values()):
            if algo["clientAlgoId"] == client_order_id:
                return algo
        return next((o for o in reversed(self.orders.values()) if o["clientOrderId"] == client_order_id), None)

    def settings_calls(self) -> list[str]:
        """The paths of the leverage and margin type requests, in order, with every order post."""
        wanted = ("/fapi/v1/leverage", "/fapi/v1/marginType", "/fapi/v1/order", "/fapi/v1/algoOrder")
        return [r.path for r in self.requests if r.method == "POST" and r.path in wanted]

    # --- HTTP ---

    def __call__(self, url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        request = Request(url, method, headers, body)
        self.requests.append(request)
        params = dict(parse_qsl(urlsplit(url).query)) | (dict(parse_qsl(body)) if isinstance(body, str) else {})
        route = {
            ("POST", "/fapi/v1/order"): self._create,
            ("GET", "/fapi/v1/order"): self._get,
            ("DELETE", "/fapi/v1/order"): self._cancel,
            ("POST", "/fapi/v1/algoOrder"): self._create_algo,
            ("GET", "/fapi/v1/algoOrder"): self._get_algo,
            ("DELETE", "/fapi/v1/algoOrder"): self._cancel_algo,
            ("GET", "/fapi/v1/openOrders"): self._open,
            ("GET", "/fapi/v1/openAlgoOrders"): self._open_algos,
            ("GET", "/fapi/v1/userTrades"): self._user_trades,
            ("GET", "/fapi/v3/account"): self._account,
            ("GET", "/fapi/v3/positionRisk"): self._position_risk,
            ("POST", "/fapi/v1/leverage"): self._set_leverage,
            ("POST", "/fapi/v1/marginType"): self._set_margin_type,
            ("GET", "/fapi/v1/income"): self._income,
            ("GET", "/fapi/v1/ticker/24hr"): self._ticker,
        }.get((method, urlsplit(url).path))
        if route is None:
            raise AssertionError(f"binance futures sim: unexpected request {method} {url}")
        answer = route(params)
        if isinstance(answer, dict) and "code" in answer and answer.get("code") not in (200, "200"):
            self._refuse(request, answer)
        return json.loads(json.dumps(answer))

    def _refuse(self, request: Request, body: dict[str, Any]) -> None:
        text = json.dumps(body)
        self.client.handle_errors(400, "Bad Request", request.url, request.method, {}, text, body, None, request.body)
        self.client.handle_http_status_code(400, "Bad Request", request.url, request.method, text)
        raise AssertionError(f"ccxt did not treat {text} as an error")

    # --- orders ---

    def _fault(self) -> tuple[str, BaseException] | None:
        fault = self.faults.pop(0) if self.faults else None
        if fault is not None and fault[0] == "before":
            raise fault[1]
        return fault

    def _refusal(self, p: dict[str, str], cid: str, qty: Decimal, price: Decimal) -> dict[str, Any] | None:
        """Why Binance would refuse this new order, or None."""
        held = self.by_client_id(cid)
        if held is not None and (held.get("status") in OPEN or held.get("algoStatus") == "NEW"):
            return DUPLICATE
        pos = self.positions[p["symbol"]].amount
        signed = qty if p["side"] == "BUY" else -qty
        if p.get("reduceOnly") == "true":
            if not pos or (pos > 0) == (signed > 0) or qty > abs(pos):
                return REDUCE_ONLY
        elif self._opening_margin(p["symbol"], signed) * price > self._available():
            return NO_MARGIN
        return None

    def _create(self, p: dict[str, str]) -> Any:
        fault = self._fault()
        cid = p["newClientOrderId"]
        self.posts[cid] += 1
        kind, qty = p["type"], D(p["quantity"])
        price = D(p.get("price", "0"))
        refused = self._refusal(p, cid, qty, price or self.price)
        if refused is not None:
            return refused
        order = self._new_order(p["symbol"], cid, p["side"], kind, qty, price, p.get("reduceOnly") == "true")
        if kind == "MARKET" or _marketable(p["side"], price, self.price):
            self._fill(order, self.price, maker=False)
        if fault is not None:  # executed, but the answer is lost on the way back
            raise fault[1]
        return copy.deepcopy(order)

    def _new_order(
        self, market_id: str, cid: str, side: str, kind: str, qty: Decimal, price: Decimal, reduce_only: bool
    ) -> dict[str, Any]:
        oid, now = str(self._next_id), str(self._tick())
        self._next_id += 1
        order = copy.deepcopy(ORDER) | {
            "orderId": oid, "symbol": market_id, "status": "NEW", "clientOrderId": cid, "price": _s(price),
            "avgPrice": "0.00000", "origQty": _s(qty), "executedQty": _s(ZERO), "cumQuote": _s(ZERO),
            "timeInForce": "GTC", "type": kind, "origType": kind, "reduceOnly": reduce_only, "side": side,
            "time": now, "updateTime": now,
        }  # fmt: skip
        self.orders[oid] = order
        return order

    def _create_algo(self, p: dict[str, str]) -> Any:
        fault = self._fault()
        cid = p["clientAlgoId"]
        self.posts[cid] += 1
        kind, qty, trigger = p["type"], D(p["quantity"]), D(p["triggerPrice"])
        refused = self._refusal(p, cid, qty, trigger)
        if refused is not None:
            return refused
        if _triggered(kind, p["side"], trigger, self.price):
            return WOULD_TRIGGER
        algo_id, now = self._next_id, self._tick()
        self._next_id += 1
        algo = copy.deepcopy(ALGO) | {
            "algoId": algo_id, "clientAlgoId": cid, "orderType": kind, "symbol": p["symbol"], "side": p["side"],
            "quantity": _s(qty), "triggerPrice": _s(trigger), "price": _s(D(p.get("price", "0"))),
            "reduceOnly": p.get("reduceOnly") == "true", "createTime": now, "updateTime": now,
        }  # fmt: skip
        self.algos[str(algo_id)] = algo
        if fault is not None:
            raise fault[1]
        return copy.deepcopy(algo)

    def _trigger(self, algo: dict[str, Any]) -> None:
        """The algo service places a MARKET order for the algo order (its own client id) and the
        order fills at once; a reduce-only one that would no longer reduce is refused instead."""
        now = self._tick()
        qty, reduce_only = D(algo["quantity"]), bool(algo["reduceOnly"])
        pos = self.positions[algo["symbol"]].amount
        signed = qty if algo["side"] == "BUY" else -qty
        if reduce_only and (not pos or (pos > 0) == (signed > 0) or qty > abs(pos)):
            algo.update(algoStatus="REJECTED", updateTime=now, triggerTime=now)
            return
        actual = self._new_order(
            algo["symbol"], f"algo{algo['algoId']}", algo["side"], "MARKET", qty, ZERO, reduce_only
        )
        self._fill(actual, self.price, maker=False)
        algo.update(
            algoStatus="FINISHED", actualOrderId=actual["orderId"], actualPrice=actual["avgPrice"],
            triggerTime=now, updateTime=int(actual["updateTime"]),
        )  # fmt: skip

    def _find(self, p: dict[str, str]) -> dict[str, Any] | None:
        if "orderId" in p:
            order = self.orders.get(p["orderId"])
        else:
            order = next(
                (o for o in reversed(self.orders.values()) if o["clientOrderId"] == p.get("origClientOrderId")), None
            )
        return order if order is not None and order["symbol"] == p.get("symbol") else None

    def _find_algo(self, p: dict[str, str]) -> dict[str, Any] | None:
        if "algoId" in p:
            algo = self.algos.get(p["algoId"])
        else:
            algo = next((a for a in reversed(self.algos.values()) if a["clientAlgoId"] == p.get("clientAlgoId")), None)
        return algo if algo is not None and algo["symbol"] == p.get("symbol") else None

    def _get(self, p: dict[str, str]) -> Any:
        order = self._find(p)
        return NO_ORDER if order is None else copy.deepcopy(order)

    def _get_algo(self, p: dict[str, str]) -> Any:
        algo = self._find_algo(p)
        return NO_ORDER if algo is None else copy.deepcopy(algo)  # the -2013 body is assumed for algo orders

    def _cancel(self, p: dict[str, str]) -> Any:
        order = self._find(p)
        if order is None or order["status"] not in OPEN:
            return UNKNOWN_ORDER
        order.update(status="CANCELED", updateTime=str(self._tick()))
        return copy.deepcopy(order)

    def _cancel_algo(self, p: dict[str, str]) -> Any:
        algo = self._find_algo(p)
        if algo is None or algo["algoStatus"] != "NEW":
            return UNKNOWN_ORDER
        algo.update(algoStatus="CANCELED", updateTime=self._tick())
        # Binance's documentation example of DELETE /fapi/v1/algoOrder.
        return {"algoId": algo["algoId"], "clientAlgoId": algo["clientAlgoId"], "code": "200", "msg": "success"}

    def _open(self, p: dict[str, str]) -> Any:
        mine = [o for o in self.orders.values() if o["status"] in OPEN]
        return [copy.deepcopy(o) for o in mine if p.get("symbol") in (None, o["symbol"])]

    def _open_algos(self, p: dict[str, str]) -> Any:
        mine = [a for a in self.algos.values() if a["algoStatus"] == "NEW"]
        return [copy.deepcopy(a) for a in mine if p.get("symbol") in (None, a["symbol"])]

    def _ticker(self, p: dict[str, str]) -> Any:
        return copy.deepcopy(TICKER) | {
            "symbol": p["symbol"],
            "lastPrice": _s(self.price),
            "closeTime": str(self._tick()),
        }

    def _user_trades(self, p: dict[str, str]) -> Any:
        if "symbol" not in p:
            return NO_SYMBOL
        lo, hi = int(p.get("startTime", 0)), int(p.get("endTime", 2**62))
        rows = [t for t in self.trades if t["symbol"] == p["symbol"] and lo <= int(t["time"]) <= hi]
        rows = [t for t in rows if "orderId" not in p or t["orderId"] == p["orderId"]]
        return rows[: int(p.get("limit", 500))]

    # --- the book ---

    def _fill(self, order: dict[str, Any], price: Decimal, maker: bool, qty: Decimal | None = None) -> bool:
        """Fill `qty` of `order` (by default all that is left) at `price`: the position moves, P&L and
        commission are booked and a trade recorded. A reduce-only order that would no longer reduce
        expires instead (False)."""
        left = D(order["origQty"]) - D(order["executedQty"])
        qty = left if qty is None else min(qty, left)
        pos = self.positions[order["symbol"]]
        signed = qty if order["side"] == "BUY" else -qty
        if order["reduceOnly"] and (not pos.amount or (pos.amount > 0) == (signed > 0) or qty > abs(pos.amount)):
            order.update(status="EXPIRED", updateTime=str(self._tick()))
            return False
        realized = ZERO
        if pos.amount and (pos.amount > 0) != (signed > 0):  # closes (part of) the position
            closing = min(qty, abs(pos.amount))
            realized = closing * (price - pos.entry) * (1 if pos.amount > 0 else -1)
            rest = pos.amount + signed
            pos.entry = pos.entry if rest and (rest > 0) == (pos.amount > 0) else (price if rest else ZERO)
            pos.amount = rest
        else:  # opens or adds
            pos.entry = (abs(pos.amount) * pos.entry + qty * price) / (abs(pos.amount) + qty)
            pos.amount += signed
        fee = (qty * price * (self.maker_rate if maker else self.fee_rate)).quantize(EIGHT, ROUND_HALF_UP)
        self.wallet += realized - fee
        now = self._tick()
        pos.updated = now
        cum = D(order["cumQuote"]) + qty * price
        executed = D(order["executedQty"]) + qty
        order.update(
            executedQty=_s(executed), cumQuote=_s(cum), avgPrice=_s(cum / executed),
            status="FILLED" if executed == D(order["origQty"]) else "PARTIALLY_FILLED", updateTime=str(now),
        )  # fmt: skip
        trade = copy.deepcopy(TRADE) | {
            "symbol": order["symbol"], "id": str(300_000_000 + len(self.trades)), "orderId": order["orderId"],
            "side": order["side"], "price": _s(price), "qty": _s(qty), "realizedPnl": _s(realized),
            "quoteQty": _s(qty * price), "commission": _s(fee), "time": str(now), "maker": maker,
            "buyer": order["side"] == "BUY",
        }  # fmt: skip
        self.trades.append(trade)
        return True

    def _tick(self) -> int:
        """The venue's clock: wall time, strictly increasing."""
        self.now = max(self.now + 1, int(self.client.milliseconds()))
        return self.now


def _marketable(side: str, limit: Decimal, price: Decimal) -> bool:
    return bool(limit) and (price <= limit if side == "BUY" else price >= limit)


def _triggered(kind: str, side: str, trigger: Decimal, price: Decimal) -> bool:
    """A stop sells when the price falls to it and buys when it rises to it; a take-profit the
    other way round."""
    falling = (side == "SELL") == kind.startswith("STOP")
    return price <= trigger if falling else price >= trigger
