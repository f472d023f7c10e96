"""data inventory: per series level first/last candle and row count (candle_levels), and the data
page's repair/backfill jobs with their progress (data_jobs)

The levels already stored are counted once here, so the inventory is right from the start.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 10:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "candle_levels",
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("tf_ms", sa.BigInteger(), nullable=False),
        sa.Column("first_ts", sa.BigInteger(), nullable=False),
        sa.Column("last_ts", sa.BigInteger(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"], ["series.id"], name=op.f("fk_candle_levels_series_id_series"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("series_id", "tf_ms", name=op.f("pk_candle_levels")),
    )
    op.create_table(
        "data_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["series_id"], ["series.id"], name=op.f("fk_data_jobs_series_id_series"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_data_jobs_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_jobs")),
    )
    with op.batch_alter_table("data_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_data_jobs_series_id"), ["series_id"], unique=False)
    # One pass over what is stored (the only time candles are counted); series without a row in
    # `series` (none should exist) are left out by the join.
    op.execute(
        "INSERT INTO candle_levels (series_id, tf_ms, first_ts, last_ts, rows, updated_at) "
        "SELECT c.series_id, c.tf_ms, MIN(c.ts), MAX(c.ts), COUNT(*), CURRENT_TIMESTAMP FROM candles c "
        "WHERE c.series_id IN (SELECT id FROM series) GROUP BY c.series_id, c.tf_ms"
    )


def downgrade() -> None:
    with op.batch_alter_table("data_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_data_jobs_series_id"))
    op.drop_table("data_jobs")
    op.drop_table("candle_levels")
