"""process heartbeats: each running process's last dispatcher tick, fronts and shards

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 12:30:00

``python -m bot status`` and ``/pacer status`` show every process that ticks against the
database. A new table only: safe while an older version runs.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.models import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "process_heartbeats",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_tick_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("fronts", sa.String(length=200), nullable=False),
        sa.Column("shards", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_process_heartbeats")),
    )


def downgrade() -> None:
    op.drop_table("process_heartbeats")
