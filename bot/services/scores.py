"""Scores, mock interviews, skill ratings, confidence, counters and free fields."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot import models as m
from bot.actors import Actor
from bot.errors import InputError, StateError
from bot.limits import FEEDBACK_MAX
from bot.outcomes import CounterChanged, FieldSet, MockRecorded, ScoreRecorded, SkillRated
from bot.parsing import check_text, parse_int_in_range
from bot.plan import Plan
from bot.services.base import Service
from bot.services.checklist import tick_if_open
from bot.services.units import Unit
from bot.timing import plan_week
from bot.values import TODAY, CounterChange, ScoreInput, StudyDay


def current_week(u: Unit, plan: Plan) -> int:
    """Return today's plan week, clamped to the plan's weeks (matrix, insights)."""
    return min(max(plan_week(u.row.start_date, u.today), 1), plan.weeks)


def check_week(week: int, plan: Plan) -> int:
    """Refuse a week outside the plan's weeks."""
    if not 1 <= week <= plan.weeks:
        raise InputError(f"The week must be 1 to {plan.weeks}.")
    return week


async def put_score(u: Unit, score_id: str, value: int) -> dict | None:
    """Record a score's value today; return the old values, if any."""
    return await u.upsert(m.ScoreEntry, {"score_id": score_id},
                          {"value": value, "recorded_on": u.today})


async def put_counter(u: Unit, counter_id: str, value: int) -> None:
    """Set a counter's value."""
    await u.upsert(m.CounterValue, {"counter_id": counter_id}, {"value": value})


async def put_field(u: Unit, field_id: str, value: str) -> None:
    """Set a free field's value."""
    await u.upsert(m.FieldValue, {"field_id": field_id}, {"value": value})


async def put_rating(u: Unit, skill_id: str, week: int, value: int) -> None:
    """Set a skill's rating for a plan week."""
    await u.upsert(m.SkillRating, {"skill_id": skill_id, "week": week}, {"value": value})


async def put_mock(u: Unit, slot: int, held_on: date, score: int, feedback: str | None) -> None:
    """Fill (or replace) a mock interview slot."""
    await u.upsert(m.MockInterview, {"slot": slot},
                   {"score": score, "held_on": held_on, "feedback": feedback})


class ScoreService(Service):
    """Record scored things of the plan and the learner's own figures."""

    async def record_score(self, actor: Actor, score: str, value: ScoreInput) -> ScoreRecorded:
        """Record a scored thing of the plan (its maximum comes from the plan)."""
        async def build(u: Unit) -> ScoreRecorded:
            found = u.plan.find_score(score)
            points = value.check(found.max)
            old = await put_score(u, found.id, points)
            await tick_if_open(u, found.completes_item)
            u.description = f"score {found.id}"
            return ScoreRecorded(score_id=found.id, title=found.title, value=points,
                                 maximum=found.max, previous=old["value"] if old else None)

        return await self.units.run(actor, build)

    async def record_quiz(self, actor: Actor, week: int, value: ScoreInput) -> ScoreRecorded:
        """Record the quiz of a plan week."""
        return await self.record_score(actor, f"week{week}", value)

    async def record_readiness(self, actor: Actor, value: ScoreInput) -> ScoreRecorded:
        """Record the prerequisites readiness score."""
        return await self.record_score(actor, "readiness", value)

    async def record_mock(self, actor: Actor, value: ScoreInput, feedback: str | None = None,
                          day: StudyDay | date = TODAY, slot: int | None = None
                          ) -> MockRecorded:
        """Record a mock interview in the next free slot (or SLOT, replacing it)."""
        clean = check_text(feedback, "The feedback", FEEDBACK_MAX) if feedback else None

        async def build(u: Unit) -> MockRecorded:
            plan = u.plan
            if plan.mock_interviews == 0:
                raise StateError("Your plan has no mock interviews.")
            points = value.check(plan.mock_max)
            on = day.resolve(u.today) if isinstance(day, StudyDay) else day
            if on > u.today:
                raise InputError(f"{on.isoformat()} is in the future; record a mock interview "
                                 "once it has happened.")
            chosen = slot
            if chosen is None:
                used = set((await u.session.scalars(select(m.MockInterview.slot).where(
                    m.MockInterview.learner_id == u.row.id))).all())
                free = [s for s in range(1, plan.mock_interviews + 1) if s not in used]
                if not free:
                    raise StateError(
                        f"All {plan.mock_interviews} mock interview slots are filled; name the "
                        f"one to replace, e.g. `/mock {points} slot:{plan.mock_interviews}`.")
                chosen = free[0]
            elif not 1 <= chosen <= plan.mock_interviews:
                raise InputError(f"The slot must be 1 to {plan.mock_interviews}.")
            await put_mock(u, chosen, on, points, clean)
            u.description = f"mock {chosen}"
            return MockRecorded(slot=chosen, day=on, score=points, maximum=plan.mock_max)

        return await self.units.run(actor, build)

    async def rate_skill(self, actor: Actor, skill: str, rating: int,
                         week: int | None = None) -> SkillRated:
        """Rate a skill of the self-assessment matrix for a plan week (the current one)."""
        async def build(u: Unit) -> SkillRated:
            plan = u.plan
            found = plan.find_skill(skill)
            lo, hi = plan.skill_scale
            if not lo <= rating <= hi:
                raise InputError(f"A rating is {lo} to {hi}; {rating} is outside that.")
            on_week = check_week(week if week is not None else current_week(u, plan), plan)
            await put_rating(u, found.id, on_week, rating)
            u.description = f"rate {found.id} week {on_week}"
            return SkillRated(skill_id=found.id, title=found.title, value=rating, scale_max=hi,
                              week=on_week, target=found.target)

        return await self.units.run(actor, build)

    async def set_confidence(self, actor: Actor, area: str, level: int) -> FieldSet:
        """Set a confidence scale of the plan (1-5)."""
        parse_int_in_range(str(level), 1, 5, "a confidence level")
        return await self._set(actor, area, str(level), confidence_only=True)

    async def set_field(self, actor: Actor, field: str, value: str) -> FieldSet:
        """Set a free field of the plan (status choice, text, percent)."""
        return await self._set(actor, field, value, confidence_only=False)

    async def _set(self, actor: Actor, name: str, raw: str, *, confidence_only: bool
                   ) -> FieldSet:
        async def build(u: Unit) -> FieldSet:
            fld = (u.plan.find_confidence(name) if confidence_only
                   else u.plan.find_field(name))
            value = fld.coerce(raw)
            await put_field(u, fld.id, value)
            u.description = f"set {fld.id}"
            return FieldSet(field_id=fld.id, title=fld.title, value=value,
                            unit="%" if fld.kind == "percent" else "")

        return await self.units.run(actor, build)

    async def bump_counter(self, actor: Actor, counter: str, change: CounterChange
                           ) -> CounterChanged:
        """Add to, subtract from or set a counter of the plan."""
        async def build(u: Unit) -> CounterChanged:
            found = u.plan.find_counter(counter)
            current = await u.find(m.CounterValue, counter_id=found.id)
            before = current.value if current else 0
            after = change.apply(before)
            if after < 0:
                raise InputError(f"{found.title} is {before}; it cannot go below 0.")
            if found.max is not None and after > found.max:
                raise InputError(f"{found.title} is counted out of {found.max}; {after} "
                                 f"would pass it (now {before}).")
            await put_counter(u, found.id, after)
            if found.goal is not None and after >= found.goal:
                await tick_if_open(u, found.completes_item)
            u.description = f"count {found.id}"
            return CounterChanged(counter_id=found.id, title=found.title, value=after,
                                  maximum=found.max, target=found.target)

        return await self.units.run(actor, build)

