"""One engine: the same blocks over the same bars give the same trades when traded live on the demo
feed (its clock moved minute by minute, the sync tick run as the scheduler runs it), replayed bar
by bar, and backtested in one pass that skips the bars where nothing can happen."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
from sqlalchemy import select

from db.enums import EntryType, Side, SizeMode
from db.models import Block, Trade
from engine.blocks.api import BlockRequest, TargetSpec, submit_block, sync_tick
from engine.exchanges.api import DemoExchange
from engine.replay import api as replay
from engine.runtime import Runtime
from engine.users.api import open_paper_account
from tests.helpers.replay import store_rows, trader

SYMBOL = "BTC/USDT:USDT"  # the demo perpetual: a margin paper account rests target and stop live too
START = 1_706_745_600_000  # 2024-02-01 00:00 UTC
MIN = 60_000
BARS = 240


TICK = Decimal("0.1")


def _price(value: float, factor: str) -> Decimal:
    return (Decimal(str(value)) * Decimal(factor) / TICK).quantize(Decimal(1), ROUND_HALF_EVEN) * TICK


def _blocks(candles: np.ndarray) -> list[replay.BlockRow]:
    """Four blocks of every entry type, both sides, a timeout: priced from the close before them."""

    def at(bar: int, side: Side, kind: EntryType, entry: str | None, stop: str, targets: list[str], **kw: object):
        close = float(candles[bar - 1, 4])
        request = BlockRequest(
            symbol=SYMBOL,
            side=side,
            entry_type=kind,
            entry_price=None if entry is None else _price(close, entry),
            stop_price=_price(close, stop),
            targets=tuple(TargetSpec(_price(close, t), Decimal(1) / len(targets)) for t in targets),
            size_mode=SizeMode.BASE,
            size_value=Decimal("0.01"),
            **kw,  # type: ignore[arg-type]
        )
        return replay.BlockRow(bar, START + bar * MIN, request)

    return [
        at(5, Side.LONG, EntryType.LIMIT, "0.9995", "0.997", ["1.001", "1.002"]),
        at(40, Side.SHORT, EntryType.MARKET, None, "1.003", ["0.999", "0.998"]),
        at(90, Side.LONG, EntryType.STOP, "1.0005", "0.998", ["1.0015"]),
        at(150, Side.SHORT, EntryType.LIMIT, "1.0005", "1.004", ["0.997"], max_duration_s=1800),
    ]


def _trades(runtime: Runtime, account_id: int) -> list[tuple]:
    with runtime.sessions() as s:
        rows = s.execute(
            select(Trade)
            .join(Block, Block.id == Trade.block_id)
            .where(Block.account_id == account_id)
            .order_by(Block.id, Trade.index)
        ).scalars()
        return [
            (t.index, t.status.value, t.entry_average, t.exit_average, t.close_reason, t.realized_pnl, t.closed_at)
            for t in rows
        ]


def test_live_replay_and_backtest_trade_the_same_blocks_alike(runtime: Runtime) -> None:
    clock = [START + (BARS + 1) * MIN]
    demo = DemoExchange(clock=lambda: clock[0])
    candles = demo.candles(SYMBOL, "1m", START, START + BARS * MIN)
    store_rows(runtime, SYMBOL, candles)
    user = trader(runtime)
    rows = _blocks(candles)

    # Live: the demo feed's clock moves a minute at a time, blocks are submitted on their minute.
    runtime.sources["demo"] = demo
    live = open_paper_account(runtime.sessions, user, "live", margin=True).id
    for bar in range(BARS + 1):
        clock[0] = START + bar * MIN
        for row in (r for r in rows if r.at_ms == clock[0]):
            submit_block(runtime, user, live, row.request, now_ms=clock[0])
        sync_tick(runtime, clock[0])

    # Replay: the same, on the run's clock.
    run = replay.start_replay(runtime, user, "demo", SYMBOL, "1m", START)
    while run.status is not replay.RunStatus.DONE:
        for row in (r for r in rows if r.at_ms == run.cursor_ms):
            submit_block(runtime, user, run.account_id, row.request)
        run = replay.step_replay(runtime, user, run.id)

    # Backtest: one pass.
    test = replay.run_backtest(runtime, user, rows, "demo", "1m", START, START + BARS * MIN)

    expected = _trades(runtime, live)
    assert sum(1 for t in expected if t[1] == "closed") >= 4, expected  # the blocks did trade
    assert {t[4] for t in expected if t[4]} >= {"stop", "target"}, expected
    assert _trades(runtime, run.account_id) == expected
    assert _trades(runtime, test.account_id) == expected
