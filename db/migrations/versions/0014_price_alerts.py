"""price alerts: levels that tell their user when the price crosses them

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 11:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    money = db.types.Money(precision=36, scale=18)
    op.create_table(
        "price_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=True),
        sa.Column("exchange", sa.String(length=64), nullable=False),
        sa.Column("symbol", sa.String(length=64), nullable=False),
        sa.Column("price", money, nullable=False),
        sa.Column(
            "direction",
            sa.Enum("above", "below", "crosses", name="alertdirection", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("reference", money, nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column(
            "state",
            sa.Enum("active", "triggered", "cancelled", name="alertstate", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("triggered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("price_seen", money, nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shown_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_price_alerts_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["series_id"], ["series.id"], name=op.f("fk_price_alerts_series_id_series"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_alerts")),
    )
    with op.batch_alter_table("price_alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_price_alerts_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_price_alerts_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("price_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_price_alerts_state"))
        batch_op.drop_index(batch_op.f("ix_price_alerts_user_id"))
    op.drop_table("price_alerts")
