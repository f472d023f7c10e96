"""base fees: what a fee in the base coin took from an order, fees in a third currency, a note on the trade

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 11:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Server defaults, so existing orders read as "no fee in the base coin" (SQLite needs one for NOT NULL).
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("fee_base", db.types.Money(precision=36, scale=18), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("fee_other", db.types.Money(precision=36, scale=18), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("fee_other_currency", sa.String(length=16), nullable=True))
    with op.batch_alter_table("trades", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fee_note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("trades", schema=None) as batch_op:
        batch_op.drop_column("fee_note")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("fee_other_currency")
        batch_op.drop_column("fee_other")
        batch_op.drop_column("fee_base")
