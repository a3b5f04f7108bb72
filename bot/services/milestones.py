"""Milestones: which ones a change reached, read from just the facts their conditions need."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

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


def _candidates(plan: Plan, touched: Iterable[str]) -> list[Milestone]:
    touched = set(touched)
    return [ms for ms in plan.milestones if condition_tables(ms.when) & touched]


async def new_milestones(session: AsyncSession, learner_id: int, plan: Plan,
                         touched: set[str], today: date) -> list[tuple[Milestone, date]]:
    """Return the milestones a change of TOUCHED tables reached, dated by when they held.

    Only the facts of the conditions that could change are read.
    """
    direct = _candidates(plan, touched)
    if not direct:
        return []
    reached = {r.milestone_id: r.reached_on for r in (await session.execute(
        select(m.MilestoneReached.milestone_id, m.MilestoneReached.reached_on).where(
            m.MilestoneReached.learner_id == learner_id))).all()}
    open_direct = [ms for ms in direct if ms.id not in reached]
    if not open_direct:
        return []
    tables = frozenset().union(*(condition_tables(ms.when) for ms in open_direct))
    facts = await load_facts(session, learner_id, tables)
    # Milestones that only wait for other milestones may follow from the new ones.
    followers = [ms for ms in plan.milestones
                 if ms.id not in reached and not condition_tables(ms.when)]
    scope = _Scoped(plan, [*open_direct, *followers])
    new = milestones_now_reached(facts, scope, reached)  # type: ignore[arg-type]
    return date_milestones(new, facts, plan, reached, today)


class _Scoped:
    """A view of a plan that lists only some milestones (the rest of the plan as it is)."""

    def __init__(self, plan: Plan, milestones: Sequence[Milestone]) -> None:
        self._plan = plan
        order = {ms.id: i for i, ms in enumerate(plan.milestones)}
        self.milestones = sorted(milestones, key=lambda ms: order[ms.id])

    def __getattr__(self, name: str) -> Any:
        return getattr(self._plan, name)


async def load_facts(session: AsyncSession, learner_id: int,
                     tables: frozenset[str]) -> MilestoneFacts:
    """Load the milestone facts of TABLES only (one query per table)."""
    done: dict[str, date] = {}
    mocks: tuple[tuple[int, date], ...] = ()
    days: tuple[tuple[date, int, int], ...] = ()
    counters: dict[str, int] = {}
    if "items_done" in tables:
        done = {r.item_id: r.study_date for r in (await session.execute(
            select(m.ItemDone.item_id, m.ItemDone.study_date).where(
                m.ItemDone.learner_id == learner_id))).all()}
    if "mock_interviews" in tables:
        mocks = tuple((r.score, r.held_on) for r in (await session.execute(
            select(m.MockInterview.score, m.MockInterview.held_on).where(
                m.MockInterview.learner_id == learner_id))).all())
    if "time_logs" in tables:
        days = tuple((r[0], int(r[1]), int(r[2])) for r in (await session.execute(
            select(m.TimeLog.study_date, func.sum(m.TimeLog.minutes), func.count())
            .where(m.TimeLog.learner_id == learner_id)
            .group_by(m.TimeLog.study_date).order_by(m.TimeLog.study_date))).all())
    if "counters" in tables:
        counters = {r.counter_id: r.value for r in (await session.execute(
            select(m.CounterValue.counter_id, m.CounterValue.value).where(
                m.CounterValue.learner_id == learner_id))).all()}
    return MilestoneFacts(done, mocks, days, counters)
