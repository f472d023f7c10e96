"""Instance files are created owner-only (0600): the SQLite database with its -wal and -shm, the
generated secret key and the engine lock; none is readable by other users of the host."""

from __future__ import annotations

import stat
from pathlib import Path

from sqlalchemy import text

from db.session import make_engine
from engine.config import load_settings
from engine.lock import EngineLock


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_sqlite_database_and_its_wal_and_shm_are_created_0600(tmp_path: Path) -> None:
    database = tmp_path / "instance" / "tradeblock.db"
    engine = make_engine(f"sqlite:///{database}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
    with engine.connect() as conn:  # a reader while the WAL is there keeps -wal and -shm on disk
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 1
        for suffix in ("", "-wal", "-shm"):
            path = Path(f"{database}{suffix}")
            assert path.exists(), path
            assert mode_of(path) == 0o600, (path, oct(mode_of(path)))
    engine.dispose()


def test_an_existing_database_keeps_its_mode(tmp_path: Path) -> None:
    database = tmp_path / "shared.db"
    database.touch(mode=0o640)
    database.chmod(0o640)
    engine = make_engine(f"sqlite:///{database}")
    with engine.begin() as conn:
        conn.execute(text("SELECT 1"))
    engine.dispose()
    assert mode_of(database) == 0o640


def test_the_generated_secret_key_is_0600(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    settings = load_settings({"TRADEBLOCK_INSTANCE_DIR": str(instance)}, dotenv=False)
    key_file = instance / "secret_key"
    assert mode_of(key_file) == 0o600
    assert key_file.read_text() == settings.secret_key
    again = load_settings({"TRADEBLOCK_INSTANCE_DIR": str(instance)}, dotenv=False)
    assert again.secret_key == settings.secret_key  # kept across restarts


def test_the_engine_lock_file_is_0600(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'tradeblock.db'}")
    lock = EngineLock(engine, tmp_path)
    assert lock.acquire()
    try:
        assert mode_of(lock.lock_path) == 0o600
    finally:
        lock.release()
        engine.dispose()
