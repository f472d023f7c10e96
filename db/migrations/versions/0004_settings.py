"""settings: exchange accounts can be disabled (retired, kept for their blocks' history)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 11:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A server default, so existing rows get a value (SQLite adds a NOT NULL column only with one).
    with op.batch_alter_table("exchange_accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("disabled", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("exchange_accounts", schema=None) as batch_op:
        batch_op.drop_column("disabled")
