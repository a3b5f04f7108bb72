"""Undo: revert the learner's last change of any kind."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import models as m
from bot.actors import Actor
from bot.errors import StateError
from bot.outcomes import Undone
from bot.services.base import Service
from bot.services.units import take_notices
from bot.undo import revert


class HistoryService(Service):
    """Revert recorded changes."""

    async def undo(self, actor: Actor) -> Undone:
        """Revert the learner's last change of any kind."""
        async def body(session: AsyncSession) -> Any:
            row = await self.ctx.learner(session, actor, lock=True)
            entry = await session.scalar(select(m.UndoEntry).where(
                m.UndoEntry.learner_id == row.id).order_by(m.UndoEntry.id.desc()).limit(1))
            if entry is None:
                raise StateError("Nothing to undo: no change of yours is recorded.")
            # revert() expires every loaded object: keep what is needed afterwards.
            description, ops, entry_id = entry.description, entry.ops, entry.id
            learner_id, public = row.id, row.public_posts
            await revert(session, ops)
            await session.execute(delete(m.UndoEntry).where(m.UndoEntry.id == entry_id))
            notices = await take_notices(session, learner_id)
            return Undone(description=description, notices=notices, public=bool(public))
        return await self.units.transact(body)
