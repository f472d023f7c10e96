"""The trading interface the bracket engine needs from any venue, and the plain data it returns.

Modelled on ccxt's unified order, trade and balance structures so the ccxt adapter maps onto them
field by field; the paper exchange (`engine.exchanges.paper`) implements the same interface on a
simulated account. Money is Decimal throughout. Statuses are ccxt's unified ones ('open', 'closed',
'canceled', 'expired', 'rejected'); the engine maps them onto its own order states.

Every order carries a client order id chosen by the engine, and `create_order` is idempotent on it:
asking again for an id the venue already knows returns the existing order and places nothing new.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from db.enums import MarginMode, OrderType
from engine.exchanges.base import ExchangeError


class OrderSide(enum.StrEnum):
    BUY = "buy"
    SELL = "sell"


class VenueStatus(enum.StrEnum):
    """ccxt's unified order statuses (a StrEnum, so `status == "open"` holds)."""

    OPEN = "open"
    CLOSED = "closed"  # completely filled
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"


TERMINAL_STATUSES = frozenset({VenueStatus.CLOSED, VenueStatus.CANCELED, VenueStatus.EXPIRED, VenueStatus.REJECTED})


# --- errors, after ccxt's taxonomy (the ccxt adapter maps ccxt's exceptions onto these) ---
# Named as in ccxt, hence no Error suffix (N818).


class VenueError(ExchangeError):
    """Base of every error a venue raises."""


class InsufficientFunds(VenueError):  # noqa: N818
    """The account cannot pay for the order (ccxt.InsufficientFunds)."""


class InvalidOrder(VenueError):  # noqa: N818
    """The order is malformed or not allowed in its current state (ccxt.InvalidOrder)."""


class OrderNotFound(VenueError):  # noqa: N818
    """The venue knows no such order (ccxt.OrderNotFound)."""


class VenueUnavailable(VenueError):  # noqa: N818
    """The venue could not be reached or is busy; retrying later may succeed (ccxt.NetworkError)."""

    retryable = True


class MarketClosed(VenueUnavailable):
    """The order's market is closed (a stock outside its hours) and NOTHING was sent: it may go out
    after the open, at `opens_at_ms` when the venue announced it."""

    def __init__(self, message: str, opens_at_ms: int | None = None) -> None:
        super().__init__(message)
        self.opens_at_ms = opens_at_ms


# --- data ---


@dataclass(frozen=True)
class OrderRequest:
    client_order_id: str
    symbol: str
    side: OrderSide
    type: OrderType
    amount: Decimal  # base currency
    price: Decimal | None = None  # limit price (LIMIT only)
    stop_price: Decimal | None = None  # trigger price (STOP_MARKET only)
    reduce_only: bool = False
    # The client order id of the entry whose fill makes this order exist (a one-triggers-other child):
    # the paper exchange then matches it from the entry's fill bar on (docs/fill-rules.md, rule 10).
    # Real venues are sent no such thing (ccxt_venue builds its params field by field) and ignore it.
    contingent_on: str | None = None
    # Derivatives entries only: the venue is set to this margin mode and leverage for the symbol
    # before the order is posted (a refusal is InvalidOrder and posts nothing). None: left as it is.
    leverage: int | None = None
    margin_mode: MarginMode | None = None


@dataclass(frozen=True)
class VenueOrder:
    id: str
    client_order_id: str
    symbol: str
    side: OrderSide
    type: OrderType
    amount: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    status: VenueStatus
    filled: Decimal
    remaining: Decimal
    average: Decimal | None  # average fill price; None while nothing filled
    fee: Decimal
    fee_currency: str | None
    ts: int  # creation, ms
    last_update_ts: int  # ms
    reduce_only: bool = False

    @property
    def is_open(self) -> bool:
        return self.status == VenueStatus.OPEN


@dataclass(frozen=True)
class VenueTrade:
    id: str
    order_id: str
    client_order_id: str
    symbol: str
    side: OrderSide
    price: Decimal
    amount: Decimal
    fee: Decimal
    fee_currency: str
    ts: int
    taker_or_maker: str  # 'taker' or 'maker'

    @property
    def cost(self) -> Decimal:
        return self.price * self.amount


@dataclass(frozen=True)
class FundingPayment:
    """One funding payment on a perpetual position, as ccxt's funding history gives it."""

    id: str  # the venue's id of the payment, unique per account
    symbol: str
    amount: Decimal  # signed, in `currency`: received > 0, paid < 0
    currency: str
    ts: int  # ms


@dataclass(frozen=True)
class Balance:
    currency: str
    free: Decimal
    used: Decimal  # locked by resting orders
    total: Decimal


@dataclass(frozen=True)
class VenueCapabilities:
    """What a venue can do natively that changes how the engine protects a position."""

    supports_reduce_only: bool = False
    # Target and stop may rest side by side on any market, spot included: a simulated margin
    # account (a replay's) locks nothing, so the two exits never compete for the same coins.
    exits_rest_together: bool = False
    # One-cancels-other order lists (a limit target and a stop on the same coins): the venue
    # implements `OcoVenue` too (engine.exchanges.ccxt_oco).
    supports_oco: bool = False
    # Leverage and margin mode set per symbol before an entry (OrderRequest.leverage): the venue
    # implements `FundingVenue` too.
    supports_leverage: bool = False


@dataclass(frozen=True)
class OcoRequest:
    """One OCO order list: a limit (maker) at `price` and a stop triggered at `stop_price`, both for
    `amount` on `side`; the venue cancels one when the other fills. Every id is the engine's own."""

    list_client_order_id: str
    symbol: str
    side: OrderSide
    amount: Decimal
    limit_client_order_id: str
    price: Decimal
    stop_client_order_id: str
    stop_price: Decimal


@dataclass(frozen=True)
class OcoLegs:
    """The two orders of an OCO list as the venue sees them."""

    limit: VenueOrder
    stop: VenueOrder


def validate_request(req: OrderRequest) -> None:
    """Reject a malformed request with InvalidOrder before it reaches any venue."""
    if not req.client_order_id:
        raise InvalidOrder("client_order_id is required")
    if not isinstance(req.amount, Decimal) or not req.amount.is_finite() or req.amount <= 0:
        raise InvalidOrder(f"amount must be a positive Decimal, got {req.amount!r}")
    if req.type == OrderType.LIMIT and not _positive(req.price):
        raise InvalidOrder(f"a limit order needs a positive price, got {req.price!r}")
    if req.type == OrderType.STOP_MARKET and not _positive(req.stop_price):
        raise InvalidOrder(f"a stop-market order needs a positive stop_price, got {req.stop_price!r}")
    if req.type == OrderType.MARKET and (req.price is not None or req.stop_price is not None):
        raise InvalidOrder("a market order takes neither price nor stop_price")


def _positive(value: Decimal | None) -> bool:
    return isinstance(value, Decimal) and value.is_finite() and value > 0


class OcoVenue(Protocol):
    """A venue with OCO order lists (VenueCapabilities.supports_oco)."""

    def place_oco(self, req: OcoRequest) -> OcoLegs:
        """Place the list; if its legs' client ids are already known, return those and place nothing."""
        ...

    def cancel_oco(self, req: OcoRequest) -> OcoLegs:
        """Cancel the list (both legs). A list already done (a leg filled, the list canceled) is
        returned as it is; an unknown one raises OrderNotFound."""
        ...


class FundingVenue(Protocol):
    """A venue with perpetual contracts (VenueCapabilities.supports_leverage): their funding payments."""

    def fetch_funding_history(self, symbol: str | None = None, since: int | None = None) -> list[FundingPayment]:
        """Funding paid or received on this account, oldest first, with ts >= since."""
        ...


class TradingVenue(Protocol):
    """Orders and balances on one account of one venue."""

    @property
    def capabilities(self) -> VenueCapabilities: ...

    def create_order(self, req: OrderRequest) -> VenueOrder:
        """Place `req`; if its client order id is already known, return that order and place nothing."""
        ...

    def cancel_order(
        self, order_id: str | None = None, client_order_id: str | None = None, symbol: str | None = None
    ) -> VenueOrder:
        """Cancel by venue id or client id. Canceling a canceled order returns it unchanged; canceling
        a filled one raises InvalidOrder; an unknown one raises OrderNotFound."""
        ...

    def fetch_order(
        self, order_id: str | None = None, client_order_id: str | None = None, symbol: str | None = None
    ) -> VenueOrder:
        """One order by venue id or client id; OrderNotFound when unknown."""
        ...

    def fetch_open_orders(self, symbol: str | None = None) -> list[VenueOrder]: ...

    def fetch_orders_by_client_ids(self, client_order_ids: list[str]) -> list[VenueOrder]:
        """The known orders among `client_order_ids` (unknown ids are simply absent)."""
        ...

    def fetch_my_trades(self, symbol: str | None = None, since: int | None = None) -> list[VenueTrade]:
        """Fills of this account, oldest first, with ts >= since."""
        ...

    def fetch_balance(self) -> dict[str, Balance]: ...
