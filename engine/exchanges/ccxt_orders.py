"""Pure mapping between ccxt's unified structures and the trading interface's data, errors and
capabilities.

ccxt gives numbers as floats (or numeric strings); each is read through its shortest repr into a
Decimal, so 0.1 stays 0.1. Contract markets count amounts in contracts: `contract_size` turns them
back into the base currency the engine uses. No I/O here: these functions are unit-tested alone.
"""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal
from functools import cache
from typing import Any

import ccxt

from db.enums import OrderType
from engine.common.precision import to_decimal
from engine.exchanges.ccxt_feed import CREDENTIALS
from engine.exchanges.quirks import DERIVATIVES, Quirks, quirks_of
from engine.exchanges.venue import (
    Balance,
    InsufficientFunds,
    InvalidOrder,
    OrderNotFound,
    OrderRequest,
    OrderSide,
    VenueCapabilities,
    VenueError,
    VenueOrder,
    VenueStatus,
    VenueTrade,
    VenueUnavailable,
)

ONE = Decimal(1)
ZERO = Decimal(0)
ORDER_METHODS = frozenset({"create_order", "cancel_order"})
_STATUSES = {s.value: s for s in VenueStatus} | {"cancelled": VenueStatus.CANCELED}
# The most specific ccxt class first: OrderNotFound is an InvalidOrder in ccxt.
_ERRORS: tuple[tuple[type[Exception], type[VenueError]], ...] = (
    (ccxt.InsufficientFunds, InsufficientFunds),
    (ccxt.OrderNotFound, OrderNotFound),
    (ccxt.InvalidOrder, InvalidOrder),
    (ccxt.NetworkError, VenueUnavailable),
)
# Refusals of an order whose request was well formed but malformed for this market: InvalidOrder when
# they answer an order request, plain VenueError otherwise.
_ORDER_REFUSALS = (ccxt.BadRequest, ccxt.ArgumentsRequired, ccxt.NotSupported)
_SIGNED_QUERY = re.compile(r"(https?://[^\s?\"']+)\?[^\s\"']*")


# --- orders and trades ---


def contract_size(market: dict[str, Any] | None) -> Decimal:
    """Base currency per contract of a contract market; 1 for spot (amounts already in base)."""
    if not market or not market.get("contract"):
        return ONE
    size = _dec(market.get("contractSize"))
    return size if size is not None and size > 0 else ONE


def to_venue_order(
    order: dict[str, Any], contract_size: Decimal = ONE, request: OrderRequest | None = None, now_ms: int = 0
) -> VenueOrder:
    """A ccxt order as a VenueOrder. `request` fills what a bare acknowledgement leaves out (a
    create answer of okx or bybit carries little more than the ids); `now_ms` stands in for a
    missing timestamp."""
    trigger = _first_positive(order, ("triggerPrice", "stopPrice", "stopLossPrice"))
    if trigger is None and request is not None:
        trigger = request.stop_price
    kind = _order_type(order.get("type"), trigger, request)
    amount = _scaled(order.get("amount"), contract_size)
    if amount is None:
        amount = request.amount if request is not None else ZERO
    filled = _scaled(order.get("filled"), contract_size) or ZERO
    remaining = _scaled(order.get("remaining"), contract_size)
    ts = _int(order.get("timestamp")) or now_ms
    fee, fee_currency = _fee(order)
    return VenueOrder(
        id=str(order.get("id") or ""),
        client_order_id=_client_order_id(order, request),
        symbol=order.get("symbol") or (request.symbol if request is not None else ""),
        side=_side(order.get("side"), request),
        type=kind,
        amount=amount,
        price=_limit_price(order, kind, request),
        stop_price=trigger,
        status=_status(order.get("status")),
        filled=filled,
        remaining=remaining if remaining is not None else max(amount - filled, ZERO),
        average=_dec(order.get("average")) if filled > 0 else None,
        fee=fee,
        fee_currency=fee_currency,
        ts=ts,
        last_update_ts=_int(order.get("lastUpdateTimestamp")) or _int(order.get("lastTradeTimestamp")) or ts,
        reduce_only=bool(order.get("reduceOnly")) or (request is not None and request.reduce_only),
    )


def to_venue_trade(trade: dict[str, Any], contract_size: Decimal = ONE, default_fee_currency: str = "") -> VenueTrade:
    """A ccxt trade (one fill of ours) as a VenueTrade; a fill without a fee costs 0."""
    fee, fee_currency = _fee(trade)
    return VenueTrade(
        id=str(trade.get("id") or ""),
        order_id=str(trade.get("order") or ""),
        client_order_id=str(trade.get("clientOrderId") or ""),  # most venues leave it out of fills
        symbol=trade.get("symbol") or "",
        side=_side(trade.get("side"), None),
        price=_dec(trade.get("price")) or ZERO,
        amount=_scaled(trade.get("amount"), contract_size) or ZERO,
        fee=fee,
        fee_currency=fee_currency or default_fee_currency,
        ts=_int(trade.get("timestamp")) or 0,
        taker_or_maker=trade.get("takerOrMaker") or "taker",  # unknown: assume the dearer side
    )


def to_balances(balance: dict[str, Any]) -> dict[str, Balance]:
    """ccxt's balance structure as {currency: Balance}, leaving out currencies with nothing in them."""
    out: dict[str, Balance] = {}
    for currency, raw_total in (balance.get("total") or {}).items():
        total = _dec(raw_total)
        if not total:
            continue
        entry = balance.get(currency) or {}
        used = _dec(entry.get("used"))
        free = _dec(entry.get("free"))
        if free is None:
            free = total - (used or ZERO)
        out[currency] = Balance(currency, free, used if used is not None else total - free, total)
    return out


# --- requests ---


def as_sent(req: OrderRequest, args: tuple[Any, ...], size: Decimal) -> OrderRequest:
    """`req` with the rounded amount and prices that were sent (a bare acknowledgement is read with it)."""
    _symbol, _type, _side, amount, price, params = args
    return replace(
        req,
        amount=Decimal(amount) * size,
        price=Decimal(price) if req.type == OrderType.LIMIT else None,
        stop_price=Decimal(params["triggerPrice"]) if "triggerPrice" in params else None,
    )


def stop_needs_limit(market: dict[str, Any]) -> bool:
    """Binance lists each market's order types; most spot markets allow STOP_LOSS_LIMIT but not
    STOP_LOSS (a stop-market), and ccxt refuses a trigger on a market order there."""
    kinds = (market.get("info") or {}).get("orderTypes")
    return isinstance(kinds, list) and "STOP_LOSS" not in kinds and "STOP_LOSS_LIMIT" in kinds


# --- capabilities ---


def capabilities_of(
    market_type: str, quirks: Quirks | None = None, has: dict[str, Any] | None = None
) -> VenueCapabilities:
    """What a ccxt venue can do natively on `market_type` (every contract market has reduce-only
    orders; OCO lists where the venue's quirks row says so; leverage where ccxt's `has` says
    setLeverage, on contract markets only)."""
    oco = quirks is not None and market_type in quirks.oco_markets
    derivatives = market_type in DERIVATIVES
    leverage = derivatives and bool((has or {}).get("setLeverage"))
    return VenueCapabilities(supports_reduce_only=derivatives, supports_oco=oco, supports_leverage=leverage)


# --- errors ---


def map_error(exc: BaseException, client: Any, method: str, symbol: str | None = None) -> VenueError:
    """The VenueError for a ccxt error raised by `method` (e.g. "create_order"), with a message naming
    the exchange, the call and the symbol, and credentials masked."""
    where = f"{getattr(client, 'id', 'exchange')} {method}" + (f" {symbol}" if symbol else "")
    message = f"{where}: {type(exc).__name__}: {mask(client, str(exc))}"
    quirks = quirks_of(str(getattr(client, "id", "")))
    if _code_pattern(quirks.not_found_codes).search(str(exc)):  # ccxt may call it an InvalidOrder (alpaca)
        return OrderNotFound(message)
    if method in ORDER_METHODS and _code_pattern(quirks.refusal_codes).search(str(exc)):
        return InvalidOrder(message)
    for ccxt_class, venue_class in _ERRORS:
        if isinstance(exc, ccxt_class):
            return venue_class(message)
    if method in ORDER_METHODS and isinstance(exc, _ORDER_REFUSALS):
        return InvalidOrder(message)
    return VenueError(message)


def is_duplicate_client_id(exc: BaseException, quirks: Quirks) -> bool:
    """Whether the venue refused an order because its client order id is already taken: ccxt's
    DuplicateOrderId, a message saying "duplicate", or one of the venue's own codes for it."""
    if isinstance(exc, ccxt.DuplicateOrderId):
        return True
    return isinstance(exc, ccxt.ExchangeError) and bool(
        _duplicate_pattern(quirks.duplicate_order_codes).search(str(exc))
    )


@cache
def _duplicate_pattern(codes: tuple[str, ...]) -> re.Pattern[str]:
    coded = "|".join(re.escape(code) for code in codes)
    with_code = rf"|[\"'](?:code|sCode|retCode)[\"']\s*:\s*[\"']?(?:{coded})\b" if codes else ""
    return re.compile(rf"duplicate{with_code}", re.I)


@cache
def _code_pattern(codes: tuple[str, ...]) -> re.Pattern[str]:
    """Matches an error body naming one of `codes` (never, for no codes)."""
    coded = "|".join(re.escape(code) for code in codes)
    return re.compile(rf"[\"'](?:code|sCode|retCode)[\"']\s*:\s*[\"']?(?:{coded})\b" if codes else r"(?!)")


def mask(client: Any, text: str) -> str:
    """`text` without the client's credentials nor the query strings of URLs (signed requests carry
    their signature and parameters there)."""
    for name in CREDENTIALS:
        value = getattr(client, name, None)
        if isinstance(value, str) and len(value) >= 4:
            text = text.replace(value, "***")
    return _SIGNED_QUERY.sub(r"\1?***", text)


# --- field readers ---


def _dec(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return to_decimal(value)
    except (ValueError, TypeError):
        return None


def _scaled(value: Any, contract_size: Decimal) -> Decimal | None:
    number = _dec(value)
    return None if number is None else number * contract_size


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _limit_price(order: dict[str, Any], kind: OrderType, request: OrderRequest | None) -> Decimal | None:
    if kind != OrderType.LIMIT:
        return None
    price = _dec(order.get("price"))
    return price if price is not None or request is None else request.price


def _first_positive(order: dict[str, Any], keys: tuple[str, ...]) -> Decimal | None:
    for key in keys:
        value = _dec(order.get(key))
        if value is not None and value > 0:
            return value
    return None


def _order_type(raw: Any, trigger: Decimal | None, request: OrderRequest | None) -> OrderType:
    # The engine knows no stop-limit: a triggered order is its stop (a stop-limit where the venue
    # emulates stop-markets that way), whatever ccxt calls its type.
    kind = str(raw or "").lower()
    if trigger is not None or "stop" in kind or "take_profit" in kind:
        return OrderType.STOP_MARKET
    if not kind:
        return request.type if request is not None else OrderType.MARKET
    return OrderType.LIMIT if "limit" in kind else OrderType.MARKET


def _side(raw: Any, request: OrderRequest | None) -> OrderSide:
    if raw:
        return OrderSide(str(raw).lower())
    if request is not None:
        return request.side
    raise VenueError("the venue gave an order or trade without a side")


def _status(raw: Any) -> VenueStatus:
    # ccxt leaves the status out of bare acknowledgements: the order was accepted, so it is open.
    return _STATUSES.get(str(raw).lower(), VenueStatus.OPEN) if raw else VenueStatus.OPEN


def _client_order_id(order: dict[str, Any], request: OrderRequest | None) -> str:
    # Binance's cancel answer names the canceled order's client id origClientOrderId; its
    # clientOrderId is the cancel request's own.
    info = order.get("info") if isinstance(order.get("info"), dict) else {}
    cid = info.get("origClientOrderId") or order.get("clientOrderId")
    if not cid and request is not None:
        cid = request.client_order_id
    return str(cid or "")


def _fee(item: dict[str, Any]) -> tuple[Decimal, str | None]:
    """The total fee in the currency of the first fee (ccxt gives `fee` and/or a `fees` list)."""
    fees = [f for f in (item.get("fees") or []) if f and f.get("cost") is not None]
    if not fees and item.get("fee") and item["fee"].get("cost") is not None:
        fees = [item["fee"]]
    if not fees:
        return ZERO, None
    currency = fees[0].get("currency")
    total = sum((_dec(f["cost"]) or ZERO for f in fees if f.get("currency") == currency), ZERO)
    return total, currency
