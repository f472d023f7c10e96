"""One venue over a live account's several market types: its spot blocks go to its spot venue and
its perpetuals' to its swap venue, each call routed by the order's symbol.

A ccxt venue serves one market type (its order lists, its wallet), while one sync of an account
drives every block it has. The router is what that sync talks to when the account trades more than
one type; an account trading one type gets that type's venue itself. Client order ids are routed by
the symbol the engine told (`remember_symbols`) or the order was placed with; an id of no known
symbol is looked for on every venue. Lists without a symbol (open orders, trades) are the venues'
lists together, trades oldest first; the balance adds the wallets up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import cast

from engine.exchanges.venue import (
    Balance,
    OcoLegs,
    OcoRequest,
    OcoVenue,
    OrderRequest,
    TradingVenue,
    VenueCapabilities,
    VenueOrder,
    VenueTrade,
)


class VenueRouter:
    """A TradingVenue (and OcoVenue) over `venues` by market type; `types` gives each symbol's."""

    def __init__(self, venues: Mapping[str, TradingVenue], types: Mapping[str, str]) -> None:
        if not venues:
            raise ValueError("a router needs at least one venue")
        self.venues = dict(venues)
        self.types = dict(types)
        self.symbols: dict[str, str] = {}  # client order id -> symbol

    @property
    def capabilities(self) -> VenueCapabilities:
        """What any of the venues can do: the engine asks per block, and each block's mode was chosen
        from its own market's venue when it was submitted."""
        found = [v.capabilities for v in self.venues.values()]
        return VenueCapabilities(
            supports_reduce_only=any(c.supports_reduce_only for c in found),
            exits_rest_together=any(c.exits_rest_together for c in found),
            supports_oco=any(c.supports_oco for c in found),
            supports_leverage=any(c.supports_leverage for c in found),
        )

    def _for(self, symbol: str | None) -> list[TradingVenue]:
        kind = self.types.get(symbol) if symbol is not None else None
        return [self.venues[kind]] if kind in self.venues else list(self.venues.values())

    def _of_id(self, client_order_id: str | None, symbol: str | None) -> list[TradingVenue]:
        return self._for(symbol or (self.symbols.get(client_order_id) if client_order_id else None))

    def remember_symbols(self, symbols: dict[str, str]) -> None:
        self.symbols.update(symbols)
        for venue in self.venues.values():
            remember = getattr(venue, "remember_symbols", None)
            if remember is not None:
                remember(symbols)

    def create_order(self, req: OrderRequest) -> VenueOrder:
        self.symbols[req.client_order_id] = req.symbol
        return self._for(req.symbol)[0].create_order(req)

    def cancel_order(
        self, order_id: str | None = None, client_order_id: str | None = None, symbol: str | None = None
    ) -> VenueOrder:
        return self._of_id(client_order_id, symbol)[0].cancel_order(order_id, client_order_id, symbol)

    def fetch_order(
        self, order_id: str | None = None, client_order_id: str | None = None, symbol: str | None = None
    ) -> VenueOrder:
        return self._of_id(client_order_id, symbol)[0].fetch_order(order_id, client_order_id, symbol)

    def fetch_open_orders(self, symbol: str | None = None) -> list[VenueOrder]:
        return [o for venue in self._for(symbol) for o in venue.fetch_open_orders(symbol)]

    def fetch_orders_by_client_ids(self, client_order_ids: list[str]) -> list[VenueOrder]:
        by_venue: dict[int, tuple[TradingVenue, list[str]]] = {}
        for cid in client_order_ids:
            for venue in self._of_id(cid, None):
                by_venue.setdefault(id(venue), (venue, []))[1].append(cid)
        found: dict[str, VenueOrder] = {}
        for venue, cids in by_venue.values():
            for order in venue.fetch_orders_by_client_ids(cids):
                found.setdefault(order.client_order_id, order)
        return list(found.values())

    def fetch_my_trades(self, symbol: str | None = None, since: int | None = None) -> list[VenueTrade]:
        trades = [t for venue in self._for(symbol) for t in venue.fetch_my_trades(symbol, since)]
        return sorted(trades, key=lambda t: t.ts)

    def fetch_balance(self) -> dict[str, Balance]:
        total: dict[str, Balance] = {}
        for venue in self.venues.values():
            for currency, b in venue.fetch_balance().items():
                seen = total.get(currency)
                total[currency] = (
                    b
                    if seen is None
                    else replace(seen, free=seen.free + b.free, used=seen.used + b.used, total=seen.total + b.total)
                )
        return total

    def place_oco(self, req: OcoRequest) -> OcoLegs:
        self.symbols.update(dict.fromkeys((req.limit_client_order_id, req.stop_client_order_id), req.symbol))
        return cast(OcoVenue, self._for(req.symbol)[0]).place_oco(req)

    def cancel_oco(self, req: OcoRequest) -> OcoLegs:
        return cast(OcoVenue, self._for(req.symbol)[0]).cancel_oco(req)
