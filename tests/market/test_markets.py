"""The markets table on a real database: sync from the demo and a ccxt exchange, search."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db.models import Market
from engine.exchanges.base import MarketInfo
from engine.exchanges.ccxt_feed import CcxtExchange
from engine.exchanges.demo import DemoExchange
from engine.market.markets import get_market, list_markets, sync_markets
from tests.helpers.ccxt_replay import offline_client


class Listing:
    """A source whose market list the test controls (an exchange delisting or changing a market)."""

    def __init__(self, exchange_id: str, markets: list[MarketInfo]) -> None:
        self.id, self.markets = exchange_id, markets

    def load_markets(self) -> list[MarketInfo]:
        return list(self.markets)


def okx() -> CcxtExchange:
    return CcxtExchange("okx", client=offline_client("okx"), attempts=1, wait_initial=0)


def rows(sessions: sessionmaker[Session], exchange: str) -> dict[str, Market]:
    with sessions() as session:
        return {m.symbol: m for m in session.scalars(select(Market).where(Market.exchange == exchange))}


def test_sync_demo_markets(sessions: sessionmaker[Session]) -> None:
    source = DemoExchange()
    assert sync_markets(sessions, source) == 4
    with sessions() as session:
        for info in source.load_markets():
            assert get_market(session, "demo", info.symbol) == info  # Decimals compare by value
        assert get_market(session, "demo", "DOGE/USDT") is None
        assert get_market(session, "okx", "BTC/USDT") is None
    stored = rows(sessions, "demo")["BTC/USDT"]
    assert stored.price_tick == Decimal("0.01")
    assert stored.min_cost == Decimal("5")
    assert stored.active


def test_sync_ccxt_markets(sessions: sessionmaker[Session]) -> None:
    source = okx()
    assert sync_markets(sessions, source) == 17
    with sessions() as session:
        btc = get_market(session, "okx", "BTC/USDT")
        perp = get_market(session, "okx", "BTC/USDT:USDT")
        assert {m.symbol: m for m in source.load_markets()}["BTC/USDT"] == btc
    assert btc is not None
    assert perp is not None
    assert (btc.price_tick, btc.amount_tick, btc.min_amount) == (Decimal("0.1"), Decimal("1e-8"), Decimal("0.00001"))
    assert (btc.maker_fee, btc.taker_fee) == (Decimal("0.001"), Decimal("0.0015"))
    assert (perp.type, perp.can_short, perp.price_tick) == ("swap", True, Decimal("0.1"))


def test_resync_is_idempotent(sessions: sessionmaker[Session]) -> None:
    sync_markets(sessions, okx())
    first = {s: (m.id, m.updated_at) for s, m in rows(sessions, "okx").items()}
    assert sync_markets(sessions, okx()) == 17
    second = rows(sessions, "okx")
    assert {s: m.id for s, m in second.items()} == {s: ident for s, (ident, _) in first.items()}
    assert all(second[s].updated_at >= first[s][1] for s in first)  # "last looked" moves on
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Market)) == 17


def test_changed_and_delisted_markets(sessions: sessionmaker[Session]) -> None:
    markets = DemoExchange().load_markets()
    sync_markets(sessions, Listing("demo", markets))
    changed = dataclasses.replace(markets[0], price_tick=Decimal("0.1"), min_cost=Decimal("10"))
    assert sync_markets(sessions, Listing("demo", [changed, *markets[1:3]])) == 3
    stored = rows(sessions, "demo")
    gone = markets[3].symbol
    assert not stored[gone].active  # kept for the series that refer to it, but inactive
    assert all(stored[m.symbol].active for m in markets[:3])
    with sessions() as session:
        assert get_market(session, "demo", changed.symbol) == changed  # exact even where SQLite stores doubles
        assert gone not in [m.symbol for m in list_markets(session, "demo")]
        assert gone in [m.symbol for m in list_markets(session, "demo", active_only=False)]
    sync_markets(sessions, Listing("demo", markets))  # listed again: active again
    assert rows(sessions, "demo")[gone].active


def symbols(session: Session, exchange: str, search: str | None, **kwargs: object) -> list[str]:
    return [m.symbol for m in list_markets(session, exchange, search, **kwargs)]  # type: ignore[arg-type]


def test_list_markets_search(sessions: sessionmaker[Session]) -> None:
    sync_markets(sessions, okx())
    sync_markets(sessions, DemoExchange())
    with sessions() as session:
        btc = symbols(session, "okx", "btc")
        assert btc[:3] == ["BTC/USDT", "BTC/USD:BTC", "BTC/USDT:USDT"]  # plainest first
        assert all("BTC" in s for s in btc)
        assert len(btc) == 4
        for query in ("BTC/USDT", "btcusdt", "btc usdt", " Btc-Usdt "):
            assert symbols(session, "okx", query) == ["BTC/USDT", "BTC/USDT:USDT"], query
        assert symbols(session, "okx", "usdt eth") == ["ETH/USDT", "ETH/USDT:USDT"]
        assert symbols(session, "okx", "sushi") == ["SUSHI/USDT:USDT"]
        assert symbols(session, "okx", "nothing-like-this") == []
        assert symbols(session, "okx", "%") == symbols(session, "okx", None)  # no words: no filter, no SQL wildcard
        assert len(symbols(session, "okx", None)) == 17
        assert len(symbols(session, "okx", "usdt", limit=3)) == 3
        assert symbols(session, "demo", "sol") == ["SOL/USDT"]  # one exchange at a time
