"""Which market-data source serves an exchange name: the demo feed or a ccxt exchange.

Sources are built once per runtime and shared (they hold caches, rate limiters and loaded
markets); tests put their own (a demo feed on a fixed clock) in `runtime.sources`.
"""

from __future__ import annotations

from engine.config import DEMO_EXCHANGE
from engine.exchanges.base import MarketDataSource
from engine.exchanges.ccxt_feed import CcxtExchange
from engine.exchanges.demo import DemoExchange
from engine.runtime import Runtime


def source(runtime: Runtime, name: str) -> MarketDataSource:
    """The runtime's source for `name`: "demo" (seeded by TRADEBLOCK_DEMO_SEED) or any ccxt id.

    Raises base.ExchangeError for a name that is neither.
    """
    with runtime.sources_lock:
        built = runtime.sources.get(name)
        if built is None:
            key = name.strip().lower()
            built = DemoExchange(seed=runtime.settings.demo_seed) if key == DEMO_EXCHANGE else CcxtExchange(key)
            runtime.sources[name] = built
    return built
