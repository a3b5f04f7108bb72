"""What is read of a learner in one go: the full snapshot, and the dispatcher's lean one.

``LearnerData`` (``load_many``/``load_one``) is the whole tracker: the input of every view,
export and milestone check. ``DispatchData`` (``bot.outbox.load_dispatch_data``) is what the
dispatcher's messages need, read fast for many learners: study time summed per day (no
topics), no counters, no free fields, no notices, and the day each score was recorded. Both
provide ``StudyRecord``, the part that the progress rules and the message builders read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple, Protocol

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import models as m


@dataclass(frozen=True)
class LogRow:
    """The minutes logged on one study day under one topic (or none), the entries summed.

    ``id`` and ``created_at`` are those of its first entry. Every view reads time by day and
    topic, so a snapshot holds one row per day and topic, however many entries made it.
    """

    id: int
    study_date: date
    minutes: int
    topic: str | None
    created_at: datetime


@dataclass(frozen=True)
class MockRow:
    slot: int
    held_on: date
    score: int
    feedback: str | None


@dataclass(frozen=True)
class NoteRow:
    id: int
    kind: str
    week: int | None
    text: str
    solution: str | None
    learning: str | None
    created_at: datetime


@dataclass(frozen=True)
class DeadlineRow:
    id: int
    title: str
    due_date: date


@dataclass(frozen=True)
class PartnerRow:
    id: int
    partner_platform: str
    partner_external_id: str
    partner_name: str
    status: str
    share: tuple[str, ...]


@dataclass(frozen=True)
class LearnerProfile:
    """The learner's settings, detached from the ORM."""

    id: int
    platform: str
    external_id: str
    display_name: str
    plan_id: str
    timezone: str
    day_start_hour: int
    start_date: date
    target_date: date | None
    commitment_minutes: int
    commitment_weeks: int
    goal: str | None
    committed_on: date | None
    reminder_minute: int | None
    digest_weekday: int
    digest_minute: int
    digest_every_weeks: int
    public_posts: bool
    home_channel_id: str | None
    snoozed_until: datetime | None
    next_reminder_at: datetime | None
    next_digest_at: datetime | None

    @classmethod
    def of(cls, row: m.Learner) -> LearnerProfile:
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})


class DayTotal(NamedTuple):
    """The minutes studied on one study day, summed over that day's logs."""

    study_date: date
    minutes: int


class StudyTime(Protocol):
    """A stretch of study time as the progress rules read it: a LogRow or a DayTotal."""

    @property
    def study_date(self) -> date: ...

    @property
    def minutes(self) -> int: ...


class StudyRecord(Protocol):
    """What the progress rules and the message builders read of a learner."""

    @property
    def profile(self) -> LearnerProfile: ...

    @property
    def logs(self) -> Sequence[StudyTime]: ...

    @property
    def done(self) -> Mapping[str, date]: ...

    @property
    def scores(self) -> Mapping[str, int]: ...

    @property
    def mocks(self) -> Sequence[MockRow]: ...

    @property
    def ratings(self) -> Mapping[str, Mapping[int, int]]: ...

    @property
    def notes(self) -> Sequence[NoteRow]: ...

    @property
    def deadlines(self) -> Sequence[DeadlineRow]: ...

    @property
    def milestones(self) -> Mapping[str, date]: ...

    @property
    def total_minutes(self) -> int: ...

    def minutes_by_day(self) -> dict[date, int]: ...

    def active_days(self) -> set[date]: ...

    def paused_days(self) -> set[date]: ...


class _StudyDays:
    """The day rules both snapshot types share (each holds logs, done items and pauses)."""

    logs: Sequence[StudyTime]
    done: dict[str, date]
    pauses: list[tuple[date, date]]

    def minutes_by_day(self) -> dict[date, int]:
        totals: dict[date, int] = defaultdict(int)
        for row in self.logs:
            totals[row.study_date] += row.minutes
        return dict(totals)

    @property
    def total_minutes(self) -> int:
        return sum(row.minutes for row in self.logs)

    def active_days(self) -> set[date]:
        return {row.study_date for row in self.logs} | set(self.done.values())

    def paused_days(self) -> set[date]:
        days: set[date] = set()
        for start, end in self.pauses:
            d = start
            while d <= end:
                days.add(d)
                d += timedelta(days=1)
        return days


@dataclass
class LearnerData(_StudyDays):
    """Everything stored about one learner that the views need."""

    profile: LearnerProfile
    logs: list[LogRow] = field(default_factory=list)
    done: dict[str, date] = field(default_factory=dict)
    scores: dict[str, int] = field(default_factory=dict)
    mocks: list[MockRow] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)
    ratings: dict[str, dict[int, int]] = field(default_factory=dict)  # skill -> week -> value
    fields: dict[str, str] = field(default_factory=dict)
    notes: list[NoteRow] = field(default_factory=list)
    deadlines: list[DeadlineRow] = field(default_factory=list)
    milestones: dict[str, date] = field(default_factory=dict)
    pauses: list[tuple[date, date]] = field(default_factory=list)
    partners: list[PartnerRow] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


@dataclass
class DispatchData(_StudyDays):
    """What the dispatcher's messages read of one learner (``bot.outbox.load_dispatch_data``).

    ``logs`` holds one ``DayTotal`` per study day; ``score_dates`` maps a score id to the
    study day it was recorded. Counters, free fields, notices and topics are not read.
    """

    profile: LearnerProfile
    logs: list[DayTotal] = field(default_factory=list)
    done: dict[str, date] = field(default_factory=dict)
    scores: dict[str, int] = field(default_factory=dict)
    score_dates: dict[str, date] = field(default_factory=dict)
    mocks: list[MockRow] = field(default_factory=list)
    ratings: dict[str, dict[int, int]] = field(default_factory=dict)  # skill -> week -> value
    notes: list[NoteRow] = field(default_factory=list)
    deadlines: list[DeadlineRow] = field(default_factory=list)
    milestones: dict[str, date] = field(default_factory=dict)
    pauses: list[tuple[date, date]] = field(default_factory=list)
    partners: list[PartnerRow] = field(default_factory=list)


_ROWS: dict[tuple[str, tuple[Any, ...]], Any] = {}


def _rows_of(model: type, order: tuple[Any, ...]) -> Any:
    """Return the prepared query of MODEL's rows for the learners bound as ``ids``.

    Plain rows of the table's columns, not ORM objects (building an object per row cost ten
    times the query); prepared once, since building the statement again cost as much as
    running it. (The time log, the one table that runs to hundreds of rows, is read summed by
    day and topic: ``_LOG_PARTS``.)
    """
    table = model.__table__  # type: ignore[attr-defined]
    key = (table.name, tuple(str(o) for o in order))
    stmt = _ROWS.get(key)
    if stmt is None:
        stmt = _ROWS[key] = (select(*table.c)
                             .where(table.c.learner_id.in_(bindparam("ids", expanding=True)))
                             .order_by(*order))
    return stmt


_T = m.TimeLog.__table__.c
# A learner's time log by day and topic, in the order the topics were first logged: a day of
# six hundred one-minute entries is one row, not six hundred.
_LOG_PARTS = (select(_T.learner_id, func.min(_T.id).label("id"), _T.study_date,
                     func.sum(_T.minutes).label("minutes"), _T.topic,
                     func.min(_T.created_at).label("created_at"))
              .where(_T.learner_id.in_(bindparam("ids", expanding=True)))
              .group_by(_T.learner_id, _T.study_date, _T.topic)
              .order_by(_T.learner_id, _T.study_date, func.min(_T.id)))


async def load_many(session: AsyncSession, learner_ids: Sequence[int]) -> dict[int, LearnerData]:
    """Load the snapshots of many learners with one query per table."""
    if not learner_ids:
        return {}
    ids = list(learner_ids)
    learners = (await session.scalars(select(m.Learner).where(m.Learner.id.in_(ids)))).all()
    data = {row.id: LearnerData(LearnerProfile.of(row)) for row in learners}

    async def rows(model: type, order: Iterable = ()) -> Sequence:
        return (await session.execute(_rows_of(model, tuple(order)), {"ids": ids})).all()

    for r in (await session.execute(_LOG_PARTS, {"ids": ids})).all():
        data[r.learner_id].logs.append(LogRow(r.id, r.study_date, int(r.minutes), r.topic,
                                              r.created_at))
    for r in await rows(m.ItemDone):
        data[r.learner_id].done[r.item_id] = r.study_date
    for r in await rows(m.ScoreEntry):
        data[r.learner_id].scores[r.score_id] = r.value
    for r in await rows(m.MockInterview, (m.MockInterview.slot,)):
        data[r.learner_id].mocks.append(MockRow(r.slot, r.held_on, r.score, r.feedback))
    for r in await rows(m.CounterValue):
        data[r.learner_id].counters[r.counter_id] = r.value
    for r in await rows(m.SkillRating):
        data[r.learner_id].ratings.setdefault(r.skill_id, {})[r.week] = r.value
    for r in await rows(m.FieldValue):
        data[r.learner_id].fields[r.field_id] = r.value
    for r in await rows(m.Note, (m.Note.id,)):
        data[r.learner_id].notes.append(
            NoteRow(r.id, r.kind, r.week, r.text, r.solution, r.learning, r.created_at)
        )
    for r in await rows(m.Deadline, (m.Deadline.due_date, m.Deadline.id)):
        data[r.learner_id].deadlines.append(DeadlineRow(r.id, r.title, r.due_date))
    for r in await rows(m.MilestoneReached):
        data[r.learner_id].milestones[r.milestone_id] = r.reached_on
    for r in await rows(m.Pause, (m.Pause.start_date,)):
        data[r.learner_id].pauses.append((r.start_date, r.end_date))
    for r in await rows(m.Partnership, (m.Partnership.id,)):
        data[r.learner_id].partners.append(
            PartnerRow(
                r.id, r.partner_platform, r.partner_external_id, r.partner_name, r.status,
                tuple(r.share or ()),
            )
        )
    return data


async def load_one(session: AsyncSession, learner_id: int) -> LearnerData:
    """Load one learner's snapshot."""
    return (await load_many(session, [learner_id]))[learner_id]
