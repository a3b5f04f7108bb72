"""Read-only views of the learner's tracker: what /progress, /week, /skills … show."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from bot import models as m
from bot.actors import Actor
from bot.errors import InputError
from bot.plan import Plan
from bot.services.base import Service
from bot.services.units import take_notices
from bot.snapshot import LearnerData, LearnerProfile, load_one
from bot.timing import plan_week

VIEW_KINDS = ("progress", "week", "skills", "summary", "next", "notes", "deadlines",
              "milestones")


@dataclass
class TrackerView:
    """One view of a learner's whole tracker (KIND says which), with pending notices."""

    kind: str
    data: LearnerData
    plan: Plan
    today: date
    week: int | None = None
    notices: list[str] = field(default_factory=list)


@dataclass
class SettingsView:
    profile: LearnerProfile
    plan: Plan
    notices: list[str] = field(default_factory=list)


@dataclass
class PlansView:
    plans: tuple[Plan, ...]


class ViewService(Service):
    """Read the learner's tracker for the views."""

    async def snapshot(self, actor: Actor) -> tuple[LearnerData, Plan, date]:
        """Load the learner's whole tracker with its plan and study day (and take notices)."""
        async with self.ctx.store.read() as session:
            row = await self.ctx.learner(session, actor)
            data = await load_one(session, row.id)
            pending = await session.scalar(select(func.count()).select_from(m.Notice).where(
                m.Notice.learner_id == row.id))
        if pending:
            # Only take the write lock when there is something to tell.
            async with self.ctx.store.write() as session:
                data.notices = await take_notices(session, row.id)
        return data, self.ctx.plan_for(row), self.ctx.today_for(row)

    async def view(self, actor: Actor, kind: str, week: int | None = None) -> TrackerView:
        """Build the view KIND (one of VIEW_KINDS)."""
        if kind not in VIEW_KINDS:
            raise ValueError(f"unknown view {kind!r}")
        data, plan, today = await self.snapshot(actor)
        if kind == "week":
            this_week = max(1, plan_week(data.profile.start_date, today))
            week = week if week is not None else this_week
            last = max(plan.weeks, data.profile.commitment_weeks, this_week)
            if not 1 <= week <= last:
                raise InputError(f"Your plan has weeks 1 to {last}; week {week} is outside "
                                 "them.")
        return TrackerView(kind, data, plan, today, week, data.notices)

    async def progress(self, actor: Actor) -> TrackerView:
        return await self.view(actor, "progress")

    async def week(self, actor: Actor, week: int | None = None) -> TrackerView:
        return await self.view(actor, "week", week)

    async def skills(self, actor: Actor) -> TrackerView:
        return await self.view(actor, "skills")

    async def summary(self, actor: Actor) -> TrackerView:
        return await self.view(actor, "summary")

    async def next_items(self, actor: Actor) -> TrackerView:
        return await self.view(actor, "next")

    async def notes(self, actor: Actor) -> TrackerView:
        return await self.view(actor, "notes")

    async def deadlines(self, actor: Actor) -> TrackerView:
        return await self.view(actor, "deadlines")

    async def milestones(self, actor: Actor) -> TrackerView:
        return await self.view(actor, "milestones")

    async def settings(self, actor: Actor) -> SettingsView:
        async with self.ctx.store.read() as session:
            row = await self.ctx.learner(session, actor)
            profile = LearnerProfile.of(row)
        return SettingsView(profile, self.ctx.plan_for(profile))

    def plans(self) -> PlansView:
        return PlansView(tuple(self.ctx.plans.all()))
