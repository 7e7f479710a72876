"""merge notifications and action guide

Revision ID: 0005
Revises: 0003, 0004
Create Date: 2026-11-25 09:37:26.747103
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0005"
down_revision: str | Sequence[str] | None = ("0003", "0004")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
