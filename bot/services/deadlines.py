"""Deadlines: /deadline add, remove."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot import models as m
from bot.actors import Actor
from bot.errors import InputError, NotFoundError, StateError
from bot.limits import MAX_DEADLINES, TITLE_MAX
from bot.outcomes import DeadlineAdded, DeadlineRemoved
from bot.parsing import check_text
from bot.services.base import Service
from bot.services.units import Unit
from bot.values import DateInput, resolve_date


async def put_deadline(u: Unit, title: str, due: date) -> m.Deadline:
    """Add a deadline, within the most Pacer keeps and with a unique title."""
    existing = (await u.session.scalars(select(m.Deadline).where(
        m.Deadline.learner_id == u.row.id))).all()
    if len(existing) >= MAX_DEADLINES:
        raise StateError(f"You have {MAX_DEADLINES} deadlines; remove one first.")
    if any(d.title.casefold() == title.casefold() for d in existing):
        raise StateError(f"You already have a deadline called {title!r}; remove it first to "
                         "change its date.")
    return await u.changes.add(m.Deadline(learner_id=u.row.id, title=title, due_date=due,
                                          created_at=u.now))  # type: ignore[return-value]


async def redate_deadline(u: Unit, deadline_id: int, due: date) -> None:
    """Move a deadline to another date."""
    u.changes.set(await u.find(m.Deadline, id=deadline_id), due_date=due)


class DeadlineService(Service):
    """Add and remove deadlines."""

    async def add_deadline(self, actor: Actor, title: str, due: date | DateInput
                           ) -> DeadlineAdded:
        """Add a deadline on a date from today on."""
        clean = check_text(title, "The deadline title", TITLE_MAX)

        async def build(u: Unit) -> DeadlineAdded:
            on = resolve_date(due, u.today)
            if on < u.today:
                raise InputError(f"{on.isoformat()} has passed (your today is "
                                 f"{u.today.isoformat()}); a deadline is today or later.")
            dl = await put_deadline(u, clean, on)
            u.description = f"deadline {clean}"
            return DeadlineAdded(deadline_id=dl.id, title=clean, due=on,
                                 days_left=(on - u.today).days)

        return await self.units.run(actor, build)

    async def remove_deadline(self, actor: Actor, ref: str) -> DeadlineRemoved:
        """Remove a deadline by number or title."""
        async def build(u: Unit) -> DeadlineRemoved:
            rows = (await u.session.scalars(select(m.Deadline).where(
                m.Deadline.learner_id == u.row.id))).all()
            key = ref.strip().lstrip("#")
            match = [d for d in rows if str(d.id) == key] or [
                d for d in rows if d.title.casefold() == ref.strip().casefold()]
            if not match:
                raise NotFoundError("No deadline of yours has that number or title; "
                                    "/deadline list shows them.")
            await u.changes.delete(match[0])
            u.description = f"remove deadline {match[0].title}"
            return DeadlineRemoved(title=match[0].title)

        return await self.units.run(actor, build)
