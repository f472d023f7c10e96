"""The account side of tests/helpers/binance_futures_sim.py: margin, balance, positions, funding
and the per-symbol settings (leverage, margin type) of a Binance USD-M futures account, with the
answers of /fapi/v3/account, /fapi/v3/positionRisk, /fapi/v1/income, POST /fapi/v1/leverage and
POST /fapi/v1/marginType. Bodies are recorded ones (tests/fixtures/ccxt/binance.json) or, where none
was recorded, the example of Binance's API documentation, as noted at each.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import ccxt

from tests.helpers.ccxt_replay import fixture_entries

D = Decimal
ZERO = D(0)
EIGHT = D("0.00000001")
MAINT = D("0.004")  # maintenance margin rate of the first bracket (the fixture's leverageBrackets)


def recorded(method: str, description: str) -> Any:
    return next(e for e in fixture_entries("binance", method) if e["description"] == description)["httpResponse"]


ACCOUNT = recorded("fetchBalance", "Linear swap balance")  # /fapi/v3/account
POSITION = recorded("fetchPositions", "Fetch linear positions with symbols")[0]  # /fapi/v3/positionRisk row
INCOME = recorded("fetchFundingHistory", "fetch portfolio margin funding history")[0]  # an income row
# No recorded bodies: the examples of Binance's "Change Initial Leverage" and "Change Margin Type".
LEVERAGE_SET = {"leverage": 21, "maxNotionalValue": "1000000", "symbol": "BTCUSDT"}
MARGIN_TYPE_SET = {"code": 200, "msg": "success"}
SAME_MARGIN_TYPE = {"code": -4046, "msg": "No need to change margin type."}
MARGIN_TYPE_OPEN_ORDERS = {"code": -4047, "msg": "Margin type cannot be changed if there exists open orders."}
MARGIN_TYPE_POSITION = {"code": -4048, "msg": "Margin type cannot be changed if there exists position."}


def s8(value: Decimal) -> str:
    return f"{value:.8f}"


@dataclass
class Position:
    amount: Decimal = ZERO  # signed: > 0 long, < 0 short
    entry: Decimal = ZERO
    updated: int = 0


class FuturesAccount:
    """The USDT wallet, positions and settings of the simulated account."""

    client: ccxt.Exchange
    price: Decimal
    now: int

    def __init__(self, wallet: str, max_leverage: int) -> None:
        self.wallet = D(wallet)  # USDT
        self.max_leverage = max_leverage
        self.leverage: defaultdict[str, int] = defaultdict(lambda: 20)  # Binance's default, per market id
        self.margin_type: defaultdict[str, str] = defaultdict(lambda: "CROSSED")
        self.positions: defaultdict[str, Position] = defaultdict(Position)
        self.income: list[dict[str, Any]] = []

    def open_orders(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _tick(self) -> int:
        raise NotImplementedError

    def position(self, symbol: str) -> Position:
        return self.positions[self.client.market(symbol)["id"]]

    def pay_funding(self, rate: str) -> list[dict[str, Any]]:
        """Funding at `rate` on every open position, at the current price: a long pays rate x
        notional when the rate is positive (a short receives it), and the other way round."""
        rows = []
        for market_id, pos in self.positions.items():
            if pos.amount:
                amount = (-pos.amount * self.price * D(rate)).quantize(EIGHT, ROUND_HALF_UP)
                self.wallet += amount
                row = copy.deepcopy(INCOME) | {"symbol": market_id, "income": s8(amount), "time": str(self._tick())}
                row["tranId"] = str(9_000_000_000 + len(self.income))
                self.income.append(row)
                rows.append(row)
        return rows

    # --- settings ---

    def _set_leverage(self, p: dict[str, str]) -> Any:
        leverage = int(p["leverage"])
        if leverage > self.max_leverage:
            return {"code": -4028, "msg": f"Leverage {leverage} is not valid"}
        # Binance lets the leverage change under a position while the margin suffices (not modelled).
        self.leverage[p["symbol"]] = leverage
        return LEVERAGE_SET | {"leverage": leverage, "symbol": p["symbol"]}

    def _set_margin_type(self, p: dict[str, str]) -> Any:
        market_id = p["symbol"]
        if p["marginType"] == self.margin_type[market_id]:
            return SAME_MARGIN_TYPE
        if self.positions[market_id].amount:
            return MARGIN_TYPE_POSITION
        if any(o["symbol"] == market_id for o in self.open_orders()):
            return MARGIN_TYPE_OPEN_ORDERS
        self.margin_type[market_id] = p["marginType"]
        return MARGIN_TYPE_SET

    # --- the account ---

    def _margin(self, market_id: str) -> Decimal:
        pos = self.positions[market_id]
        return abs(pos.amount) * pos.entry / self.leverage[market_id]

    def _order_margin(self) -> Decimal:
        total = ZERO
        for order in self.open_orders():
            if not order["reduceOnly"]:
                qty = D(order.get("origQty") or order["quantity"])
                price = D(order.get("triggerPrice") or order["price"]) or self.price
                total += qty * price / self.leverage[order["symbol"]]
        return total

    def _unrealized(self, market_id: str) -> Decimal:
        pos = self.positions[market_id]
        return pos.amount * (self.price - pos.entry)

    def _available(self) -> Decimal:
        used = sum((self._margin(m) for m in self.positions), ZERO) + self._order_margin()
        return self.wallet - used

    def _opening_margin(self, market_id: str, signed: Decimal) -> Decimal:
        """Contracts per price unit of margin a new order needs: the part that opens or adds to the
        position (the part that closes frees margin instead), over the leverage."""
        pos = self.positions[market_id].amount
        opening = abs(signed) if not pos or (pos > 0) == (signed > 0) else max(abs(signed) - abs(pos), ZERO)
        return opening / self.leverage[market_id]

    def _account(self, p: dict[str, str]) -> Any:
        unrealized = sum((self._unrealized(m) for m in self.positions), ZERO)
        used, orders = self.wallet - self._available(), self._order_margin()
        asset = copy.deepcopy(ACCOUNT["assets"][0]) | {
            "walletBalance": s8(self.wallet), "unrealizedProfit": s8(unrealized),
            "marginBalance": s8(self.wallet + unrealized), "initialMargin": s8(used),
            "positionInitialMargin": s8(used - orders), "openOrderInitialMargin": s8(orders),
            "maxWithdrawAmount": s8(self._available()), "crossWalletBalance": s8(self.wallet),
            "crossUnPnl": s8(unrealized), "availableBalance": s8(self._available()), "updateTime": str(self.now),
        }  # fmt: skip
        totals = {
            "totalInitialMargin": asset["initialMargin"], "totalWalletBalance": asset["walletBalance"],
            "totalUnrealizedProfit": asset["unrealizedProfit"], "totalMarginBalance": asset["marginBalance"],
            "availableBalance": asset["availableBalance"], "maxWithdrawAmount": asset["maxWithdrawAmount"],
        }  # fmt: skip
        return copy.deepcopy(ACCOUNT) | totals | {"assets": [asset]}

    def _position_risk(self, p: dict[str, str]) -> Any:
        rows = []
        for market_id, pos in self.positions.items():
            if not pos.amount or p.get("symbol") not in (None, market_id):
                continue
            margin, isolated = self._margin(market_id), self.margin_type[market_id] == "ISOLATED"
            row = copy.deepcopy(POSITION) | {
                "symbol": market_id, "positionAmt": s8(pos.amount), "entryPrice": s8(pos.entry),
                "breakEvenPrice": s8(pos.entry), "markPrice": s8(self.price),
                "unRealizedProfit": s8(self._unrealized(market_id)),
                "liquidationPrice": s8(self.liquidation_price(market_id)),
                "isolatedMargin": s8(margin if isolated else ZERO), "notional": s8(pos.amount * self.price),
                "isolatedWallet": s8(margin if isolated else ZERO), "initialMargin": s8(margin),
                "maintMargin": s8(abs(pos.amount) * self.price * MAINT), "positionInitialMargin": s8(margin),
                "updateTime": str(pos.updated),
            }  # fmt: skip
            rows.append(row)
        return rows

    def liquidation_price(self, market_id: str) -> Decimal:
        """Isolated margin's formula for one position (the wallet backs a cross position too, which
        this sim does not model: the same price is given)."""
        pos, leverage = self.positions[market_id], D(self.leverage[market_id])
        if not pos.amount:
            return ZERO
        factor = 1 - 1 / leverage + MAINT if pos.amount > 0 else 1 + 1 / leverage - MAINT
        return (pos.entry * factor).quantize(EIGHT, ROUND_HALF_UP)

    def _income(self, p: dict[str, str]) -> Any:
        lo, hi = int(p.get("startTime", 0)), int(p.get("endTime", 2**62))
        rows = [r for r in self.income if p.get("symbol") in (None, r["symbol"]) and lo <= int(r["time"]) <= hi]
        rows = [r for r in rows if p.get("incomeType") in (None, r["incomeType"])]
        return rows[: int(p.get("limit", 100))]
