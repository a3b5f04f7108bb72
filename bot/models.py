"""SQLAlchemy models: the database is the source of truth for every learner's tracker.

Every timestamp is stored as UTC (``UTCDateTime`` refuses naive values); study days are
plain dates in the learner's own zone, computed by ``bot.timing``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Store aware datetimes as UTC; give them back aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: store aware UTC datetimes only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _fk(target: str) -> ForeignKey:
    return ForeignKey(target, ondelete="CASCADE")


class Space(Base):
    """A Discord server, Slack workspace or the console: chooses the plan and a fallback channel."""

    __tablename__ = "spaces"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    plan_id: Mapped[str | None] = mapped_column(String(64))
    fallback_channel_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Learner(Base):
    """One person working through one plan, with their zone, commitment and schedule."""

    __tablename__ = "learners"
    __table_args__ = (
        UniqueConstraint("platform", "external_id"),
        Index("ix_learners_next_reminder_at", "next_reminder_at"),
        Index("ix_learners_next_digest_at", "next_digest_at"),
        Index("ix_learners_snoozed_until", "snoozed_until"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(100))
    home_space_id: Mapped[int | None] = mapped_column(
        ForeignKey("spaces.id", ondelete="SET NULL")
    )
    home_channel_id: Mapped[str | None] = mapped_column(String(64))
    plan_id: Mapped[str] = mapped_column(String(64))
    timezone: Mapped[str] = mapped_column(String(64))
    day_start_hour: Mapped[int] = mapped_column(Integer, default=0)
    start_date: Mapped[date] = mapped_column(Date)
    target_date: Mapped[date | None] = mapped_column(Date)
    commitment_minutes: Mapped[int] = mapped_column(Integer)
    commitment_weeks: Mapped[int] = mapped_column(Integer)
    goal: Mapped[str | None] = mapped_column(String(500))
    committed_on: Mapped[date | None] = mapped_column(Date)
    reminder_minute: Mapped[int | None] = mapped_column(Integer)  # local minutes after midnight
    digest_weekday: Mapped[int] = mapped_column(Integer, default=6)  # 0 = Monday
    digest_minute: Mapped[int] = mapped_column(Integer, default=18 * 60)
    digest_every_weeks: Mapped[int] = mapped_column(Integer, default=1)
    public_posts: Mapped[bool] = mapped_column(Boolean, default=True)
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TimeLog(Base):
    """Minutes of study on one local study day, with an optional topic."""

    __tablename__ = "time_logs"
    # The minutes ride in the index: a day's or a learner's totals read no table row.
    __table_args__ = (Index("ix_time_logs_learner_day_minutes", "learner_id", "study_date",
                            "minutes"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(_fk("learners.id"))
    study_date: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int] = mapped_column(Integer)
    topic: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ItemDone(Base):
    """A checklist item of the plan that the learner has completed."""

    __tablename__ = "items_done"
    __table_args__ = (UniqueConstraint("learner_id", "item_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(_fk("learners.id"))
    item_id: Mapped[str] = mapped_column(String(64))
    study_date: Mapped[date] = mapped_column(Date)
    done_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ScoreEntry(Base):
    """A scored thing of the plan (readiness /60, weekly quiz /20, ...): the latest value counts."""

    __tablename__ = "scores"
    __table_args__ = (UniqueConstraint("learner_id", "score_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(_fk("learners.id"))
    score_id: Mapped[str] = mapped_column(String(64))
    value: Mapped[int] = mapped_column(Integer)
    recorded_on: Mapped[date] = mapped_column(Date)


class MockInterview(Base):
    """One mock interview: its slot (1..N), date, score out of the plan's maximum, feedback."""

    __tablename__ = "mock_interviews"
    __table_args__ = (UniqueConstraint("learner_id", "slot"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(_fk("learners.id"))
    slot: Mapped[int] = mapped_column(Integer)
    held_on: Mapped[date] = mapped_column(Date)
    score: Mapped[int] = mapped_column(Integer)
    feedback: Mapped[str | None] = mapped_column(String(500))


class CounterValue(Base):
    """A counter of the plan (CUDA problems by category, kernels analysed...)."""

    __tablename__ = "counters"
    __table_args__ = (UniqueConstraint("learner_id", "counter_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(_fk("learners.id"))
    counter_id: Mapped[str] = mapped_column(String(64))
    value: Mapped[int] = mapped_column(Integer)


class SkillRating(Base):
    """A self-assessment of one skill (1-5) for one plan week."""

    __tablename__ = "skill_ratings"
    __table_args__ = (UniqueConstraint("learner_id", "skill_id", "week"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(_fk("learners.id"))
    skill_id: Mapped[str] = mapped_column(String(64))
    week: Mapped[int] = mapped_column(Integer)
    value: Mapped[int] = mapped_column(Integer)


class FieldValue(Base):
    """A free field of the plan: confidence scales, status choices, texts, percentages."""

    __tablename__ = "field_values"
    __table_args__ = (UniqueConstraint("learner_id", "field_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(_fk("learners.id"))
    field_id: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(String(1000))


class Note(Base):
    """A reflection: an insight of a week, a challenge with solution and learning, or a question."""

    __tablename__ = "notes"
    __table_args__ = (Index("ix_notes_learner_kind", "learner_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(_fk("learners.id"))
    kind: Mapped[str] = mapped_column(String(16))  # insight | challenge | question
    week: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(1000))
    solution: Mapped[str | None] = mapped_column(String(1000))
    learning: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Deadline(Base):
    """A dated goal of the learner's (the spec's "Upcoming Deadlines")."""

    __tablename__ = "deadlines"
    __table_args__ = (Index("ix_deadlines_learner_due", "learner_id", "due_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(_fk("learners.id"))
    title: Mapped[str] = mapped_column(String(100))
    due_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MilestoneReached(Base):
    """A milestone, celebration moment or achievement, recorded once with its date."""

    __tablename__ = "milestones_reached"
    __table_args__ = (
        UniqueConstraint("learner_id", "milestone_id"),
        Index("ix_milestones_reached_announced", "announced"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(_fk("learners.id"))
    milestone_id: Mapped[str] = mapped_column(String(64))
    reached_on: Mapped[date] = mapped_column(Date)
    reached_at: Mapped[datetime] = mapped_column(UTCDateTime())
    announced: Mapped[bool] = mapped_column(Boolean, default=False)


class Pause(Base):
    """A span of study days during which pings are silent and the streak is frozen."""

    __tablename__ = "pauses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(_fk("learners.id"))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)  # inclusive


class Partnership(Base):
    """An accountability partner: invited, accepted or ended, and what the learner shares."""

    __tablename__ = "partnerships"
    __table_args__ = (Index("ix_partnerships_learner", "learner_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(_fk("learners.id"))
    partner_platform: Mapped[str] = mapped_column(String(16))
    partner_external_id: Mapped[str] = mapped_column(String(64))
    partner_name: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))  # invited | accepted | ended
    share: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class UndoEntry(Base):
    """One change of a learner's, with the row operations that revert it."""

    __tablename__ = "undo_log"
    __table_args__ = (Index("ix_undo_log_learner", "learner_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(_fk("learners.id"))
    description: Mapped[str] = mapped_column(String(300))
    ops: Mapped[list[dict]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Notice(Base):
    """Something to tell the learner at their next command (a failed delivery, say)."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_learner", "learner_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(_fk("learners.id"))
    text: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Outbox(Base):
    """A message the scheduler owes someone; the unique key makes each one exactly once."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status", "status", "due_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    learner_id: Mapped[int | None] = mapped_column(_fk("learners.id"))
    recipient_platform: Mapped[str] = mapped_column(String(16))
    recipient_id: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16))  # pending | sent | failed | missed
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LinkedIdentity(Base):
    """Another front's identity of the same learner (Slack beside Discord, say)."""

    __tablename__ = "linked_identities"
    __table_args__ = (UniqueConstraint("platform", "external_id"),
                      Index("ix_linked_identities_learner", "learner_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(_fk("learners.id"))
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(100))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LinkCode(Base):
    """A short-lived one-time code that links another front's identity to a learner."""

    __tablename__ = "link_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    learner_id: Mapped[int] = mapped_column(_fk("learners.id"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


LEARNER_TABLES = (
    TimeLog,
    ItemDone,
    ScoreEntry,
    MockInterview,
    CounterValue,
    SkillRating,
    FieldValue,
    Note,
    Deadline,
    MilestoneReached,
    Pause,
    Partnership,
    UndoEntry,
    Notice,
    LinkedIdentity,
    LinkCode,
)


class DmChannel(Base):
    """The direct-message channel opened once for a user, so a DM costs one request later."""

    __tablename__ = "dm_channels"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(64))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProcessHeartbeat(Base):
    """One running Pacer process as its dispatcher last reported it (``python -m bot status``).

    ``shards`` is JSON text: ``[{"id": 0, "latency_ms": 41.5}]`` (a Discord front's shards; the
    latency is null before the first heartbeat acknowledgement).
    """

    __tablename__ = "process_heartbeats"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_tick_at: Mapped[datetime] = mapped_column(UTCDateTime())
    fronts: Mapped[str] = mapped_column(String(200), default="")
    shards: Mapped[str] = mapped_column(Text, default="[]")
