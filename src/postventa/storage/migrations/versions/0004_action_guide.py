"""action guide: option uses (caps, throttle) and the SQLite per-sale lock

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-25 08:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import postventa.storage.types

revision: str = "0004"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "action_guide_uses",
        sa.Column("seller_id", sa.BigInteger(), nullable=False),
        sa.Column("pack_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("message_id", sa.String(length=32), nullable=False),
        sa.Column("option_id", sa.String(length=32), nullable=False),
        sa.Column("used_at", postventa.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["seller_id", "pack_id"],
            ["conversations.seller_id", "conversations.pack_id"],
            name=op.f("fk_action_guide_uses_seller_id_pack_id_conversations"),
        ),
        sa.PrimaryKeyConstraint(
            "seller_id", "pack_id", "message_id", name=op.f("pk_action_guide_uses")
        ),
    )
    op.create_index(
        "ix_action_guide_uses_seller_used_at",
        "action_guide_uses",
        ["seller_id", "used_at"],
        unique=False,
    )
    op.create_table(
        "action_guide_locks",
        sa.Column("seller_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("pack_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("holder", sa.String(length=32), nullable=False),
        sa.Column("expires_at", postventa.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seller_id", "pack_id", name=op.f("pk_action_guide_locks")),
    )


def downgrade() -> None:
    op.drop_table("action_guide_locks")
    op.drop_index("ix_action_guide_uses_seller_used_at", table_name="action_guide_uses")
    op.drop_table("action_guide_uses")
