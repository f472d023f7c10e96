"""A backtest file of blocks: one row a block, read into BlockRows by the same parser as the form's,
the API's and the webhooks' blocks (engine.blocks.api.parse_block), every bad cell a RowError.

Columns (CSV with a header, or Parquet; names are case-insensitive):
    time          when the block is submitted: ISO date-time (naive = UTC) or epoch ms
    symbol        BTC/USDT
    side          long | short
    entry_type    market | limit | stop
    entry_price   empty for a market entry
    stop_price    (or stop)
    targets       "price:share;price:share" with shares in %, e.g. "44000:50;45000:50", or bare
                  prices for equal shares ("44000;45000")
    size_mode     risk_pct | equity_pct | quote | base (as the block form)
    size_value
    breakeven, entry_timeout_min, max_duration_min   optional
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import pandas as pd

from engine.blocks.api import BlockRequest, parse_block
from engine.replay.records import BlockRow, RowError

MAX_ROWS = 10_000
REQUIRED = ("time", "symbol", "side", "entry_type", "stop_price", "targets", "size_mode", "size_value")
ALIASES = {"stop": "stop_price", "ts": "time", "timestamp": "time", "date": "time", "type": "entry_type"}
BLOCK_FIELDS = ("symbol", "entry_price", "stop_price", "target_prices", "target_shares", "size_value")
BLOCK_FIELDS += ("entry_timeout_min", "max_duration_min")
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"", "0", "false", "no", "off"}


def parse_block_rows(data: bytes, filename: str) -> tuple[list[BlockRow], list[RowError]]:
    """The file's blocks (by time) and every problem found; rows with a problem are left out, and a
    caller that gets any error runs nothing (a backtest of half a file would mislead)."""
    frame, problem = _read(data, filename)
    if frame is None:
        return [], [RowError(1, "file", problem)]
    missing = [name for name in REQUIRED if name not in frame.columns]
    if missing:
        return [], [RowError(1, "columns", f"missing {', '.join(missing)}; the file has {', '.join(frame.columns)}")]
    if len(frame) > MAX_ROWS:
        return [], [RowError(1, "file", f"at most {MAX_ROWS:,} blocks in one file; this one has {len(frame):,}")]
    if frame.empty:
        return [], [RowError(1, "file", "the file has no blocks")]
    rows: list[BlockRow] = []
    errors: list[RowError] = []
    for position, record in enumerate(frame.to_dict("records")):
        line = position + 2  # line 1 is the header
        row, row_errors = _row(line, record)
        errors += row_errors
        if row is not None:
            rows.append(row)
    return sorted(rows, key=lambda r: (r.at_ms, r.line)), errors


def _read(data: bytes, filename: str) -> tuple[pd.DataFrame | None, str]:
    name = filename.lower()
    try:
        if name.endswith(".parquet"):
            frame = pd.read_parquet(io.BytesIO(data)).astype(str)
        elif name.endswith(".csv"):
            frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, skipinitialspace=True)
        else:
            return None, "upload a .csv or .parquet file of blocks"
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        return None, f"the file cannot be read: {exc}"
    frame.columns = [ALIASES.get(str(c).strip().lower(), str(c).strip().lower()) for c in frame.columns]
    return frame, ""


def block_row(line: int, raw: Mapping[str, Any]) -> BlockRow | list[RowError]:
    """One block of a backtest from its raw values (a file's row, an API body's block), or every
    problem of it under `line`. Keys: `time` (ISO date-time, naive = UTC, or epoch ms) and
    `breakeven` (a bool or yes/no text) read here; the rest as engine.blocks.api.parse_block reads
    them (target_prices and target_shares as two lists)."""
    errors: list[RowError] = []
    text = str(raw.get("time") if raw.get("time") is not None else "").strip()
    at_ms = _time(text)
    if at_ms is None:
        errors.append(RowError(line, "time", f"{text!r} is not a date-time or epoch milliseconds"))
    breakeven = raw.get("breakeven")
    if not isinstance(breakeven, bool):
        word = str(breakeven if breakeven is not None else "").strip().lower()
        if word not in _TRUE | _FALSE:
            errors.append(RowError(line, "breakeven", f"{breakeven!r} is not yes or no"))
        breakeven = word in _TRUE
    block = {key: raw.get(key) for key in BLOCK_FIELDS}  # the run's exchange, not a row's, is traded
    block.update({key: str(raw.get(key) or "").strip().lower() for key in ("side", "entry_type", "size_mode")})
    parsed = parse_block({**block, "breakeven": breakeven})
    if not isinstance(parsed, BlockRequest):
        return errors + [RowError(line, e.field, e.message) for e in parsed]
    if errors or at_ms is None:
        return errors
    return BlockRow(line, at_ms, parsed)


def _row(line: int, record: dict[str, Any]) -> tuple[BlockRow | None, list[RowError]]:
    cell = {key: str(value).strip() for key, value in record.items()}
    prices, shares = _targets(cell.get("targets", ""))
    raw = {
        **cell,
        "entry_price": cell.get("entry_price") or None,
        "target_prices": prices or [],
        "target_shares": shares or [],
        "entry_timeout_min": cell.get("entry_timeout_min") or None,
        "max_duration_min": cell.get("max_duration_min") or None,
    }
    found = block_row(line, raw)
    if prices is None:  # the cell itself is unreadable: say how to write it, not that it is empty
        why = "write targets as price:share;price:share (shares in %), or bare prices for equal shares"
        errors = [e for e in found if e.field != "targets"] if isinstance(found, list) else []
        return None, [RowError(line, "targets", why), *errors]
    if isinstance(found, list):
        return None, found
    return found, []


def _time(text: str) -> int | None:
    if not text:
        return None
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        stamp = pd.Timestamp(text)
    except ValueError:
        return None
    if pd.isna(stamp):
        return None
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return int(stamp.value // 1_000_000)


def _targets(text: str) -> tuple[list[str] | None, list[str | None] | None]:
    """ "price:share;price:share" (shares in %), or bare prices "43000;44000" for equal shares."""
    prices: list[str] = []
    shares: list[str | None] = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        price, sep, share = (x.strip() for x in part.partition(":"))
        if not price or (sep and not share):
            return None, None
        prices.append(price)
        shares.append(share.rstrip("%") if sep else None)
    if not prices or len({share is None for share in shares}) > 1:  # all with a share, or none
        return None, None
    return prices, shares
