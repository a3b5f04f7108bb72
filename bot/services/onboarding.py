"""Onboarding and settings: /start, /settings."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import models as m
from bot.actors import Actor
from bot.errors import InputError, StateError
from bot.limits import MAX_START_AHEAD_DAYS
from bot.outcomes import SettingsUpdated, Started
from bot.services.base import Service
from bot.services.units import Unit
from bot.snapshot import LearnerProfile
from bot.timing import next_digest_at, next_reminder_at, study_date
from bot.values import DateInput, resolve_date

DEFAULT_DAY_START = 3
DEFAULT_REMINDER = time(19, 0)
DEFAULT_COMMITMENT_MINUTES = 4 * 60
SETTING_COLUMNS = (
    "timezone", "start_date", "target_date", "commitment_minutes", "commitment_weeks", "goal",
    "reminder_minute", "day_start_hour", "digest_weekday", "digest_minute",
    "digest_every_weeks", "public_posts", "display_name", "plan_id", "committed_on",
)


@dataclass(frozen=True)
class Onboarding:
    """What /start sets: zone, dates, commitment, goal, reminder time, day start."""

    timezone: str
    start_date: date | DateInput | None = None
    target_date: date | DateInput | None = None
    commitment_minutes: int = DEFAULT_COMMITMENT_MINUTES
    commitment_weeks: int | None = None
    goal: str | None = None
    reminder_time: time | None = DEFAULT_REMINDER
    day_start_hour: int = DEFAULT_DAY_START
    given: tuple[str, ...] = ()  # the options the learner named (for "already set up")


def check_start_target(start: date, target: date | None, today: date,
                       new_start: bool = True) -> None:
    """Refuse a start before 2000 or over a year away, or a target not after the start."""
    if start.year < 2000:
        raise InputError("The start date must be in 2000 or later.")
    if new_start and (start - today).days > MAX_START_AHEAD_DAYS:
        raise InputError("The start date is more than a year away; start within a year.")
    if target is not None and target <= start:
        raise InputError(f"The target date {target.isoformat()} must come after the start "
                         f"date {start.isoformat()}.")


async def apply_settings(u: Unit, **columns: Any) -> None:
    """Change learner settings (columns of SETTING_COLUMNS) and reschedule."""
    unknown = set(columns) - set(SETTING_COLUMNS)
    if unknown:
        raise InputError(f"Unknown setting(s): {', '.join(sorted(unknown))}.")
    u.changes.set(await u.learner(), **columns, updated_at=u.now)
    await u.reschedule()


class OnboardingService(Service):
    """Onboard learners and change their settings."""

    async def start(self, actor: Actor, spec: Onboarding) -> Started:
        """Onboard a learner: zone, dates, commitment, goal, reminder time, day start."""
        ctx = self.ctx
        async def body(session: AsyncSession) -> Any:
            existing = await ctx.find(session, actor)
            if existing is not None:
                raise StateError(_already_set_up(spec.given))
            space = await ctx.space(session, actor, create=True)
            plan = ctx.plans.get(space.plan_id if space and space.plan_id
                                 else ctx.default_plan or ctx.plans.default_id)
            now = ctx.now()
            # "Today" is the learner's study day, day-start hour included, as everywhere.
            today = study_date(now, spec.timezone, spec.day_start_hour)
            start = resolve_date(spec.start_date, today) if spec.start_date else today
            target = resolve_date(spec.target_date, today) if spec.target_date else None
            check_start_target(start, target, today)
            weeks = spec.commitment_weeks or math.ceil(
                plan.hours_min * 60 / (spec.commitment_minutes * 7))
            reminder = spec.reminder_time
            row = m.Learner(
                platform=actor.platform, external_id=actor.external_id,
                display_name=actor.display_name[:100],
                # A DM is no place to fall back to when DMs are closed: keep server channels.
                home_channel_id=actor.channel_id if space is not None else None,
                home_space_id=space.id if space else None,
                plan_id=plan.id, timezone=spec.timezone, day_start_hour=spec.day_start_hour,
                start_date=start, target_date=target,
                commitment_minutes=spec.commitment_minutes, commitment_weeks=weeks,
                goal=spec.goal or plan.goal, committed_on=today,
                reminder_minute=None if reminder is None else reminder.hour * 60 + reminder.minute,
                digest_weekday=6, digest_minute=18 * 60, digest_every_weeks=1,
                public_posts=ctx.public_by_default, created_at=now, updated_at=now,
            )
            row.next_reminder_at = next_reminder_at(row, now)
            row.next_digest_at = next_digest_at(row, now)
            session.add(row)
            await session.flush()
            return Started(learner_id=row.id, plan_title=plan.title, start=start,
                           timezone=spec.timezone, commitment_minutes=spec.commitment_minutes,
                           weeks=weeks, reminder=reminder, today=today,
                           public=row.public_posts)
        return await self.units.transact(body)

    async def profile(self, actor: Actor) -> LearnerProfile:
        """Return the learner's settings."""
        async with self.ctx.store.read() as session:
            return LearnerProfile.of(await self.ctx.learner(session, actor))

    async def update_settings(self, actor: Actor,
                              changes: dict[str, Any]) -> SettingsUpdated:
        """Change settings; reminder and digest times take effect from their next occurrence.

        Date values may be ``DateInput``s (today, tomorrow…), resolved on the learner's day.
        """
        if not changes:
            raise InputError("Name at least one setting to change; see /settings show.")

        async def build(u: Unit) -> SettingsUpdated:
            values = {k: resolve_date(v, u.today) if isinstance(v, DateInput) else v
                      for k, v in changes.items()}
            if "plan_id" in values:
                plan = self.ctx.plans.get(values["plan_id"])  # raises with the known ids
                if u.row.goal == u.plan.goal and "goal" not in values:
                    values["goal"] = plan.goal  # the old plan's goal text goes with it
            start = values.get("start_date", u.row.start_date)
            target = values.get("target_date", u.row.target_date)
            if "start_date" in values or "target_date" in values:
                check_start_target(start, target, u.today, new_start=False)
            await apply_settings(u, **values)
            names = tuple(sorted(changes))
            u.description = f"settings: {', '.join(names)}"
            return SettingsUpdated(names=names)

        return await self.units.run(actor, build)


def _already_set_up(given: tuple[str, ...]) -> str:
    text = "You are already set up; `/settings` shows your settings."
    if given:
        names = ", ".join(f"{n}=…" for n in given)
        text += (f" To change what you gave ({names}), use `/settings NAME=VALUE`, "
                 f"e.g. `/settings {given[0]}=…`.")
    return text
