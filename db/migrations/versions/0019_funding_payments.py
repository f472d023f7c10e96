"""funding payments of perpetual positions, booked in the P&L of their blocks

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 16:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    money = db.types.Money(precision=36, scale=18)
    op.create_table(
        "funding_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("block_id", sa.Integer(), nullable=True),
        sa.Column("symbol", sa.String(length=64), nullable=False),
        sa.Column("payment_id", sa.String(length=64), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("amount", money, nullable=False),
        sa.Column("currency", sa.String(length=16), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["exchange_accounts.id"],
            name=op.f("fk_funding_payments_account_id_exchange_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["block_id"], ["blocks.id"], name=op.f("fk_funding_payments_block_id_blocks"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funding_payments")),
        sa.UniqueConstraint(
            "account_id", "payment_id", "part", name=op.f("uq_funding_payments_account_id_payment_id_part")
        ),
    )
    with op.batch_alter_table("funding_payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_funding_payments_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_funding_payments_block_id"), ["block_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_funding_payments_paid_at"), ["paid_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("funding_payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_funding_payments_paid_at"))
        batch_op.drop_index(batch_op.f("ix_funding_payments_block_id"))
        batch_op.drop_index(batch_op.f("ix_funding_payments_account_id"))
    op.drop_table("funding_payments")
