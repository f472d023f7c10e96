"""Alembic environment: runs against the engine handed in by db.migrate (never a URL from a file)."""

from __future__ import annotations

from alembic import context

from db.models import Base

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # Batch mode rebuilds tables on SQLite, which cannot ALTER most constraints in place.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        user_module_prefix="db.types.",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
