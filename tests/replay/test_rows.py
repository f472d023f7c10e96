"""A backtest file of blocks read into rows: the columns, times, targets and every bad cell named by
line and field (the block rules themselves are engine.blocks' parser's, tested there)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd

from db.enums import EntryType, Side, SizeMode
from engine.replay.api import parse_block_rows

HEADER = "time,symbol,side,entry_type,entry_price,stop_price,targets,size_mode,size_value\n"
SAMPLE = Path(__file__).resolve().parents[2] / "assets" / "backtest-sample.csv"


def test_the_sample_file_the_backtest_page_offers_reads_clean() -> None:
    rows, errors = parse_block_rows(SAMPLE.read_bytes(), SAMPLE.name)
    assert errors == []
    assert len(rows) == 4
    first = rows[0]
    assert first.at_ms == 1_704_186_000_000  # 2024-01-02 09:00 UTC
    assert (first.request.side, first.request.entry_type, first.request.entry_price) == (
        Side.LONG,
        EntryType.MARKET,
        None,
    )
    assert [(t.price, t.share) for t in first.request.targets] == [
        (Decimal("43000"), Decimal("0.5")),
        (Decimal("44000"), Decimal("0.5")),
    ]
    assert rows[1].request.targets[0].share is None  # a bare price: equal shares


def test_rows_come_by_time_and_times_read_iso_or_epoch_ms() -> None:
    data = (
        HEADER
        + "1704186000000,BTC/USDT,short,limit,42500,43500,41000,base,0.1\n"
        + "2024-01-01 12:00,ETH/USDT,long,limit,2300,2250,2400:100,quote,1000\n"
    )
    rows, errors = parse_block_rows(data.encode(), "blocks.csv")
    assert errors == []
    assert [(r.line, r.symbol) for r in rows] == [(3, "ETH/USDT"), (2, "BTC/USDT")]
    assert rows[0].at_ms == 1_704_110_400_000
    assert rows[1].request.size_mode is SizeMode.BASE


def test_every_bad_cell_is_named_by_line_and_field_and_no_row_of_it_is_kept() -> None:
    data = (
        HEADER
        + "yesterday,BTC/USDT,long,limit,42000,41000,43000:50;44000,base,1\n"
        + "2024-01-02,BTC/USDT,sideways,limit,abc,41000,43000,base,1\n"
    )
    rows, errors = parse_block_rows(data.encode(), "blocks.csv")
    assert rows == []
    found = {(e.line, e.field) for e in errors}
    assert {(2, "time"), (2, "targets"), (3, "side"), (3, "entry_price")} <= found
    assert all(e.message for e in errors)


def test_the_file_itself_is_checked_first(tmp_path: Path) -> None:
    assert parse_block_rows(b"x", "blocks.txt")[1][0].message == "upload a .csv or .parquet file of blocks"
    _, errors = parse_block_rows(b"time,symbol\n1,BTC/USDT\n", "blocks.csv")
    assert errors[0].field == "columns"
    assert "missing side" in errors[0].message
    path = tmp_path / "blocks.parquet"
    pd.read_csv(SAMPLE, dtype=str, keep_default_na=False).to_parquet(path)
    rows, errors = parse_block_rows(path.read_bytes(), path.name)
    assert (len(rows), errors) == (4, [])
