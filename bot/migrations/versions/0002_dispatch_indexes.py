"""dispatch indexes: snoozed reminders and unannounced milestones

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 12:00:00

The dispatcher's idle tick reads MIN(snoozed_until) and looks for milestones not yet
announced; both must be index searches, not table scans, at 100k learners.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("learners", schema=None) as batch_op:
        batch_op.create_index("ix_learners_snoozed_until", ["snoozed_until"], unique=False)
    with op.batch_alter_table("milestones_reached", schema=None) as batch_op:
        batch_op.create_index("ix_milestones_reached_announced", ["announced"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("milestones_reached", schema=None) as batch_op:
        batch_op.drop_index("ix_milestones_reached_announced")
    with op.batch_alter_table("learners", schema=None) as batch_op:
        batch_op.drop_index("ix_learners_snoozed_until")
