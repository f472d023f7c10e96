"""price alerts read candle highs and lows: the open time from which a candle is after the alert

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("price_alerts") as batch:
        batch.add_column(sa.Column("candles_from_ms", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("price_alerts") as batch:
        batch.drop_column("candles_from_ms")
