"""portfolio: balances and equity snapshots (issue 5)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 11:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _money() -> db.types.Money:
    return db.types.Money(precision=36, scale=18)


def upgrade() -> None:
    op.create_table(
        "account_balances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=32), nullable=False),
        sa.Column("free", _money(), nullable=False),
        sa.Column("used", _money(), nullable=False),
        sa.Column("total", _money(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["exchange_accounts.id"],
            name=op.f("fk_account_balances_account_id_exchange_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_balances")),
        sa.UniqueConstraint("account_id", "currency", name=op.f("uq_account_balances_account_id_currency")),
    )
    op.create_index(op.f("ix_account_balances_account_id"), "account_balances", ["account_id"], unique=False)
    op.create_table(
        "equity_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("quote", sa.String(length=32), nullable=False),
        sa.Column("cash", _money(), nullable=False),
        sa.Column("positions_value", _money(), nullable=False),
        sa.Column("unrealized_pnl", _money(), nullable=False),
        sa.Column("equity", _money(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["exchange_accounts.id"],
            name=op.f("fk_equity_snapshots_account_id_exchange_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_equity_snapshots_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equity_snapshots")),
        sa.UniqueConstraint("account_id", "day", name=op.f("uq_equity_snapshots_account_id_day")),
    )
    op.create_index(op.f("ix_equity_snapshots_account_id"), "equity_snapshots", ["account_id"], unique=False)
    op.create_index(op.f("ix_equity_snapshots_user_id"), "equity_snapshots", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_equity_snapshots_user_id"), table_name="equity_snapshots")
    op.drop_index(op.f("ix_equity_snapshots_account_id"), table_name="equity_snapshots")
    op.drop_table("equity_snapshots")
    op.drop_index(op.f("ix_account_balances_account_id"), table_name="account_balances")
    op.drop_table("account_balances")
