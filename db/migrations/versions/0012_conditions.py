"""block conditions: trade blocks that wait for a candle close, a price cross or a time

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    money = db.types.Money(precision=36, scale=18)
    op.create_table(
        "block_conditions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=True),
        sa.Column("exchange", sa.String(length=64), nullable=True),
        sa.Column("symbol", sa.String(length=64), nullable=True),
        sa.Column("timeframe", sa.String(length=8), nullable=True),
        sa.Column("price", money, nullable=True),
        sa.Column("at_ms", sa.BigInteger(), nullable=True),
        sa.Column("reference", money, nullable=True),
        sa.Column("block", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("block_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("armed_at_ms", sa.BigInteger(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_block_conditions_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["exchange_accounts.id"],
            name=op.f("fk_block_conditions_account_id_exchange_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["block_conditions.id"],
            name=op.f("fk_block_conditions_parent_id_block_conditions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["series_id"], ["series.id"], name=op.f("fk_block_conditions_series_id_series"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["block_id"], ["blocks.id"], name=op.f("fk_block_conditions_block_id_blocks"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_block_conditions")),
    )
    with op.batch_alter_table("block_conditions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_block_conditions_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_block_conditions_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_block_conditions_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_block_conditions_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("block_conditions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_block_conditions_status"))
        batch_op.drop_index(batch_op.f("ix_block_conditions_parent_id"))
        batch_op.drop_index(batch_op.f("ix_block_conditions_account_id"))
        batch_op.drop_index(batch_op.f("ix_block_conditions_user_id"))
    op.drop_table("block_conditions")
