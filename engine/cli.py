"""The command line: `python -m engine COMMAND` (database, users, markets, watchlist, backfill,
gaps, export, report, secrets; backtests in engine.cli_replay). Long commands show a progress bar."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import click
from sqlalchemy import select
from tqdm import tqdm

from db import migrate
from db.enums import Role
from db.models import Series, User
from engine.common.precision import plural
from engine.config import load_settings
from engine.exchanges import api as exchanges
from engine.market import api as market
from engine.notify import api as notify
from engine.reports import api as reports
from engine.runtime import Runtime, build_runtime, configure_logging
from engine.users import api as users
from engine.users.api import UserError, create_user


def runtime_from_env(upgrade_schema: bool = True) -> Runtime:
    settings = load_settings()
    configure_logging(settings.log_level)
    return build_runtime(settings, upgrade_schema=upgrade_schema)


@contextmanager
def progress_bar(description: str, unit: str = "candle") -> Iterator[market.Progress]:
    bar = tqdm(desc=description, unit=unit, total=0, dynamic_ncols=True)

    def update(done: int, total: int) -> None:
        bar.total = max(total, done)
        bar.n = done
        bar.refresh()

    try:
        yield update
    finally:
        bar.close()


def parse_day(value: str | None) -> int | None:
    if value is None:
        return None
    return int(datetime.fromisoformat(value).replace(tzinfo=UTC).timestamp() * 1000)


def find_user(runtime: Runtime, username: str) -> User:
    with runtime.sessions() as session:
        user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    return user


def find_series(runtime: Runtime, exchange: str, symbol: str, timeframe: str) -> Series:
    with runtime.sessions() as session:
        series = session.scalar(
            select(Series).where(Series.exchange == exchange, Series.symbol == symbol, Series.timeframe == timeframe)
        )
    if series is None:
        raise click.ClickException(f"no stored series {exchange} {symbol} {timeframe}: watch it first")
    return series


@click.group()
def cli() -> None:
    """Tradeblock's engine from the command line."""


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations."""
    runtime_from_env(upgrade_schema=True)
    click.echo("schema is up to date")


@db.command("revision")
@click.option("-m", "--message", required=True, help="What the migration changes.")
def db_revision(message: str) -> None:
    """Autogenerate a migration from db/models.py against the current schema."""
    runtime = runtime_from_env(upgrade_schema=True)
    migrate.revision(runtime.db, message)


@cli.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.TRADER.value, show_default=True)
@click.password_option()
def create_user_command(username: str, role: str, password: str) -> None:
    """Create a user (the first admin, for instance)."""
    runtime = runtime_from_env()
    try:
        with runtime.sessions.begin() as session:
            create_user(session, username, password, Role(role))
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"user {username} created ({role})")


@cli.command("sync-markets")
@click.argument("exchange")
def sync_markets_command(exchange: str) -> None:
    """Load an exchange's markets into the markets table."""
    runtime = runtime_from_env()
    count = market.sync_markets(runtime.sessions, exchanges.source(runtime, exchange))
    click.echo(f"{exchange}: {count} markets")


@cli.command()
@click.argument("exchange")
@click.argument("symbol")
@click.argument("timeframe")
@click.option("--user", "username", required=True, help="Whose watchlist.")
def watch(exchange: str, symbol: str, timeframe: str, username: str) -> None:
    """Add a series to a watchlist and backfill its recent history."""
    runtime = runtime_from_env()
    user = find_user(runtime, username)
    try:
        series = market.watch(runtime, user.id, exchange, symbol, timeframe)
    except market.WatchError as exc:
        raise click.ClickException(str(exc)) from exc
    with progress_bar(f"{exchange} {symbol} {timeframe}") as update:
        stored = market.backfill_recent(runtime, series, update)
    click.echo(f"watching {exchange} {symbol} {timeframe}; {stored} candles stored")


@cli.command()
@click.argument("exchange")
@click.argument("symbol")
@click.argument("timeframe")
@click.option("--user", "username", required=True)
def unwatch(exchange: str, symbol: str, timeframe: str, username: str) -> None:
    """Remove a series from a watchlist (its candles stay stored)."""
    runtime = runtime_from_env()
    user, series = find_user(runtime, username), find_series(runtime, exchange, symbol, timeframe)
    with runtime.sessions.begin() as session:
        removed = market.remove_watch(session, user.id, series.id)
    click.echo("removed" if removed else "was not watched")


@cli.command()
@click.option("--user", "username", required=True)
def watchlist(username: str) -> None:
    """List a user's watchlist with backfill progress."""
    runtime = runtime_from_env()
    user = find_user(runtime, username)
    with runtime.sessions() as session:
        for entry in market.user_watchlist(session, user.id):
            click.echo(
                f"{entry.exchange:10} {entry.symbol:16} {entry.timeframe:4} {entry.backfill_status.value:8} "
                f"{entry.progress:6.1%}"
            )


@cli.command("backfill")
@click.argument("exchange")
@click.argument("symbol")
@click.argument("timeframe")
@click.option("--since", help="First day to fetch (YYYY-MM-DD); default: the whole history.")
def backfill_command(exchange: str, symbol: str, timeframe: str, since: str | None) -> None:
    """Fetch history (the whole of it unless --since), resumable after an interruption."""
    runtime = runtime_from_env()
    with runtime.sessions.begin() as session:
        series = market.get_or_create_series(session, exchange, symbol, timeframe)
    with progress_bar(f"backfill {exchange} {symbol} {timeframe}") as update:
        result = market.backfill_from(runtime, series, parse_day(since), update)
    click.echo(f"{result.stored} candles stored in {result.requests} requests ({result.rejected} rejected as dirty)")


@cli.group()
def gaps() -> None:
    """Missing intervals in stored series."""


def _series_selection(runtime: Runtime, exchange: str | None, symbol: str | None) -> list[Series]:
    with runtime.sessions() as session:
        query = select(Series).order_by(Series.id)
        if exchange:
            query = query.where(Series.exchange == exchange)
        if symbol:
            query = query.where(Series.symbol == symbol)
        return list(session.scalars(query))


@gaps.command("report")
@click.option("--exchange")
@click.option("--symbol")
def gaps_report(exchange: str | None, symbol: str | None) -> None:
    """List the gaps of every stored series (known exchange holes left out)."""
    runtime = runtime_from_env()
    for series in _series_selection(runtime, exchange, symbol):
        with runtime.sessions() as session:
            found = market.find_gaps(session.connection(), series.id, series.timeframe)
        missing = sum(g.missing for g in found)
        click.echo(
            f"{series.exchange} {series.symbol} {series.timeframe}: {len(found)} gaps, {missing} candles missing"
        )
        for gap in found:
            start = datetime.fromtimestamp(gap.start_ts / 1000, UTC).isoformat()
            click.echo(f"  from {start} missing {gap.missing} x {series.timeframe}")


@gaps.command("repair")
@click.option("--exchange")
@click.option("--symbol")
def gaps_repair(exchange: str | None, symbol: str | None) -> None:
    """Refetch the gaps; remember the ones the exchange has no data for."""
    runtime = runtime_from_env()
    for series in _series_selection(runtime, exchange, symbol):
        with progress_bar(f"repair {series.exchange} {series.symbol} {series.timeframe}", unit="gap") as update:
            result = market.repair(runtime, series, update)
        click.echo(f"  {result.gaps} gaps: {result.filled} candles filled, {result.holes_recorded} holes recorded")


def _period(year: int, month: int | None) -> tuple[str, date]:
    """The calendar view and anchor of --year [--month]."""
    return ("month", date(year, month, 1)) if month else ("year", date(year, 1, 1))


@cli.command()
@click.argument("exchange", required=False)
@click.argument("symbol", required=False)
@click.argument("timeframe", required=False)
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--since", help="YYYY-MM-DD")
@click.option("--until", help="YYYY-MM-DD (exclusive)")
@click.option("--user", "username", help="Export this user's trades or daily P&L instead of a series.")
@click.option("--year", type=int, help="With --user: the year (the month with --month).")
@click.option("--month", type=click.IntRange(1, 12))
@click.option("--kind", type=click.Choice(reports.KINDS), default="trades", show_default=True)
@click.option("--format", "fmt", type=click.Choice(reports.FORMATS), help="With --user; default: from --out.")
def export(
    exchange: str | None,
    symbol: str | None,
    timeframe: str | None,
    out_path: Path,
    since: str | None,
    until: str | None,
    username: str | None,
    year: int | None,
    month: int | None,
    kind: str,
    fmt: str | None,
) -> None:
    """Export a stored series (EXCHANGE SYMBOL TIMEFRAME, any pyramid level) to .csv, .parquet or .xlsx, or
    with --user a user's closed trades or daily P&L (--kind) of --year [--month] to CSV or xlsx."""
    runtime = runtime_from_env()
    if username:
        if year is None:
            raise click.ClickException("--user needs --year")
        user = find_user(runtime, username)
        view, anchor = _period(year, month)
        fmt = fmt or ("xlsx" if out_path.suffix.lower() == ".xlsx" else "csv")
        _, content = reports.export_file(runtime, user.id, user.timezone, view, anchor, kind, fmt)
        out_path.write_bytes(content)
        click.echo(f"{username}'s {kind} written to {out_path} ({fmt})")
        return
    if not (exchange and symbol and timeframe):
        raise click.ClickException("give EXCHANGE SYMBOL TIMEFRAME, or --user")
    if out_path.suffix.lower() not in market.EXPORT_FORMATS:
        raise click.ClickException(f"export to {' or '.join(market.EXPORT_FORMATS)}, not {out_path.name!r}")
    base = _base_series_for(runtime, exchange, symbol, timeframe)
    with runtime.sessions() as session:
        rows = market.export_series(session.connection(), base, timeframe, out_path, parse_day(since), parse_day(until))
    click.echo(f"{rows} candles written to {out_path}")


@cli.command()
@click.option("--user", "username", required=True)
@click.option("--year", type=int, required=True)
@click.option("--month", type=click.IntRange(1, 12), help="A month's report instead of the year's.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), required=True)
def report(username: str, year: int, month: int | None, out_path: Path) -> None:
    """A user's account report of a year or a month as PDF."""
    runtime = runtime_from_env()
    user = find_user(runtime, username)
    view, anchor = _period(year, month)
    with progress_bar(f"report {username} {year}{f'-{month:02d}' if month else ''}", unit="step") as update:
        _, pdf = reports.report_file(runtime, user.id, view, anchor, progress=update)
    out_path.write_bytes(pdf)
    click.echo(f"report written to {out_path} ({len(pdf):,} bytes)")


def _base_series_for(runtime: Runtime, exchange: str, symbol: str, timeframe: str) -> Series:
    try:
        with runtime.sessions() as session:
            found = market.base_series(session, exchange, symbol, timeframe)
    except ValueError as exc:  # an unknown timeframe
        raise click.ClickException(str(exc)) from exc
    if found is None:
        raise click.ClickException(f"no stored series of {exchange} {symbol} can give {timeframe} candles")
    return found


@cli.group()
def secrets() -> None:
    """Encryption keys of the stored exchange credentials (TRADEBLOCK_ENCRYPTION_KEYS)."""


def _print_key_status(status: users.KeyStatus) -> None:
    for label, count in zip(status.labels, status.readable, strict=True):
        click.echo(f"{label}: reads {plural(count, 'credential')}")
    if status.unreadable:
        ids = ", ".join(str(i) for i in status.unreadable)
        click.echo(f"no key reads a credential of account(s) {ids}: enter those credentials again")
    if status.still_needed:
        click.echo(f"still needed: {', '.join(status.still_needed)} (run `python -m engine secrets rotate`)")
    else:
        click.echo("still needed: none of the older keys; only the first key is in use")


@secrets.command("status")
def secrets_status() -> None:
    """Which key reads how many stored credentials."""
    _print_key_status(users.key_status(runtime_from_env()))


@secrets.command("rotate")
@click.option("--batch-size", default=100, show_default=True, type=click.IntRange(min=1), help="Accounts per commit.")
def secrets_rotate(batch_size: int) -> None:
    """Re-encrypt every stored credential with the first key (safe to run again)."""
    runtime = runtime_from_env()
    with progress_bar("rotating credentials", unit="account") as update:
        report = users.rotate_credentials(runtime, batch_size=batch_size, progress=update)
    click.echo(f"{report.rotated} credentials re-encrypted, {report.current} already under the first key")
    urls, unreadable = notify.rotate_urls(runtime)
    click.echo(
        f"{urls} notification URLs re-encrypted" + (f", {unreadable} unreadable by every key" if unreadable else "")
    )
    _print_key_status(report.status)


@cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--exchange", required=True, help="The exchange the candles are of (any name: demo, binance, mydata).")
@click.option("--symbol", required=True)
@click.option("--timeframe", required=True, help="The file's timeframe (1m, 1h, ...): off-grid rows are rejected.")
def import_command(file: Path, exchange: str, symbol: str, timeframe: str) -> None:
    """Candles from a CSV or Parquet file into the store, cleaned like an exchange's, with their pyramid."""
    runtime = runtime_from_env()
    try:
        rows = market.read_candle_file(file, file.suffix)
        series_id = market.import_series(runtime, exchange, symbol, timeframe)
    except ValueError as exc:  # CandleFileError, an unknown timeframe
        raise click.ClickException(str(exc)) from exc
    with progress_bar(f"import {file.name}", unit="row") as update:
        result = market.import_candles(runtime, series_id, rows, update)
    click.echo(f"{exchange} {symbol.upper()} {timeframe}: {result.summary()}")


@cli.command("data")
def data_command() -> None:
    """What the store holds: per series its own level's first/last candle, rows, missing candles,
    exchange holes, backfill state and latest data job (from the summary, no candle is counted)."""
    runtime = runtime_from_env()
    for entry in market.data_inventory(runtime):
        own = entry.own
        name = f"{entry.exchange} {entry.symbol} {entry.timeframe}"
        if own is None:
            click.echo(f"{name}: no candles (backfill {entry.backfill_status})")
            continue
        first = datetime.fromtimestamp(own.first_ts / 1000, UTC).isoformat(timespec="minutes")
        last = datetime.fromtimestamp(own.last_ts / 1000, UTC).isoformat(timespec="minutes")
        job = f", last job {entry.job.kind} {entry.job.status}" if entry.job else ""
        click.echo(
            f"{name}: {first} .. {last}, {own.rows:,} candles, {own.missing:,} missing, {entry.holes:,} holes, "
            f"{len(entry.levels)} levels, backfill {entry.backfill_status}{job}"
        )


from engine import cli_replay  # noqa: E402, F401 - its commands join the group (it imports this module)
