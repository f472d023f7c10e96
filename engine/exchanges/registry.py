"""Which market-data source serves an exchange name: the demo feed or a ccxt exchange.

Sources are built once and shared (they hold caches, rate limiters and loaded markets).
"""

from __future__ import annotations

import threading

from engine.config import DEMO_EXCHANGE, Settings
from engine.exchanges.base import MarketDataSource
from engine.exchanges.ccxt_adapter import CcxtExchange
from engine.exchanges.demo import DemoExchange

_sources: dict[tuple[str, int | None], MarketDataSource] = {}
_lock = threading.Lock()


def get_market_data(name: str, settings: Settings) -> MarketDataSource:
    """The shared source for `name`: "demo" (seeded by settings.demo_seed) or any ccxt id.

    Raises base.ExchangeError for a name that is neither.
    """
    name = name.strip().lower()
    key = (name, settings.demo_seed if name == DEMO_EXCHANGE else None)
    with _lock:
        source = _sources.get(key)
        if source is None:
            source = DemoExchange(seed=settings.demo_seed) if name == DEMO_EXCHANGE else CcxtExchange(name)
            _sources[key] = source
    return source


def available_exchanges(settings: Settings) -> tuple[str, ...]:
    """The exchanges offered to users (TRADEBLOCK_EXCHANGES)."""
    return settings.exchanges


def clear_cache() -> None:
    """Forget every built source (tests)."""
    with _lock:
        _sources.clear()
