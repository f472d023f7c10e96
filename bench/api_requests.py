"""Bench: the REST API's per-request cost in process, one client, the engine off (no load, so the
figures do not depend on what else runs on the machine).

A scratch database (DATABASE_URL's PostgreSQL in a throw-away schema, else a temporary SQLite
file) gets bench.load's desk (a backfilled demo BTC/USDT 1m series, traders with the default
paper account) and a trade token per trader; the app is built as gunicorn builds it, but without
the engine, and called through Flask's test client. Timed, after one warm-up of each: `--repeat`
block creations (POST /blocks, bench.api's resting limit long), then `--repeat` of each read
(GET /blocks?status=all, /accounts, /positions, the series' candles). Printed per kind: the
median and p95 wall time, the median CPU time of the calling thread (what holds the one
worker's GIL: the part that queues under load), the SQL statements and the connection-pool checkouts per request.
`--profile KIND` prints cProfile's top functions of that kind's timed requests. The start's
objects are frozen out of the garbage collector as in the server (app.freeze_heap) unless
`--no-freeze`; the full collections during the timed requests are counted.

    .venv/bin/python -m bench.api_requests [--repeat N] [--no-freeze] [--profile KIND [--sort tottime]]
                                          [--statements KIND]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import statistics
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event

from app import create_app, freeze_heap
from bench._common import app_database_url, database_label, scratch_engine
from bench.api import _block, make_tokens
from bench.load import prepare
from engine.config import load_settings
from engine.runtime import build_runtime

KINDS = ("create", "blocks", "accounts", "positions", "candles")


class Pauses:
    """The garbage collector's full (generation 2) collections while attached: count and longest, ms."""

    def __init__(self) -> None:
        self.count, self.longest, self._start = 0, 0.0, 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.count += 1
            self.longest = max(self.longest, (time.perf_counter() - self._start) * 1e3)

    def __enter__(self) -> Pauses:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *_exc: object) -> None:
        gc.callbacks.remove(self._callback)


class Counter:
    """Statements and pool checkouts on one engine while attached; with `trace`, each statement's
    first line and the project function that issued it."""

    def __init__(self, engine: Any, trace: list[str] | None = None) -> None:
        self.engine, self.statements, self.checkouts, self.trace = engine, 0, 0, trace

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements += 1
        if self.trace is not None:
            self.trace.append(f"{_issuer():48s} {' '.join(statement.split())[:110]}")

    def _checkout(self, *_args: Any) -> None:
        self.checkouts += 1

    def __enter__(self) -> Counter:
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine.pool, "checkout", self._checkout)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine.pool, "checkout", self._checkout)


def _issuer() -> str:
    """The innermost frame of the project's own code (engine/, web/, db/) on the stack."""
    for frame in traceback.extract_stack()[::-1]:
        name = frame.filename
        if "site-packages" not in name and any(f"/{part}/" in name for part in ("engine", "web", "db")):
            return f"{Path(name).parent.name}/{Path(name).name}:{frame.lineno} {frame.name}"
    return "?"


def measure(
    call: Callable[[], Any], engine: Any, repeat: int, profile: cProfile.Profile | None, trace: bool = False
) -> dict[str, Any]:
    call()  # warm-up
    if trace:
        lines: list[str] = []
        with Counter(engine, lines):
            call()
        print("\n".join(lines))
    times, cpu, statements, checkouts = [], [], [], []
    for _ in range(repeat):
        with Counter(engine) as counted:
            if profile is not None:
                profile.enable()
            start, start_cpu = time.perf_counter(), time.thread_time()
            call()
            times.append((time.perf_counter() - start) * 1e3)
            cpu.append((time.thread_time() - start_cpu) * 1e3)
            if profile is not None:
                profile.disable()
        statements.append(counted.statements)
        checkouts.append(counted.checkouts)
    times.sort()
    return {
        "p50": statistics.median(times),
        "p95": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
        "cpu": statistics.median(cpu),
        "statements": statistics.median(statements),
        "checkouts": statistics.median(checkouts),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30, help="timed requests of each kind (default 30)")
    parser.add_argument("--profile", choices=KINDS, help="print cProfile's top functions of this kind")
    parser.add_argument("--statements", choices=KINDS, help="print each statement of one request of this kind")
    parser.add_argument("--sort", default="cumulative", help="the profile's order (cumulative, tottime)")
    parser.add_argument("--no-freeze", action="store_true", help="leave the start's objects to the collector")
    args = parser.parse_args()
    if not 1 <= args.repeat <= 200:
        parser.error("--repeat must be 1..200")
    with scratch_engine() as engine, tempfile.TemporaryDirectory(prefix="tradeblock-api-") as folder:
        env = {
            **os.environ,
            "DATABASE_URL": app_database_url(engine),
            "TRADEBLOCK_INSTANCE_DIR": str(Path(folder)),
            "SECRET_KEY": "api-bench-secret-key-api-bench-secret-key",
            "TRADEBLOCK_EXCHANGES": "demo",
            "TRADEBLOCK_ENGINE": "off",
            "TRADEBLOCK_LOG_LEVEL": "WARNING",
        }
        settings = load_settings(env)
        runtime = build_runtime(settings)
        print(f"database: {database_label(engine)}")
        plan = prepare(runtime, 2)
        name = next(iter(plan.accounts))
        token, account_id = make_tokens(runtime, plan)[name], plan.accounts[name]
        app = create_app(settings, start_engine=False, secure_cookies=False)
        db = app.server.config["TRADEBLOCK_RUNTIME"].db
        client = app.server.test_client()
        headers = {"Authorization": f"Bearer {token}"}

        def create() -> None:
            answer = client.post("/api/v1/blocks", json=_block(plan, account_id), headers=headers)
            assert answer.status_code == 201, answer.get_data(as_text=True)[:300]

        def read(path: str) -> Callable[[], None]:
            def call() -> None:
                answer = client.get(f"/api/v1{path}", headers=headers)
                assert answer.status_code == 200, answer.get_data(as_text=True)[:300]

            return call

        calls = {
            "create": create,
            "blocks": read("/blocks?status=all"),
            "accounts": read("/accounts"),
            "positions": read("/positions"),
            "candles": read(f"/series/{plan.series_id}/candles"),
        }
        if not args.no_freeze:
            freeze_heap()  # as app.server does in gunicorn
        profile = cProfile.Profile() if args.profile else None
        with Pauses() as pauses:
            for kind, call in calls.items():
                got = measure(call, db, args.repeat, profile if kind == args.profile else None, kind == args.statements)
                print(
                    f"{kind:9s} p50 {got['p50']:6.1f} ms  p95 {got['p95']:6.1f} ms  cpu {got['cpu']:6.1f} ms  "
                    f"statements {got['statements']:4.0f}  checkouts {got['checkouts']:3.0f}"
                )
        print(f"full garbage collections: {pauses.count}, the longest {pauses.longest:.0f} ms")
        print(f"load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
        if profile is not None:
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats(args.sort).print_stats(45)
            print(out.getvalue())
        app.server.config["TRADEBLOCK_RUNTIME"].db.dispose()
        runtime.db.dispose()


if __name__ == "__main__":
    main()
