"""A triggered binance contract stop, read with its fill: the fill lives on another order.

In ccxt 4.5.90 a stop on binance's futures markets is a conditional "algo" order (POST
/fapi/v1/algoOrder). When its trigger is hit the algo service places an order in the matching engine
(`actualOrderId` in the algo order) and the algo order reads TRIGGERED, then FINISHED: ccxt calls it
'closed' with nothing filled, since the fill figures (and the /userTrades rows) are the actual
order's. Read alone, a stop that fired would look closed and empty. `with_actual_fill` reads the
actual order and gives the algo order its status, fill, average and fees, keeping the algo order's
own id, client id, type and trigger, so the engine sees its stop filled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# What the actual order tells about the stop's execution.
_FILL_KEYS = ("status", "filled", "remaining", "average", "cost", "fee", "fees", "trades")
_FILL_KEYS += ("lastTradeTimestamp", "lastUpdateTimestamp")


def actual_order_id(raw: dict[str, Any]) -> str | None:
    """The matching-engine order a triggered algo order became, if any."""
    info = raw.get("info") if isinstance(raw.get("info"), dict) else {}
    actual = str(info.get("actualOrderId") or "")
    return actual if actual and actual != "0" else None


def with_actual_fill(raw: dict[str, Any], fetch: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    """`raw` (a ccxt order) with the fill of its actual order when it is a triggered algo order;
    `fetch(order_id)` reads an ordinary order of the same symbol."""
    actual_id = actual_order_id(raw)
    if actual_id is None:
        return raw
    actual = fetch(actual_id)
    return {**raw, **{key: actual.get(key) for key in _FILL_KEYS}}
