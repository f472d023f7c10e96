"""Bench: the REST API and the TradingView webhook against the real default deploy (gunicorn).

A scratch database (DATABASE_URL's PostgreSQL in a throw-away schema, else a temporary SQLite
file) gets a backfilled demo BTC/USDT 1m series and N traders watching it, each with the default
paper account and a trade-scope API token; the first also gets a webhook (template: market long,
stop and target as distances from the close, 0.001 BTC; 60 calls a minute). The server is started
as the Procfile does (`gunicorn app:server -c gunicorn.conf.py`, loopback, the engine on).

1. Webhook: one warm-up alert (not timed), then `--alerts` TradingView-format alerts (each its own
   id, timenow now) posted one after
   another; the time measured is from sending the POST to its 201, which comes after the block's
   entry order was sent to the paper venue (submit_block drives the sync in the request). Every
   block is then checked through the API: its entry order must be on the venue (accepted or
   filled). Target p95 <= 300 ms.
2. API: N threads, each a client with its own requests.Session and Bearer token, for a bounded time;
   each sends in turn GET /blocks, /accounts, /positions, the series' candles, and every fifth
   request POST /blocks (a resting limit long far under the price, at most 20 per client), with a
   pause of 0.5-1.5x `--think` s between requests (a bot polling about once a second). Target:
   p95 <= 50 ms for reads and for block creation, 0 errors.
3. The same reads two ways, at the same pace and for the same time: the N clients sending only
   GET /blocks?status=all, then (the baseline) the same N users signed in through the login form
   sending the /blocks table's refresh of all blocks through the Dash callback endpoint (the desk's
   own way of reading the same blocks).

Printed: p50/p95/p99 per kind, errors, whether the engine kept its schedule, the load average (the
machine is shared). The LAST line is `ratio: X` with X = the baseline's p95 (the blocks through
the Dash callback) / the p95 of GET /blocks alone (phase 3): X > 1 means the API reads the same
blocks faster.

    .venv/bin/python -m bench.api [--quick] [--clients N] [--seconds S] [--think S] [--alerts N]

`--quick` is 10 s per load phase (the default 60 s); 50 clients either way; loopback only, bounded in
clients and time; the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from bench._common import app_database_url, database_label, scratch_engine
from bench.load import (
    Plan,
    free_port,
    pct,
    prepare,
    report_line,
    schedule_report,
    sign_in,
    start_server,
    stop_server,
    wait_healthy,
)
from engine.config import load_settings
from engine.runtime import build_runtime
from engine.users import api as users
from engine.webhooks import api as webhooks

WEBHOOK_P95_MS = 300.0
API_P95_MS = 50.0
MAX_BLOCKS_PER_CLIENT = 20
READS = ("blocks", "accounts", "positions", "candles")
KINDS = (*READS, "create")


class Samples:
    """Latencies (ms) per kind and error messages, shared by the client threads."""

    def __init__(self, kinds: tuple[str, ...]) -> None:
        self.ms: dict[str, list[float]] = {k: [] for k in kinds}
        self.errors: list[str] = []
        self.lock = threading.Lock()

    def add(self, kind: str, elapsed_ms: float, error: str | None) -> None:
        with self.lock:
            if error:
                self.errors.append(f"{kind}: {error}")
            else:
                self.ms[kind].append(elapsed_ms)


def make_tokens(runtime: Any, plan: Plan) -> dict[str, str]:
    """A trade token per user, by username."""
    ids = {u.username: u.id for u in users.list_users(runtime)}
    return {name: users.create_token(runtime, ids[name], "bench", "trade").token for name in plan.accounts}


def make_webhook(runtime: Any, plan: Plan, name: str) -> tuple[str, str]:
    """(hook id, secret) of `name`'s webhook, its template saved."""
    user_id = {u.username: u.id for u in users.list_users(runtime)}[name]
    made = webhooks.rotate_secret(runtime, user_id)
    step = round(plan.last_close * 0.02, 2)
    template = {
        "account_id": plan.accounts[name],
        "side": "long",
        "entry_type": "market",
        "price_mode": "distance",
        "stop": str(step),
        "targets": [str(step)],
        "size_mode": "base",
        "size_value": "0.001",
        "rate_per_min": "60",
    }
    saved = webhooks.save_template(runtime, user_id, template)
    if isinstance(saved, dict):
        raise SystemExit(f"the bench's template was refused: {saved}")
    return made.hook_id, made.secret


def bench_webhook(
    base: str, hook_id: str, secret: str, token: str, plan: Plan, count: int
) -> tuple[list[float], list[str]]:
    """Post `count` alerts one after another; (latencies ms, errors)."""
    client, api = requests.Session(), requests.Session()
    api.headers["Authorization"] = f"Bearer {token}"
    times, errors, placed = [], [], []
    for i in range(-1, count):  # alert -1 warms the server up (its first block, first venue): not timed
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = {
            "secret": secret,
            "id": f"bench-{i}",
            "ticker": "BTCUSDT",
            "exchange": "BINANCE",
            "close": str(plan.last_close),
        }
        data = json.dumps({**body, "interval": "1", "time": now, "timenow": now}).encode()
        start = time.perf_counter()
        answer = client.post(
            f"{base}/hooks/tv/{hook_id}", data=data, headers={"Content-Type": "text/plain"}, timeout=30
        )
        elapsed = (time.perf_counter() - start) * 1e3
        if answer.status_code != 201:
            errors.append(f"alert {i}: HTTP {answer.status_code} {answer.text[:200]}")
            continue
        placed.append(answer.json()["block_id"])
        if i >= 0:
            times.append(elapsed)
        time.sleep(0.2)
    for block_id in placed:  # the entry order must be on the paper venue
        detail = api.get(f"{base}/api/v1/blocks/{block_id}", timeout=30).json()
        statuses = {o["status"] for o in detail["orders"] if o["role"] == "entry"}
        if not statuses or not statuses <= {"accepted", "filled"}:
            errors.append(f"block {block_id}: entry orders {sorted(statuses)}")
    return times, errors


def _block(plan: Plan, account_id: int) -> dict[str, Any]:
    close = plan.last_close
    return {
        "account_id": account_id,
        "symbol": "BTC/USDT",
        "side": "long",
        "entry_type": "limit",
        "entry_price": f"{close * 0.5:.2f}",
        "stop_price": f"{close * 0.45:.2f}",
        "target_prices": [f"{close * 0.6:.2f}"],
        "target_shares": [None],
        "size_mode": "base",
        "size_value": "0.001",
    }


def api_client(
    base: str, token: str, plan: Plan, account_id: int, args: Any, out: Samples, only: str | None = None
) -> None:
    """One API client until the deadline: the mix, or only the `only` kind."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    rng = random.Random(account_id)
    time.sleep(rng.uniform(0, args.think))
    # Each client starts at its own place in the mix: otherwise the 50 first creations come in one burst
    # (every client's fifth request), which no real set of bots does.
    step, created = rng.randrange(len(KINDS)), 0
    while time.monotonic() < args.deadline:
        kind = "create" if step % 5 == 4 and created < MAX_BLOCKS_PER_CLIENT else READS[step % len(READS)]
        kind = only or kind
        start = time.perf_counter()
        try:
            if kind == "create":
                answer = session.post(f"{base}/api/v1/blocks", json=_block(plan, account_id), timeout=30)
                created += 1
                error = None if answer.status_code == 201 else f"HTTP {answer.status_code} {answer.text[:160]}"
            else:
                path = {
                    "blocks": "/blocks?status=all",
                    "accounts": "/accounts",
                    "positions": "/positions",
                    "candles": f"/series/{plan.series_id}/candles",
                }[kind]
                answer = session.get(f"{base}/api/v1{path}", timeout=30)
                error = None if answer.status_code == 200 else f"HTTP {answer.status_code} {answer.text[:160]}"
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {str(exc)[:120]}"
        out.add(kind, (time.perf_counter() - start) * 1e3, error)
        step += 1
        time.sleep(args.think * rng.uniform(0.5, 1.5))


def dash_blocks_body(tick: int) -> dict[str, Any]:
    """The /blocks page's table refresh (pages/blocks.py `refresh`), all blocks, as its poll sends it."""
    inputs = [
        {"id": "blocks-poll", "property": "n_intervals", "value": tick},
        {"id": "blocks-filter", "property": "value", "value": "all"},
    ]
    return {
        "output": "blocks-grid.rowData",
        "outputs": {"id": "blocks-grid", "property": "rowData"},
        "inputs": inputs,
        "state": [],
        "changedPropIds": ["blocks-poll.n_intervals"],
    }


def dash_client(client: requests.Session, account_id: int, base: str, args: Any, out: Samples) -> None:
    """The baseline: the blocks table's refresh through the Dash callback endpoint."""
    rng = random.Random(account_id)
    time.sleep(rng.uniform(0, args.think))
    step = 0
    while time.monotonic() < args.deadline:
        start = time.perf_counter()
        try:
            answer = client.post(f"{base}/_dash-update-component", json=dash_blocks_body(step), timeout=30)
            error = None if answer.status_code == 200 else f"HTTP {answer.status_code}"
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {str(exc)[:120]}"
        out.add("dash blocks", (time.perf_counter() - start) * 1e3, error)
        step += 1
        time.sleep(args.think * rng.uniform(0.5, 1.5))


def run_threads(targets: list[tuple[Any, tuple[Any, ...]]], seconds: float) -> None:
    pool = [threading.Thread(target=t, args=a, daemon=True) for t, a in targets]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=seconds + 60)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 s per phase")
    parser.add_argument("--clients", type=int, default=50, help="concurrent API clients (default 50)")
    parser.add_argument("--seconds", type=float, help="how long each load phase runs (default 60, quick 10)")
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between a client's requests, s")
    parser.add_argument("--alerts", type=int, help="webhook alerts to time (default 50, quick 20), after one warm-up")
    args = parser.parse_args()
    args.seconds = args.seconds or (10.0 if args.quick else 60.0)
    args.alerts = args.alerts or (20 if args.quick else 50)
    if not 1 <= args.clients <= 200 or not 1 <= args.seconds <= 600 or not 1 <= args.alerts <= 58:
        parser.error("--clients must be 1..200, --seconds 1..600 and --alerts 1..58")
    return args


def _load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    args = parse_args()
    with scratch_engine() as engine, tempfile.TemporaryDirectory(prefix="tradeblock-api-") as folder:
        instance, port = Path(folder), free_port()
        env = {
            **os.environ,
            "DATABASE_URL": app_database_url(engine),
            "TRADEBLOCK_INSTANCE_DIR": str(instance),
            "SECRET_KEY": "api-bench-secret-key-api-bench-secret-key",
            "TRADEBLOCK_EXCHANGES": "demo",
            "TRADEBLOCK_ENGINE": "on",
            "TRADEBLOCK_LOG_LEVEL": "INFO",
            "PORT": str(port),
        }
        runtime = build_runtime(load_settings(env))
        print(f"database: {database_label(engine)}")
        plan = prepare(runtime, args.clients)
        tokens = make_tokens(runtime, plan)
        first = next(iter(plan.accounts))
        hook_id, secret = make_webhook(runtime, plan, first)
        log_path, base = instance / "gunicorn.log", f"http://127.0.0.1:{port}"
        server = start_server(env, port, log_path)
        try:
            wait_healthy(base, server, log_path)
            hook_ms, hook_errors = bench_webhook(base, hook_id, secret, tokens[first], plan, args.alerts)
            api_out = Samples(KINDS)
            args.deadline = time.monotonic() + args.seconds
            run_threads(
                [(api_client, (base, tokens[n], plan, plan.accounts[n], args, api_out)) for n in plan.accounts],
                args.seconds,
            )
            load_api = _load()
            same_out = Samples(("blocks",))
            args.deadline = time.monotonic() + args.seconds
            run_threads(
                [
                    (api_client, (base, tokens[n], plan, plan.accounts[n], args, same_out, "blocks"))
                    for n in plan.accounts
                ],
                args.seconds,
            )
            sessions = {name: sign_in(base, name) for name in plan.accounts}
            dash_out = Samples(("dash blocks",))
            args.deadline = time.monotonic() + args.seconds
            run_threads(
                [(dash_client, (c, plan.accounts[n], base, args, dash_out)) for n, c in sessions.items()], args.seconds
            )
            kept, detail = schedule_report(runtime, plan.series_id, log_path.read_text())
        finally:
            stop_server(server)
            runtime.db.dispose()
    print(f"webhook: {len(hook_ms)} alerts -> entry on the paper venue")
    print(report_line("webhook", hook_ms, 1.0).split("(")[0] + _tail(hook_ms))
    print(f"webhook errors: {len(hook_errors)}" + "".join(f"\n  {e}" for e in hook_errors[:5]))
    hook_p95 = pct(hook_ms, 0.95) if hook_ms else float("inf")
    print(f"target webhook p95 <= {WEBHOOK_P95_MS:.0f} ms: {'met' if hook_p95 <= WEBHOOK_P95_MS else 'MISSED'}")
    print(f"API: {args.clients} clients for {args.seconds:.0f} s, think {args.think:.1f} s; load average: {load_api}")
    for kind in KINDS:
        print(report_line(kind, api_out.ms[kind], args.seconds))
    reads = [x for kind in READS for x in api_out.ms[kind]]
    print(report_line("reads", reads, args.seconds))
    print(f"API errors: {len(api_out.errors)}" + "".join(f"\n  {e}" for e in api_out.errors[:5]))
    worst = max(
        pct(reads, 0.95) if reads else float("inf"),
        pct(api_out.ms["create"], 0.95) if api_out.ms["create"] else float("inf"),
    )
    met = worst <= API_P95_MS and not api_out.errors
    print(f"target API p95 <= {API_P95_MS:.0f} ms (reads and create), 0 errors: {'met' if met else 'MISSED'}")
    print(report_line("api blocks", same_out.ms["blocks"], args.seconds) + "  (GET /blocks alone, the baseline's pace)")
    print(f"api blocks errors: {len(same_out.errors)}")
    print(
        report_line("baseline", dash_out.ms["dash blocks"], args.seconds)
        + "  (the blocks table through /_dash-update-component)"
    )
    print(f"baseline errors: {len(dash_out.errors)}" + "".join(f"\n  {e}" for e in dash_out.errors[:3]))
    print(f"engine kept its schedule: {'yes' if kept else 'NO'} ({detail})")
    api_blocks, dash_blocks = same_out.ms["blocks"], dash_out.ms["dash blocks"]
    ratio = pct(dash_blocks, 0.95) / pct(api_blocks, 0.95) if api_blocks and dash_blocks else 0.0
    print(f"ratio: {ratio:.2f}")


def _tail(samples: list[float]) -> str:
    if not samples:
        return ""
    return "  ".join(f"p{int(q * 100)} {pct(samples, q):6.0f} ms" for q in (0.5, 0.95, 0.99))


if __name__ == "__main__":
    sys.exit(main())
