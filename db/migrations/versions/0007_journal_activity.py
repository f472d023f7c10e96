"""journal and activity: a setup name, notes and tags on blocks; when a user was last seen

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 10:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("blocks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("setup", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("notes", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_blocks_setup"), ["setup"], unique=False)
    op.create_table(
        "block_tags",
        sa.Column("block_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["block_id"], ["blocks.id"], name=op.f("fk_block_tags_block_id_blocks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("block_id", "tag", name=op.f("pk_block_tags")),
    )
    with op.batch_alter_table("block_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_block_tags_tag"), ["tag"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("block_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_block_tags_tag"))
    op.drop_table("block_tags")
    with op.batch_alter_table("blocks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_blocks_setup"))
        batch_op.drop_column("notes")
        batch_op.drop_column("setup")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("last_seen_at")
