"""covering indexes: a learner's time log totals and waiting notices from the index alone

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 18:00:00

Every ``/log`` sums the day's minutes and the learner's minutes and entries; with the minutes
in the index those sums read no table row. Every write asks whether notices wait for the
learner, which scanned the whole table. Indexes only: safe while an older version runs.
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("time_logs", schema=None) as batch_op:
        batch_op.create_index("ix_time_logs_learner_day_minutes",
                              ["learner_id", "study_date", "minutes"], unique=False)
        batch_op.drop_index("ix_time_logs_learner_day")
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.create_index("ix_notices_learner", ["learner_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_index("ix_notices_learner")
    with op.batch_alter_table("time_logs", schema=None) as batch_op:
        batch_op.create_index("ix_time_logs_learner_day", ["learner_id", "study_date"],
                              unique=False)
        batch_op.drop_index("ix_time_logs_learner_day_minutes")
