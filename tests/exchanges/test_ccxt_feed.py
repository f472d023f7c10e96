"""The ccxt adapter against ccxt's real exchange classes, fed recorded and synthetic HTTP bodies.

Nothing leaves the machine: every request goes to a Transport from tests/ccxt_replay.py.
"""

from __future__ import annotations

import dataclasses
import logging
from decimal import Decimal
from typing import Any

import ccxt
import pytest

from engine.config import Settings
from engine.exchanges.base import ExchangeError
from engine.exchanges.ccxt_feed import DEFAULT_PAGE_LIMIT, CcxtExchange, tick_size
from engine.exchanges.demo import DemoExchange
from engine.exchanges.sources import source
from engine.runtime import Runtime
from tests.helpers.ccxt_replay import (
    Transport,
    binance_kline_server,
    fixture_entries,
    fixture_markets,
    offline_client,
    okx_candle_server,
    raw_markets,
    replay,
    synthetic_candles,
)

MIN = 60_000
T0 = 1_706_745_600_000  # 2024-02-01 00:00 UTC


def adapter(exchange_id: str, client: ccxt.Exchange | None = None, attempts: int = 3) -> CcxtExchange:
    return CcxtExchange(exchange_id, client=client or offline_client(exchange_id), attempts=attempts, wait_initial=0)


def _ohlcv_cases() -> list[Any]:
    cases = []
    for exchange_id in ("binance", "okx", "bybit"):
        for entry in fixture_entries(exchange_id, "fetchOHLCV"):
            if len(entry["input"]) > 4:  # extra ccxt params (e.g. index prices): not part of our interface
                continue
            cases.append(pytest.param(exchange_id, entry, id=f"{exchange_id}: {entry['description']}"))
    return cases


# Where each exchange's candle request carries `since`, and how ccxt derives it.
_SINCE_PARAM = {
    "binance": ("startTime", lambda since, step: since),
    "okx": ("before", lambda since, step: since - 1),
    "bybit": ("start", lambda since, step: -(-since // step) * step),  # rounded up to the candle grid
}


@pytest.mark.parametrize(("exchange_id", "entry"), _ohlcv_cases())
def test_fetch_ohlcv_returns_what_ccxt_parses_from_the_recorded_body(exchange_id: str, entry: dict) -> None:
    ex = adapter(exchange_id)
    transport = replay(ex.client, entry["httpResponse"])
    symbol, timeframe, since, limit = entry["input"]
    candles = ex.fetch_ohlcv(symbol, timeframe, since, limit)
    assert candles == entry["parsedResponse"]
    assert all(isinstance(c[0], int) for c in candles)

    [request] = transport.requests
    params = request.query
    assert params["limit"] == str(limit)
    name, expected = _SINCE_PARAM[exchange_id]
    if since is None:
        assert name not in params
    else:
        step = ccxt.Exchange.parse_timeframe(timeframe) * 1000
        assert params[name] == str(expected(since, step))


def test_ohlcv_cases_cover_three_exchanges() -> None:
    assert {p.values[0] for p in _ohlcv_cases()} == {"binance", "okx", "bybit"}


def page_through(ex: CcxtExchange, symbol: str, since: int, limit: int) -> list[list[float]]:
    """Fetch forward from `since` the way a backfill does, until a page comes back empty."""
    out: list[list[float]] = []
    while page := ex.fetch_ohlcv(symbol, "1m", since, limit):
        assert page == sorted(page), "each page is oldest first"
        assert not out or page[0][0] > out[-1][0], "pages do not overlap"
        out += page
        since = page[-1][0] + MIN
    return out


def test_paging_through_binance_klines() -> None:
    series = synthetic_candles(T0, 2_500)
    ex = adapter("binance")
    server = binance_kline_server(series)
    ex.client.fetch = server
    limit = ex.ohlcv_page_limit("BTC/USDT", "1m")
    assert limit == 1000
    assert page_through(ex, "BTC/USDT", T0, limit) == series
    starts = [int(r.query["startTime"]) for r in server.requests]
    assert starts == [T0, T0 + 1000 * MIN, T0 + 2000 * MIN, T0 + 2500 * MIN]  # the last one finds nothing
    assert all(r.path == "/api/v3/klines" and r.query["symbol"] == "BTCUSDT" for r in server.requests)


def test_paging_through_okx_candles() -> None:
    series = synthetic_candles(T0, 1_000)
    ex = adapter("okx")
    server = okx_candle_server(series)
    ex.client.fetch = server
    limit = ex.ohlcv_page_limit("BTC/USDT", "1m")
    assert limit == 300
    assert page_through(ex, "BTC/USDT", T0, limit) == series
    assert len(server.requests) == 5  # 300 + 300 + 300 + 100, then an empty page
    for request, since in zip(server.requests, range(T0, T0 + 1_000 * MIN, 300 * MIN), strict=False):
        assert request.query["instId"] == "BTC-USDT"
        assert (int(request.query["before"]), int(request.query["after"])) == (since - 1, since + 300 * MIN)


def test_okx_without_since_gets_the_newest_candles() -> None:
    series = synthetic_candles(T0, 500)
    ex = adapter("okx")
    ex.client.fetch = okx_candle_server(series)
    assert ex.fetch_ohlcv("BTC/USDT", "1m", None, 100) == series[-100:]


def flaky(errors: list[Exception], body: Any) -> Transport:
    """A transport raising `errors` one per call, then answering `body`."""
    pending = list(errors)

    def handler(*_args: Any) -> Any:
        if pending:
            raise pending.pop(0)
        return body

    return Transport(handler)


def _binance_klines_entry() -> dict:
    return next(e for e in fixture_entries("binance", "fetchOHLCV") if e["input"][0] == "BTC/USDT")


@pytest.mark.parametrize(
    "error",
    [ccxt.NetworkError("connection reset"), ccxt.RateLimitExceeded("429 too many"), ccxt.RequestTimeout("timeout")],
    ids=["network", "rate-limit", "timeout"],
)
def test_network_errors_are_retried(error: Exception) -> None:
    entry = _binance_klines_entry()
    ex = adapter("binance", attempts=3)
    ex.client.fetch = transport = flaky([error, error], entry["httpResponse"])
    assert ex.fetch_ohlcv(*entry["input"]) == entry["parsedResponse"]
    assert len(transport.requests) == 3


def test_retries_run_out_into_an_exchange_error(caplog: pytest.LogCaptureFixture) -> None:
    ex = adapter("binance", attempts=3)
    ex.client.fetch = transport = flaky([ccxt.ExchangeNotAvailable("maintenance")] * 5, [])
    with caplog.at_level(logging.WARNING), pytest.raises(ExchangeError, match="after 3 attempts") as info:
        ex.fetch_ohlcv("BTC/USDT", "1m", T0, 10)
    assert len(transport.requests) == 3
    assert isinstance(info.value.__cause__, ccxt.ExchangeNotAvailable)
    assert str(info.value).startswith("binance fetch_ohlcv BTC/USDT 1m failed")
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1


def test_other_ccxt_errors_fail_at_once(caplog: pytest.LogCaptureFixture) -> None:
    ex = adapter("binance", attempts=3)
    ex.client.fetch = transport = flaky([ccxt.BadSymbol("binance: invalid symbol")], [])
    with caplog.at_level(logging.ERROR), pytest.raises(ExchangeError) as info:
        ex.fetch_ohlcv("BTC/USDT", "1m", T0, 10)
    assert len(transport.requests) == 1
    assert str(info.value) == "binance fetch_ohlcv BTC/USDT 1m failed: BadSymbol: binance: invalid symbol"
    assert isinstance(info.value.__cause__, ccxt.BadSymbol)
    assert [r.getMessage() for r in caplog.records] == [str(info.value)]


def test_unknown_symbol_fails_before_any_request() -> None:
    ex = adapter("binance")
    with pytest.raises(ExchangeError, match="NOPE/USDT"):
        ex.fetch_ohlcv("NOPE/USDT", "1m", T0, 10)
    with pytest.raises(ExchangeError, match="no market 'NOPE/USDT'"):
        ex.ohlcv_page_limit("NOPE/USDT", "1m")
    assert ex.client.fetch.requests == []


def test_credentials_never_reach_messages_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    ex = adapter("binance")
    ex.client.apiKey, ex.client.secret = "AKIA-visible-key", "very-secret-value"
    ex.client.fetch = flaky([ccxt.AuthenticationError("rejected AKIA-visible-key / very-secret-value")], [])
    with caplog.at_level(logging.DEBUG, logger="engine"), pytest.raises(ExchangeError) as info:
        ex.fetch_ohlcv("BTC/USDT", "1m", T0, 10)
    text = str(info.value) + caplog.text
    assert "***" in str(info.value)
    assert "AKIA-visible-key" not in text
    assert "very-secret-value" not in text


@pytest.mark.parametrize("exchange_id", ["binance", "okx", "bybit", "coinbase"])
def test_fetch_ticker_replay(exchange_id: str) -> None:
    [entry] = fixture_entries(exchange_id, "fetchTicker")
    ex = adapter(exchange_id)
    ex.client.milliseconds = lambda: 1_700_000_000_000  # stands in when the venue gives no timestamp
    transport = replay(ex.client, entry["httpResponse"])
    ticker = ex.fetch_ticker(entry["input"][0])
    expected = entry["parsedResponse"]
    assert ticker.symbol == expected["symbol"]
    assert ticker.last == pytest.approx(float(expected["last"]))
    assert ticker.bid == pytest.approx(float(expected["bid"]))
    assert ticker.ask == pytest.approx(float(expected["ask"]))
    assert ticker.ts == (expected["timestamp"] or 1_700_000_000_000)
    assert len(transport.requests) >= 1


def test_load_markets_gives_tick_sizes_as_decimals() -> None:
    markets = {m.symbol: m for m in adapter("binance").load_markets()}
    assert len(markets) == len(raw_markets("binance"))
    btc = markets["BTC/USDT"]
    assert (btc.price_tick, btc.amount_tick) == (Decimal("0.01"), Decimal("0.00001"))
    assert (btc.min_amount, btc.max_amount, btc.min_cost) == (Decimal("0.00001"), Decimal("9000"), Decimal("5"))
    assert (btc.maker_fee, btc.taker_fee) == (Decimal("0.001"), Decimal("0.001"))
    assert (btc.type, btc.base, btc.quote, btc.active) == ("spot", "BTC", "USDT", True)
    assert btc.can_short  # a margin-enabled spot market
    assert markets["BTC/USDT:USDT"].can_short
    assert markets["BTC/USDT:USDT"].type == "swap"
    assert not markets["ETH/USDT:USDT-231229-800-C"].can_short  # options are not shorted here
    # Every tick is exactly 10**-n for the n decimal places the snapshot stores.
    checked = 0
    for symbol, raw in raw_markets("binance").items():
        places = (raw.get("precision") or {}).get("price")
        if isinstance(places, int):
            assert markets[symbol].price_tick == Decimal(1).scaleb(-places), symbol
            checked += 1
    assert checked == 16  # the two markets without precision in the snapshot have no ticks
    assert markets["BTC/USDT:USDT-231229"].price_tick is None


def test_markets_are_reloaded_once_they_are_old() -> None:
    ex = adapter("binance", attempts=1)
    assert ex.load_markets()  # the markets the client was built with: no request
    assert ex.client.fetch.requests == []
    ex.markets_max_age = 0
    ex.client.fetch = transport = flaky([ccxt.ExchangeNotAvailable("down")], None)
    with pytest.raises(ExchangeError, match="binance load_markets failed"):
        ex.load_markets()
    assert len(transport.requests) == 1  # it asked the exchange again (which was down)


def test_decimal_places_mode_matches_tick_size_mode() -> None:
    """The raw binance snapshot (decimal places) read in DECIMAL_PLACES mode gives the same ticks."""
    as_places = offline_client("binance", markets=fixture_markets_raw_places())
    as_places.precisionMode = ccxt.DECIMAL_PLACES
    assert adapter("binance", as_places).load_markets() == adapter("binance").load_markets()


def fixture_markets_raw_places() -> dict[str, dict]:
    markets = fixture_markets("binance")
    for symbol, raw in raw_markets("binance").items():
        if "precision" in raw:
            markets[symbol]["precision"] = raw["precision"]
    return markets


@pytest.mark.parametrize("exchange_id", ["okx", "bybit"])
def test_ticks_match_the_exchanges_own_filters(exchange_id: str) -> None:
    markets = {m.symbol: m for m in adapter(exchange_id).load_markets()}
    checked = 0
    for symbol, raw in raw_markets(exchange_id).items():
        info = raw.get("info") or {}
        native = info.get("tickSz") if exchange_id == "okx" else (info.get("priceFilter") or {}).get("tickSize")
        if native:
            assert markets[symbol].price_tick == Decimal(native), symbol
            checked += 1
    assert checked >= 10


def test_tick_size_modes() -> None:
    assert tick_size(0.05, ccxt.TICK_SIZE) == Decimal("0.05")
    assert tick_size("25", ccxt.TICK_SIZE) == Decimal(25)
    assert tick_size(3, ccxt.DECIMAL_PLACES) == Decimal("0.001")
    assert tick_size(0, ccxt.DECIMAL_PLACES) == Decimal(1)
    assert tick_size(5, ccxt.SIGNIFICANT_DIGITS) is None  # depends on the price: no fixed tick
    assert tick_size(None, ccxt.TICK_SIZE) is None


def test_page_limits_come_from_ccxt_features() -> None:
    binance = adapter("binance")
    assert binance.ohlcv_page_limit("BTC/USDT", "1m") == 1000  # features['spot']
    assert binance.ohlcv_page_limit("BTC/USDT:USDT", "1m") == 500  # features['swap']['linear']
    assert binance.ohlcv_page_limit("BTC/USD:BTC", "1m") == 500  # features['swap']['inverse']
    assert adapter("bybit").ohlcv_page_limit("BTC/USDT:USDT", "1h") == 1000
    binance.client.features = {}
    assert binance.ohlcv_page_limit("BTC/USDT", "1m") == DEFAULT_PAGE_LIMIT


def test_timeframes_keep_only_fixed_lengths() -> None:
    frames = adapter("binance").timeframes()
    assert {"1m", "1h", "1d", "1w"} <= set(frames)
    assert "1M" not in frames  # a month has no fixed length in ms


def test_milliseconds_is_the_clients() -> None:
    ex = adapter("okx")
    ex.client.milliseconds = lambda: 42
    assert ex.milliseconds() == 42


def test_constructor_builds_a_rate_limited_client() -> None:
    ex = CcxtExchange("kraken", config={"timeout": 5_000})
    assert ex.client.enableRateLimit is True
    assert ex.client.timeout == 5_000
    with pytest.raises(ExchangeError, match="not a ccxt exchange"):
        CcxtExchange("no-such-exchange")


def test_a_runtime_builds_one_source_per_exchange_name(test_settings: Settings) -> None:
    settings = dataclasses.replace(test_settings, exchanges=("demo", "binance"), demo_seed=9)
    runtime = Runtime(settings, db=None, sessions=None)  # type: ignore[arg-type]  # sources need no database
    demo = source(runtime, "demo")
    assert isinstance(demo, DemoExchange)
    assert demo.seed == 9
    assert source(runtime, "demo") is demo
    other = Runtime(dataclasses.replace(settings, demo_seed=10), db=None, sessions=None)  # type: ignore[arg-type]
    assert source(other, "demo") is not demo
    binance = source(runtime, "binance")
    assert isinstance(binance, CcxtExchange)
    assert binance.id == "binance"
    assert source(runtime, "binance") is binance
    with pytest.raises(ExchangeError):
        source(runtime, "no-such-exchange")
