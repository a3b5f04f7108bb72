"""The plan's checklist: /done, /undone."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from bot import models as m
from bot.actors import Actor
from bot.errors import InputError, StateError
from bot.outcomes import ItemCompleted, ItemReopened
from bot.plan import Item
from bot.services.base import Service
from bot.services.units import Unit
from bot.values import TODAY, StudyDay


def item_label(item: Item) -> str:
    """Name an item as the learner sees it: id and title."""
    return f"{item.id} — {item.title}"


async def tick(u: Unit, item_id: str, day: date) -> None:
    """Record ITEM_ID as done on DAY."""
    await u.changes.add(m.ItemDone(learner_id=u.row.id, item_id=item_id, study_date=day,
                                   done_at=u.now))


async def tick_if_open(u: Unit, item_id: str | None) -> None:
    """Tick the item a counter or score stands for, unless it is done already."""
    if item_id is not None and await u.find(m.ItemDone, item_id=item_id) is None:
        await tick(u, item_id, u.today)


async def redate(u: Unit, item_id: str, day: date) -> None:
    """Change the day a done item was done."""
    u.changes.set(await u.find(m.ItemDone, item_id=item_id), study_date=day)


class ChecklistService(Service):
    """Tick and untick plan items."""

    async def mark_done(self, actor: Actor, item: str, day: StudyDay | date = TODAY
                        ) -> ItemCompleted:
        """Tick a checklist item of the plan."""
        async def build(u: Unit) -> ItemCompleted:
            found = u.plan.find_item(item)
            on = day.resolve(u.today) if isinstance(day, StudyDay) else day
            if on > u.today:
                raise InputError(f"{on.isoformat()} is in the future; an item can be marked "
                                 "done today or earlier.")
            done = await u.find(m.ItemDone, item_id=found.id)
            if done is not None:
                raise StateError(f"{item_label(found)} is already done "
                                 f"(since {done.study_date.isoformat()}).")
            await tick(u, found.id, on)
            count = await u.session.scalar(select(func.count()).select_from(m.ItemDone).where(
                m.ItemDone.learner_id == u.row.id))
            u.description = f"done {found.id}"
            return ItemCompleted(item_id=found.id, item_title=found.title,
                                 done_count=int(count or 0), item_count=len(u.plan.items))

        return await self.units.run(actor, build)

    async def mark_undone(self, actor: Actor, item: str) -> ItemReopened:
        """Untick a checklist item."""
        async def build(u: Unit) -> ItemReopened:
            found = u.plan.find_item(item)
            done = await u.find(m.ItemDone, item_id=found.id)
            if done is None:
                raise StateError(f"{item_label(found)} is not marked done, so there is "
                                 "nothing to untick.")
            await u.changes.delete(done)
            u.description = f"undone {found.id}"
            return ItemReopened(item_id=found.id, item_title=found.title)

        return await self.units.run(actor, build)
