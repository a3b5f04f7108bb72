"""Milestones: which ones a change reached, read from just the facts their conditions need."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, bindparam, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot import models as m
from bot.plan import Milestone, Plan
from bot.progress import (
    MilestoneFacts,
    condition_tables,
    date_milestones,
    milestones_now_reached,
)

if TYPE_CHECKING:
    from bot.services.units import Unit


async def record_milestone(unit: Unit, milestone_id: str, reached_on: date, *,
                           announced: bool = True) -> None:
    """Record a reached milestone as part of this change (undo removes it again)."""
    await unit.changes.add(m.MilestoneReached(
        learner_id=unit.row.id, milestone_id=milestone_id, reached_on=reached_on,
        reached_at=unit.now, announced=announced))


async def redate_milestone(unit: Unit, milestone_id: str, day: date) -> None:
    """Change the date a recorded milestone was reached."""
    unit.changes.set(await unit.find(m.MilestoneReached, milestone_id=milestone_id),
                     reached_on=day)


@dataclass(frozen=True, eq=False)
class _PlanReads:
    """What a plan's milestone conditions read, worked out once per plan (plans are frozen)."""

    plan: Plan
    pairs: tuple[tuple[Milestone, frozenset[str]], ...]  # each milestone, the tables it reads
    read: dict[str, frozenset[str]]  # milestone id: the tables its condition reads
    order: dict[str, int]  # milestone id: its place in the plan
    followers: tuple[Milestone, ...]  # milestones that read no table (only other milestones)
    candidates: dict[frozenset[str], tuple[tuple[Milestone, ...], frozenset[str]]] = field(
        default_factory=dict)

    @classmethod
    def of(cls, plan: Plan) -> _PlanReads:
        pairs = tuple((ms, condition_tables(ms.when)) for ms in plan.milestones)
        return cls(plan, pairs, {ms.id: t for ms, t in pairs},
                   {ms.id: i for i, ms in enumerate(plan.milestones)},
                   tuple(ms for ms, tables in pairs if not tables))

    def touched_by(self, touched: frozenset[str]) -> tuple[tuple[Milestone, ...], frozenset[str]]:
        """Return the milestones whose conditions read one of TOUCHED, and all they read."""
        found = self.candidates.get(touched)
        if found is None:
            direct = tuple(ms for ms, tables in self.pairs if tables & touched)
            found = self.candidates[touched] = (
                direct, frozenset().union(*(self.read[ms.id] for ms in direct)))
        return found


_READ: dict[int, _PlanReads] = {}


def _reads(plan: Plan) -> _PlanReads:
    """Return what PLAN's conditions read, kept by the plan's identity.

    (Hashing a frozen plan would walk all of it on every call.)
    """
    known = _READ.get(id(plan))
    if known is None or known.plan is not plan:
        known = _READ[id(plan)] = _PlanReads.of(plan)
    return known


async def new_milestones(conn: AsyncConnection, learner_id: int, plan: Plan,
                         touched: set[str], today: date,
                         known: TimeFacts | None = None) -> list[tuple[Milestone, date]]:
    """Return the milestones a change of TOUCHED tables reached, dated by when they held.

    Only the facts of the conditions that could change are read: the reached milestones and
    the time log's two totals in one statement (none when the change KNOWN them already), the
    other tables' facts when a milestone reading them is still open, and the time log by day
    only to date a milestone reached.
    """
    reads = _reads(plan)
    direct, direct_reads = reads.touched_by(frozenset(touched))
    if not direct:
        return []
    read = reads.read
    timed = "time_logs" in direct_reads
    totals: tuple[int, int] | None
    if known is not None:
        reached_ids, totals = known.reached, (known.minutes, known.entries)
    else:
        found = (await conn.execute(_REACHED_AND_TIME if timed else _REACHED,
                                    {"learner_id": learner_id})).one()
        reached_ids = _ids(found[0])
        totals = (int(found[1]), int(found[2])) if timed else None
    open_direct = [ms for ms in direct if ms.id not in reached_ids]
    if not open_direct:
        return []
    tables = frozenset().union(*(read[ms.id] for ms in open_direct))
    facts = await load_facts(conn, learner_id, tables, totals=totals)
    # Milestones that only wait for other milestones may follow from the new ones.
    followers = [ms for ms in reads.followers if ms.id not in reached_ids]
    scope = _Scoped(plan, [*open_direct, *followers], reads.order)
    new = milestones_now_reached(facts, scope, reached_ids)  # type: ignore[arg-type]
    if not new:
        return []
    # Something was reached (rare): read what dating it needs.
    reached = {r.milestone_id: r.reached_on
               for r in (await conn.execute(_REACHED_ON, {"learner_id": learner_id}))}
    if "time_logs" in tables:
        facts = await load_facts(conn, learner_id, tables)
    return date_milestones(new, facts, plan, reached, today)


class _Scoped:
    """A view of a plan that lists only some milestones (the rest of the plan as it is)."""

    def __init__(self, plan: Plan, milestones: Sequence[Milestone],
                 order: dict[str, int]) -> None:
        self._plan = plan
        self.milestones = sorted(milestones, key=lambda ms: order[ms.id])

    def __getattr__(self, name: str) -> Any:
        return getattr(self._plan, name)


_DONE = select(m.ItemDone.item_id, m.ItemDone.study_date).where(
    m.ItemDone.learner_id == bindparam("learner_id"))
_MOCKS = select(m.MockInterview.score, m.MockInterview.held_on).where(
    m.MockInterview.learner_id == bindparam("learner_id"))
_DAYS = (select(m.TimeLog.study_date, func.sum(m.TimeLog.minutes), func.count())
         .where(m.TimeLog.learner_id == bindparam("learner_id"))
         .group_by(m.TimeLog.study_date).order_by(m.TimeLog.study_date))
# The reached milestones' ids joined by spaces (ids have no spaces), alone or with the time
# log's totals: the first statement of every milestone check. (Dates are not folded into the
# text: how a server prints a date depends on its settings; they are read when needed.) The
# separator is SQL text, not a parameter: SQLAlchemy renders a literal parameter into the
# statement again on every execution.
_REACHED_IDS = (select(func.aggregate_strings(m.MilestoneReached.milestone_id,
                                              literal_column("' '")))
                .where(m.MilestoneReached.learner_id == bindparam("learner_id"))
                .scalar_subquery())
_REACHED_ON = select(m.MilestoneReached.milestone_id, m.MilestoneReached.reached_on).where(
    m.MilestoneReached.learner_id == bindparam("learner_id"))
_REACHED = select(_REACHED_IDS)
_LOG = m.TimeLog.__table__.c


def time_facts(*more: ColumnElement[Any]) -> Select[Any]:
    """Select what a check of time milestones reads, then MORE aggregates of the time log.

    The columns: the reached ids, the learner's logged minutes and entries, then MORE (over
    the same rows). A change that only adds time log entries reads them before it adds, with
    its own aggregates (``services.timelog``), and hands them on as ``TimeFacts``; other
    changes read them here. All the aggregates come from one pass over the learner's entries
    in the time log's index.
    """
    totals = select(func.coalesce(func.sum(_LOG.minutes), 0).label("minutes"),
                    func.count().label("entries"), *more).where(
        _LOG.learner_id == bindparam("learner_id")).subquery()
    return select(_REACHED_IDS, *totals.c)


_REACHED_AND_TIME = time_facts()


@dataclass(frozen=True)
class TimeFacts:
    """The reached milestones and the time log's totals (minutes, entries) after a change."""

    reached: frozenset[str]
    minutes: int
    entries: int

    @classmethod
    def after_adding(cls, row: Sequence[Any], minutes: int, entries: int = 1) -> TimeFacts:
        """Read ``time_facts()``' values in ROW (taken before the change), add what it adds."""
        reached, total, count = row
        return cls(_ids(reached), int(total) + minutes, int(count) + entries)


def _ids(joined: str | None) -> frozenset[str]:
    return frozenset((joined or "").split())
_COUNTERS = select(m.CounterValue.counter_id, m.CounterValue.value).where(
    m.CounterValue.learner_id == bindparam("learner_id"))


async def load_facts(conn: AsyncConnection, learner_id: int, tables: frozenset[str], *,
                     totals: tuple[int, int] | None = None) -> MilestoneFacts:
    """Load the milestone facts of TABLES only (one query per table).

    Given the time log's TOTALS (minutes, entries), its days are not read: enough to tell
    whether an hours or logs condition holds, not when it began to.
    """
    done: dict[str, date] = {}
    mocks: tuple[tuple[int, date], ...] = ()
    days: tuple[tuple[date, int, int], ...] = ()
    counters: dict[str, int] = {}
    ids = {"learner_id": learner_id}
    if "items_done" in tables:
        done = {r.item_id: r.study_date for r in (await conn.execute(_DONE, ids)).all()}
    if "mock_interviews" in tables:
        mocks = tuple((r.score, r.held_on) for r in (await conn.execute(_MOCKS, ids)).all())
    if "time_logs" in tables and totals is None:
        days = tuple((r[0], int(r[1]), int(r[2]))
                     for r in (await conn.execute(_DAYS, ids)).all())
    if "counters" in tables:
        counters = {r.counter_id: r.value
                    for r in (await conn.execute(_COUNTERS, ids)).all()}
    return MilestoneFacts(done, mocks, days, counters, totals=totals)
