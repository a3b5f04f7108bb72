"""Pauses and snoozes: /pause, /resume, /snooze."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import models as m
from bot.actors import Actor
from bot.errors import InputError, StateError
from bot.limits import MAX_PAUSE_DAYS, MAX_SNOOZE
from bot.outcomes import Paused, Resumed, Snoozed
from bot.parsing import check_date
from bot.services.base import Service
from bot.services.units import Unit, take_notices
from bot.timing import as_zone, resolve_local
from bot.values import DateInput, SnoozeSpec, resolve_date

EVENING_HOUR = 20


async def current_pause(session: AsyncSession, learner_id: int, today: date) -> m.Pause | None:
    """Return the pause running today or starting later, if any."""
    return await session.scalar(select(m.Pause).where(
        m.Pause.learner_id == learner_id, m.Pause.end_date >= today).order_by(
        m.Pause.start_date).limit(1))


async def put_pause(u: Unit, start: date, end: date) -> None:
    """Record a pause from START through END."""
    await u.changes.add(m.Pause(learner_id=u.row.id, start_date=start, end_date=end))


class PauseService(Service):
    """Pause and resume reminders, snooze today's."""

    async def pause(self, actor: Actor, until: date | DateInput) -> Paused:
        """Silence pings and freeze the streak from today through UNTIL."""
        async def build(u: Unit) -> Paused:
            end = resolve_date(until, u.today)
            check_date(end, u.today, allow_past=False)
            if (end - u.today).days > MAX_PAUSE_DAYS:
                raise InputError("A pause is at most a year long.")
            running = await current_pause(u.session, u.row.id, u.today)
            if running is not None:
                u.changes.set(running, end_date=end)
            else:
                await put_pause(u, u.today, end)
            u.description = f"pause until {end}"
            return Paused(until=end)

        return await self.units.run(actor, build)

    async def resume(self, actor: Actor) -> Resumed:
        """End the current pause today."""
        async def build(u: Unit) -> Resumed:
            running = await current_pause(u.session, u.row.id, u.today)
            if running is None:
                raise StateError("You are not paused.")
            if running.start_date >= u.today:
                await u.changes.delete(running)
            else:
                u.changes.set(running, end_date=u.today - timedelta(days=1))
            u.description = "resume"
            return Resumed()

        return await self.units.run(actor, build)

    async def snooze(self, actor: Actor, spec: SnoozeSpec) -> Snoozed:
        """Hold reminders due before the snooze ends and remind once then (off cancels)."""
        ctx = self.ctx
        async def body(session: AsyncSession) -> Any:
            row = await ctx.learner(session, actor, lock=True)
            now = ctx.now()
            if spec.kind == "off":
                if row.snoozed_until is None:
                    raise StateError("No reminder is snoozed, so there is nothing to cancel.")
                row.snoozed_until = None
                return Snoozed(until=None, timezone=row.timezone, public=row.public_posts,
                               notices=await take_notices(session, row.id))
            if spec.kind == "evening":
                local_today = now.astimezone(as_zone(row.timezone)).date()
                until = resolve_local(local_today, time(EVENING_HOUR), row.timezone)
                if until <= now:
                    raise InputError(f"It is already past {EVENING_HOUR}:00 where you are "
                                     f"({row.timezone}); snooze for a while instead, e.g. "
                                     "`/snooze 1h`.")
            else:
                until = now + timedelta(minutes=spec.minutes)
            if until <= now:
                raise InputError("A snooze must end in the future.")
            if until - now > MAX_SNOOZE:
                raise InputError("A snooze lasts at most 24 hours; `/pause until DATE` stops "
                                 "reminders for longer.")
            row.snoozed_until = until
            return Snoozed(until=until, timezone=row.timezone, public=row.public_posts,
                           notices=await take_notices(session, row.id))
        return await self.units.transact(body)
