"""What differs between exchanges, as data: one frozen `Quirks` row per ccxt exchange id and a
default row for every other exchange (after freqtrade's `_ft_has` per exchange class).

The ccxt adapter (`engine.exchanges.ccxt_venue`, `ccxt_orders`) reads its per-exchange behaviour
from here only, so teaching it a new exchange's habits touches this table (and its test), nothing
else. Every row was checked against ccxt 4.5.90 (pinned in requirements.txt).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# Market types trading contracts, where positions are closed by reduce-only orders.
DERIVATIVES = frozenset({"swap", "future"})


@dataclass(frozen=True)
class Quirks:
    """One exchange's habits the unified ccxt API leaves to the caller."""

    # The param under which fetch_order accepts our client order id (None: fetch_order cannot look
    # an order up by it, so the order lists are searched instead).
    fetch_by_client_id: str | None = None
    # The param naming our client order id when canceling by it; None: the venue cancels by its own
    # order id only (alpaca: DELETE /v2/orders/{id}), so the order is looked up by client id first.
    cancel_by_client_id: str | None = "clientOrderId"
    # The order lists filter by this param holding our client id (and by `orderId` holding the venue's
    # id), and the finished orders come from fetch_canceled_and_closed_orders; None: lists are scanned.
    list_filter_by_client_id: str | None = None
    # Market types whose trigger (stop) orders are listed and canceled apart (`{"trigger": True}`).
    separate_trigger_markets: frozenset[str] = frozenset()
    # Error codes meaning "this client order id is taken", which ccxt maps to InvalidOrder or
    # ExchangeError instead of DuplicateOrderId (a message saying "duplicate" counts everywhere).
    duplicate_order_codes: tuple[str, ...] = ()
    # Market types with native one-cancels-other order lists (a limit target and a stop selling the
    # same coins, one canceled by the venue when the other fills): targets rest there beside the stop.
    oco_markets: frozenset[str] = frozenset()
    # The maintenance margin rate of a derivatives position in the venue's lowest tier (its largest
    # positions pay more): what the liquidation estimate in a block's preview assumes. The venues'
    # published figures, not ccxt's: markets carry no rate until leverage tiers are fetched.
    maintenance_margin_rate: Decimal = Decimal("0.005")
    # The venue's paper endpoint (ccxt's urls['test'], set_sandbox_mode) instead of its live one: every
    # account on it trades play money until accounts can choose the endpoint.
    sandbox_by_default: bool = False
    # Asset classes (an asset's `class`) loaded as markets where ccxt's fetch_markets asks for one only
    # (alpaca: crypto); () keeps ccxt's fetch_markets (engine.exchanges.ccxt_alpaca).
    asset_classes: tuple[str, ...] = ()
    # Asset classes trading only while the venue's clock says the market is open: no order on them is
    # sent while it is closed (MarketClosed, retried by the engine after the open).
    market_hours_classes: frozenset[str] = frozenset()
    # ccxt sends no stop-market orders here (alpaca: stop_limit only): stops go out as stop-limits.
    stops_as_stop_limit: bool = False
    # Error codes of an order refusal (the request was well formed; the venue will not take it) that
    # ccxt raises as a bare ExchangeError, which would read as transient: InvalidOrder on create/cancel.
    refusal_codes: tuple[str, ...] = ()
    # Error codes meaning "no such order", which ccxt raises as some other class.
    not_found_codes: tuple[str, ...] = ()
    # Market data (alpaca's stock snapshots) is on an authenticated API: a live account's prices come
    # from a source built with its own credentials, not the exchange's shared keyless one.
    keyed_market_data: bool = False


DEFAULT = Quirks()

QUIRKS: dict[str, Quirks] = {
    # -2010 "Duplicate order sent." is caught by the word; -4116 on the futures API is a bare code.
    # Contract algo (conditional) orders live apart from ordinary ones; spot stops do not. Spot has
    # OCO order lists (POST /api/v3/orderList/oco, engine.exchanges.ccxt_oco).
    "binance": Quirks(
        fetch_by_client_id="origClientOrderId",
        cancel_by_client_id="origClientOrderId",
        separate_trigger_markets=DERIVATIVES,
        duplicate_order_codes=("-4116",),
        oco_markets=frozenset({"spot"}),
        maintenance_margin_rate=Decimal("0.004"),  # USDⓈ-M BTCUSDT, notional up to 50,000 USDT
    ),
    # Algo orders (every trigger order) live apart on every market type.
    "okx": Quirks(
        fetch_by_client_id="clOrdId",
        cancel_by_client_id="clOrdId",
        separate_trigger_markets=frozenset({"spot", "margin", "option", *DERIVATIVES}),
        duplicate_order_codes=("51016",),
        maintenance_margin_rate=Decimal("0.004"),  # BTC-USDT-SWAP, tier 1
    ),
    # bybit's fetch_order only sees the last 500 orders, its lists filter by either id; spot stop
    # orders are listed apart.
    "bybit": Quirks(
        cancel_by_client_id="orderLinkId",
        list_filter_by_client_id="orderLinkId",
        separate_trigger_markets=frozenset({"spot"}),
        duplicate_order_codes=("110072",),
    ),
    # Paper endpoint first (paper-api.alpaca.markets). US stocks keep market hours (GET /v2/clock), crypto
    # trades around the clock. Orders are looked up in the order lists (ccxt's fetch_order takes the
    # venue's id only); ccxt's createOrder refuses a trigger on a market order.
    "alpaca": Quirks(
        sandbox_by_default=True,
        cancel_by_client_id=None,
        asset_classes=("crypto", "us_equity"),
        market_hours_classes=frozenset({"us_equity"}),
        stops_as_stop_limit=True,
        # 40310000: forbidden (not fractionable, no buying power), 42210000: unprocessable (a fraction
        # not as a day order); 40410000 "order is not found.", which ccxt raises as InvalidOrder.
        refusal_codes=("40310000", "42210000"),
        not_found_codes=("40410000",),
        keyed_market_data=True,  # GET /v2/stocks/snapshots on data.alpaca.markets wants the API key
    ),
}


def quirks_of(exchange_id: str) -> Quirks:
    """The row for this ccxt exchange id, or the default row."""
    return QUIRKS.get(exchange_id, DEFAULT)
