"""Bench: a user's journal page (engine.journal.api.trade_page: 50 newest trades, the count and the
filter's options) among 100 users x 2,500 trades (250,000 trades), unfiltered and filtered (closed
wins on one symbol), against a baseline that loads the user's trades and blocks with the ORM and
filters, sorts and pages them in Python. Rows are written with COPY (PostgreSQL) or executemany
(SQLite) by bench.calendar's writer. The last line is baseline p95 / ours p95 (unfiltered page).

    .venv/bin/python -m bench.journal [--quick]      (--quick: 20 users x 1,000 trades)
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import Engine, select, text

from bench._common import database_label, parse_args, percentiles, print_ratio, scratch_engine
from bench.calendar import insert
from db.enums import TradeStatus
from db.models import Block, Trade
from db.session import make_session_factory
from engine.journal.api import TradeFilter, trade_page
from engine.runtime import Runtime

TARGET_MS = 100.0
START = datetime(2024, 1, 1, tzinfo=UTC)


def _stamp(engine: Engine, moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f") if engine.dialect.name == "sqlite" else moment.isoformat()


def load(engine: Engine, users: int, per_user: int, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    u = [(i, f"user{i:03d}", "x", "trader", "UTC") for i in range(1, users + 1)]
    insert(engine, "users", ["id", "username", "password_hash", "role", "timezone"], u)
    insert(engine, "exchange_accounts", ["id", "user_id", "name", "kind", "exchange"],
           [(i, i, f"paper-{i}", "paper", "demo") for i in range(1, users + 1)])  # fmt: skip
    blocks, trades = [], []
    block_id = trade_id = 0
    for user in range(1, users + 1):
        entries = np.sort(rng.integers(0, 365 * 86_400, per_user // 2))
        for at in entries.tolist():
            block_id += 1
            symbol = ("BTC/USDT", "ETH/USDT", "SOL/USDT")[block_id % 3]
            blocks.append((block_id, user, user, symbol, "long", "limit", "100", "90", "base", "2", "2", "20",
                           "stop_rests", "closed"))  # fmt: skip
            for index in range(2):
                trade_id += 1
                opened = START + timedelta(seconds=at)
                closed = opened + timedelta(seconds=int(rng.integers(600, 3 * 86_400)))
                pnl = f"{float(rng.normal(2.0, 15.0)):.6f}"
                trades.append((trade_id, block_id, index, "closed", "1", "110", "90", "1", "100", "1", "105",
                               "0.1", pnl, _stamp(engine, opened), _stamp(engine, closed)))  # fmt: skip
    insert(engine, "blocks", ["id", "user_id", "account_id", "symbol", "side", "entry_type", "entry_price",
                              "stop_price", "size_mode", "size_value", "total_amount", "risk", "protection_mode",
                              "status"], blocks)  # fmt: skip
    insert(engine, "trades", ["id", "block_id", "index", "status", "amount", "target_price", "stop_price",
                              "entry_filled", "entry_average", "exit_filled", "exit_average", "fees", "realized_pnl",
                              "opened_at", "closed_at"], trades)  # fmt: skip
    # Statistics for the planner (and no autovacuum in the middle of the timing), as bench.calendar does.
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE users, exchange_accounts, blocks, trades"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def baseline(runtime: Runtime, user_id: int, flt: TradeFilter, page: int = 0, per_page: int = 50) -> list[int]:
    """The user's trades and blocks as ORM objects, filtered, sorted and paged in Python."""
    with runtime.sessions() as s:
        pairs = list(
            s.execute(select(Trade, Block).join(Block, Block.id == Trade.block_id).where(Block.user_id == user_id))
        )
    keep = [(t, b) for t, b in pairs if t.status in (TradeStatus.OPEN, TradeStatus.CLOSED)]
    if flt.symbol:
        keep = [(t, b) for t, b in keep if b.symbol == flt.symbol]
    if flt.outcome == "win":
        keep = [(t, b) for t, b in keep if t.status is TradeStatus.CLOSED and t.realized_pnl > 0]
    keep.sort(key=lambda p: (p[0].closed_at or p[0].opened_at, p[0].id), reverse=True)
    return [t.id for t, _ in keep[page * per_page : (page + 1) * per_page]]


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    users, per_user, runs, base_runs = (20, 1_000, 30, 10) if args.quick else (100, 2_500, 100, 20)
    with scratch_engine() as engine:
        print(database_label(engine))
        started = time.perf_counter()
        load(engine, users, per_user)
        print(f"{users * per_user:,} trades of {users} users written in {time.perf_counter() - started:.1f} s")
        runtime = Runtime(None, engine, make_session_factory(engine))  # type: ignore[arg-type]
        plain, wins = TradeFilter(), TradeFilter("closed", symbol="BTC/USDT", outcome="win")
        for flt in (plain, wins):
            ours_ids = [r.trade_id for r in trade_page(runtime, 1, "UTC", flt).rows]
            assert ours_ids == baseline(runtime, 1, flt), "baseline and ours disagree"
        ours = percentiles(lambda: trade_page(runtime, 1, "UTC", plain), runs)
        filtered = percentiles(lambda: trade_page(runtime, 1, "UTC", wins), runs)
        base = percentiles(lambda: baseline(runtime, 1, plain), base_runs)
        print(f"ours, first page:    p50 {ours[0] * 1000:7.1f} ms   p95 {ours[1] * 1000:7.1f} ms   ({runs} calls)")
        print(f"ours, filtered page: p50 {filtered[0] * 1000:7.1f} ms   p95 {filtered[1] * 1000:7.1f} ms")
        print(
            f"baseline (ORM, Python): p50 {base[0] * 1000:7.1f} ms   p95 {base[1] * 1000:7.1f} ms ({base_runs} calls)"
        )
        ok = max(ours[1], filtered[1]) * 1000 <= TARGET_MS
        print(f"target: a user's page p95 <= {TARGET_MS:.0f} ms: {'met' if ok else 'NOT met'}")
        print_ratio(base[1], ours[1])
    sys.stdout.flush()


if __name__ == "__main__":
    main()
