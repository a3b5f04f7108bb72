"""Servers and workspaces: the plan new learners follow, the fallback channel."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.actors import Actor
from bot.errors import InputError
from bot.outcomes import FallbackChannelSet, SpacePlanChosen
from bot.plan import Plan
from bot.services.base import Service


class SpaceService(Service):
    """Settings of a server or workspace."""

    def plans(self) -> tuple[Plan, ...]:
        """List the plans this installation knows."""
        return tuple(self.ctx.plans.all())

    async def use_plan(self, actor: Actor, plan_id: str) -> SpacePlanChosen:
        """Choose the plan that new learners of the actor's server/workspace get."""
        if actor.space_id is None:
            raise InputError("A plan is chosen for a server or workspace: run this there, "
                             "not in a direct message.")
        plan = self.ctx.plans.get(plan_id.strip())
        async def body(session: AsyncSession) -> Any:
            space = await self.ctx.space(session, actor, create=True)
            assert space is not None
            space.plan_id = plan.id
        await self.units.transact(body)
        return SpacePlanChosen(plan_id=plan.id, plan_title=plan.title)

    async def set_fallback_channel(self, actor: Actor,
                                   channel_id: str | None) -> FallbackChannelSet:
        """Set (None: clear) the channel of the actor's space that receives undeliverable DMs."""
        if actor.space_id is None:
            raise InputError("A fallback channel belongs to a server: run this in a server "
                             "channel, not in a direct message.")
        async def body(session: AsyncSession) -> Any:
            space = await self.ctx.space(session, actor, create=True)
            assert space is not None
            space.fallback_channel_id = channel_id
        await self.units.transact(body)
        return FallbackChannelSet(channel_id=channel_id)
