"""The command line's backtests: `python -m engine backtest FILE --series demo:1m --out trades.csv`
and `python -m engine sample` (the sample backtest of the empty calendar), with a progress bar."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click

from engine.cli import cli, find_user, parse_day, progress_bar, runtime_from_env
from engine.common.precision import plural
from engine.replay import api as replay
from engine.runtime import Runtime


@cli.command("backtest")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--series", required=True, help="EXCHANGE:TIMEFRAME of the stored candles, e.g. demo:1m.")
@click.option("--user", "username", required=True, help="Whose run (its account shows in their calendar).")
@click.option("--start", help="First day (YYYY-MM-DD, UTC); default: the first block's time.")
@click.option("--end", help="Day after the last (YYYY-MM-DD, UTC); default: the last stored candle.")
@click.option("--slippage-bps", default="0", show_default=True, help="Stops and market orders fill this much worse.")
@click.option("--touch", is_flag=True, help="A touch fills a limit (default: the price must trade through it).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the closed trades here (CSV).")
def backtest_command(
    file: Path,
    series: str,
    username: str,
    start: str | None,
    end: str | None,
    slippage_bps: str,
    touch: bool,
    out: Path | None,
) -> None:
    """Backtest the blocks of FILE (CSV or Parquet, one block a row) through the engine in one pass."""
    exchange, _, timeframe = series.partition(":")
    if not exchange or not timeframe:
        raise click.BadParameter("give the series as EXCHANGE:TIMEFRAME, e.g. demo:1m", param_hint="--series")
    rows, errors = replay.parse_block_rows(file.read_bytes(), file.name)
    if errors:
        raise click.ClickException("\n".join(f"line {e.line} {e.field}: {e.message}" for e in errors))
    runtime = runtime_from_env()
    user = find_user(runtime, username)
    variant = replay.FillVariant(limit_requires_trade_through=not touch, slippage_bps=_decimal(slippage_bps))
    with progress_bar(f"backtest {file.name}", unit="bar") as update:
        try:
            run = replay.run_backtest(
                runtime,
                user.id,
                rows,
                exchange,
                timeframe,
                parse_day(start),
                parse_day(end),
                file.stem,
                variant,
                update,
            )
        except replay.RunRejected as exc:
            raise click.ClickException(str(exc)) from exc
    _print(runtime, user.id, run, out)


@cli.command("sample")
@click.option("--user", "username", required=True, help="Whose calendar gets the sample's trades.")
def sample_command(username: str) -> None:
    """Run the sample backtest over the stored demo history (what the empty calendar's button runs)."""
    runtime = runtime_from_env()
    user = find_user(runtime, username)
    with progress_bar("sample backtest", unit="bar") as update:
        try:
            run = replay.sample_backtest(runtime, user.id, update)
        except replay.RunRejected as exc:
            raise click.ClickException(str(exc)) from exc
    _print(runtime, user.id, run, None)


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise click.BadParameter(f"{text!r} is not a number", param_hint="--slippage-bps") from exc


def _print(runtime: Runtime, user_id: int, run: replay.RunSummary, out: Path | None) -> None:
    report = replay.run_report(runtime, user_id, run.id)
    click.echo(
        f"{run.name}: {plural(run.blocks, 'block')}, {plural(run.trades_closed, 'closed trade')}, "
        f"net P&L {run.net_pnl:,.2f}, max drawdown {report.max_drawdown_pct:.2f} %"
        + (f", win rate {report.win_rate:.1f} %" if report.win_rate is not None else "")
        + f" (account #{run.account_id}: pick it in the calendar)"
    )
    if run.error:
        click.echo(f"refused: {run.error}", err=True)
    if out is not None:
        with out.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["opened", "closed", "symbol", "side", "entry", "exit", "amount", "net_pnl", "reason"])
            for t in report.trades:
                writer.writerow(
                    [
                        _iso(t.opened_ms),
                        _iso(t.closed_ms),
                        t.symbol,
                        t.side,
                        t.entry_price,
                        t.exit_price,
                        t.amount,
                        t.net_pnl,
                        t.close_reason,
                    ]
                )
        click.echo(f"{plural(len(report.trades), 'trade')} written to {out}")


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")
