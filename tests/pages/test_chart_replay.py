"""The chart replay's pure logic (pages/components/chart_replay.py): speeds as ticks, the start
picked in the user's zone (daylight saving included), the clock and P&L as shown."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from engine.replay.api import FillVariant, RunKind, RunStatus, RunSummary
from pages.components import chart_replay

START = int(datetime(2024, 1, 15, 9, 32, tzinfo=UTC).timestamp() * 1000)  # 10:32 in Paris (UTC+1)


def run(**changes: object) -> RunSummary:
    base = RunSummary(
        id=1, kind=RunKind.REPLAY, status=RunStatus.PAUSED, name="Replay #1", account_id=7, exchange="demo",
        timeframe="1m", symbols=("BTC/USDT",), start_ms=START, end_ms=START + 3_600_000, cursor_ms=START,
        variant=FillVariant(), blocks=0, trades_closed=0, net_pnl=Decimal(0), bars_done=0, bars_total=60,
        error=None, created_at=datetime(2024, 1, 15, tzinfo=UTC),
    )  # fmt: skip
    return replace(base, **changes)


@pytest.mark.parametrize(
    ("speed", "expected"),
    [("1", (1000, 1)), ("2", (500, 1)), ("5", (200, 1)), ("10", (200, 2)), ("max", (200, 50)), ("bogus", (1000, 1))],
)
def test_a_speed_is_a_tick_interval_and_bars_per_tick(speed: str, expected: tuple[int, int]) -> None:
    assert chart_replay.tick(speed) == expected
    every, bars = expected
    if speed not in ("max", "bogus"):
        assert bars * 1000 // every == int(speed)  # the bars per second asked for


def test_the_start_is_read_in_the_users_zone() -> None:
    assert chart_replay.local_start("2024-01-15", "10:32", "Europe/Paris") == START
    summer = chart_replay.local_start("2024-07-01", "10:32", "Europe/Paris")  # UTC+2 in summer
    assert summer == int(datetime(2024, 7, 1, 8, 32, tzinfo=UTC).timestamp() * 1000)
    assert chart_replay.local_parts(START, "Europe/Paris") == ("2024-01-15", "10:32")
    assert chart_replay.local_start("2024-01-15T00:00:00", "10:32", "UTC") == START + 3_600_000


@pytest.mark.parametrize(
    ("day", "at", "said"),
    [(None, "10:00", "Pick the day the replay starts."), ("2024-13-01", "10:00", "Pick the day the replay starts."),
     ("2024-01-15", "25:00", "Enter the time as HH:MM.")],
)  # fmt: skip
def test_a_bad_start_says_what_is_wrong(day: str | None, at: str, said: str) -> None:
    assert chart_replay.local_start(day, at, "Europe/Paris") == said


def test_the_clock_and_the_pnl_as_shown() -> None:
    assert chart_replay.clock_text(run(), "Europe/Paris") == "Replay · 2024-01-15 10:32 Europe/Paris"
    ended = run(cursor_ms=START + 3_600_000, status=RunStatus.DONE)
    assert chart_replay.clock_text(ended, "UTC") == "Replay · 2024-01-15 10:32 UTC · at the end"
    assert chart_replay.pnl_words(run(net_pnl=Decimal("1234.565"))) == "P&L +1,234.57 USDT"
    assert chart_replay.pnl_words(run(net_pnl=Decimal("-0.544"))) == "P&L -0.54 USDT"
    shown = chart_replay.pnl_text(run(net_pnl=Decimal("-0.54"), trades_closed=1))
    assert shown.children[0].className == "text-danger"
    assert shown.children[1] == " · 1 closed trade"


def test_a_run_replays_only_its_own_market() -> None:
    assert chart_replay.on_market(run(), "demo", "BTC/USDT")
    assert not chart_replay.on_market(run(), "demo", "ETH/USDT")
    assert not chart_replay.on_market(run(), "binance", "BTC/USDT")
    assert not chart_replay.on_market(None, "demo", "BTC/USDT")
