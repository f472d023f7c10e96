"""Market data from any real exchange through one wrapper over a synchronous ccxt client.

Network trouble (ccxt.NetworkError: timeouts, rate limits, DDoS protection, maintenance) is retried
with exponential backoff (tenacity); any other ccxt error, or retries running out, is logged once
and raised as base.ExchangeError naming the exchange, the call and its arguments. Messages have
the client's credentials masked before they are logged or raised.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

import ccxt
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from engine.common.precision import to_decimal
from engine.common.timeframes import tf_ms
from engine.exchanges.base import OHLCV, ExchangeError, MarketInfo, Ticker
from engine.exchanges.ccxt_alpaca import configure_client, stock_ticker
from engine.exchanges.quirks import quirks_of

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_PAGE_LIMIT = 500
MARKETS_MAX_AGE_S = 3_600.0
_SHORTABLE_TYPES = frozenset({"swap", "future", "margin"})
CREDENTIALS = ("apiKey", "secret", "password", "uid", "privateKey", "walletAddress", "token")


class CcxtExchange:
    """The MarketDataSource of one ccxt exchange (binance, okx, bybit, ...)."""

    def __init__(
        self,
        exchange_id: str,
        config: dict[str, Any] | None = None,
        client: ccxt.Exchange | None = None,
        *,
        attempts: int = 4,
        wait_initial: float = 1.0,
        wait_max: float = 30.0,
    ) -> None:
        """`config` is passed to the ccxt constructor (API keys, options); `client` replaces the
        constructed one (tests). Retries: `attempts` tries in all, waiting `wait_initial` seconds
        and doubling up to `wait_max` (0 waits for tests)."""
        if client is None:
            if exchange_id not in ccxt.exchanges:
                raise ExchangeError(f"unknown exchange {exchange_id!r}: not a ccxt exchange id")
            client = configure_client(getattr(ccxt, exchange_id)({"enableRateLimit": True, **(config or {})}))
        self.id = exchange_id
        self.client = client
        self.attempts, self.wait_initial, self.wait_max = max(1, attempts), wait_initial, wait_max
        self.markets_max_age = MARKETS_MAX_AGE_S
        self._markets_loaded_at: float | None = None

    # --- the MarketDataSource protocol ---

    def load_markets(self) -> list[MarketInfo]:
        """The exchange's markets; asked again (not from ccxt's cache) once `markets_max_age` passed,
        so a long-running process sees listings and delistings."""
        loaded_at = self._markets_loaded_at
        reload = loaded_at is not None and time.monotonic() - loaded_at >= self.markets_max_age
        markets = self._call("load_markets", self.client.load_markets, reload)
        self._markets_loaded_at = time.monotonic()
        precision_mode = getattr(self.client, "precisionMode", ccxt.TICK_SIZE)
        infos = [market_info(self.id, m, precision_mode) for m in markets.values() if m.get("symbol")]
        return sorted(infos, key=lambda m: m.symbol)

    def timeframes(self) -> tuple[str, ...]:
        """The exchange's candle timeframes that have a fixed length (months are left out)."""
        return tuple(tf for tf in (self.client.timeframes or {}) if _fixed_length(tf))

    def ohlcv_page_limit(self, symbol: str, timeframe: str) -> int:
        """Most candles per fetch_ohlcv call, from ccxt's `features` for the market's type."""
        market = self._market(symbol)
        section = feature_section(getattr(self.client, "features", None) or {}, market)
        limit = ((section or {}).get("fetchOHLCV") or {}).get("limit")
        return int(limit) if isinstance(limit, int | float) and limit > 0 else DEFAULT_PAGE_LIMIT

    def fetch_ohlcv(self, symbol: str, timeframe: str, since: int | None, limit: int | None) -> list[OHLCV]:
        rows = self._call(f"fetch_ohlcv {symbol} {timeframe}", self.client.fetch_ohlcv, symbol, timeframe, since, limit)
        return [list(row) for row in rows]

    def fetch_ticker(self, symbol: str) -> Ticker:
        if quirks_of(self.id).asset_classes:  # alpaca: ccxt's fetch_ticker reads crypto endpoints only
            stock = self._call(
                f"fetch_ticker {symbol}", stock_ticker, self.client, self._market(symbol), self.milliseconds()
            )
            if stock is not None:
                return stock
        raw = self._call(f"fetch_ticker {symbol}", self.client.fetch_ticker, symbol)
        last = raw.get("last") if raw.get("last") is not None else raw.get("close")
        if last is None:
            raise ExchangeError(f"{self.id} fetch_ticker {symbol}: the exchange gave no last price")
        return Ticker(
            symbol=raw.get("symbol") or symbol,
            ts=int(raw.get("timestamp") or self.client.milliseconds()),
            last=float(last),
            bid=_float_or_none(raw.get("bid")),
            ask=_float_or_none(raw.get("ask")),
        )

    def milliseconds(self) -> int:
        return int(self.client.milliseconds())

    # --- internals ---

    def _market(self, symbol: str) -> dict[str, Any]:
        if not self.client.markets:
            self._call("load_markets", self.client.load_markets)
        try:
            return self.client.market(symbol)
        except ccxt.BaseError as exc:
            raise ExchangeError(f"{self.id} has no market {symbol!r}") from exc

    def _call(self, what: str, fn: Callable[..., T], *args: Any) -> T:
        """fn(*args) with retries on network errors; ccxt failures become ExchangeError."""
        retrying = network_retrying(f"{self.id} {what}", self.attempts, self.wait_initial, self.wait_max, self._mask)
        try:
            return retrying(fn, *args)
        except ccxt.NetworkError as exc:
            message = f"{self.id} {what} failed after {self.attempts} attempts: {self._mask(str(exc))}"
            cause: Exception = exc
        except ccxt.BaseError as exc:
            message = f"{self.id} {what} failed: {type(exc).__name__}: {self._mask(str(exc))}"
            cause = exc
        log.error("%s", message)
        raise ExchangeError(message) from cause

    def _mask(self, text: str) -> str:
        for name in CREDENTIALS:
            value = getattr(self.client, name, None)
            if isinstance(value, str) and len(value) >= 4:
                text = text.replace(value, "***")
        return text


def market_info(exchange: str, market: dict[str, Any], precision_mode: int) -> MarketInfo:
    """A ccxt market structure as MarketInfo: precision as tick sizes, limits and fees as Decimal."""
    precision = market.get("precision") or {}
    limits = market.get("limits") or {}
    kind = market.get("type") or "spot"
    return MarketInfo(
        exchange=exchange,
        symbol=market["symbol"],
        base=market.get("base") or "",
        quote=market.get("quote") or "",
        type=kind,
        active=market.get("active") is not False,  # ccxt's None means "unknown": assume tradable
        can_short=kind in _SHORTABLE_TYPES or (kind == "spot" and bool(market.get("margin"))),
        price_tick=tick_size(precision.get("price"), precision_mode),
        amount_tick=tick_size(precision.get("amount"), precision_mode),
        min_amount=_limit(limits, "amount", "min"),
        max_amount=_limit(limits, "amount", "max"),
        min_price=_limit(limits, "price", "min"),
        max_price=_limit(limits, "price", "max"),
        min_cost=_limit(limits, "cost", "min"),
        maker_fee=_decimal_or_none(market.get("maker")),
        taker_fee=_decimal_or_none(market.get("taker")),
        max_leverage=_max_leverage(limits),
    )


def _max_leverage(limits: dict[str, Any]) -> int | None:
    highest = _limit(limits, "leverage", "max")
    return int(highest) if highest is not None and highest >= 1 else None


def tick_size(value: Any, precision_mode: int) -> Decimal | None:
    """A ccxt precision value as a tick size.

    TICK_SIZE: the value is the tick. DECIMAL_PLACES: n places is a tick of 10**-n.
    SIGNIFICANT_DIGITS: the tick depends on the price, so there is no fixed one (None; ccxt's own
    *_to_precision rounds such markets when orders are placed).
    """
    if value is None:
        return None
    if precision_mode == ccxt.DECIMAL_PLACES:
        places = int(value)
        return Decimal(1).scaleb(-places)
    if precision_mode == ccxt.SIGNIFICANT_DIGITS:
        return None
    tick = to_decimal(value)
    return tick if tick > 0 else None


def _limit(limits: dict[str, Any], name: str, side: str) -> Decimal | None:
    # A zero or negative bound is how some exchanges say "no bound".
    value = _decimal_or_none((limits.get(name) or {}).get(side))
    return value if value is not None and value > 0 else None


def _decimal_or_none(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return to_decimal(value)
    except (ValueError, TypeError):
        return None


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


def _fixed_length(timeframe: str) -> bool:
    try:
        tf_ms(timeframe)
    except ValueError:
        return False
    return True


def feature_section(features: dict[str, Any], market: dict[str, Any]) -> dict[str, Any] | None:
    """The part of ccxt's `features` describing this market: features['spot'], or for contracts
    features['swap'|'future']['linear'|'inverse']."""
    kind = market.get("type") or "spot"
    if kind in ("spot", "margin"):
        return features.get("spot")
    section = features.get(kind)
    if kind in ("swap", "future") and isinstance(section, dict):
        return section.get("inverse" if market.get("inverse") else "linear")
    return section


def network_retrying(
    label: str, attempts: int, wait_initial: float, wait_max: float, redact: Callable[[str], str]
) -> Retrying:
    """Retry policy for every ccxt call: ccxt's NetworkError family (timeouts, exchange not
    available, rate limits) with exponential backoff; each retry logged with secrets redacted."""

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning(
            "%s: %s (attempt %d of %d), retrying in %.1fs",
            label,
            redact(f"{type(exc).__name__}: {exc}"),
            state.attempt_number,
            attempts,
            state.next_action.sleep if state.next_action else 0.0,
        )

    return Retrying(
        stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=wait_initial, max=wait_max),
        retry=retry_if_exception_type(ccxt.NetworkError),
        before_sleep=before_sleep,
        reraise=True,
    )
