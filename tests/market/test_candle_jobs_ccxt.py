"""Backfill and gap repair through ccxt's own request and parsing code, for two exchanges with
different paging semantics: binance answers "from startTime on", okx answers a window (and an
empty page for a window inside an outage). Klines are served at the HTTP layer."""

from __future__ import annotations

from itertools import pairwise

import pytest
from sqlalchemy import select

from db.models import Candle, DataHole
from engine.exchanges.ccxt_feed import CcxtExchange
from engine.market.candles import backfill, get_or_create_series, repair_gaps
from engine.market.gaps import find_gaps
from engine.runtime import Runtime
from tests.helpers.ccxt_replay import binance_kline_server, offline_client, okx_candle_server, synthetic_candles

MIN = 60_000
T0 = 1_706_745_600_000  # 2024-02-01
HOLE = (T0 + 1_000 * MIN, T0 + 1_400 * MIN)  # 400 minutes the exchange has no candles for: > one okx page


def exchange_with_hole(exchange_id: str) -> tuple[CcxtExchange, list[list[float]]]:
    candles = [c for c in synthetic_candles(T0, 3_000) if not HOLE[0] <= c[0] < HOLE[1]]
    server = binance_kline_server(candles) if exchange_id == "binance" else okx_candle_server(candles)
    exchange = CcxtExchange(exchange_id, client=offline_client(exchange_id), wait_initial=0)
    exchange.client.fetch = server
    return exchange, candles


@pytest.mark.parametrize("exchange_id", ["binance", "okx"])
def test_backfill_and_repair_through_ccxt(runtime: Runtime, exchange_id: str) -> None:
    exchange, candles = exchange_with_hole(exchange_id)
    with runtime.sessions.begin() as session:
        series = get_or_create_series(session, exchange_id, "BTC/USDT", "1m")

    result = backfill(runtime.sessions, exchange, series, T0)
    with runtime.sessions() as session:
        stored = session.execute(
            select(Candle.ts, Candle.open, Candle.high, Candle.low, Candle.close, Candle.volume)
            .where(Candle.series_id == series.id, Candle.tf_ms == MIN)
            .order_by(Candle.ts)
        ).all()
        gaps = find_gaps(session.connection(), series.id, "1m")
    assert result.stored == len(candles) == 2_600
    assert [list(row) for row in stored] == candles  # exactly what the exchange sent, parsed by ccxt
    assert [(g.start_ts, g.end_ts) for g in gaps] == [HOLE]

    requests_before = len(exchange.client.fetch.requests)
    repaired = repair_gaps(runtime.sessions, exchange, series)
    assert (repaired.gaps, repaired.filled) == (1, 0)
    with runtime.sessions() as session:
        holes = session.scalars(select(DataHole).order_by(DataHole.start_ts)).all()
        assert find_gaps(session.connection(), series.id, "1m") == []
    assert holes[0].start_ts == HOLE[0]
    assert holes[-1].end_ts == HOLE[1]
    assert all(a.end_ts == b.start_ts for a, b in pairwise(holes))  # contiguous pieces

    asked = len(exchange.client.fetch.requests)
    assert asked > requests_before
    assert repair_gaps(runtime.sessions, exchange, series).gaps == 0
    assert len(exchange.client.fetch.requests) == asked  # known holes are not asked for again
