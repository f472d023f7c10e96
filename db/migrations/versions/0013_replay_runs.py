"""replay runs: replays and backtests on stored candles, each on its own replay account

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 08:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "replay_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("exchange", sa.String(length=32), nullable=False),
        sa.Column("timeframe", sa.String(length=8), nullable=False),
        sa.Column("symbols", sa.Text(), nullable=False),
        sa.Column("start_ms", sa.BigInteger(), nullable=False),
        sa.Column("end_ms", sa.BigInteger(), nullable=False),
        sa.Column("cursor_ms", sa.BigInteger(), nullable=False),
        sa.Column("trade_through", sa.Boolean(), nullable=False),
        sa.Column("slippage_bps", db.types.Money(precision=36, scale=18), nullable=False),
        sa.Column("bars_done", sa.Integer(), nullable=False),
        sa.Column("bars_total", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_replay_runs_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["exchange_accounts.id"],
            name=op.f("fk_replay_runs_account_id_exchange_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replay_runs")),
        sa.UniqueConstraint("account_id", name=op.f("uq_replay_runs_account_id")),
    )
    with op.batch_alter_table("replay_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_replay_runs_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("replay_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_replay_runs_user_id"))
    op.drop_table("replay_runs")
