"""The foundation: settings validation, migrations matching the models, both databases."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from db.enums import Role
from db.models import Base, User
from engine.common.timeframes import floor_ts, levels_above, tf_ms
from engine.config import ConfigError, load_settings, normalize_database_url
from engine.runtime import Runtime


def test_bad_settings_are_all_reported_at_once(tmp_path) -> None:
    env = {
        "TRADEBLOCK_INSTANCE_DIR": str(tmp_path),
        "DATABASE_URL": "mysql://x",
        "TRADEBLOCK_EXCHANGES": "demo,notanexchange",
        "TRADEBLOCK_BACKFILL_DAYS": "many",
        "TRADEBLOCK_ENGINE": "maybe",
        "SECRET_KEY": "short",
        "TRADEBLOCK_ENCRYPTION_KEYS": "not-a-key",
    }
    with pytest.raises(ConfigError) as err:
        load_settings(env)
    message = str(err.value)
    for fragment in (
        "DATABASE_URL",
        "notanexchange",
        "TRADEBLOCK_BACKFILL_DAYS",
        "TRADEBLOCK_ENGINE",
        "SECRET_KEY",
        "not a Fernet key",
    ):
        assert fragment in message
    assert len(err.value.problems) == 6


def test_defaults_give_sqlite_demo_and_a_persistent_secret(tmp_path) -> None:
    first = load_settings({"TRADEBLOCK_INSTANCE_DIR": str(tmp_path)})
    second = load_settings({"TRADEBLOCK_INSTANCE_DIR": str(tmp_path)})
    assert first.database_url == f"sqlite:///{tmp_path / 'tradeblock.db'}"
    assert first.exchanges == ("demo",)
    assert first.secret_key == second.secret_key
    assert len(first.secret_key) >= 32


def test_heroku_postgres_url_uses_psycopg3() -> None:
    assert normalize_database_url("postgres://u:p@h/db") == "postgresql+psycopg://u:p@h/db"


def test_migrations_match_models(runtime: Runtime) -> None:
    with runtime.db.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_roundtrip_a_row(session) -> None:
    session.add(User(username="ana", password_hash="x", role=Role.TRADER))
    session.commit()
    assert session.query(User).one().role is Role.TRADER


def test_timeframes() -> None:
    assert tf_ms("4h") == 14_400_000
    assert floor_ts(1_700_000_123_456, "1m") == 1_700_000_100_000
    # 2023-11-13 was a Monday: weekly candles open on Mondays.
    monday = 1_699_833_600_000
    assert floor_ts(monday + 3 * 86_400_000, "1w") == monday
    assert levels_above("1h") == ("2h", "4h", "12h", "1d", "1w")
    with pytest.raises(ValueError, match="unknown timeframe"):
        tf_ms("1x")
