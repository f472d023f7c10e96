"""The command line, run in-process on the test database (the demo exchange on the wall clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from click.testing import CliRunner

from engine.cli import cli
from engine.config import Settings
from engine.runtime import Runtime


@pytest.fixture
def run(runtime: Runtime, test_settings: Settings, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DATABASE_URL", test_settings.database_url)
    monkeypatch.setenv("TRADEBLOCK_INSTANCE_DIR", str(test_settings.instance_dir))
    monkeypatch.setenv("TRADEBLOCK_BACKFILL_DAYS", "1")
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> str:
        result = runner.invoke(cli, list(args), input=input, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    return invoke


def test_watch_backfill_gaps_and_export(run, tmp_path) -> None:
    run("create-user", "ann", "--role", "trader", input="a-long-password\na-long-password\n")
    out = run("watch", "demo", "ETH/USDT", "1m", "--user", "ann")
    assert "1440 candles stored" in out
    assert "ETH/USDT" in run("watchlist", "--user", "ann")
    assert "0 gaps" in run("gaps", "report")
    assert "demo ETH/USDT 1m: " in (listed := run("data"))
    assert "1,440 candles, 0 missing, 0 holes, 10 levels, backfill done" in listed

    since = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%d")
    out = run("backfill", "demo", "ETH/USDT", "1m", "--since", since)
    assert "candles stored" in out

    csv_path, parquet_path = tmp_path / "eth.csv", tmp_path / "eth-1h.parquet"
    run("export", "demo", "ETH/USDT", "1m", "--out", str(csv_path))
    run("export", "demo", "ETH/USDT", "1h", "--out", str(parquet_path))
    minutes, hours = pd.read_csv(csv_path), pd.read_parquet(parquet_path)
    assert list(minutes.columns) == ["time", "ts", "open", "high", "low", "close", "volume"]
    assert len(minutes) > 2 * 1440 - 5
    assert minutes["ts"].is_monotonic_increasing
    assert minutes["ts"].diff().dropna().eq(60_000).all()
    assert abs(len(hours) - len(minutes) / 60) <= 2
    assert hours["high"].max() == minutes["high"].max()


def test_cli_refuses_bad_input_clearly(run) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["watch", "demo", "BTC/USDT", "1m", "--user", "nobody"])
    assert result.exit_code != 0
    assert "no user 'nobody'" in result.output
    run("create-user", "bo", input="a-long-password\na-long-password\n")
    result = runner.invoke(cli, ["watch", "demo", "NOPE/USDT", "1m", "--user", "bo"])
    assert result.exit_code != 0
    assert "no market 'NOPE/USDT'" in result.output
    result = runner.invoke(cli, ["export", "demo", "BTC/USDT", "1m", "--out", "x.txt"])
    assert result.exit_code != 0
    assert "export to .csv or .parquet or .xlsx, not 'x.txt'" in result.output


def test_import_reads_the_exported_file_back_into_a_new_series(run, tmp_path) -> None:
    run("create-user", "ivy", "--role", "trader", input="a-long-password\na-long-password\n")
    run("watch", "demo", "SOL/USDT", "1m", "--user", "ivy")
    exported = tmp_path / "sol.csv"
    run("export", "demo", "SOL/USDT", "1m", "--out", str(exported))
    out = run("import", str(exported), "--exchange", "mydata", "--symbol", "sol/usdt", "--timeframe", "1m")
    assert "mydata SOL/USDT 1m: 1,440 candles stored of 1,440 read" in out
    listed = next(line for line in run("data").splitlines() if line.startswith("mydata SOL/USDT 1m: "))
    assert "1,440 candles, 0 missing, 0 holes, 10 levels" in listed
    result = CliRunner().invoke(cli, ["import", str(exported), "--exchange", "x", "--symbol", "S", "--timeframe", "7q"])
    assert result.exit_code != 0
    assert "7q" in result.output
