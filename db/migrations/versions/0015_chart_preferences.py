"""chart preferences: each user's indicators on the chart and whether closed trades are marked

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 11:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chart_preferences",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("indicators", sa.Text(), nullable=False),
        sa.Column("show_trades", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_chart_preferences_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_chart_preferences")),
    )


def downgrade() -> None:
    op.drop_table("chart_preferences")
