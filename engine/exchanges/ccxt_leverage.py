"""Leverage and margin mode of a contract market, set through ccxt before an entry is posted, and
the account's funding payments read through ccxt.

An entry that names a leverage and/or margin mode (OrderRequest.leverage, .margin_mode) first sets
the margin mode (`set_margin_mode`), then the leverage (`set_leverage`), for its symbol. What was
set is remembered per symbol, so the next entry with the same settings makes no call; a failure
forgets the symbol (the venue's state is then unknown and is set again next time). An "already that
mode" answer (ccxt's MarginModeAlreadySet, or binance's -4046 body that ccxt returns) is success.
A refusal (a leverage above the market's, a margin mode that cannot change while a position or
orders exist) is our InvalidOrder naming the venue, the setting, the symbol and the venue's words,
raised before any order is posted; a network error that outlasts the retries is VenueUnavailable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import ccxt
from tenacity import Retrying

from db.enums import MarginMode
from engine.common.precision import to_decimal
from engine.exchanges.ccxt_orders import map_error, mask
from engine.exchanges.venue import FundingPayment, InvalidOrder, OrderRequest, VenueError

log = logging.getLogger(__name__)
_METHODS = {"setMarginMode": "set_margin_mode", "setLeverage": "set_leverage"}


class LeverageSettings:
    """The margin mode and leverage this venue last set per symbol on one ccxt client."""

    def __init__(self, client: ccxt.Exchange, retrying: Callable[[], Retrying]) -> None:
        self.client = client
        self._retrying = retrying
        self._modes: dict[str, MarginMode] = {}
        self._leverages: dict[str, int] = {}

    def apply(self, req: OrderRequest, market: dict[str, Any]) -> None:
        """Set what `req` asks for on its symbol, unless it is already set (a contract market only:
        spot has neither leverage nor margin mode, so the fields are ignored there)."""
        if not market.get("contract") or (req.leverage is None and req.margin_mode is None):
            return
        symbol = req.symbol
        if req.margin_mode is not None and self._modes.get(symbol) != req.margin_mode:
            what = f"margin mode {req.margin_mode.value}"
            self._set("setMarginMode", what, symbol, self.client.set_margin_mode, req.margin_mode.value, symbol)
            self._modes[symbol] = MarginMode(req.margin_mode)
        if req.leverage is not None and self._leverages.get(symbol) != req.leverage:
            what = f"leverage {req.leverage}x"
            self._set("setLeverage", what, symbol, self.client.set_leverage, req.leverage, symbol)
            self._leverages[symbol] = req.leverage

    def forget(self, symbol: str) -> None:
        self._modes.pop(symbol, None)
        self._leverages.pop(symbol, None)

    def _set(self, capability: str, what: str, symbol: str, fn: Callable[..., Any], *args: Any) -> None:
        if not self.client.has.get(capability):
            raise InvalidOrder(f"{self.client.id} cannot set {what} on {symbol}: ccxt has no {capability} for it")
        try:
            self._retrying()(fn, *args)
        except ccxt.MarginModeAlreadySet:
            pass  # already in that mode: what we wanted
        except ccxt.BaseError as exc:
            self.forget(symbol)
            raise self._error(exc, capability, what, symbol) from exc
        log.info("%s: %s set on %s", self.client.id, what, symbol)

    def _error(self, exc: ccxt.BaseError, capability: str, what: str, symbol: str) -> VenueError:
        # Network trouble and credentials are not this order's fault: the usual mapping says so.
        if isinstance(exc, ccxt.NetworkError | ccxt.AuthenticationError) or not isinstance(exc, ccxt.ExchangeError):
            return map_error(exc, self.client, _METHODS[capability], symbol)
        words = mask(self.client, str(exc))
        error = InvalidOrder(f"{self.client.id} refused {what} on {symbol}: {words}")
        log.warning("%s", error)
        return error


def to_funding_payments(raws: list[dict[str, Any]], since: int | None) -> list[FundingPayment]:
    """ccxt's funding history structures as FundingPayment, oldest first, those before `since` left
    out. Amounts are read through their shortest repr, so ccxt's float is the venue's string again."""
    out = []
    for raw in raws:
        ts = int(raw.get("timestamp") or 0)
        if since is not None and ts < since:
            continue
        info = raw.get("info") if isinstance(raw.get("info"), dict) else {}
        amount = raw.get("amount")
        symbol = str(raw.get("symbol") or "")
        payment_id = raw.get("id") or info.get("tranId") or info.get("id") or info.get("billId") or f"{symbol}@{ts}"
        out.append(
            FundingPayment(
                id=str(payment_id),
                symbol=symbol,
                amount=to_decimal(amount) if amount is not None else Decimal(0),
                currency=str(raw.get("code") or raw.get("currency") or info.get("asset") or ""),
                ts=ts,
            )
        )
    return sorted(out, key=lambda p: (p.ts, p.id))
