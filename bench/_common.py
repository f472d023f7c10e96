"""Shared bench helpers: a scratch database (never the user's instance DB), synthetic candles made
with numpy, timers and the closing `ratio:` line every bench prints."""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import numpy as np
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from db import migrate
from db.models import Series
from db.session import make_engine, make_session_factory
from engine.config import normalize_database_url

ROOT = Path(__file__).resolve().parent.parent

MINUTE = 60_000
# 2023-01-02 00:00 UTC, a Monday: weekly buckets line up with the start of the data.
T0 = 1_672_617_600_000


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="a smaller size that finishes within a minute")
    return parser.parse_args()


def database_label(engine: Engine) -> str:
    return f"{engine.dialect.name} ({engine.url.render_as_string(hide_password=True)})"


@contextmanager
def scratch_engine() -> Iterator[Engine]:
    """An engine on a freshly migrated scratch schema, dropped afterwards.

    DATABASE_URL is read like the app does; without it a SQLite file in a temporary folder is used.
    On PostgreSQL the schema is a uniquely named one in the given database.
    """
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url or url.startswith("sqlite"):
        with tempfile.TemporaryDirectory(prefix="tradeblock-bench-") as folder:
            engine = make_engine(f"sqlite:///{folder}/bench.db")
            migrate.upgrade(engine)
            try:
                yield engine
            finally:
                engine.dispose()
        return
    url = normalize_database_url(url)
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = create_engine(make_url(url), pool_size=2)

    @event.listens_for(engine, "connect")
    def _search_path(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        with dbapi_connection.cursor() as cur:
            cur.execute(f"SET search_path TO {schema}")
        dbapi_connection.commit()

    try:
        migrate.upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def app_database_url(engine: Engine) -> str:
    """The scratch database as a URL the app can open itself (PostgreSQL: its schema first on the
    search path, through libpq's `options`)."""
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name != "postgresql":
        return url
    with engine.connect() as conn:
        schema = conn.scalar(text("SELECT current_schema()"))
    return f"{url}{'&' if '?' in url else '?'}options={quote(f'-csearch_path={schema}')}"


def make_series(engine: Engine, symbol: str = "BENCH/USDT", timeframe: str = "1m") -> int:
    with make_session_factory(engine).begin() as session:
        series = Series(exchange="bench", symbol=symbol, timeframe=timeframe)
        session.add(series)
        session.flush()
        return series.id


def synthetic_candles(count: int, step_ms: int = MINUTE, start_ms: int = T0, seed: int = 1) -> np.ndarray:
    """(count, 6) float array of plausible OHLCV rows on the grid: a log random walk."""
    rng = np.random.default_rng(seed)
    close = 20_000.0 * np.exp(np.cumsum(rng.normal(0.0, 0.001, count)))
    open_ = np.concatenate(([close[0]], close[:-1]))
    wiggle = np.abs(rng.normal(0.0, 0.0005, (2, count)))
    high = np.maximum(open_, close) * (1.0 + wiggle[0])
    low = np.minimum(open_, close) * (1.0 - wiggle[1])
    volume = rng.gamma(2.0, 5.0, count)
    ts = start_ms + step_ms * np.arange(count, dtype=np.float64)
    return np.column_stack((ts, open_, high, low, close, volume))


def as_rows(arr: np.ndarray) -> list[tuple]:
    """The project's row shape: tuples of (int ts, float...)."""
    return list(zip(arr[:, 0].astype(np.int64).tolist(), *(arr[:, i].tolist() for i in range(1, 6)), strict=True))


def timed(func: Callable[[], object]) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def percentiles(func: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(p50, p95) in seconds of `repeat` calls of `func`, after one warm-up call."""
    func()
    return p50_p95([timed(func) for _ in range(repeat)])


def p50_p95(samples: list[float]) -> tuple[float, float]:
    """(median, p95) of the samples, the p95 being the sample at the nearest rank."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def print_ratio(baseline_s: float, ours_s: float) -> None:
    print(f"ratio: {baseline_s / ours_s:.1f}")
