"""dm channels: remember each user's opened DM channel

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 10:00:00

Opening a DM channel costs a REST request; a reminder must cost one request (the message)
in steady state, so the channel id is stored the first time it is opened. Adding a table is
safe while an older version runs.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dm_channels",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("opened_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "user_id"),
    )


def downgrade() -> None:
    op.drop_table("dm_channels")
