"""Bench: many signed-in sessions against the real default deploy (gunicorn, gunicorn.conf.py).

A scratch database (DATABASE_URL's PostgreSQL in a throw-away schema, else a temporary SQLite
file) gets one demo BTC/USDT 1m series backfilled (the configured days, 30 by default) and N
traders watching it, each with the default paper account. Then the real server is started as the
Procfile does (`gunicorn app:server -c gunicorn.conf.py`, bound to a free loopback port, a fresh
instance dir, the demo feed, the engine on) and every user signs in through the real login form
(its CSRF token). N threads then act as N users for a bounded time, each with its own cookie
session, sending what the pages send, in turn, with a pause of 0.5-1.5x `--think` seconds between
requests (a person reading the screen; the pages' own polls come every 3 s):

- draw: the chart page's draw callback (`draw_chart`: pick the series, read the newest candles,
  build the figure), the request a page load or a series switch makes;
- blocks: the blocks table's refresh (`/blocks`, every 3 s while it is open);
- preview: the trade-block form's preview (`preview_block` on a long limit entry with a stop and
  one target; each keystroke in the form sends it).

Printed: p50/p95/p99 per kind and overall, errors (non-200 answers, refused previews, timeouts),
whether the engine kept its schedule (no APScheduler "missed" or "skipped" warning in the gunicorn
log, the engine started in this process, and the newest stored 1m candle is the last closed
minute, i.e. the minute fetch ran), and the load average (the machine is shared). The LAST line is
`ratio: X` with X = 300 ms / measured overall p95: the target over ours, so X >= 1 means the
target (p95 <= 300 ms) is met.

    .venv/bin/python -m bench.load [--quick] [--sessions N] [--seconds S] [--think S]

`--quick` is 10 sessions for 15 s (under a minute with set-up); the default is 50 sessions for
60 s. Loopback only, bounded in sessions and time; the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import func, select

from bench._common import ROOT, app_database_url, database_label, scratch_engine
from db.enums import Role
from db.models import Candle
from engine.config import load_settings
from engine.market import api as market
from engine.runtime import build_runtime
from engine.users import api as users

TARGET_P95_MS = 300.0
MINUTE = 60_000
PASSWORD = "load bench password"
SERIES = ("demo", "BTC/USDT", "1m")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
# APScheduler's warnings when a run came too late or overlapped the previous one.
_SCHEDULE_WARNINGS = ("was missed by", "maximum number of running instances reached")
KINDS = ("draw", "blocks", "preview")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Plan:
    """What the sessions send: the series, each user's paper account, prices for the preview."""

    series_id: int
    accounts: dict[str, int]  # username -> account id
    last_close: float
    # The preview callback's output key as the server declares it (read from /_dash-dependencies,
    # as dash-renderer does): its duplicate outputs carry a hash Dash makes of its inputs.
    preview_output: str = ""


def prepare(runtime: Any, sessions: int) -> Plan:
    """Backfill the series and create `sessions` traders watching it, each with a paper account."""
    names = [f"load{i:03d}" for i in range(sessions)]
    first = users.add_user(runtime, names[0], PASSWORD, Role.TRADER)
    series = market.watch(runtime, first.id, *SERIES)
    market.backfill_recent(runtime, series)
    accounts = {names[0]: users.ensure_default_paper_account(runtime.sessions, first.id).id}
    for name in names[1:]:
        user = users.add_user(runtime, name, PASSWORD, Role.TRADER)
        market.watch(runtime, user.id, *SERIES)
        accounts[name] = users.ensure_default_paper_account(runtime.sessions, user.id).id
    window = market.recent_window(runtime, first.id, series.id, 1)
    if window is None:
        raise SystemExit("the backfill stored no candles")
    candles = market.chart_candles(runtime, first.id, series.id, window.start_ms, window.end_ms)
    return Plan(series.id, accounts, candles.close[-1])


PREVIEW_OUTPUT_START = "..bf-preview.children...bf-preview-store.data..."


def _value(ident: Any, prop: str, value: Any) -> dict:
    return {"id": ident, "property": prop, "value": value}


def draw_body(plan: Plan) -> dict:
    """The chart page's first draw, as dash-renderer sends it on page load."""
    return {
        "output": "..chart-graph.figure...chart-view.data...chart-status.children..",
        "outputs": [
            {"id": "chart-graph", "property": "figure"},
            {"id": "chart-view", "property": "data"},
            {"id": "chart-status", "property": "children"},
        ],
        "inputs": [
            _value("chart-prefs", "data", {"series_id": plan.series_id}),
            _value("series-redraw", "data", None),
            _value("chart-replay", "data", None),  # no replay playing: the live chart
        ],
        "state": [
            _value("theme-switch", "value", False),
            _value("chart-view", "data", None),
            _value("chart-focus", "data", None),
        ],
        "changedPropIds": ["chart-prefs.data"],
    }


def blocks_body(tick: int) -> dict:
    return {
        "output": "blocks-grid.rowData",
        "outputs": {"id": "blocks-grid", "property": "rowData"},
        "inputs": [
            _value("blocks-poll", "n_intervals", tick),
            _value("blocks-filter", "value", "open"),
        ],
        "state": [],
        "changedPropIds": ["blocks-poll.n_intervals"],
    }


def preview_body(plan: Plan, account_id: int, nudge: int) -> dict:
    """A long limit entry 1% under the last close, stop 2% under, one target 3% over; `nudge`
    moves the entry a little, as typing does."""
    entry = round(plan.last_close * (0.99 + nudge * 0.0001), 2)
    values = [
        ("bf-account", account_id),
        ("bf-side", "long"),
        ("bf-entry-type", "limit"),
        ("bf-entry-price", entry),
        ("bf-stop-price", round(plan.last_close * 0.98, 2)),
    ]
    inputs: list[Any] = [_value(i, "value", v) for i, v in values]
    inputs.append([_value({"row": 0, "type": "bf-target-price"}, "value", round(plan.last_close * 1.03, 2))])
    inputs.append([_value({"row": 0, "type": "bf-target-share"}, "value", None)])
    rest = [("bf-size-mode", "risk_pct"), ("bf-size-value", 1), ("bf-breakeven", False), ("bf-timeout", None)]
    rest += [("bf-duration", None), ("bf-leverage", None), ("bf-margin-mode", "isolated")]
    inputs += [_value(i, "value", v) for i, v in rest]
    inputs.append(_value("bf-series", "data", {"series_id": plan.series_id, "status": "done"}))
    inputs += [_value(i, "n_blur", 1) for i in ("bf-entry-price", "bf-stop-price", "bf-size-value")]
    inputs += [[_value({"row": 0, "type": kind}, "n_blur", 1)] for kind in ("bf-target-price", "bf-target-share")]
    return {
        "output": plan.preview_output,
        "outputs": outputs_of(plan.preview_output),
        "inputs": inputs,
        "state": [_value("bf-attempted", "data", False), _value("chart-replay", "data", None)],
        "changedPropIds": ["bf-entry-price.value"],
    }


def preview_output(dependencies: list[dict]) -> str:
    """The preview callback's output key among the server's callbacks (GET /_dash-dependencies)."""
    return next(d["output"] for d in dependencies if d["output"].startswith(PREVIEW_OUTPUT_START))


def outputs_of(key: str) -> list[Any]:
    """A request's `outputs` for an output key, as dash-renderer sends them: a pattern output (ALL)
    for the one target row the bench's form has."""
    outputs: list[Any] = []
    for part in key.strip(".").split("..."):
        ident, prop = part.rsplit(".", 1)
        if ident.startswith("{"):
            row = {k: 0 if v == ["ALL"] else v for k, v in json.loads(ident).items()}
            outputs.append([{"id": row, "property": prop}])
        else:
            outputs.append({"id": ident, "property": prop})
    return outputs


def sign_in(base: str, username: str) -> requests.Session:
    """A cookie session signed in through the login form, with the form's CSRF token."""
    client = requests.Session()
    page = client.get(f"{base}/login", timeout=30)
    match = _CSRF.search(page.text)
    if not match:
        raise SystemExit("no CSRF token on /login")
    form = {"csrf_token": match.group(1), "username": username, "password": PASSWORD, "next": "/"}
    answer = client.post(f"{base}/login", data=form, timeout=30)
    if answer.status_code != 200 or "/login" in answer.url:
        raise SystemExit(f"{username} could not sign in: {answer.status_code} {answer.url}")
    return client


@dataclass
class Samples:
    """Latencies (ms) per kind and error messages, shared by the session threads."""

    ms: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, elapsed_ms: float, error: str | None) -> None:
        with self.lock:
            if error:
                self.errors.append(f"{kind}: {error}")
            else:
                self.ms[kind].append(elapsed_ms)


def _problem(kind: str, answer: requests.Response) -> str | None:
    if answer.status_code != 200:
        return f"HTTP {answer.status_code}"
    if kind == "preview" and json.loads(answer.text)["response"]["bf-preview-store"]["data"] is None:
        return "preview refused: " + answer.text[:200]  # a refused preview did not do the work measured
    return None


def run_session(base: str, client: requests.Session, plan: Plan, account_id: int, args: Any, out: Samples) -> None:
    """One user until the deadline: draw, blocks, preview in turn, a pause after each."""
    rng = random.Random(account_id)
    time.sleep(rng.uniform(0, args.think))  # users do not all click at the same instant
    step = 0
    while time.monotonic() < args.deadline:
        kind = KINDS[step % len(KINDS)]
        if kind == "draw":
            payload = draw_body(plan)
        elif kind == "blocks":
            payload = blocks_body(step)
        else:
            payload = preview_body(plan, account_id, step % 50)
        start = time.perf_counter()
        try:
            answer = client.post(f"{base}/_dash-update-component", json=payload, timeout=30)
            error = _problem(kind, answer)
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {str(exc)[:120]}"
        out.add(kind, (time.perf_counter() - start) * 1e3, error)
        step += 1
        time.sleep(args.think * rng.uniform(0.5, 1.5))


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report_line(label: str, samples: list[float], seconds: float) -> str:
    if not samples:
        return f"{label:8s} no answers"
    p50, p95, p99 = (pct(samples, q) for q in (0.5, 0.95, 0.99))
    rate = len(samples) / seconds
    return (
        f"{label:8s} {len(samples):6d} answers ({rate:5.1f}/s)  p50 {p50:6.0f} ms  p95 {p95:6.0f} ms  p99 {p99:6.0f} ms"
    )


def start_server(env: dict[str, str], port: int, log_path: Path) -> subprocess.Popen:
    """The default deploy, as the Procfile runs it, bound to loopback only."""
    command = [sys.executable, "-m", "gunicorn", "app:server", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"]
    log = log_path.open("w")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_healthy(base: str, server: subprocess.Popen, log_path: Path, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited ({server.returncode}):\n{log_path.read_text()[-3000:]}")
        try:
            if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise SystemExit(f"gunicorn did not answer /healthz within {timeout_s:.0f} s")


def stop_server(server: subprocess.Popen) -> None:
    """SIGTERM as a deploy does (the engine stops after its running jobs); kill after 40 s."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def schedule_report(runtime: Any, series_id: int, log_text: str) -> tuple[bool, str]:
    """Whether the engine kept its schedule, and why (see the module docstring)."""
    started = "engine scheduler started" in log_text
    warnings = [line for line in log_text.splitlines() if any(w in line for w in _SCHEDULE_WARNINGS)]
    with runtime.db.connect() as conn:
        newest = conn.scalar(select(func.max(Candle.ts)).where(Candle.series_id == series_id, Candle.tf_ms == MINUTE))
    now = int(time.time() * 1000)
    last_closed = now - now % MINUTE - MINUTE
    # The fetch runs at second 2 of each minute: allow it those seconds and a little more.
    fresh = newest is not None and (newest >= last_closed or (now % MINUTE < 10_000 and newest >= last_closed - MINUTE))
    lag = "none" if newest is None else f"{(last_closed - newest) // MINUTE} min behind the last closed minute"
    kept = started and not warnings and fresh
    detail = f"engine started: {started}; schedule warnings: {len(warnings)}; newest 1m candle: {lag}"
    return kept, detail + "".join(f"\n  {w}" for w in warnings[:5])


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 sessions for 15 s")
    parser.add_argument("--sessions", type=int, help="concurrent signed-in users (default 50, quick 10)")
    parser.add_argument("--seconds", type=float, help="how long they work (default 60, quick 15)")
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between a user's requests, s")
    args = parser.parse_args()
    args.sessions = args.sessions or (10 if args.quick else 50)
    args.seconds = args.seconds or (15.0 if args.quick else 60.0)
    if not 1 <= args.sessions <= 200 or not 1 <= args.seconds <= 600:
        parser.error("--sessions must be 1..200 and --seconds 1..600")
    return args


def main() -> None:
    args = parse_args()
    with scratch_engine() as engine, tempfile.TemporaryDirectory(prefix="tradeblock-load-") as folder:
        instance = Path(folder)
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": app_database_url(engine),
            "TRADEBLOCK_INSTANCE_DIR": str(instance),
            "SECRET_KEY": "load-bench-secret-key-load-bench-secret",
            "TRADEBLOCK_EXCHANGES": "demo",
            "TRADEBLOCK_ENGINE": "on",
            "TRADEBLOCK_LOG_LEVEL": "INFO",
            "PORT": str(port),
        }
        runtime = build_runtime(load_settings(env))
        print(f"database: {database_label(engine)}")
        start = time.perf_counter()
        plan = prepare(runtime, args.sessions)
        print(
            f"prepared {args.sessions} users and a backfilled {' '.join(SERIES)} in {time.perf_counter() - start:.1f} s"
        )
        workers, threads = env.get("WEB_CONCURRENCY", "default"), env.get("GUNICORN_THREADS", "default")
        print(
            f"server: gunicorn app:server -c gunicorn.conf.py (WEB_CONCURRENCY={workers}, GUNICORN_THREADS={threads})"
        )
        log_path = instance / "gunicorn.log"
        base = f"http://127.0.0.1:{port}"
        server = start_server(env, port, log_path)
        try:
            wait_healthy(base, server, log_path)
            clients = {name: sign_in(base, name) for name in plan.accounts}
            first = next(iter(clients.values()))
            plan.preview_output = preview_output(first.get(f"{base}/_dash-dependencies", timeout=30).json())
            print(f"signed in {len(clients)} sessions; load average before: {_load()}")
            out = Samples()
            args.deadline = time.monotonic() + args.seconds
            pool = [
                threading.Thread(target=run_session, args=(base, c, plan, plan.accounts[n], args, out), daemon=True)
                for n, c in clients.items()
            ]
            for thread in pool:
                thread.start()
            for thread in pool:
                thread.join(timeout=args.seconds + 60)
            load_after = _load()
            kept, detail = schedule_report(runtime, plan.series_id, log_path.read_text())
        finally:
            stop_server(server)
            runtime.db.dispose()
    every = [x for kind in KINDS for x in out.ms[kind]]
    print(
        f"{args.sessions} sessions for {args.seconds:.0f} s, think {args.think:.1f} s; load average after: {load_after}"
    )
    for kind in KINDS:
        print(report_line(kind, out.ms[kind], args.seconds))
    print(report_line("overall", every, args.seconds))
    print(f"errors: {len(out.errors)}" + "".join(f"\n  {e}" for e in out.errors[:5]))
    print(f"engine kept its schedule: {'yes' if kept else 'NO'} ({detail})")
    p95 = pct(every, 0.95) if every else float("inf")
    print(f"target p95 <= {TARGET_P95_MS:.0f} ms: {'met' if p95 <= TARGET_P95_MS else 'MISSED'}")
    print(f"ratio: {TARGET_P95_MS / p95:.2f}")


def _load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
