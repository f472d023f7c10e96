"""Settings: read from environment variables (and an optional `.env`), validated once at start.

Every setting is documented in the README. A bad value stops the app with one clear line per
problem instead of failing later somewhere deep in the engine.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import load_dotenv

from engine.common.timeframes import tf_ms

ROOT = Path(__file__).resolve().parent.parent
DEMO_EXCHANGE = "demo"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class ConfigError(ValueError):
    """Raised with every invalid setting listed, one per line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    exchanges: tuple[str, ...]
    instance_dir: Path
    engine_enabled: bool = True
    demo_seed: int = 42
    backfill_days: int = 30
    point_budget: int = 2_000
    log_level: str = "INFO"
    default_watchlist: tuple[tuple[str, str, str], ...] = ()
    encryption_keys: tuple[str, ...] = field(default=(), repr=False)
    admin_username: str | None = None
    admin_password: str | None = field(default=None, repr=False)


def normalize_database_url(url: str) -> str:
    """Make Heroku-style URLs use psycopg 3 (`postgres://` is what Heroku hands out)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _int(env: dict[str, str], name: str, default: int, low: int, high: int, problems: list[str]) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        problems.append(f"{name}={raw!r} is not a whole number")
        return default
    if not low <= value <= high:
        problems.append(f"{name}={value} must be between {low} and {high}")
    return value


def _bool(env: dict[str, str], name: str, default: bool, problems: list[str]) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    problems.append(f"{name}={raw!r} must be one of true/false, yes/no, on/off, 1/0")
    return default


def _exchanges(env: dict[str, str], problems: list[str]) -> tuple[str, ...]:
    raw = env.get("TRADEBLOCK_EXCHANGES", "").strip() or DEMO_EXCHANGE
    names = tuple(dict.fromkeys(n.strip().lower() for n in raw.split(",") if n.strip()))
    import ccxt  # imported here so a config error does not wait on ccxt's import

    unknown = [n for n in names if n != DEMO_EXCHANGE and n not in ccxt.exchanges]
    if unknown:
        problems.append(
            f"TRADEBLOCK_EXCHANGES names unknown exchanges {', '.join(unknown)}: "
            "use 'demo' or ccxt ids such as binance, okx, bybit"
        )
    return names


DEFAULT_WATCHLIST = "demo BTC/USDT 1m, demo ETH/USDT 1m, demo SOL/USDT 1m"


def _watchlist(
    env: dict[str, str], exchanges: tuple[str, ...], problems: list[str]
) -> tuple[tuple[str, str, str], ...]:
    raw = env.get("TRADEBLOCK_DEFAULT_WATCHLIST")
    if raw is None:
        raw = DEFAULT_WATCHLIST if DEMO_EXCHANGE in exchanges else ""
    entries = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        words = item.split()
        if len(words) != 3:
            problems.append(f"TRADEBLOCK_DEFAULT_WATCHLIST entry {item!r} must be 'exchange symbol timeframe'")
            continue
        exchange, symbol, timeframe = words[0].lower(), words[1].upper(), words[2]
        if exchange not in exchanges:
            problems.append(f"TRADEBLOCK_DEFAULT_WATCHLIST entry {item!r} uses {exchange}, not in TRADEBLOCK_EXCHANGES")
        try:
            tf_ms(timeframe)
        except ValueError as exc:
            problems.append(f"TRADEBLOCK_DEFAULT_WATCHLIST entry {item!r}: {exc}")
        entries.append((exchange, symbol, timeframe))
    return tuple(entries)


def _encryption_keys(env: dict[str, str], problems: list[str]) -> tuple[str, ...]:
    from cryptography.fernet import Fernet

    keys = tuple(k.strip() for k in env.get("TRADEBLOCK_ENCRYPTION_KEYS", "").split(",") if k.strip())
    for number, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            problems.append(
                f"TRADEBLOCK_ENCRYPTION_KEYS key {number} is not a Fernet key "
                "(make one with: python -c 'from engine.common.secrets import new_key; print(new_key())')"
            )
    return keys


def _secret_key(env: dict[str, str], instance_dir: Path, problems: list[str]) -> str:
    key = env.get("SECRET_KEY", "").strip()
    if key:
        if len(key) < 16:
            problems.append("SECRET_KEY must be at least 16 characters")
        return key
    # Zero set-up: a random key kept in the instance folder, so sessions survive restarts.
    path = instance_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Created owner-only (0600) in one step: writing first and chmod-ing after left a moment at 0644.
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
        handle.write(key)
    return key


def database_url_from(env: Mapping[str, str]) -> str:
    """DATABASE_URL, or the default SQLite file of the instance folder: what the app opens (a
    notebook reading candles needs this and nothing else of the settings)."""
    instance_dir = Path(env.get("TRADEBLOCK_INSTANCE_DIR", "").strip() or ROOT / "instance").resolve()
    return normalize_database_url(env.get("DATABASE_URL", "").strip() or f"sqlite:///{instance_dir / 'tradeblock.db'}")


def load_settings(env: dict[str, str] | None = None, dotenv: bool = True) -> Settings:
    """Read and validate the settings; raise ConfigError listing every bad value."""
    if env is None:
        if dotenv:
            load_dotenv(ROOT / ".env", override=False)
        env = dict(os.environ)
    problems: list[str] = []
    instance_dir = Path(env.get("TRADEBLOCK_INSTANCE_DIR", "").strip() or ROOT / "instance").resolve()
    database_url = database_url_from(env)
    if not database_url.startswith(("sqlite", "postgresql")):
        problems.append(
            f"DATABASE_URL must be a sqlite:/// or postgresql:// URL, got {database_url.split(':')[0]}://..."
        )
    log_level = env.get("TRADEBLOCK_LOG_LEVEL", "").strip().upper() or "INFO"
    if log_level not in LOG_LEVELS:
        problems.append(f"TRADEBLOCK_LOG_LEVEL={log_level!r} must be one of {', '.join(LOG_LEVELS)}")
    admin_username = env.get("TRADEBLOCK_ADMIN_USERNAME", "").strip() or None
    admin_password = env.get("TRADEBLOCK_ADMIN_PASSWORD", "") or None
    if bool(admin_username) != bool(admin_password):
        problems.append("TRADEBLOCK_ADMIN_USERNAME and TRADEBLOCK_ADMIN_PASSWORD must be set together")
    exchanges = _exchanges(env, problems)
    settings = Settings(
        database_url=database_url,
        secret_key=_secret_key(env, instance_dir, problems),
        exchanges=exchanges,
        default_watchlist=_watchlist(env, exchanges, problems),
        encryption_keys=_encryption_keys(env, problems),
        instance_dir=instance_dir,
        engine_enabled=_bool(env, "TRADEBLOCK_ENGINE", True, problems),
        demo_seed=_int(env, "TRADEBLOCK_DEMO_SEED", 42, 0, 2**31 - 1, problems),
        backfill_days=_int(env, "TRADEBLOCK_BACKFILL_DAYS", 30, 1, 3_650, problems),
        point_budget=_int(env, "TRADEBLOCK_POINT_BUDGET", 2_000, 100, 20_000, problems),
        log_level=log_level,
        admin_username=admin_username,
        admin_password=admin_password,
    )
    if problems:
        raise ConfigError(problems)
    return settings
