"""derivatives: a block's leverage and margin mode, a market's highest leverage, a paper order's
leverage

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("blocks") as batch:
        batch.add_column(sa.Column("leverage", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column(
                "margin_mode",
                sa.Enum("isolated", "cross", name="marginmode", native_enum=False, length=24),
                nullable=True,
            )
        )
    with op.batch_alter_table("markets") as batch:
        batch.add_column(sa.Column("max_leverage", sa.Integer(), nullable=True))
    with op.batch_alter_table("paper_orders") as batch:
        batch.add_column(sa.Column("leverage", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("paper_orders") as batch:
        batch.drop_column("leverage")
    with op.batch_alter_table("markets") as batch:
        batch.drop_column("max_leverage")
    with op.batch_alter_table("blocks") as batch:
        batch.drop_column("margin_mode")
        batch.drop_column("leverage")
